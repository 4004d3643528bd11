#include "ingest/spark_type.h"

#include <gtest/gtest.h>

#include <string>
#include <utility>

#include "storage/test_util.h"

namespace medallion::ingest {
namespace {

// The DuckDB type of a one-column list "c <spark_type>", or "ERROR: <status>".
std::string HintType(const std::string& spark_type) {
  auto columns = ParseSparkColumnList("c " + spark_type);
  if (!columns.ok()) return "ERROR: " + columns.status().ToString();
  if (columns->size() != 1) return "ERROR: " + std::to_string(columns->size()) + " columns";
  return (*columns)[0].type;
}

// Types come from engine::TranslateSparkType (its table is tested in spark_sql_test); these check
// DESCRIBE's spelling and the ingest-specific cases.
TEST(SparkTypeTest, ScalarTypesMapToDuckDb) {
  const std::pair<const char*, const char*> cases[] = {
      {"STRING", "VARCHAR"},
      {"string", "VARCHAR"},
      {"VARCHAR(10)", "VARCHAR"},
      {"CHAR(3)", "VARCHAR"},
      {"INT", "INTEGER"},
      {"integer", "INTEGER"},
      {"BIGINT", "BIGINT"},
      {"LONG", "BIGINT"},
      {"SMALLINT", "SMALLINT"},
      {"TINYINT", "TINYINT"},
      {"DOUBLE", "DOUBLE"},
      {"FLOAT", "FLOAT"},
      {"DECIMAL(10,2)", "DECIMAL(10,2)"},
      {"decimal( 12 , 4 )", "DECIMAL(12,4)"},
      {"DECIMAL", "DECIMAL(10,0)"},
      {"NUMERIC(5)", "DECIMAL(5,0)"},
      {"BOOLEAN", "BOOLEAN"},
      {"DATE", "DATE"},
      {"TIMESTAMP", "TIMESTAMP WITH TIME ZONE"},
      {"timestamp_ltz", "TIMESTAMP WITH TIME ZONE"},
      {"TIMESTAMP_NTZ", "TIMESTAMP"},
      {"BINARY", "BLOB"},
      {"VARIANT", "JSON"},
      {"INTERVAL DAY TO SECOND", "INTERVAL"},
  };
  for (const auto& [spark, duckdb] : cases) EXPECT_EQ(HintType(spark), duckdb) << spark;
}

TEST(SparkTypeTest, NestedTypes) {
  EXPECT_EQ(HintType("ARRAY<STRING>"), "VARCHAR[]");
  EXPECT_EQ(HintType("map<string, array<int>>"), "MAP(VARCHAR, INTEGER[])");
  EXPECT_EQ(HintType("STRUCT<a: INT, `b c` ARRAY<STRUCT<d: LONG>>>"),
            "STRUCT(\"a\" INTEGER, \"b c\" STRUCT(\"d\" BIGINT)[])");
  // DESCRIBE's spelling inside nested types; a field name is not a type.
  EXPECT_EQ(HintType("MAP<STRING, ARRAY<STRUCT<`TIMESTAMPTZ`: TIMESTAMP, `x\"\" TIMESTAMPTZ`: "
                     "timestamp>>>"),
            "MAP(VARCHAR, STRUCT(\"TIMESTAMPTZ\" TIMESTAMP WITH TIME ZONE, \"x\"\"\"\" "
            "TIMESTAMPTZ\" TIMESTAMP WITH TIME ZONE)[])");
  // NOT NULL and COMMENT of fields, COMMENT's text with brackets and commas.
  EXPECT_EQ(HintType("STRUCT<a: INT NOT NULL COMMENT 'x, <y>', b STRING COMMENT \"z\"> NOT NULL"),
            "STRUCT(\"a\" INTEGER, \"b\" VARCHAR)");
}

TEST(SparkTypeTest, ColumnLists) {
  ASSERT_OK_AND_ASSIGN(
      std::vector<SourceColumn> columns,
      ParseSparkColumnList("a INT, b DECIMAL(10,2) NOT NULL, `c d` STRING COMMENT 'the c', e: "
                           "TIMESTAMP, f ARRAY<TIMESTAMP> COMMENT 'it\\'s' NOT NULL, g VARIANT"));
  ASSERT_EQ(columns.size(), 6u);
  EXPECT_EQ(columns[0], (SourceColumn{"a", "INTEGER"}));
  EXPECT_EQ(columns[1], (SourceColumn{"b", "DECIMAL(10,2)"}));
  EXPECT_EQ(columns[2], (SourceColumn{"c d", "VARCHAR"}));
  EXPECT_EQ(columns[3], (SourceColumn{"e", "TIMESTAMP WITH TIME ZONE"}));
  EXPECT_EQ(columns[4], (SourceColumn{"f", "TIMESTAMP WITH TIME ZONE[]"}));
  EXPECT_EQ(columns[5], (SourceColumn{"g", "JSON"}));
  ASSERT_OK_AND_ASSIGN(columns, ParseSparkColumnList("  "));
  EXPECT_TRUE(columns.empty());
}

TEST(SparkTypeTest, Errors) {
  for (const char* bad : {"INTERVALISH", "ARRAY<INT", "DECIMAL(40,2)", "INT INT", "", "NOT NULL",
                          "STRUCT<>", "ARRAY<INT>>"}) {
    EXPECT_TRUE(HintType(bad).starts_with("ERROR: InvalidArgument")) << bad << ": " << HintType(bad);
  }
  EXPECT_TRUE(ParseSparkColumnList("a INT, A STRING").status().IsInvalidArgument());
  EXPECT_TRUE(ParseSparkColumnList("a INT b STRING").status().IsInvalidArgument());
  EXPECT_TRUE(ParseSparkColumnList("a INT NOT b").status().IsInvalidArgument());
  EXPECT_TRUE(ParseSparkColumnList("a.b INT").status().IsNotSupported());
  EXPECT_EQ(HintType("WIDGET"),
            "ERROR: InvalidArgument: column c: Spark type 'WIDGET': unknown type name 'WIDGET' in "
            "\"c WIDGET\"");
  EXPECT_EQ(HintType("DECIMAL(40,2)"),
            "ERROR: InvalidArgument: column c: Spark type 'DECIMAL(40,2)': DECIMAL(40, 2) is out "
            "of range (precision 1..38, scale 0..precision) in \"c DECIMAL(40,2)\"");
}

TEST(SourceSchemaTest, JsonRoundTripAndFind) {
  SourceSchema schema{{{"id", "BIGINT"}, {"Delay", "DECIMAL(10,2)"}, {"s", "STRUCT(\"a\" INTEGER)"}}};
  std::string json = schema.ToJson();
  EXPECT_EQ(json.rfind("{\"version\":1,\"columns\":[{\"name\":\"id\",\"type\":\"BIGINT\"}", 0), 0u)
      << json;
  ASSERT_OK_AND_ASSIGN(SourceSchema back, SourceSchema::FromJson(json));
  EXPECT_EQ(back, schema);
  EXPECT_NE(schema.Find("delay"), nullptr);
  EXPECT_EQ(schema.Find("delay", /*case_sensitive=*/true), nullptr);
  EXPECT_TRUE(SourceSchema::FromJson("{").status().IsCorruption());
  EXPECT_TRUE(SourceSchema::FromJson("{\"version\":1}").status().IsCorruption());
  EXPECT_TRUE(
      SourceSchema::FromJson("{\"version\":2,\"columns\":[]}").status().IsNotSupported());
}

}  // namespace
}  // namespace medallion::ingest
