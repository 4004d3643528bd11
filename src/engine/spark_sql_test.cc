// Tests of the Spark SQL -> DuckDB translation (engine/spark_sql.h).
//
// Function tests run the translated SQL on DuckDB and expect Spark's documented result: each cites
// the example of the Spark SQL function reference (spark.apache.org/docs/latest/api/sql) or of the
// Databricks SQL reference it reproduces. Nested results are compared as JSON, the form Spark
// prints them in. The Spark docs generate their examples in the America/Los_Angeles time zone;
// medallion's sessions run in UTC, so time-zone-dependent results are given for UTC.
#include "engine/spark_sql.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "engine/database.h"
#include "storage/test_util.h"

namespace medallion::engine {
namespace {

class SparkSqlTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK_AND_ASSIGN(db_, Database::Open());
    ASSERT_OK_AND_ASSIGN(conn_, db_->Connect());
    ASSERT_OK(conn_->Execute("SET TimeZone = 'UTC'"));
    ASSERT_OK(RegisterSparkFunctions(*conn_));
  }

  // Translates and runs `spark_sql`; returns the first row's cells, '|'-separated: NULL as "NULL",
  // lists, structs and maps as JSON, other values as DuckDB's text. Errors come back as "ERROR:
  // ...".
  std::string Eval(std::string_view spark_sql) { return EvalRows(spark_sql, 1); }

  // The same for up to `max_rows` rows, one per line.
  std::string EvalRows(std::string_view spark_sql, size_t max_rows = 100) {
    auto sql = TranslateSparkSql(spark_sql);
    if (!sql.ok()) return "ERROR: " + sql.status().ToString();
    auto result = conn_->Query(*sql);
    if (!result.ok()) return "ERROR: " + result.status().ToString() + "\n  SQL: " + *sql;
    std::string out;
    for (size_t r = 0; r < result->row_count() && r < max_rows; ++r) {
      if (r > 0) out += "\n";
      for (size_t c = 0; c < result->column_count(); ++c) {
        if (c > 0) out += "|";
        Value v = result->GetValue(c, r);
        TypeId id = v.type().id;
        bool nested = id == TypeId::kList || id == TypeId::kArray || id == TypeId::kStruct ||
                      id == TypeId::kMap;
        out += v.is_null() ? "NULL" : nested ? v.ToJson() : v.ToString();
      }
    }
    return out;
  }

  std::unique_ptr<Database> db_;
  std::unique_ptr<Connection> conn_;
};

std::string Translate(std::string_view spark_sql) {
  auto sql = TranslateSparkSql(spark_sql);
  return sql.ok() ? *sql : "ERROR: " + sql.status().ToString();
}

// ---------------------------------------------------------------------------------------------
// Translation shape

TEST(SparkSqlTranslateTest, TextThatNeedsNoChangeIsKept) {
  for (std::string_view sql : {
           "SELECT a, b + 1 AS c FROM t WHERE x = 'y' AND z <> 2 ORDER BY 1",
           "SELECT count(*), sum(x) FILTER (WHERE y > 0)\nFROM t -- a comment; with 'quotes'\n"
           "/* block `comment` \"x\" */ GROUP BY ALL",
           "SELECT * FROM read_files('/data/in', format => 'csv', header => true)",
           "SELECT * FROM STREAM(bronze_orders) WHERE amount >= 10",
           "SELECT year, month, t.day, size FROM t",  // columns named like functions
           "SELECT instr(s, 'a'), coalesce(a, b), nullif(a, b), greatest(a, b), count_if(c) FROM t",
           "SELECT 'it''s', 1.5, 1e3, $$ body $$",
           "INSERT INTO day (year, map) VALUES (1, 2)",  // a table named like a function
       }) {
    EXPECT_EQ(Translate(sql), sql);
  }
}

TEST(SparkSqlTranslateTest, BackticksBecomeDoubleQuotedIdentifiers) {
  EXPECT_EQ(Translate("SELECT `my col`, t.`a``b` FROM `db`.`orders` t"),
            "SELECT \"my col\", t.\"a`b\" FROM \"db\".\"orders\" t");
  EXPECT_EQ(Translate("SELECT * FROM STREAM(`raw events`)"),
            "SELECT * FROM STREAM(\"raw events\")");
  // A file reference keeps its backticks for the session to resolve.
  EXPECT_EQ(Translate("SELECT * FROM delta.`/data/t` VERSION AS OF 3"),
            "SELECT * FROM delta.`/data/t` VERSION AS OF 3");
}

