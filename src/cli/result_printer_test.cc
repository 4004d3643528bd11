#include "cli/result_printer.h"

#include <gtest/gtest.h>

#include <sstream>

#include "engine/database.h"

namespace medallion::cli {
namespace {

std::string Print(const std::string& sql, OutputFormat format, size_t max_rows = 40) {
  auto db = *engine::Database::Open();
  auto conn = *db->Connect();
  auto r = conn->Query(sql);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  std::ostringstream out;
  PrintResult(*r, {format, max_rows}, out);
  return out.str();
}

TEST(ResultPrinterTest, TableAlignsColumnsAndCountsRows) {
  EXPECT_EQ(Print("SELECT * FROM (VALUES (1, 'a'), (100, NULL)) t(n, s)", OutputFormat::kTable),
            "n       | s\n"
            "INTEGER | VARCHAR\n"
            "--------+--------\n"
            "      1 | a\n"
            "    100 | NULL\n"
            "2 rows\n");
}

TEST(ResultPrinterTest, TableWidthCountsCodePointsNotBytes) {
  EXPECT_EQ(Print("SELECT 'Zürich' AS city", OutputFormat::kTable),
            "city\n"
            "VARCHAR\n"
            "-------\n"
            "Zürich\n"
            "1 row\n");
}

TEST(ResultPrinterTest, TableElidesTheMiddleOfLongResults) {
  std::string out = Print("SELECT range AS i FROM range(10)", OutputFormat::kTable, 4);
  EXPECT_EQ(out,
            "i\n"
            "BIGINT\n"
            "------\n"
            "     0\n"
            "     1\n"
            "...\n"
            "     8\n"
            "     9\n"
            "10 rows (4 shown)\n");
}

TEST(ResultPrinterTest, CsvQuotesOnlyWhenNeeded) {
  EXPECT_EQ(Print("SELECT 'a,b' AS x, 'say \"hi\"' AS y, NULL AS z, 3 AS n", OutputFormat::kCsv),
            "x,y,z,n\n\"a,b\",\"say \"\"hi\"\"\",,3\n");
}

TEST(ResultPrinterTest, JsonLinesKeepTypes) {
  EXPECT_EQ(Print("SELECT 1 AS i, 2.5::DOUBLE AS d, 'x' AS s, NULL AS n, true AS b, [1,2] AS l, "
                  "{'k': 'v'} AS st, 1.50::DECIMAL(4,2) AS dec, DATE '2024-01-02' AS dt",
                  OutputFormat::kJson),
            R"({"i":1,"d":2.5,"s":"x","n":null,"b":true,"l":[1,2],"st":{"k":"v"},"dec":1.50,"dt":"2024-01-02"})"
            "\n");
}

TEST(ResultPrinterTest, ParseOutputFormat) {
  EXPECT_EQ(*ParseOutputFormat("csv"), OutputFormat::kCsv);
  EXPECT_EQ(*ParseOutputFormat("jsonl"), OutputFormat::kJson);
  auto bad = ParseOutputFormat("xml");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(), "unknown output format 'xml' (use table, csv or json)");
}

}  // namespace
}  // namespace medallion::cli
