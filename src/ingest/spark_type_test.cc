#include "ingest/spark_type.h"

#include <gtest/gtest.h>

#include "storage/test_util.h"

namespace medallion::ingest {
namespace {

TEST(SparkTypeTest, ScalarTypesMapToDuckDb) {
  const std::pair<const char*, const char*> cases[] = {
      {"STRING", "VARCHAR"},
      {"string", "VARCHAR"},
      {"VARCHAR(10)", "VARCHAR"},
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
      {"TIMESTAMP_NTZ", "TIMESTAMP"},
      {"BINARY", "BLOB"},
  };
  for (const auto& [spark, duckdb] : cases) {
    ASSERT_OK_AND_ASSIGN(std::string type, SparkTypeToDuckDb(spark));
    EXPECT_EQ(type, duckdb) << spark;
  }
}

TEST(SparkTypeTest, NestedTypes) {
  ASSERT_OK_AND_ASSIGN(std::string type, SparkTypeToDuckDb("ARRAY<STRING>"));
  EXPECT_EQ(type, "VARCHAR[]");
  ASSERT_OK_AND_ASSIGN(type, SparkTypeToDuckDb("map<string, array<int>>"));
  EXPECT_EQ(type, "MAP(VARCHAR, INTEGER[])");
  ASSERT_OK_AND_ASSIGN(type, SparkTypeToDuckDb("STRUCT<a: INT, `b c` ARRAY<STRUCT<d: LONG>>>"));
  EXPECT_EQ(type, "STRUCT(\"a\" INTEGER, \"b c\" STRUCT(\"d\" BIGINT)[])");
}

TEST(SparkTypeTest, ColumnLists) {
  ASSERT_OK_AND_ASSIGN(
      std::vector<SourceColumn> columns,
      ParseSparkColumnList("a INT, b DECIMAL(10,2) NOT NULL, `c d` STRING COMMENT 'the c', e: "
                           "TIMESTAMP"));
  ASSERT_EQ(columns.size(), 4u);
  EXPECT_EQ(columns[0], (SourceColumn{"a", "INTEGER"}));
  EXPECT_EQ(columns[1], (SourceColumn{"b", "DECIMAL(10,2)"}));
  EXPECT_EQ(columns[2], (SourceColumn{"c d", "VARCHAR"}));
  EXPECT_EQ(columns[3], (SourceColumn{"e", "TIMESTAMP WITH TIME ZONE"}));
  ASSERT_OK_AND_ASSIGN(columns, ParseSparkColumnList("  "));
  EXPECT_TRUE(columns.empty());
}

TEST(SparkTypeTest, Errors) {
  EXPECT_TRUE(SparkTypeToDuckDb("INTERVALISH").status().IsInvalidArgument());
  EXPECT_TRUE(SparkTypeToDuckDb("ARRAY<INT").status().IsInvalidArgument());
  EXPECT_TRUE(SparkTypeToDuckDb("DECIMAL(40,2)").status().IsInvalidArgument());
  EXPECT_TRUE(SparkTypeToDuckDb("INT INT").status().IsInvalidArgument());
  EXPECT_TRUE(ParseSparkColumnList("a INT, A STRING").status().IsInvalidArgument());
  EXPECT_TRUE(ParseSparkColumnList("a INT b STRING").status().IsInvalidArgument());
  EXPECT_TRUE(ParseSparkColumnList("a.b INT").status().IsNotSupported());
  auto unknown = ParseSparkColumnList("a WIDGET");
  EXPECT_NE(unknown.status().message().find("WIDGET"), std::string::npos);
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