TEST(SparkSqlTranslateTest, StringLiterals) {
  // Spark's "..." is a string; backslash escapes are Spark's; r'...' is raw.
  EXPECT_EQ(Translate(R"(SELECT "it's", "say ""hi""")"), R"(SELECT 'it''s', 'say "hi"')");
  EXPECT_EQ(Translate(R"(SELECT 'a\nb', 'tab\there', 'it\'s', 'back\\slash', '\u00e9\x')"),
            "SELECT 'a\nb', 'tab\there', 'it''s', 'back\\slash', '\xc3\xa9x'");
  EXPECT_EQ(Translate(R"(SELECT r'\d+\.', R'C:\dir')"), R"(SELECT '\d+\.', 'C:\dir')");
  EXPECT_EQ(Translate(R"(SELECT '\uD83D\uDE00', '\101')"), "SELECT '\xf0\x9f\x98\x80', 'A'");
  // A double-quoted name where only a table can stand stays an identifier.
  EXPECT_EQ(Translate(R"(SELECT "x" FROM "__src_0" JOIN "s"."t" USING (k))"),
            R"(SELECT 'x' FROM "__src_0" JOIN "s"."t" USING (k))");
}

TEST(SparkSqlTranslateTest, Types) {
  EXPECT_EQ(Translate("SELECT CAST(a AS STRING), TRY_CAST(b AS long), cast(c as DECIMAL), "
                      "CAST(d AS decimal(12, 2)), CAST(e AS TIMESTAMP), CAST(f AS timestamp_ntz)"),
            "SELECT CAST(a AS VARCHAR), TRY_CAST(b AS BIGINT), cast(c AS DECIMAL(10,0)), "
            "CAST(d AS DECIMAL(12,2)), CAST(e AS TIMESTAMPTZ), CAST(f AS TIMESTAMP)");
  EXPECT_EQ(Translate("SELECT a::string, b :: int, c::array<struct<x: int, `y z` string>> > 0, "
                      "d::map<string, bigint>, e::binary"),
            "SELECT a::VARCHAR, b :: INTEGER, c::STRUCT(\"x\" INTEGER, \"y z\" VARCHAR)[] > 0, "
            "d::MAP(VARCHAR, BIGINT), e::BLOB");
  // Typed literals and numeric suffixes.
  EXPECT_EQ(Translate("SELECT TIMESTAMP '2024-01-01 10:00:00', TIMESTAMP_NTZ '2024-01-01', "
                      "DATE '2024-01-01', 10L, 2S, 1Y, 1.5D, 2F, 3.25BD"),
            "SELECT TIMESTAMPTZ '2024-01-01 10:00:00', TIMESTAMP '2024-01-01', DATE '2024-01-01', "
            "CAST(10 AS BIGINT), CAST(2 AS SMALLINT), CAST(1 AS TINYINT), CAST(1.5 AS DOUBLE), "
            "CAST(2 AS FLOAT), 3.25");
  // A type DuckDB knows and Spark does not is kept.
  EXPECT_EQ(Translate("SELECT CAST(x AS JSON), y::HUGEINT, CAST(z AS STRUCT(a INT))"),
            "SELECT CAST(x AS JSON), y::HUGEINT, CAST(z AS STRUCT(a INT))");
  // Column definitions.
  EXPECT_EQ(Translate("CREATE OR REPLACE TABLE t (id BIGINT NOT NULL, name STRING COMMENT 'n', "
                      "tags ARRAY<STRING>, amount DECIMAL(10,2), CONSTRAINT pk PRIMARY KEY (id)) "
                      "AS SELECT 1"),
            "CREATE OR REPLACE TABLE t (id BIGINT NOT NULL, name VARCHAR COMMENT 'n', "
            "tags VARCHAR[], amount DECIMAL(10,2), CONSTRAINT pk PRIMARY KEY (id)) AS SELECT 1");
  EXPECT_EQ(Translate("CREATE OR REFRESH STREAMING TABLE s (`a b` TIMESTAMP, c MAP<STRING, INT>)"),
            "CREATE OR REFRESH STREAMING TABLE s (\"a b\" TIMESTAMPTZ, c MAP(VARCHAR, INTEGER))");
}

TEST(SparkSqlTranslateTest, TranslateSparkType) {
  auto type = [](std::string_view t) {
    auto r = TranslateSparkType(t);
    return r.ok() ? *r : "ERROR: " + r.status().message();
  };
  EXPECT_EQ(type("STRING"), "VARCHAR");
  EXPECT_EQ(type("int"), "INTEGER");
  EXPECT_EQ(type("INTEGER"), "INTEGER");
  EXPECT_EQ(type("bigint"), "BIGINT");
  EXPECT_EQ(type("LONG"), "BIGINT");
  EXPECT_EQ(type("SMALLINT"), "SMALLINT");
  EXPECT_EQ(type("short"), "SMALLINT");
  EXPECT_EQ(type("TINYINT"), "TINYINT");
  EXPECT_EQ(type("BYTE"), "TINYINT");
  EXPECT_EQ(type("DOUBLE"), "DOUBLE");
  EXPECT_EQ(type("FLOAT"), "FLOAT");
  EXPECT_EQ(type("REAL"), "FLOAT");
  EXPECT_EQ(type("DECIMAL"), "DECIMAL(10,0)");
  EXPECT_EQ(type("DEC(5)"), "DECIMAL(5,0)");
  EXPECT_EQ(type("NUMERIC(38, 18)"), "DECIMAL(38,18)");
  EXPECT_EQ(type("BOOLEAN"), "BOOLEAN");
  EXPECT_EQ(type("DATE"), "DATE");
  EXPECT_EQ(type("TIMESTAMP"), "TIMESTAMPTZ");
  EXPECT_EQ(type("TIMESTAMP_LTZ"), "TIMESTAMPTZ");
  EXPECT_EQ(type("TIMESTAMP_NTZ"), "TIMESTAMP");
  EXPECT_EQ(type("BINARY"), "BLOB");
  EXPECT_EQ(type("VARCHAR(10)"), "VARCHAR");
  EXPECT_EQ(type("ARRAY<INT>"), "INTEGER[]");
  EXPECT_EQ(type("ARRAY<ARRAY<STRING>>"), "VARCHAR[][]");
  EXPECT_EQ(type("MAP<STRING, ARRAY<DOUBLE>>"), "MAP(VARCHAR, DOUBLE[])");
  EXPECT_EQ(type("STRUCT<a: INT, b STRING NOT NULL COMMENT 'x'>"),
            "STRUCT(\"a\" INTEGER, \"b\" VARCHAR)");
  EXPECT_EQ(type("struct<`x y`: struct<z: date>>"), "STRUCT(\"x y\" STRUCT(\"z\" DATE))");
  // Spark's "..." is a string, in a field's COMMENT too.
  EXPECT_EQ(type("STRUCT<a: INT COMMENT \"the a\", b: STRING>"),
            "STRUCT(\"a\" INTEGER, \"b\" VARCHAR)");
  EXPECT_EQ(type("VARIANT"), "JSON");
  EXPECT_EQ(type("ARRAY<variant>"), "JSON[]");
  EXPECT_EQ(type("INTERVAL DAY TO SECOND"), "INTERVAL");
  EXPECT_EQ(type("WIDGET"), "ERROR: Spark type 'WIDGET': unknown type name 'WIDGET'");
  EXPECT_EQ(type("DECIMAL(40,2)"),
            "ERROR: Spark type 'DECIMAL(40,2)': DECIMAL(40, 2) is out of range (precision 1..38, "
            "scale 0..precision)");
  EXPECT_EQ(type("ARRAY<INT"), "ERROR: Spark type 'ARRAY<INT': expected '>' at the end");
  EXPECT_EQ(type("INT INT"), "ERROR: Spark type 'INT INT': unexpected text after the type");
}

TEST(SparkSqlTranslateTest, NestedCallsCaseAndAggregates) {
  EXPECT_EQ(Translate("SELECT upper(concat(nvl(a, 'x'), substr(b, 2)))"),
            "SELECT upper((coalesce(a, 'x') || spark_substring(b, 2)))");
  EXPECT_EQ(Translate("SELECT CASE WHEN nvl(a, 0) > 1 THEN date_format(ts, 'yyyy') ELSE "
                      "to_date(s) END FROM t"),
            "SELECT CASE WHEN coalesce(a, 0) > 1 THEN CASE WHEN typeof(ts) = 'DATE' THEN "
            "strftime(TRY_CAST(ts AS DATE), '%Y') ELSE strftime(TRY_CAST(ts AS TIMESTAMP), '%Y') "
            "END ELSE TRY_CAST(s AS DATE) END FROM t");
  EXPECT_EQ(Translate("SELECT k, sum(nvl(x, 0)), collect_list(y), collect_set(DISTINCT y) "
                      "FILTER (WHERE z) FROM t GROUP BY k"),
            "SELECT k, sum(coalesce(x, 0)), list(y) FILTER (WHERE y IS NOT NULL), "
            "list(DISTINCT y) FILTER (WHERE (z) AND y IS NOT NULL) FROM t GROUP BY k");
  EXPECT_EQ(Translate("SELECT collect_list(a + 1) OVER (PARTITION BY k)"),
            "SELECT list(a + 1) FILTER (WHERE (a + 1) IS NOT NULL) OVER (PARTITION BY k)");
  // Names match case-insensitively, only before '(' and not after a qualifier.
  EXPECT_EQ(Translate("SELECT NVL(a, 1), Year(d), year, myschema.nvl(a, 1)"),
            "SELECT coalesce(a, 1), year(TRY_CAST(d AS DATE)), year, myschema.nvl(a, 1)");
  EXPECT_EQ(
      Translate("SELECT current_date, current_timestamp, current_date(), current_timestamp()"),
      "SELECT current_date, current_timestamp, current_date, current_timestamp");
}

TEST(SparkSqlTranslateTest, Operators) {
  EXPECT_EQ(
      Translate("SELECT a == b, a <=> b, a != b, a || b, 7 DIV 2, a<=>b"),
      "SELECT a = b, a  IS NOT DISTINCT FROM  b, a != b, a || b, 7 // 2, a IS NOT DISTINCT FROM b");
  EXPECT_EQ(
      Translate("SELECT * FROM t WHERE name RLIKE '^a.c' AND code NOT REGEXP lower(p)"),
      "SELECT * FROM t WHERE name SIMILAR TO '(?s:.*)(?:^a.c)(?s:.*)' AND code NOT SIMILAR TO "
      "('(?s:.*)(?:' || lower(p) || ')(?s:.*)')");
  EXPECT_EQ(Translate(R"(SELECT a LIKE 'x\_%', b LIKE 'y%')"),
            R"(SELECT a LIKE 'x\_%' ESCAPE '\', b LIKE 'y%')");
  // Spark subscripts are 0-based; map keys stay as written.
  EXPECT_EQ(Translate("SELECT arr[0], split(s, ',')[i], m['k'], arr[0].f"),
            "SELECT arr[1], string_split_regex(s, ',')[(i) + 1], m['k'], arr[1].f");
}

TEST(SparkSqlTranslateTest, CommentsAndLiteralsInsideRewrittenCalls) {
  // A -- comment at the end of an argument keeps its line break.
  EXPECT_EQ(Translate("SELECT concat(a -- first\n, b /* second */)"),
            "SELECT (a -- first\n || b /* second */)");
  // Adjacent string literals are one string; slices and empty [] (DuckDB syntax) are kept.
  EXPECT_EQ(Translate("SELECT 'a' 'b'  \"c\", x[1:2], ARRAY[1, 2]"),
            "SELECT 'abc', x[1:2], ARRAY[1, 2]");
  // `x RLIKE (p)` is the operator; rlike(x, p) the function.
  EXPECT_EQ(Translate("SELECT a RLIKE (b), rlike(a, b)"),
            "SELECT a SIMILAR TO ('(?s:.*)(?:' || (b) || ')(?s:.*)'), regexp_matches(a, b)");
}

TEST(SparkSqlTranslateTest, JsonPathColonSyntax) {
  EXPECT_EQ(Translate("SELECT details:flow_progress.metrics.num_output_rows FROM event_log"),
            "SELECT json_extract_string(TRY_CAST(details AS JSON), "
            "'$.flow_progress.metrics.num_output_rows') FROM event_log");
  EXPECT_EQ(Translate("SELECT raw:store.fruit[0].type, raw:`zip code`, raw:['fb:testid'], "
                      "e.raw:a.b::int"),
            "SELECT json_extract_string(TRY_CAST(raw AS JSON), '$.store.fruit[0].type'), "
            "json_extract_string(TRY_CAST(raw AS JSON), '$.\"zip code\"'), "
            "json_extract_string(TRY_CAST(raw AS JSON), '$.\"fb:testid\"'), "
            "json_extract_string(TRY_CAST(e.raw AS JSON), '$.a.b')::INTEGER");
}

TEST(SparkSqlTranslateTest, ErrorsNameTheLineAndTheFunction) {
  auto error = [](std::string_view sql) {
    auto r = TranslateSparkSql(sql);
    return r.ok() ? "OK: " + *r : r.status().ToString();
  };
  EXPECT_EQ(error("SELECT 1,\n'oops"), "InvalidArgument: line 2: unterminated ' string");
  EXPECT_EQ(error("SELECT (1\n"), "InvalidArgument: line 1: unclosed '('");
  EXPECT_EQ(error("SELECT 1)"), "InvalidArgument: line 1: unbalanced ')'");
  std::string message = error("SELECT a,\n  date_format(ts, fmt_column)");
  EXPECT_TRUE(
      message.starts_with("InvalidArgument: line 2: date_format: the pattern must be a "
                          "string literal (got fmt_column); supported pattern letters: y, "))
      << message;
  message = error("SELECT date_format(ts, 'yyyy-QQ')");
  EXPECT_TRUE(message.starts_with(
      "InvalidArgument: line 1: date_format: 'QQ' in pattern 'yyyy-QQ' is not supported; "
      "supported: y, yy, yyyy"))
      << message;
  EXPECT_EQ(error("SELECT sha2(x, 512)"),
            "InvalidArgument: line 1: sha2: SHA-512 is not available (DuckDB has SHA-256 only); "
            "supported bit lengths: 0, 256");
  EXPECT_EQ(error("SELECT named_struct(n, 1)"),
            "InvalidArgument: line 1: named_struct: field names must be string literals (got n)");
  EXPECT_EQ(error("SELECT from_json(s, schema_of_json(x))"),
            "InvalidArgument: line 1: from_json: the schema must be a string literal such as "
            "'a INT, b STRING' or 'STRUCT<a: INT>' (got schema_of_json(x))");
  EXPECT_EQ(error("SELECT from_json(s, 'a INT', map('mode', 'FAILFAST'))"),
            "InvalidArgument: line 1: from_json: options (the third argument) are not supported");
  EXPECT_EQ(error("SELECT substring('abc')"),
            "InvalidArgument: line 1: substring takes 2 to 3 arguments, got 1");
  EXPECT_EQ(error("SELECT CAST(x AS DECIMAL(99))"),
            "InvalidArgument: line 1: Spark type 'DECIMAL(99)': DECIMAL(99, 0) is out of range "
            "(precision 1..38, scale 0..precision)");
}

// ---------------------------------------------------------------------------------------------
// Functions, against Spark's documented results

TEST_F(SparkSqlTest, CurrentDateAndTimestamp) {
  // Spark docs: SELECT current_date(); / SELECT current_date; (the date at query start)
  EXPECT_EQ(Eval("SELECT current_date() = current_date, typeof(current_date())"), "true|DATE");
  // Spark docs: SELECT current_timestamp(); / SELECT current_timestamp; -- an instant
  EXPECT_EQ(
      Eval("SELECT typeof(current_timestamp()), CAST(current_timestamp AS DATE) = current_date"),
      "TIMESTAMP WITH TIME ZONE|true");
}

TEST_F(SparkSqlTest, DateFormat) {
  // Spark docs: SELECT date_format('2016-04-08', 'y'); 2016
  EXPECT_EQ(Eval("SELECT date_format('2016-04-08', 'y')"), "2016");
  // A DATE has midnight as its time (Spark casts it to a timestamp).
  EXPECT_EQ(Eval("SELECT date_format(DATE '2021-03-04', 'yyyy-MM-dd HH:mm:ss')"),
            "2021-03-04 00:00:00");
  // PySpark docs: date_format('2015-04-08', 'MM/dd/yyy') -> '04/08/2015'
  EXPECT_EQ(Eval("SELECT date_format('2015-04-08', 'MM/dd/yyy')"), "04/08/2015");
  // Databricks PySpark docs: date_format('2015-04-08 13:08:15', 'yy=MM=dd HH=mm=ss')
  EXPECT_EQ(Eval("SELECT date_format('2015-04-08 13:08:15', 'yy=MM=dd HH=mm=ss')"),
            "15=04=08 13=08=15");
  // Every supported letter (Spark "Datetime Patterns").
  EXPECT_EQ(Eval("SELECT date_format(TIMESTAMP '2016-04-08 13:05:09.123456', "
                 "'EEEE, MMMM d, yyyy h:mm a (EEE MMM dd H:m:s) D SSS SSSSSS')"),
            "Friday, April 8, 2016 1:05 PM (Fri Apr 08 13:5:9) 99 123 123456");
  EXPECT_EQ(Eval("SELECT date_format(TIMESTAMP '2016-04-08 13:05:09.5', "
                 "\"yyyy-MM-dd'T'HH:mm:ss.SSSXXX 'o''clock' z\")"),
            "2016-04-08T13:05:09.500Z o'clock UTC");
  EXPECT_EQ(Eval("SELECT date_format(DATE '2016-04-08', 'yyyyMMdd'), date_format(NULL, 'y'), "
                 "date_format('not a date', 'y')"),
            "20160408|NULL|NULL");
}

TEST_F(SparkSqlTest, ToDateAndToTimestamp) {
  // Spark docs: SELECT to_date('2009-07-30 04:17:52'); 2009-07-30
  EXPECT_EQ(Eval("SELECT to_date('2009-07-30 04:17:52')"), "2009-07-30");
  // Spark docs: SELECT to_date('2016-12-31', 'yyyy-MM-dd'); 2016-12-31
  EXPECT_EQ(Eval("SELECT to_date('2016-12-31', 'yyyy-MM-dd')"), "2016-12-31");
  // Spark docs: "Returns null with invalid input."
  EXPECT_EQ(Eval("SELECT to_date('31/12/2016', 'yyyy-MM-dd'), to_date('garbage')"), "NULL|NULL");
  EXPECT_EQ(Eval("SELECT to_date('31/12/2016', 'dd/MM/yyyy'), to_date('Apr 8 2016', 'MMM d yyyy')"),
            "2016-12-31|2016-04-08");
  // Spark docs: SELECT to_timestamp('2016-12-31 00:12:00'); 2016-12-31 00:12:00
  EXPECT_EQ(Eval("SELECT to_timestamp('2016-12-31 00:12:00')"), "2016-12-31 00:12:00+00");
  // Spark docs: SELECT to_timestamp('2016-12-31', 'yyyy-MM-dd'); 2016-12-31 00:00:00
  EXPECT_EQ(Eval("SELECT to_timestamp('2016-12-31', 'yyyy-MM-dd')"), "2016-12-31 00:00:00+00");
  EXPECT_EQ(Eval("SELECT to_timestamp('2016-12-31T10:11:12.345Z', \"yyyy-MM-dd'T'HH:mm:ss.SSSX\"), "
                 "to_timestamp('2016-12-31 10:11:12 +01:00', 'yyyy-MM-dd HH:mm:ss XXX')"),
            "2016-12-31 10:11:12.345+00|2016-12-31 09:11:12+00");
  // Spark docs: try_to_timestamp('2016-12-31', 'yyyy-MM-dd'); 2016-12-31 00:00:00 / ('foo',
  // 'yyyy-MM-dd'); NULL
  EXPECT_EQ(Eval("SELECT try_to_timestamp('2016-12-31', 'yyyy-MM-dd'), try_to_timestamp('foo', "
                 "'yyyy-MM-dd')"),
            "2016-12-31 00:00:00+00|NULL");
  EXPECT_EQ(Eval("SELECT typeof(to_timestamp('2016-12-31')), to_timestamp('x', 'yyyy')"),
            "TIMESTAMP WITH TIME ZONE|NULL");
}

TEST_F(SparkSqlTest, UnixTime) {
  // Spark docs: SELECT from_unixtime(0, 'yyyy-MM-dd HH:mm:ss'); 1970-01-01 00:00:00 (in UTC)
  EXPECT_EQ(Eval("SELECT from_unixtime(0, 'yyyy-MM-dd HH:mm:ss')"), "1970-01-01 00:00:00");
  // The default pattern is yyyy-MM-dd HH:mm:ss.
  EXPECT_EQ(Eval("SELECT from_unixtime(1460073600), from_unixtime(1460073600, 'yyyy/MM/dd')"),
            "2016-04-08 00:00:00|2016/04/08");
  // Spark docs: SELECT unix_timestamp('2016-04-08', 'yyyy-MM-dd'); 1460041200 in the docs'
  // America/Los_Angeles; 1460073600 in UTC.
  EXPECT_EQ(Eval("SELECT unix_timestamp('2016-04-08', 'yyyy-MM-dd')"), "1460073600");
  // The default pattern yyyy-MM-dd HH:mm:ss; a timestamp or date ignores the pattern.
  EXPECT_EQ(
      Eval("SELECT unix_timestamp('2016-04-08 00:00:01'), unix_timestamp('2016-04-08'), "
           "unix_timestamp(TIMESTAMP '2016-04-08 00:00:02'), unix_timestamp(DATE '2016-04-08', "
           "'yyyy'), to_unix_timestamp('2016-04-08', 'yyyy-MM-dd')"),
      "1460073601|NULL|1460073602|1460073600|1460073600");
  // Spark docs: SELECT unix_timestamp(); -- the current time
  EXPECT_EQ(
      Eval("SELECT unix_timestamp() BETWEEN 1700000000 AND 4000000000, typeof(unix_timestamp())"),
      "true|BIGINT");
}

TEST_F(SparkSqlTest, DateArithmetic) {
  // Spark docs: SELECT date_add('2016-07-30', 1); 2016-07-31
  EXPECT_EQ(Eval("SELECT date_add('2016-07-30', 1)"), "2016-07-31");
  // Spark docs: SELECT date_sub('2016-07-30', 1); 2016-07-29
  EXPECT_EQ(Eval("SELECT date_sub('2016-07-30', 1)"), "2016-07-29");
  // Spark docs: SELECT datediff('2009-07-31', '2009-07-30'); 1 / ('2009-07-30', '2009-07-31'); -1
  EXPECT_EQ(
      Eval("SELECT datediff('2009-07-31', '2009-07-30'), datediff('2009-07-30', '2009-07-31')"),
      "1|-1");
  // Spark docs: SELECT add_months('2016-08-31', 1); 2016-09-30
  EXPECT_EQ(Eval("SELECT add_months('2016-08-31', 1)"), "2016-09-30");
  // Spark 3 migration guide: add_months(DATE'2019-02-28', 1) is 2019-03-28 (no end-of-month jump).
  EXPECT_EQ(Eval("SELECT add_months(DATE'2019-02-28', 1), add_months('2016-02-29', -12)"),
            "2019-03-28|2015-02-28");
  EXPECT_EQ(Eval("SELECT typeof(date_add(TIMESTAMP '2016-07-30 23:00:00', 1)), "
                 "date_add(TIMESTAMP '2016-07-30 23:00:00', 1)"),
            "DATE|2016-07-31");
}

TEST_F(SparkSqlTest, TimestampDiff) {
  // Databricks docs (timestampdiff, and its synonyms datediff / date_diff / timediff):
  // > SELECT timestampdiff(MONTH, TIMESTAMP'2021-02-28 12:00:00', TIMESTAMP'2021-03-28 11:59:59');
  // 0 > SELECT timestampdiff(MONTH, TIMESTAMP'2021-02-28 12:00:00', TIMESTAMP'2021-03-28
  // 12:00:00'); 1 > SELECT timestampdiff(YEAR, DATE'2021-01-01', DATE'1900-03-28'); -120
  EXPECT_EQ(
      Eval("SELECT timestampdiff(MONTH, TIMESTAMP'2021-02-28 12:00:00', "
           "TIMESTAMP'2021-03-28 11:59:59'), datediff(MONTH, TIMESTAMP'2021-02-28 12:00:00', "
           "TIMESTAMP'2021-03-28 12:00:00'), date_diff(YEAR, DATE'2021-01-01', DATE'1900-03-28'), "
           "timediff(HOUR, '2021-01-01 00:00:00', '2021-01-01 05:30:00')"),
      "0|1|-120|5");
  EXPECT_TRUE(
      Eval("SELECT datediff(FORTNIGHT, a, b)")
          .starts_with("ERROR: InvalidArgument: line 1: datediff: the unit must be one of"));
}

TEST_F(SparkSqlTest, DateParts) {
  // Spark docs: SELECT year('2016-07-30'); 2016 / month('2016-07-30'); 7
  EXPECT_EQ(Eval("SELECT year('2016-07-30'), month('2016-07-30')"), "2016|7");
  // Spark docs: SELECT day('2009-07-30'); 30 / dayofmonth('2009-07-30'); 30
  EXPECT_EQ(Eval("SELECT day('2009-07-30'), dayofmonth('2009-07-30')"), "30|30");
  // Spark docs: hour('2009-07-30 12:58:59'); 12 / minute(...); 58 / second(...); 59
  EXPECT_EQ(Eval("SELECT hour('2009-07-30 12:58:59'), minute('2009-07-30 12:58:59'), "
                 "second('2009-07-30 12:58:59')"),
            "12|58|59");
  // Spark docs: SELECT dayofweek('2009-07-30'); 5 (1 = Sunday, ..., 7 = Saturday)
  EXPECT_EQ(Eval("SELECT dayofweek('2009-07-30'), dayofweek(DATE '2009-07-26'), "
                 "dayofweek(DATE '2009-08-01')"),
            "5|1|7");
  // Spark docs: dayofyear('2016-04-09'); 100 / quarter('2016-08-31'); 3 / weekofyear('2008-02-20');
  // 8
  EXPECT_EQ(Eval("SELECT dayofyear('2016-04-09'), quarter('2016-08-31'), weekofyear('2008-02-20')"),
            "100|3|8");
  // Spark docs: date_trunc('MM', '2015-03-05T09:32:05.359'); 2015-03-01 00:00:00
  EXPECT_EQ(Eval("SELECT date_trunc('MM', '2015-03-05T09:32:05.359'), "
                 "date_trunc('HOUR', '2015-03-05T09:32:05.359')"),
            "2015-03-01 00:00:00+00|2015-03-05 09:00:00+00");
  // Spark docs: trunc('2009-02-12', 'MM'); 2009-02-01 / trunc('2015-10-27', 'YEAR'); 2015-01-01
  EXPECT_EQ(Eval("SELECT trunc('2009-02-12', 'MM'), trunc('2015-10-27', 'YEAR'), trunc(2.7)"),
            "2009-02-01|2015-01-01|2");
  EXPECT_EQ(Eval("SELECT year(TIMESTAMP '2016-12-31 23:59:59'), hour(TIMESTAMP_NTZ '2016-12-31 "
                 "23:59:59')"),
            "2016|23");
}

TEST_F(SparkSqlTest, StringConcatenation) {
  // Spark docs: SELECT concat('Spark', 'SQL'); SparkSQL
  EXPECT_EQ(Eval("SELECT concat('Spark', 'SQL')"), "SparkSQL");
  // Spark docs: SELECT concat(array(1, 2, 3), array(4, 5), array(6)); [1,2,3,4,5,6]
  EXPECT_EQ(Eval("SELECT concat(array(1, 2, 3), array(4, 5), array(6))"), "[1,2,3,4,5,6]");
  // Spark: concat is NULL when any argument is NULL.
  EXPECT_EQ(Eval("SELECT concat('a', NULL, 'b'), concat('a', 1 + 1)"), "NULL|a2");
  // Spark docs: SELECT concat_ws(' ', 'Spark', 'SQL'); Spark SQL (NULLs are skipped)
  EXPECT_EQ(Eval("SELECT concat_ws(' ', 'Spark', 'SQL'), concat_ws(',', 'a', NULL, 'b')"),
            "Spark SQL|a,b");
  // Spark docs: `||` -- SELECT 'Spark' || 'SQL'; SparkSQL
  EXPECT_EQ(Eval("SELECT 'Spark' || 'SQL', 'a' || NULL"), "SparkSQL|NULL");
}

TEST_F(SparkSqlTest, NullFunctions) {
  // Spark docs: SELECT nvl(NULL, array('2')); ["2"]
  EXPECT_EQ(Eval("SELECT nvl(NULL, array('2'))"), "[\"2\"]");
  // Spark docs: SELECT ifnull(NULL, array('2')); ["2"]
  EXPECT_EQ(Eval("SELECT ifnull(NULL, array('2'))"), "[\"2\"]");
  // Spark docs: SELECT nvl2(NULL, 2, 1); 1
  EXPECT_EQ(Eval("SELECT nvl2(NULL, 2, 1), nvl2('x', 2, 1)"), "1|2");
  // Spark docs: SELECT nullif(2, 2); NULL
  EXPECT_EQ(Eval("SELECT nullif(2, 2)"), "NULL");
  // Spark docs: SELECT coalesce(NULL, 1, NULL); 1
  EXPECT_EQ(Eval("SELECT coalesce(NULL, 1, NULL)"), "1");
  // Spark docs: isnull(1); false / isnotnull(1); true
  EXPECT_EQ(Eval("SELECT isnull(1), isnotnull(1)"), "false|true");
  // Spark docs: SELECT nanvl(cast('NaN' as double), 123); 123.0
  EXPECT_EQ(Eval("SELECT nanvl(cast('NaN' as double), 123), nanvl(1.5D, 123)"), "123.0|1.5");
  // Spark docs: SELECT if(1 < 2, 'a', 'b'); a
  EXPECT_EQ(Eval("SELECT if(1 < 2, 'a', 'b')"), "a");
}

TEST_F(SparkSqlTest, RegularExpressions) {
  // Spark docs: SELECT regexp_extract('100-200', '(\\d+)-(\\d+)', 1); 100
  EXPECT_EQ(Eval(R"sql(SELECT regexp_extract('100-200', '(\\d+)-(\\d+)', 1))sql"), "100");
  // The group defaults to 1; no match gives ''.
  EXPECT_EQ(
      Eval(
          R"sql(SELECT regexp_extract('100-200', '(\\d+)-(\\d+)'), regexp_extract('x', '(\\d+)'))sql"),
      "100|");
  // Spark docs: regexp_extract_all('100-200, 300-400', '(\\d+)-(\\d+)', 1); ["100","300"]
  EXPECT_EQ(Eval(R"sql(SELECT regexp_extract_all('100-200, 300-400', '(\\d+)-(\\d+)', 1))sql"),
            "[\"100\",\"300\"]");
  // Spark docs: SELECT regexp_replace('100-200', '(\\d+)', 'num'); num-num (every match)
  EXPECT_EQ(Eval(R"sql(SELECT regexp_replace('100-200', '(\\d+)', 'num'))sql"), "num-num");
  // Java back-references $1 / $2; a replacement from a column; the position argument.
  EXPECT_EQ(Eval(R"sql(SELECT regexp_replace('100-200', '(\\d+)-(\\d+)', '$2-$1'),
                          regexp_replace('a1b2', '(\\d)', r, 1), regexp_replace('a1b2', '\\d', 'X', 3)
                   FROM (SELECT '<$1>' AS r))sql"),
            "200-100|a<1>b<2>|a1bX");
  // Spark docs: SELECT '%SystemDrive%\\Users\\John' rlike '%SystemDrive%\\\\Users.*'; true
  EXPECT_EQ(Eval(R"sql(SELECT '%SystemDrive%\\Users\\John' rlike '%SystemDrive%\\\\Users.*')sql"),
            "true");
  // Spark docs: SELECT regexp_like('%SystemDrive%\\Users\\John', '%SystemDrive%\\\\Users.*'); true
  EXPECT_EQ(Eval(R"sql(SELECT regexp_like('%SystemDrive%\\Users\\John', '%SystemDrive%\\\\Users.*'),
                          rlike('abc', 'b'), regexp('abc', '^b'))sql"),
            "true|true|false");
  // RLIKE finds the pattern anywhere; anchors, NULLs, NOT and patterns from columns work.
  EXPECT_EQ(Eval("SELECT 'abc' RLIKE 'b', 'abc' RLIKE '^b', 'a\\nb' RLIKE 'b$', NULL RLIKE 'a', "
                 "'abc' NOT REGEXP 'z', 'abc' RLIKE p FROM (SELECT 'c$' AS p)"),
            "true|false|true|NULL|true|true");
  // LIKE: Spark's escape character is '\'.
  EXPECT_EQ(Eval(R"sql(SELECT 'a_c' LIKE 'a\_c', 'abc' LIKE 'a\_c', 'abc' LIKE 'a_c')sql"),
            "true|false|true");
  // Spark docs: SELECT split('oneAtwoBthreeC', '[ABC]'); ["one","two","three",""]
  EXPECT_EQ(Eval("SELECT split('oneAtwoBthreeC', '[ABC]')"), "[\"one\",\"two\",\"three\",\"\"]");
  // Spark docs: split(..., -1); ["one","two","three",""] / split(..., 2); ["one","twoBthreeC"]
  EXPECT_EQ(
      Eval("SELECT split('oneAtwoBthreeC', '[ABC]', -1), split('oneAtwoBthreeC', '[ABC]', 2)"),
      "[\"one\",\"two\",\"three\",\"\"]|[\"one\",\"twoBthreeC\"]");
  EXPECT_EQ(Eval("SELECT split('a,b,c', ',', 1), split('a,b,c', ',', 3), split('a,b,c', ',', 9), "
                 "split(NULL, ',', 2)"),
            "[\"a,b,c\"]|[\"a\",\"b\",\"c\"]|[\"a\",\"b\",\"c\"]|NULL");
}

TEST_F(SparkSqlTest, Substrings) {
  // Spark docs: substring('Spark SQL', 5); k SQL / ('Spark SQL', -3); SQL / ('Spark SQL', 5, 1); k
  EXPECT_EQ(Eval("SELECT substring('Spark SQL', 5), substring('Spark SQL', -3), "
                 "substring('Spark SQL', 5, 1)"),
            "k SQL|SQL|k");
  // Spark docs: substr(...) gives the same; substring('Spark SQL' FROM 5 [FOR 1]); k SQL / k
  EXPECT_EQ(
      Eval("SELECT substr('Spark SQL', 5), substr('Spark SQL', -3), substr('Spark SQL', 5, 1), "
           "substring('Spark SQL' FROM 5), substring('Spark SQL' FROM -3), "
           "substring('Spark SQL' FROM 5 FOR 1)"),
      "k SQL|SQL|k|k SQL|SQL|k");
  // Position 0 acts as 1; a negative position counts from the end; out of range gives ''.
  EXPECT_EQ(
      Eval("SELECT substring('Spark SQL', 0, 3), substr('Spark SQL', -3, 2), "
           "substr('abc', -5, 3), substr('abc', 5), substr('abc', 2, -1), substr(NULL, 1, 0)"),
      "Spa|SQ|a|||NULL");
  // Spark docs: SELECT instr('SparkSQL', 'SQL'); 6
  EXPECT_EQ(Eval("SELECT instr('SparkSQL', 'SQL')"), "6");
  // Spark docs: locate('bar', 'foobarbar'); 4 / locate('bar', 'foobarbar', 5); 7 /
  // POSITION('bar' IN 'foobarbar'); 4 / position('bar', 'foobarbar', 5); 7
  EXPECT_EQ(Eval("SELECT locate('bar', 'foobarbar'), locate('bar', 'foobarbar', 5), "
                 "POSITION('bar' IN 'foobarbar'), position('bar', 'foobarbar', 5), "
                 "locate('bar', 'foobarbar', 0), locate('x', 'foobarbar', 1)"),
            "4|7|4|7|0|0");
}

TEST_F(SparkSqlTest, PaddingTrimmingAndCase) {
  // Spark docs: lpad('hi', 5, '??'); ???hi / lpad('hi', 1, '??'); h / lpad('hi', 5);    hi
  EXPECT_EQ(Eval(R"sql(SELECT lpad('hi', 5, '??'), lpad('hi', 1, '??'), lpad('hi', 5))sql"),
            R"(???hi|h|   hi)");
  // Spark docs: rpad('hi', 5, '??'); hi??? / rpad('hi', 1, '??'); h / rpad('hi', 5); hi
  EXPECT_EQ(Eval(R"sql(SELECT rpad('hi', 5, '??'), rpad('hi', 1, '??'), rpad('hi', 5))sql"),
            R"(hi???|h|hi   )");
  EXPECT_EQ(Eval("SELECT lpad('hi', 5, ''), rpad('hi', -1, 'x'), lpad(NULL, 5, 'x')"), "hi||NULL");
  // Spark docs: trim('    SparkSQL   '); SparkSQL / trim(BOTH 'SL' FROM 'SSparkSQLS'); parkSQ /
  // trim(LEADING 'SL' FROM 'SSparkSQLS'); parkSQLS / trim(TRAILING 'SL' FROM 'SSparkSQLS');
  // SSparkSQ
  EXPECT_EQ(Eval("SELECT trim('    SparkSQL   '), trim(BOTH 'SL' FROM 'SSparkSQLS'), "
                 "trim(LEADING 'SL' FROM 'SSparkSQLS'), trim(TRAILING 'SL' FROM 'SSparkSQLS')"),
            "SparkSQL|parkSQ|parkSQLS|SSparkSQ");
  // Spark docs: ltrim('    SparkSQL   '); SparkSQL___ / rtrim('    SparkSQL   '); ____SparkSQL
  EXPECT_EQ(
      Eval("SELECT '[' || ltrim('    SparkSQL   ') || ']', '[' || rtrim('    SparkSQL   ') || ']'"),
      "[SparkSQL   ]|[    SparkSQL]");
  // Spark docs: SELECT initcap('sPark sql'); Spark Sql
  EXPECT_EQ(Eval("SELECT initcap('sPark sql'), initcap('  two  spaces'), initcap('')"),
            "Spark Sql|  Two  Spaces|");
  // Spark docs: lower('SparkSql'); sparksql / upper('SparkSql'); SPARKSQL / lcase / ucase
  EXPECT_EQ(
      Eval("SELECT lower('SparkSql'), upper('SparkSql'), lcase('SparkSql'), ucase('SparkSql')"),
      "sparksql|SPARKSQL|sparksql|SPARKSQL");
  // Spark docs: SELECT length('Spark SQL '); 10
  EXPECT_EQ(Eval("SELECT length('Spark SQL '), length('héllo')"), "10|5");
  // Spark docs: replace('ABCabc', 'abc', 'DEF'); ABCDEF (the third argument defaults to '')
  EXPECT_EQ(Eval("SELECT replace('ABCabc', 'abc', 'DEF'), replace('ABCabc', 'abc')"), "ABCDEF|ABC");
}

TEST_F(SparkSqlTest, RoundingAndHashes) {
  // Spark docs: SELECT round(2.5, 0); 3 (HALF_UP)
  EXPECT_EQ(Eval("SELECT round(2.5, 0), round(-2.5, 0), round(3.14159, 2)"), "3|-3|3.14");
  // Spark docs: SELECT bround(2.5, 0); 2 (HALF_EVEN); bround(25, -1); 20
  EXPECT_EQ(Eval("SELECT bround(2.5, 0), bround(3.5), bround(25, -1)"), "2.0|4.0|20.0");
  // Spark docs: sha2('Spark', 256); 529bc3b0... (0 means 256)
  EXPECT_EQ(Eval("SELECT sha2('Spark', 256), sha2('Spark', 0)"),
            "529bc3b07127ecb7e53a4dcf1991d9152c24537d919178022b2c42657f79a26b|"
            "529bc3b07127ecb7e53a4dcf1991d9152c24537d919178022b2c42657f79a26b");
  // Spark docs: sha1('Spark'); 85f5955f4b27a9a4c2aab6ffe5d7189fc298b92c (sha is an alias)
  EXPECT_EQ(Eval("SELECT sha1('Spark'), sha('Spark')"),
            "85f5955f4b27a9a4c2aab6ffe5d7189fc298b92c|85f5955f4b27a9a4c2aab6ffe5d7189fc298b92c");
  // Spark docs: SELECT md5('Spark'); 8cde774d6f7333752ed72cacddb05126
  EXPECT_EQ(Eval("SELECT md5('Spark')"), "8cde774d6f7333752ed72cacddb05126");
  // hash() stays DuckDB's: Spark docs give hash('Spark', array(123), 2) = -1321691492 (Murmur3);
  // DuckDB's 64-bit hash differs (docs/spark_functions.md, "Remaining differences").
  EXPECT_EQ(Eval("SELECT typeof(hash('Spark', [123], 2))"), "UBIGINT");
}

TEST_F(SparkSqlTest, Aggregates) {
  // Spark docs: collect_list(col) FROM VALUES (1), (2), (1) AS tab(col); [1,2,1]
  EXPECT_EQ(Eval("SELECT collect_list(col) FROM VALUES (1), (2), (1) AS tab(col)"), "[1,2,1]");
  // Spark docs: collect_set(col) FROM VALUES (1), (2), (1) AS tab(col); [1,2] (order unspecified)
  EXPECT_EQ(Eval("SELECT list_sort(collect_set(col)) FROM VALUES (1), (2), (1) AS tab(col)"),
            "[1,2]");
  // NULLs are skipped, as in Spark; an own FILTER is kept.
  EXPECT_EQ(Eval("SELECT collect_list(col), list_sort(collect_set(col)), "
                 "collect_list(col) FILTER (WHERE col > 1), array_agg(col) "
                 "FROM VALUES (1), (NULL), (2), (2) AS tab(col)"),
            "[1,2,2]|[1,2]|[2,2]|[1,2,2]");
  // Spark docs: count_if(col % 2 = 0) FROM VALUES (NULL), (0), (1), (2), (3) AS tab(col); 2
  EXPECT_EQ(Eval("SELECT count_if(col % 2 = 0), count_if(col IS NULL) "
                 "FROM VALUES (NULL), (0), (1), (2), (3) AS tab(col)"),
            "2|1");
  // Spark docs: percentile_approx(col, array(0.5, 0.4, 0.1), 100)
  //   FROM VALUES (0), (1), (2), (10) AS tab(col); [1,1,0]
  EXPECT_EQ(Eval("SELECT percentile_approx(col, array(0.5, 0.4, 0.1), 100) "
                 "FROM VALUES (0), (1), (2), (10) AS tab(col)"),
            "[1,1,0]");
  // Spark docs: percentile_approx(col, 0.5, 100) FROM VALUES (0), (6), (7), (9), (10) AS tab(col);
  // 7
  EXPECT_EQ(Eval("SELECT percentile_approx(col, 0.5, 100), approx_percentile(col, 0.5) "
                 "FROM VALUES (0), (6), (7), (9), (10) AS tab(col)"),
            "7|7");
  // Spark docs: percentile(col, 0.3) FROM VALUES (0), (10) AS tab(col); 3.0
  EXPECT_EQ(Eval("SELECT percentile(col, 0.3) FROM VALUES (0), (10) AS tab(col)"), "3.0");
  // Spark docs: greatest(10, 9, 2, 4, 3); 10 / least(10, 9, 2, 4, 3); 2 (NULLs skipped)
  EXPECT_EQ(Eval("SELECT greatest(10, 9, 2, 4, 3), least(10, 9, 2, 4, 3), greatest(1, NULL)"),
            "10|2|1");
}

TEST_F(SparkSqlTest, Collections) {
  // Spark docs: SELECT array(1, 2, 3); [1,2,3]
  EXPECT_EQ(Eval("SELECT array(1, 2, 3), array()"), "[1,2,3]|[]");
  // Spark docs: SELECT array_contains(array(1, 2, 3), 2); true
  EXPECT_EQ(Eval("SELECT array_contains(array(1, 2, 3), 2)"), "true");
  // Spark docs: size(array('b', 'd', 'c', 'a')); 4 / size(map('a', 1, 'b', 2)); 2 / size(NULL); -1
  EXPECT_EQ(Eval("SELECT size(array('b', 'd', 'c', 'a')), size(map('a', 1, 'b', 2)), size(NULL), "
                 "cardinality(array(1, 2))"),
            "4|2|-1|2");
  // size of array and map columns (and NULL ones).
  EXPECT_EQ(Eval("SELECT size(a), size(m), size(n) FROM (SELECT [1, NULL, 3] AS a, "
                 "MAP {'x': 1} AS m, CAST(NULL AS INTEGER[]) AS n)"),
            "3|1|-1");
  // Spark docs: element_at(array(1, 2, 3), 2); 2 / element_at(map(1, 'a', 2, 'b'), 2); b
  EXPECT_EQ(Eval("SELECT element_at(array(1, 2, 3), 2), element_at(map(1, 'a', 2, 'b'), 2), "
                 "element_at(array(1, 2, 3), -1), element_at(array(1, 2, 3), 5)"),
            "2|b|3|NULL");
  // Spark subscripts are 0-based.
  EXPECT_EQ(Eval("SELECT array(10, 20)[0], split('a,b', ',')[1], map('k', 'v')['k'], array(1)[5]"),
            "10|b|v|NULL");
  // Spark docs: SELECT named_struct("a", 1, "b", 2, "c", 3); {"a":1,"b":2,"c":3}
  EXPECT_EQ(Eval("SELECT named_struct(\"a\", 1, \"b\", 2, \"c\", 3)"), "{\"a\":1,\"b\":2,\"c\":3}");
  // Databricks docs: SELECT struct('Spark', 5); {"col1":"Spark","col2":5}; columns keep their
  // names.
  EXPECT_EQ(Eval("SELECT struct('Spark', 5), struct(a, t.b, a + 1, b AS renamed) "
                 "FROM (SELECT 1 AS a, 'x' AS b) t"),
            "{\"col1\":\"Spark\",\"col2\":5}|{\"a\":1,\"b\":\"x\",\"col3\":2,\"renamed\":\"x\"}");
  // Spark docs: SELECT map(1.0, '2', 3.0, '4'); {1.0:"2",3.0:"4"}
  EXPECT_EQ(Eval("SELECT map('a', 1, 'b', 2)"), "{\"a\":1,\"b\":2}");
}

TEST_F(SparkSqlTest, ExplodeAndLateralView) {
  // Spark docs, LATERAL VIEW clause (the person table).
  ASSERT_OK(conn_->Execute(
      "CREATE TABLE person (id INT, name VARCHAR, age INT, class INT, address VARCHAR);"
      "INSERT INTO person VALUES (100, 'John', 30, 1, 'Street 1'), (200, 'Mary', NULL, 1, 'Street "
      "2'),"
      "(300, 'Mike', 80, 3, 'Street 3'), (400, 'Dan', 50, 4, 'Street 4')"));
  // > SELECT * FROM person LATERAL VIEW EXPLODE(ARRAY(30, 60)) tableName AS c_age
  //   LATERAL VIEW EXPLODE(ARRAY(40, 80)) AS d_age;  (16 rows: 100 John 30 1 Street 1 30 40, ...)
  EXPECT_EQ(EvalRows("SELECT * FROM person LATERAL VIEW EXPLODE(ARRAY(30, 60)) tableName AS c_age "
                     "LATERAL VIEW EXPLODE(ARRAY(40, 80)) AS d_age ORDER BY id, c_age, d_age",
                     4),
            "100|John|30|1|Street 1|30|40\n100|John|30|1|Street 1|30|80\n"
            "100|John|30|1|Street 1|60|40\n100|John|30|1|Street 1|60|80");
  // > SELECT c_age, COUNT(1) FROM person LATERAL VIEW EXPLODE(ARRAY(30, 60)) AS c_age
  //   LATERAL VIEW EXPLODE(ARRAY(40, 80)) AS d_age GROUP BY c_age;  60 8 / 30 8
  EXPECT_EQ(
      EvalRows("SELECT c_age, COUNT(1) FROM person LATERAL VIEW EXPLODE(ARRAY(30, 60)) AS c_age "
               "LATERAL VIEW EXPLODE(ARRAY(40, 80)) AS d_age GROUP BY c_age ORDER BY c_age"),
      "30|8\n60|8");
  // > SELECT * FROM person LATERAL VIEW EXPLODE(ARRAY()) tableName AS c_age;  (no rows)
  EXPECT_EQ(EvalRows("SELECT * FROM person LATERAL VIEW EXPLODE(ARRAY()) tableName AS c_age"), "");
  // > SELECT * FROM person LATERAL VIEW OUTER EXPLODE(ARRAY()) tableName AS c_age;  (c_age NULL)
  EXPECT_EQ(
      EvalRows("SELECT id, c_age FROM person LATERAL VIEW OUTER EXPLODE(ARRAY()) tableName AS "
               "c_age ORDER BY id",
               2),
      "100|NULL\n200|NULL");
  // posexplode (pos, col), and maps (key, value) told apart by the number of aliases.
  EXPECT_EQ(EvalRows("SELECT p, c FROM person LATERAL VIEW posexplode(array('a', 'b')) t AS p, c "
                     "WHERE id = 100"),
            "0|a\n1|b");
  EXPECT_EQ(EvalRows("SELECT k, v FROM person LATERAL VIEW explode(map('x', 1, 'y', 2)) AS k, v "
                     "WHERE id = 100 ORDER BY k"),
            "x|1\ny|2");
  // Spark docs: SELECT explode(array(10, 20)); 10 / 20 -- and explode_outer(array()); NULL
  EXPECT_EQ(EvalRows("SELECT explode(array(10, 20))"), "10\n20");
  EXPECT_EQ(EvalRows("SELECT explode_outer(array(10, 20))"), "10\n20");
  EXPECT_EQ(
      EvalRows("SELECT id, explode_outer(a) FROM (SELECT 1 AS id, CAST([] AS INTEGER[]) AS a)"),
      "1|NULL");
}

TEST_F(SparkSqlTest, Json) {
  // Spark docs: SELECT get_json_object('{"a":"b"}', '$.a'); b
  EXPECT_EQ(Eval(R"sql(SELECT get_json_object('{"a":"b"}', '$.a'))sql"), "b");
  EXPECT_EQ(Eval(R"sql(SELECT get_json_object('{"a":{"b":[1,{"c":"d"}]}}', '$.a.b[1].c'),
                          get_json_object('{"a b":1}', '$[''a b'']'),
                          get_json_object('{"a":[1,2]}', '$.a'),
                          get_json_object('{"a":[{"b":1},{"b":2}]}', '$.a[*].b'),
                          get_json_object('not json', '$.a'), get_json_object('{}', '$.a'))sql"),
            "d|1|[1,2]|[1,2]|NULL|NULL");
  // Spark docs: SELECT from_json('{"a":1, "b":0.8}', 'a INT, b DOUBLE'); {"a":1,"b":0.8}
  EXPECT_EQ(Eval(R"sql(SELECT from_json('{"a":1, "b":0.8}', 'a INT, b DOUBLE'))sql"),
            "{\"a\":1,\"b\":0.8}");
  // Spark docs: from_json('{"teacher": "Alice", "student": [{"name": "Bob", "rank": 1}, {"name":
  // "Charlie", "rank": 2}]}', 'STRUCT<teacher: STRING, student: ARRAY<STRUCT<name: STRING, rank:
  // INT>>>')
  EXPECT_EQ(
      Eval(R"sql(SELECT from_json('{"teacher": "Alice", "student": [{"name": "Bob", "rank": 1},
                   {"name": "Charlie", "rank": 2}]}',
                   'STRUCT<teacher: STRING, student: ARRAY<STRUCT<name: STRING, rank: INT>>>'))sql"),
      "{\"teacher\":\"Alice\",\"student\":[{\"name\":\"Bob\",\"rank\":1},"
      "{\"name\":\"Charlie\",\"rank\":2}]}");
  EXPECT_EQ(Eval(R"sql(SELECT from_json('[1,2]', 'ARRAY<INT>'), from_json('{"m":{"x":1}}',
                   'm MAP<STRING, BIGINT>'), from_json('bad', 'a INT'))sql"),
            "[1,2]|{\"m\":{\"x\":1}}|NULL");
  // Spark docs: to_json(named_struct('a', 1, 'b', 2)); {"a":1,"b":2} /
  // to_json(array(named_struct('a', 1, 'b', 2))); [{"a":1,"b":2}] /
  // to_json(map('a', named_struct('b', 1))); {"a":{"b":1}} / to_json(map('a', 1)); {"a":1} /
  // to_json(array(map('a', 1))); [{"a":1}]
  EXPECT_EQ(
      Eval("SELECT to_json(named_struct('a', 1, 'b', 2)), "
           "to_json(array(named_struct('a', 1, 'b', 2))), to_json(map('a', named_struct('b', 1))), "
           "to_json(map('a', 1)), to_json(array(map('a', 1))), typeof(to_json(map('a', 1)))"),
      "{\"a\":1,\"b\":2}|[{\"a\":1,\"b\":2}]|{\"a\":{\"b\":1}}|{\"a\":1}|[{\"a\":1}]|VARCHAR");
  // Spark leaves out NULL fields of structs.
  EXPECT_EQ(Eval("SELECT to_json(named_struct('a', 1, 'b', CAST(NULL AS INT), 'c', "
                 "named_struct('d', NULL)))"),
            "{\"a\":1,\"c\":{}}");
}

