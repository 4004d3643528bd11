#include "engine/duckdb_parquet_handler.h"

#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>

#include "engine/sql_text.h"

namespace medallion::engine {
namespace {

TEST(DuckDbParquetHandlerTest, RowsAsJsonWithProjection) {
  std::string dir = ::testing::TempDir() + "/medallion_parquet_handler_" + std::to_string(::getpid());
  std::filesystem::create_directories(dir);
  std::string path = dir + "/actions.parquet";
  {
    auto db = *Database::Open();
    auto conn = *db->Connect();
    Status s = conn->Execute(
        "COPY (SELECT * FROM (VALUES "
        " ({'path': 'a.parquet', 'size': 10, 'partitionValues': MAP {'d': '2024-01-01'}}, NULL),"
        " (NULL, {'appId': 'app', 'version': 3})) AS t(\"add\", txn)) TO " +
        QuoteString(path) + " (FORMAT parquet)");
    ASSERT_TRUE(s.ok()) << s.ToString();
  }
  auto handler = DuckDbParquetHandler::Make();
  ASSERT_TRUE(handler.ok());
  auto rows = (*handler)->ReadRowsAsJson(path, {});
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  ASSERT_EQ(rows->size(), 2u);
  EXPECT_EQ((*rows)[0],
            R"({"add":{"path":"a.parquet","size":10,"partitionValues":{"d":"2024-01-01"}},"txn":null})");
  EXPECT_EQ((*rows)[1], R"({"add":null,"txn":{"appId":"app","version":3}})");

  auto projected = (*handler)->ReadRowsAsJson(path, {"txn", "remove"});
  ASSERT_TRUE(projected.ok()) << projected.status().ToString();
  EXPECT_EQ((*projected)[1], R"({"txn":{"appId":"app","version":3}})");

  auto missing = (*handler)->ReadRowsAsJson(dir + "/none.parquet", {});
  EXPECT_TRUE(missing.status().IsNotFound());

  std::string junk = dir + "/junk.parquet";
  FILE* f = std::fopen(junk.c_str(), "w");
  std::fputs("not parquet", f);
  std::fclose(f);
  auto corrupt = (*handler)->ReadRowsAsJson(junk, {});
  EXPECT_TRUE(corrupt.status().IsCorruption()) << corrupt.status().ToString();
}

}  // namespace
}  // namespace medallion::engine
