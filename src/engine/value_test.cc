#include "engine/value.h"

#include <gtest/gtest.h>

#include "engine/database.h"
#include "engine/sql_text.h"

namespace medallion::engine {
namespace {

TEST(ValueTest, DefaultIsNull) {
  Value v;
  EXPECT_TRUE(v.is_null());
  EXPECT_EQ(v.ToString(), "NULL");
  EXPECT_EQ(v.ToJson(), "null");
  EXPECT_TRUE(v.AsInt64().status().IsInvalidArgument());
}

// GetText must equal DuckDB's own CAST(x AS VARCHAR) for every type we meet.
TEST(ValueTest, TextEqualsDuckDbCast) {
  auto db = *Database::Open();
  auto conn = *db->Connect();
  ASSERT_TRUE(conn->Execute("SET TimeZone = 'UTC'").ok());
  const char* exprs[] = {
      "0.1::DOUBLE", "1e20::DOUBLE", "-0.0::FLOAT", "'nan'::DOUBLE", "170141183460469231731687303715884105727::HUGEINT",
      "18446744073709551615::UBIGINT", "(-5.5)::DECIMAL(4,1)", "0.000001::DECIMAL(18,6)",
      "TIME '23:59:59.999999'", "INTERVAL '1 day 2 hours'", "TIMESTAMP_NS '2024-01-01 00:00:00.123456789'",
      "TIMESTAMP_MS '2024-01-01 00:00:00.123'", "TIMESTAMP_S '2024-01-01 00:00:01'",
      "'8d2e7c34-0fb1-4c9b-8b8a-2a3f6f2b8f10'::UUID", "'\\xAA\\x00'::BLOB", "[[1,2],[3]]",
      "[1,2,3]::INTEGER[3]", "{'a': {'b': [NULL]}}", "MAP {1: 'x', 2: NULL}", "'quote''s'",
      // Regression: empty lists and maps crashed (the C API refuses a null element array).
      "[]::VARCHAR[]", "MAP {}::MAP(INTEGER, VARCHAR)", "{'a': []::INTEGER[]}",
      "'hello'::ENUM('hello','world')", "DATE '0001-01-01'", "NULL"};
  for (const char* e : exprs) {
    auto r = conn->Query(std::string("SELECT ") + e + ", CAST(" + e + " AS VARCHAR)");
    ASSERT_TRUE(r.ok()) << e << ": " << r.status().ToString();
    std::string expected = r->IsNull(1, 0) ? "NULL" : *r->GetString(1, 0);
    EXPECT_EQ(r->GetText(0, 0), expected) << e;
  }
}

TEST(ValueTest, ConversionsRefuseWrongTypes) {
  auto db = *Database::Open();
  auto conn = *db->Connect();
  auto r = conn->Query("SELECT 'x' AS s, 1.5::DECIMAL(3,1) AS d, 18446744073709551615::UBIGINT AS u");
  ASSERT_TRUE(r.ok());
  Value s = r->GetValue(0, 0);
  EXPECT_TRUE(s.AsInt64().status().IsInvalidArgument());
  EXPECT_EQ(s.AsInt64().status().message(), "VARCHAR value x is not an integer");
  EXPECT_TRUE(r->GetValue(1, 0).AsInt64().status().IsInvalidArgument());  // scale 1
  EXPECT_DOUBLE_EQ(*r->GetValue(1, 0).AsDouble(), 1.5);
  EXPECT_TRUE(r->GetInt64(2, 0).status().IsInvalidArgument());
  EXPECT_EQ(r->GetValue(2, 0).ToJson(), "18446744073709551615");
}

TEST(ValueTest, JsonKeepsExactNumbersAndEscapes) {
  auto db = *Database::Open();
  auto conn = *db->Connect();
  auto r = conn->Query(
      "SELECT 12345678901234567890.123::DECIMAL(38,3), 'nan'::DOUBLE, 'a\"b\n', "
      "MAP {1: 'x'}, TIMESTAMP '2024-01-01 10:00:00'");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->GetValue(0, 0).ToJson(), "12345678901234567890.123");
  EXPECT_EQ(r->GetValue(1, 0).ToJson(), "\"NaN\"");
  EXPECT_EQ(r->GetValue(2, 0).ToJson(), "\"a\\\"b\\n\"");
  EXPECT_EQ(r->GetValue(3, 0).ToJson(), R"([{"key":1,"value":"x"}])");
  EXPECT_EQ(r->GetValue(4, 0).ToJson(), "\"2024-01-01 10:00:00\"");
}

TEST(SqlTextTest, Quoting) {
  EXPECT_EQ(QuoteString("it's"), "'it''s'");
  EXPECT_EQ(QuoteIdentifier("my \"col\""), "\"my \"\"col\"\"\"");
}

}  // namespace
}  // namespace medallion::engine