TEST_F(SparkSqlTest, JsonPathColonSyntax) {
  // Databricks docs, "Query JSON strings" (the store_data table).
  ASSERT_OK(conn_->Execute(R"sql(CREATE TABLE store_data AS SELECT '{
     "store":{"fruit": [{"weight":8,"type":"apple"}, {"weight":9,"type":"pear"}],
              "basket":[[1,2,{"b":"y","a":"x"}],[3,4],[5,6]],
              "book":[{"author":"Nigel Rees","title":"Sayings of the Century","price":8.95},
                      {"author":"Herman Melville","title":"Moby Dick","price":8.99}],
              "bicycle":{"price":19.95,"color":"red"}},
     "owner":"amy", "zip code":"94025", "fb:testid":"1234"}' AS raw)sql"));
  // > SELECT raw:owner, raw:['owner'] FROM store_data;  amy  amy
  EXPECT_EQ(Eval("SELECT raw:owner, raw:['owner'] FROM store_data"), "amy|amy");
  // > SELECT raw:`zip code`, raw:['fb:testid'] FROM store_data;  94025  1234
  EXPECT_EQ(Eval("SELECT raw:`zip code`, raw:['fb:testid'] FROM store_data"), "94025|1234");
  // > SELECT raw:store.bicycle FROM store_data;  {"price":19.95,"color":"red"}
  EXPECT_EQ(Eval("SELECT raw:store.bicycle FROM store_data"),
            "{\"price\":19.95,\"color\":\"red\"}");
  // > SELECT raw:store.fruit[0], raw:store.fruit[1].type FROM store_data;
  EXPECT_EQ(Eval("SELECT raw:store.fruit[0], raw:store.fruit[1].type FROM store_data"),
            "{\"weight\":8,\"type\":\"apple\"}|pear");
  // > SELECT raw:store.basket[0][1], raw:store.book[*].author FROM store_data;
  EXPECT_EQ(Eval("SELECT raw:store.basket[0][1], raw:store.book[*].author FROM store_data"),
            "2|[\"Nigel Rees\",\"Herman Melville\"]");
  // > SELECT raw:store.bicycle.price::double, raw:store.fruit[0].weight::int + 1 FROM store_data;
  EXPECT_EQ(Eval("SELECT raw:store.bicycle.price::double, raw:store.fruit[0].weight::int + 1, "
                 "raw:missing FROM store_data"),
            "19.95|9|NULL");
}

TEST_F(SparkSqlTest, CastsAndMisc) {
  // Spark docs: SELECT cast('10' as int); 10
  EXPECT_EQ(Eval("SELECT cast('10' as int), try_cast('a' as int), try_cast('10' AS bigint)"),
            "10|NULL|10");
  EXPECT_EQ(Eval("SELECT typeof(CAST(1 AS STRING)), typeof(CAST('2020-01-01' AS TIMESTAMP)), "
                 "typeof(CAST('2020-01-01' AS TIMESTAMP_NTZ)), typeof(CAST(1 AS DECIMAL)), "
                 "typeof(CAST('a' AS BINARY)), typeof(1::long)"),
            "VARCHAR|TIMESTAMP WITH TIME ZONE|TIMESTAMP|DECIMAL(10,0)|BLOB|BIGINT");
  EXPECT_EQ(Eval("SELECT CAST(array(1, 2) AS ARRAY<STRING>), "
                 "CAST(named_struct('a', 1) AS STRUCT<a: STRING>)"),
            "[\"1\",\"2\"]|{\"a\":\"1\"}");
  // VARIANT (semi-structured values) is DuckDB's JSON: a struct becomes an object, a number a
  // number.
  EXPECT_EQ(Eval("SELECT CAST(named_struct('a', 1) AS VARIANT), typeof(CAST(array(1, 2) AS "
                 "VARIANT)), CAST(5 AS VARIANT)"),
            "{\"a\":1}|JSON|5");
  // Unlike DuckDB's own VARIANT, it can be a table column, and Databricks' `v:path` reads it.
  ASSERT_OK_AND_ASSIGN(std::string create, TranslateSparkSql("CREATE TABLE variants (v VARIANT)"));
  EXPECT_EQ(create, "CREATE TABLE variants (v JSON)");
  ASSERT_OK(conn_->Execute(create));
  ASSERT_OK(conn_->Execute(*TranslateSparkSql(
      "INSERT INTO variants SELECT CAST(named_struct('a', named_struct('b', 'x')) AS VARIANT)")));
  EXPECT_EQ(Eval("SELECT v:a.b FROM variants"), "x");
  // Spark truncates a fraction cast to an integer type; DuckDB rounds, so arithmetic, decimal
  // literals and fractional functions get trunc().
  EXPECT_EQ(Eval("SELECT CAST(7 / 2 AS INT), CAST(-2.7 AS INT), CAST(2.5 * 3 AS BIGINT), "
                 "try_cast((10 / 4) AS SMALLINT), int(9 / 5), CAST(7 / 2 AS DOUBLE)"),
            "3|-2|7|2|1|3.5");
  EXPECT_EQ(
      Eval("SELECT CAST(avg(x) AS INT), CAST(x AS INT) FROM VALUES (1), (2) AS t(x) GROUP BY ALL "
           "ORDER BY 2"),
      "1|1");
  // Spark's cast functions: string(1), int('2'), double('1.5'), date('2020-01-02').
  EXPECT_EQ(Eval("SELECT string(1), int('2'), double('1.5'), date('2020-01-02'), boolean('true')"),
            "1|2|1.5|2020-01-02|true");
  // Spark docs: SELECT uuid(); 46707d92-02f4-4817-8116-a4c3b23e6266 (a STRING)
  EXPECT_EQ(Eval("SELECT length(uuid()), typeof(uuid()), uuid() <> uuid()"), "36|VARCHAR|true");
  // Typed literals: TIMESTAMP is an instant in the session time zone.
  EXPECT_EQ(
      Eval("SELECT TIMESTAMP '2024-01-01 10:00:00', typeof(TIMESTAMP_NTZ '2024-01-01'), 10L + 1"),
      "2024-01-01 10:00:00+00|TIMESTAMP|11");
}

TEST_F(SparkSqlTest, OtherRenamedFunctions) {
  // Databricks docs: iff(1 < 2, 'a', 'b'); a / startswith('SparkSQL', 'Spark'); true /
  // endswith('SparkSQL', 'SQL'); true
  EXPECT_EQ(Eval("SELECT iff(1 < 2, 'a', 'b'), startswith('SparkSQL', 'Spark'), "
                 "endswith('SparkSQL', 'SQL')"),
            "a|true|true");
  // Spark docs: array_max(array(1, 20, null, 3)); 20 / array_min(...); 1 / array_size(array('b',
  // 'd', 'c', 'a')); 4
  EXPECT_EQ(Eval("SELECT array_max(array(1, 20, null, 3)), array_min(array(1, 20, null, 3)), "
                 "array_size(array('b', 'd', 'c', 'a'))"),
            "20|1|4");
  // Spark docs: array_join(array('hello', 'world'), ' '); hello world /
  // array_join(array('hello', null ,'world'), ' '); hello world /
  // array_join(array('hello', null ,'world'), ' ', ','); hello , world
  EXPECT_EQ(Eval("SELECT array_join(array('hello', 'world'), ' '), "
                 "array_join(array('hello', null ,'world'), ' '), "
                 "array_join(array('hello', null ,'world'), ' ', ',')"),
            "hello world|hello world|hello , world");
  // Spark docs: sort_array(array('b', 'd', null, 'c', 'a'), true); [null,"a","b","c","d"] /
  // (..., false); ["d","c","b","a",null]
  EXPECT_EQ(Eval("SELECT sort_array(array('b', 'd', null, 'c', 'a'), true), "
                 "sort_array(array('b', 'd', null, 'c', 'a'), false)"),
            "[null,\"a\",\"b\",\"c\",\"d\"]|[\"d\",\"c\",\"b\",\"a\",null]");
  // Spark docs: try_divide(3, 2); 1.5 / try_divide(1, 0); NULL; rand() is in [0, 1)
  EXPECT_EQ(Eval("SELECT try_divide(3, 2), try_divide(1, 0), rand() < 1"), "1.5|NULL|true");
}

TEST_F(SparkSqlTest, ComparisonOperators) {
  // Spark docs: SELECT 2 == 2; true / SELECT 1 == '1'; true / SELECT true == NULL; NULL
  EXPECT_EQ(Eval("SELECT 2 == 2, 1 == '1', true == NULL"), "true|true|NULL");
  // Spark docs: SELECT 2 <=> 2; true / 1 <=> '1'; true / true <=> NULL; false / NULL <=> NULL; true
  EXPECT_EQ(Eval("SELECT 2 <=> 2, 1 <=> '1', true <=> NULL, NULL <=> NULL"),
            "true|true|false|true");
  // Spark docs: SELECT 1 != 2; true / SELECT 3 div 2; 1
  EXPECT_EQ(Eval("SELECT 1 != 2, 3 div 2"), "true|1");
}

TEST_F(SparkSqlTest, MacrosAreConnectionLocalAndReRegistrable) {
  ASSERT_OK(RegisterSparkFunctions(*conn_));  // again: replaces
  ASSERT_OK_AND_ASSIGN(auto other, db_->Connect());
  EXPECT_FALSE(other->Query("SELECT spark_substring('abc', 2)").ok());
  ASSERT_OK(RegisterSparkFunctions(*other));
  ASSERT_OK_AND_ASSIGN(auto r, other->Query("SELECT spark_substring('abc', 2)"));
  EXPECT_EQ(r.GetText(0, 0), "bc");
}

TEST(CallsSparkFunctionsTest, TellsWhichTranslationsNeedTheMacros) {
  EXPECT_TRUE(CallsSparkFunctions(Translate("SELECT substring(name, 2) FROM t")));
  EXPECT_TRUE(CallsSparkFunctions(Translate("SELECT lpad(id, 5, '0') FROM t")));
  EXPECT_TRUE(CallsSparkFunctions("SELECT SPARK_SIZE(x) FROM t"));
  EXPECT_FALSE(CallsSparkFunctions(Translate("SELECT date_format(d, 'yyyy-MM'), count(*) FROM t")));
  EXPECT_FALSE(CallsSparkFunctions(""));
}

TEST_F(SparkSqlTest, PipelineQueryEndToEnd) {
  // A silver-layer query as a Databricks pipeline writes it.
  ASSERT_OK(
      conn_->Execute("CREATE TABLE bronze AS SELECT * FROM (VALUES "
                     "('{\"id\": 1, \"user\": {\"name\": \"ann lee\"}, \"tags\": [\"a\", \"b\"]}', "
                     "'2024-03-05 10:11:12'),"
                     "('{\"id\": 2, \"user\": {\"name\": \"BOB\"}, \"tags\": []}', '2024-03-06 "
                     "23:59:59')) t(value, ts)"));
  EXPECT_EQ(EvalRows(R"sql(
      SELECT value:id::BIGINT AS `order id`,
             initcap(value:user.name) AS name,
             size(from_json(value, 'tags ARRAY<STRING>').tags) AS n_tags,
             date_format(to_timestamp(ts), "yyyy-MM-dd'T'HH:mm") AS at,
             CASE WHEN dayofweek(ts) IN (1, 7) THEN 'weekend' ELSE 'weekday' END AS day_kind,
             concat_ws('-', year(ts), lpad(month(ts), 2, '0')) AS period  -- a comment
      FROM bronze
      WHERE value:id::INT >= 1 AND ts RLIKE '^2024'
      ORDER BY 1)sql"),
            "1|Ann Lee|2|2024-03-05T10:11|weekday|2024-03\n"
            "2|Bob|0|2024-03-06T23:59|weekday|2024-03");
}

}  // namespace
}  // namespace medallion::engine
