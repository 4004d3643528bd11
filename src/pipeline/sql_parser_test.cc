#include "pipeline/sql_parser.h"

#include <gtest/gtest.h>

#include "storage/test_util.h"

namespace medallion::pipeline {
namespace {

Result<PipelineDefinitions> Parse(const std::string& sql, const ParseOptions& options = {}) {
  return ParsePipelineSql({SqlSource{"t.sql", sql}}, options);
}

// The error of parsing `sql`, which must fail.
Status ParseError(const std::string& sql, const ParseOptions& options = {}) {
  auto r = Parse(sql, options);
  EXPECT_FALSE(r.ok()) << "expected an error for: " << sql;
  return r.status();
}

::testing::AssertionResult StartsWith(const std::string& text, std::string_view prefix) {
  if (text.starts_with(prefix)) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure()
         << "\"" << text << "\"\n  does not start with\n\"" << prefix << "\"";
}

// Asserts that parsing `sql` fails with InvalidArgument and a message starting with `prefix`.
#define EXPECT_PARSE_ERROR(sql, prefix)                   \
  do {                                                    \
    Status _s = ParseError(sql);                          \
    EXPECT_TRUE(_s.IsInvalidArgument()) << _s.ToString(); \
    EXPECT_TRUE(StartsWith(_s.message(), prefix));        \
  } while (false)

// ---- statement splitting, lines, comments, query text ----

TEST(SqlParserTest, StreamingTableAsQuery) {
  ASSERT_OK_AND_ASSIGN(
      auto defs, Parse("CREATE OR REFRESH STREAMING TABLE raw_orders\n"
                       "AS SELECT * FROM STREAM read_files('/data/orders', format => 'json');"));
  ASSERT_EQ(defs.datasets.size(), 1u);
  const DatasetDefinition& ds = defs.datasets[0];
  EXPECT_EQ(ds.kind, DatasetKind::kStreamingTable);
  EXPECT_EQ(ds.name, "raw_orders");
  EXPECT_FALSE(ds.is_private);
  EXPECT_EQ(ds.query, "SELECT * FROM STREAM read_files('/data/orders', format => 'json')");
  EXPECT_EQ(ds.location.file, "t.sql");
  EXPECT_EQ(ds.location.line, 1u);
  EXPECT_TRUE(defs.flows.empty());
}

TEST(SqlParserTest, KeywordsAreCaseInsensitive) {
  ASSERT_OK_AND_ASSIGN(auto defs, Parse("create or refresh Streaming Table t as select 1 as a"));
  ASSERT_EQ(defs.datasets.size(), 1u);
  EXPECT_EQ(defs.datasets[0].kind, DatasetKind::kStreamingTable);
  EXPECT_EQ(defs.datasets[0].query, "select 1 as a");
}

TEST(SqlParserTest, SemicolonsInStringsCommentsAndDollarBodiesDoNotSplit) {
  ASSERT_OK_AND_ASSIGN(auto defs, Parse(R"(-- a header comment; with a semicolon
/* block; comment */
CREATE MATERIALIZED VIEW a AS SELECT 'x;y' AS s, "q;" AS d -- trailing; comment
;
CREATE MATERIALIZED VIEW b AS SELECT $$ body; with ; semicolons $$ AS body;;;
-- only a comment; here
)"));
  ASSERT_EQ(defs.datasets.size(), 2u);
  EXPECT_EQ(defs.datasets[0].name, "a");
  EXPECT_EQ(defs.datasets[0].query, "SELECT 'x;y' AS s, \"q;\" AS d");
  EXPECT_EQ(defs.datasets[0].location.line, 3u);
  EXPECT_EQ(defs.datasets[1].name, "b");
  EXPECT_EQ(defs.datasets[1].query, "SELECT $$ body; with ; semicolons $$ AS body");
  EXPECT_EQ(defs.datasets[1].location.line, 5u);
}

TEST(SqlParserTest, MultiLineStatementsKeepTheirLinesAndExactQueryText) {
  std::string sql =
      "\n\n"
      "CREATE MATERIALIZED VIEW daily\n"  // line 3
      "COMMENT 'per day'\n"
      "AS\n"
      "SELECT day,   -- keep this comment\n"  // line 6
      "       count(*) AS n\n"
      "FROM orders\n"
      "GROUP BY day   \n"
      "  -- a trailing comment\n"
      ";\n"
      "\n"
      "CREATE MATERIALIZED VIEW other AS SELECT 1";  // line 13
  ASSERT_OK_AND_ASSIGN(auto defs, Parse(sql));
  ASSERT_EQ(defs.datasets.size(), 2u);
  EXPECT_EQ(defs.datasets[0].location.line, 3u);
  EXPECT_EQ(defs.datasets[0].query,
            "SELECT day,   -- keep this comment\n"
            "       count(*) AS n\n"
            "FROM orders\n"
            "GROUP BY day");
  EXPECT_EQ(defs.datasets[1].location.line, 13u);
}

TEST(SqlParserTest, EmptyAndCommentOnlyFiles) {
  ASSERT_OK_AND_ASSIGN(auto defs, Parse(""));
  EXPECT_TRUE(defs.datasets.empty());
  ASSERT_OK_AND_ASSIGN(defs, Parse("-- nothing\n/* here */ ;\n  ;"));
  EXPECT_TRUE(defs.datasets.empty());
  EXPECT_TRUE(defs.flows.empty());
}

TEST(SqlParserTest, ErrorsNameTheLineOfTheOffendingToken) {
  Status s = ParseError(
      "CREATE MATERIALIZED VIEW ok AS SELECT 1;\n"
      "\n"
      "CREATE STREAMING TABLE t (\n"  // line 3
      "  id INT,\n"
      "  CONSTRAINT c EXPECT (id > 0) ON VIOLATION EXPLODE\n"  // line 5
      ") AS SELECT 1");
  EXPECT_TRUE(s.IsInvalidArgument());
  EXPECT_EQ(s.message(),
            "t.sql:5: expected DROP ROW, FAIL UPDATE or QUARANTINE after ON VIOLATION, found "
            "'EXPLODE'");
}

TEST(SqlParserTest, UnterminatedQuotesNameFileAndLine) {
  EXPECT_PARSE_ERROR("CREATE MATERIALIZED VIEW a AS SELECT 1;\n\nSELECT 'oops",
                     "t.sql:3: unterminated ' string");
  EXPECT_PARSE_ERROR("CREATE MATERIALIZED VIEW a AS SELECT 1 /* never closed",
                     "t.sql:1: unterminated /* comment");
}

TEST(SqlParserTest, UnsupportedStatements) {
  const std::string tail =
      " (a pipeline source file holds CREATE STREAMING TABLE, CREATE MATERIALIZED VIEW, CREATE "
      "[TEMPORARY] VIEW, CREATE FLOW, APPLY CHANGES INTO, SET and USE statements)";
  EXPECT_PARSE_ERROR("INSERT INTO t SELECT 1",
                     "t.sql:1: unsupported statement: INSERT INTO t" + tail);
  EXPECT_PARSE_ERROR("\n  SELECT 1", "t.sql:2: unsupported statement: SELECT 1" + tail);
  EXPECT_PARSE_ERROR("DROP TABLE x", "t.sql:1: unsupported statement: DROP TABLE x" + tail);
  EXPECT_PARSE_ERROR("CREATE TABLE x AS SELECT 1",
                     "t.sql:1: unsupported statement: CREATE TABLE x" + tail);
  EXPECT_PARSE_ERROR("CREATE FUNCTION f() RETURNS INT RETURN 1",
                     "t.sql:1: unsupported statement: CREATE FUNCTION f" + tail);
  EXPECT_PARSE_ERROR("MERGE INTO a USING b ON a.id = b.id WHEN MATCHED THEN DELETE",
                     "t.sql:1: unsupported statement: MERGE INTO a" + tail);
}

TEST(SqlParserTest, FilesAreParsedInOrderWithTheirOwnNames) {
  ASSERT_OK_AND_ASSIGN(
      auto defs, ParsePipelineSql({{"bronze.sql", "CREATE STREAMING TABLE a AS SELECT 1"},
                                   {"silver/b.sql", "\nCREATE MATERIALIZED VIEW b AS SELECT 2"}},
                                  {}));
  ASSERT_EQ(defs.datasets.size(), 2u);
  EXPECT_EQ(defs.datasets[0].location.file, "bronze.sql");
  EXPECT_EQ(defs.datasets[1].location.file, "silver/b.sql");
  EXPECT_EQ(defs.datasets[1].location.line, 2u);
  auto r =
      ParsePipelineSql({{"ok.sql", "CREATE STREAMING TABLE a"}, {"bad.sql", "\nSELECT 1"}}, {});
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(StartsWith(r.status().message(), "bad.sql:2: unsupported statement"));
}

// ---- SET, USE and ${} substitution ----

TEST(SqlParserTest, SetStatements) {
  ASSERT_OK_AND_ASSIGN(auto defs, Parse(R"(
SET spark.sql.session.timeZone = America/New_York;
SET quoted='a b';
SET dq = "x";
SET spaced =   several words here  ;
SET `weird.key`=1;
SET empty =;
SET spark.sql.session.timeZone = UTC;
CREATE MATERIALIZED VIEW v AS SELECT 1;
)"));
  std::map<std::string, std::string> want = {
      {"spark.sql.session.timeZone", "UTC"}, {"quoted", "a b"},  {"dq", "x"},
      {"spaced", "several words here"},      {"weird.key", "1"}, {"empty", ""}};
  EXPECT_EQ(defs.sql_conf, want);
  ASSERT_EQ(defs.datasets.size(), 1u);
  EXPECT_EQ(defs.datasets[0].sql_conf, want);
}

TEST(SqlParserTest, SetErrors) {
  EXPECT_PARSE_ERROR("SET", "t.sql:1: SET needs a key and a value: SET key = value");
  EXPECT_PARSE_ERROR("\nSET spark.x", "t.sql:2: SET needs a key and a value: SET key = value");
  EXPECT_PARSE_ERROR("SET = 1", "t.sql:1: SET needs a key before '='");
  EXPECT_PARSE_ERROR("SET VAR x = 1", "t.sql:1: SET VARIABLE (session variables) is not supported");
}

TEST(SqlParserTest, SetAppliesToTheRestOfItsFile) {
  ASSERT_OK_AND_ASSIGN(
      auto defs,
      ParsePipelineSql({{"a.sql",
                         "CREATE MATERIALIZED VIEW before AS SELECT 1;\n"
                         "SET k = 1;\n"
                         "CREATE MATERIALIZED VIEW after AS SELECT ${k};\n"},
                        {"b.sql", "CREATE FLOW f AS INSERT INTO t BY NAME SELECT '${k}'"}},
                       {}));
  ASSERT_EQ(defs.datasets.size(), 2u);
  EXPECT_TRUE(defs.datasets[0].sql_conf.empty());
  EXPECT_EQ(defs.datasets[1].sql_conf, (std::map<std::string, std::string>{{"k", "1"}}));
  EXPECT_EQ(defs.datasets[1].query, "SELECT 1");
  ASSERT_EQ(defs.flows.size(), 1u);
  EXPECT_TRUE(defs.flows[0].sql_conf.empty());
  EXPECT_EQ(defs.flows[0].query, "SELECT '${k}'");  // another file: not substituted
  EXPECT_EQ(defs.sql_conf, (std::map<std::string, std::string>{{"k", "1"}}));
}

TEST(SqlParserTest, Substitution) {
  ParseOptions options;
  options.configuration = {{"source", "/data/raw"}, {"env", "dev"}, {"tbl", "orders"}};
  ASSERT_OK_AND_ASSIGN(auto defs, Parse(R"(
SET env = prod;
SET only_set = from_set;
CREATE STREAMING TABLE ${tbl}_${env}
COMMENT 'loaded from ${source}'
AS SELECT '${only_set}', '${spark:env}', '${hiveconf:env}', '${unknown}', '${ }', '$${env}', '${env'
FROM STREAM read_files('${source}/${tbl}');
)",
                                        options));
  ASSERT_EQ(defs.datasets.size(), 1u);
  const DatasetDefinition& ds = defs.datasets[0];
  EXPECT_EQ(ds.name, "orders_dev");  // the configuration wins over a SET
  EXPECT_EQ(ds.comment, "loaded from /data/raw");
  EXPECT_EQ(ds.query,
            "SELECT 'from_set', 'dev', 'dev', '${unknown}', '${ }', '$dev', '${env'\n"
            "FROM STREAM read_files('/data/raw/orders')");
  EXPECT_EQ(ds.location.line, 4u);
  EXPECT_EQ(defs.sql_conf.at("env"), "prod");
}

TEST(SqlParserTest, SubstitutedTextKeepsLineNumbersForErrors) {
  ParseOptions options;
  options.configuration = {{"clause", "PARTITIONED BY (a) PARTITIONED BY (b)"}};
  Status s = ParseError("\n\nCREATE MATERIALIZED VIEW v\n${clause}\nAS SELECT 1", options);
  EXPECT_EQ(s.message(), "t.sql:4: duplicate PARTITIONED BY clause");
}

TEST(SqlParserTest, UseCatalogAndSchemaApplyToTheRestOfTheFile) {
  ParseOptions options;
  options.catalog = "main";
  options.schema = "default";
  ASSERT_OK_AND_ASSIGN(auto defs,
                       ParsePipelineSql({{"a.sql", R"(
CREATE MATERIALIZED VIEW v0 AS SELECT 1;
USE SCHEMA bronze;
CREATE MATERIALIZED VIEW v1 AS SELECT 1;
USE CATALOG dev;
CREATE MATERIALIZED VIEW v2 AS SELECT 1;
USE DATABASE `silver`;
CREATE FLOW f AS INSERT INTO v2 BY NAME SELECT 1;
USE prod.gold;
CREATE MATERIALIZED VIEW v3 AS SELECT 1;
USE NAMESPACE 'quoted';
APPLY CHANGES INTO t FROM s KEYS (id) SEQUENCE BY ts;
)"},
                                         {"b.sql", "CREATE MATERIALIZED VIEW v4 AS SELECT 1"}},
                                        options));
  ASSERT_EQ(defs.datasets.size(), 5u);
  auto where = [](const auto& d) { return d.catalog + "|" + d.schema; };
  EXPECT_EQ(where(defs.datasets[0]), "main|default");
  EXPECT_EQ(where(defs.datasets[1]), "main|bronze");
  EXPECT_EQ(where(defs.datasets[2]), "dev|");  // USE CATALOG clears the schema, as SDP does
  EXPECT_EQ(where(defs.datasets[3]), "prod|gold");
  EXPECT_EQ(where(defs.datasets[4]), "main|default");  // a new file starts from the spec
  ASSERT_EQ(defs.flows.size(), 2u);
  EXPECT_EQ(where(defs.flows[0]), "dev|silver");
  EXPECT_EQ(where(defs.flows[1]), "prod|quoted");
}

TEST(SqlParserTest, UseErrors) {
  EXPECT_PARSE_ERROR("USE", "t.sql:1: expected a schema name after USE, found end of statement");
  EXPECT_PARSE_ERROR("USE CATALOG a.b", "t.sql:1: USE CATALOG takes a one-part name");
  EXPECT_PARSE_ERROR("USE a.b.c", "t.sql:1: USE takes a schema or catalog.schema, got 'a.b.c'");
  EXPECT_PARSE_ERROR("USE SCHEMA a extra", "t.sql:1: unexpected 'extra' after the USE name");
}

// ---- datasets ----

TEST(SqlParserTest, DatasetKindsAndModifiers) {
  ASSERT_OK_AND_ASSIGN(auto defs, Parse(R"(
CREATE STREAMING TABLE st1;
CREATE OR REFRESH PRIVATE STREAMING TABLE st2 AS SELECT 1;
CREATE TEMPORARY STREAMING TABLE st3 AS SELECT 1;
CREATE OR REFRESH STREAMING LIVE TABLE st4 AS SELECT 1;
CREATE MATERIALIZED VIEW mv1 AS SELECT 1;
CREATE OR REFRESH PRIVATE MATERIALIZED VIEW mv2 AS SELECT 1;
CREATE OR REPLACE MATERIALIZED VIEW mv3 AS SELECT 1;
CREATE OR REFRESH LIVE TABLE mv4 AS SELECT 1;
CREATE TEMPORARY LIVE TABLE mv5 AS SELECT 1;
CREATE TEMPORARY VIEW tv1 AS SELECT 1;
CREATE OR REPLACE TEMP VIEW tv2 AS SELECT 1;
CREATE TEMPORARY LIVE VIEW tv3 AS SELECT 1;
CREATE TEMPORARY STREAMING LIVE VIEW tv4 AS SELECT * FROM STREAM(x);
CREATE LIVE VIEW tv5 AS SELECT 1;
CREATE VIEW v1 AS SELECT 1;
CREATE OR REPLACE VIEW v2 COMMENT 'c' AS SELECT 1;
)"));
  struct Want {
    const char* name;
    DatasetKind kind;
    bool is_private;
    bool has_query;
  };
  std::vector<Want> want = {
      {"st1", DatasetKind::kStreamingTable, false, false},
      {"st2", DatasetKind::kStreamingTable, true, true},
      {"st3", DatasetKind::kStreamingTable, true, true},
      {"st4", DatasetKind::kStreamingTable, false, true},
      {"mv1", DatasetKind::kMaterializedView, false, true},
      {"mv2", DatasetKind::kMaterializedView, true, true},
      {"mv3", DatasetKind::kMaterializedView, false, true},
      {"mv4", DatasetKind::kMaterializedView, false, true},
      {"mv5", DatasetKind::kMaterializedView, true, true},
      {"tv1", DatasetKind::kTemporaryView, false, true},
      {"tv2", DatasetKind::kTemporaryView, false, true},
      {"tv3", DatasetKind::kTemporaryView, false, true},
      {"tv4", DatasetKind::kTemporaryView, false, true},
      {"tv5", DatasetKind::kTemporaryView, false, true},
      {"v1", DatasetKind::kView, false, true},
      {"v2", DatasetKind::kView, false, true},
  };
  ASSERT_EQ(defs.datasets.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    const DatasetDefinition& ds = defs.datasets[i];
    EXPECT_EQ(ds.name, want[i].name);
    EXPECT_EQ(ds.kind, want[i].kind) << ds.name;
    EXPECT_EQ(ds.is_private, want[i].is_private) << ds.name;
    EXPECT_EQ(ds.query.has_value(), want[i].has_query) << ds.name;
    EXPECT_EQ(ds.location.line, i + 2) << ds.name;
  }
  EXPECT_EQ(defs.datasets.back().comment, "c");
}

TEST(SqlParserTest, LivePrefixIsDroppedFromDefinedNamesTargetsAndSources) {
  ASSERT_OK_AND_ASSIGN(auto defs, Parse(R"(
CREATE STREAMING LIVE TABLE LIVE.bronze AS SELECT * FROM STREAM(LIVE.raw);
CREATE TEMPORARY LIVE VIEW live.tv AS SELECT 1;
CREATE FLOW live.f AS INSERT INTO LIVE.bronze BY NAME SELECT * FROM STREAM(LIVE.other);
APPLY CHANGES INTO LIVE.customers FROM STREAM(LIVE.cdc) KEYS (id) SEQUENCE BY ts;
CREATE MATERIALIZED VIEW live.s.three AS SELECT 1;
CREATE MATERIALIZED VIEW `sales`.`orders` AS SELECT 1;
)"));
  ASSERT_EQ(defs.datasets.size(), 4u);
  EXPECT_EQ(defs.datasets[0].name, "bronze");
  EXPECT_EQ(defs.datasets[0].query, "SELECT * FROM STREAM(LIVE.raw)");  // queries as written
  EXPECT_EQ(defs.datasets[1].name, "tv");
  EXPECT_EQ(defs.datasets[2].name, "live.s.three");  // a three-part name is a real catalog
  EXPECT_EQ(defs.datasets[3].name, "sales.orders");
  ASSERT_EQ(defs.flows.size(), 2u);
  EXPECT_EQ(defs.flows[0].name, "f");
  EXPECT_EQ(defs.flows[0].target, "bronze");
  EXPECT_EQ(defs.flows[1].name, "customers");
  EXPECT_EQ(defs.flows[1].target, "customers");
  EXPECT_EQ(defs.flows[1].auto_cdc->source, "cdc");
}

TEST(SqlParserTest, ColumnsAndExpectations) {
  ASSERT_OK_AND_ASSIGN(auto defs, Parse(R"(
CREATE OR REFRESH STREAMING TABLE orders (
  id BIGINT NOT NULL COMMENT 'the order id',
  `amount` DECIMAL(10, 2),
  tags ARRAY<STRING>,
  address STRUCT<street: STRING, zip: INT NOT NULL>,
  attrs MAP<STRING, ARRAY<STRUCT<k: STRING, v: DECIMAL(5,1)>>> COMMENT "nested",
  ts TIMESTAMP,
  CONSTRAINT valid_id EXPECT (id IS NOT NULL),
  CONSTRAINT positive EXPECT (amount > 0 AND (tags IS NULL OR size(tags) > 0)) ON VIOLATION DROP ROW,
  CONSTRAINT has_ts EXPECT (ts IS NOT NULL) ON VIOLATION FAIL UPDATE,
  CONSTRAINT zip_ok EXPECT (address.zip BETWEEN 1000 AND 99999) ON VIOLATION QUARANTINE,
  CONSTRAINT semi EXPECT (note != 'a;b' AND note != ')'),
  CONSTRAINT pk PRIMARY KEY (id) RELY,
  CONSTRAINT fk FOREIGN KEY (cust_id) REFERENCES customers (id),
  PRIMARY KEY (id)
) AS SELECT * FROM STREAM(raw)
)"));
  ASSERT_EQ(defs.datasets.size(), 1u);
  const DatasetDefinition& ds = defs.datasets[0];
  ASSERT_EQ(ds.columns.size(), 6u);
  EXPECT_EQ(ds.columns[0].name, "id");
  EXPECT_EQ(ds.columns[0].type, "BIGINT");
  EXPECT_TRUE(ds.columns[0].not_null);
  EXPECT_EQ(ds.columns[0].comment, "the order id");
  EXPECT_EQ(ds.columns[1].name, "amount");
  EXPECT_EQ(ds.columns[1].type, "DECIMAL(10, 2)");
  EXPECT_FALSE(ds.columns[1].not_null);
  EXPECT_FALSE(ds.columns[1].comment.has_value());
  EXPECT_EQ(ds.columns[2].type, "ARRAY<STRING>");
  EXPECT_EQ(ds.columns[3].type, "STRUCT<street: STRING, zip: INT NOT NULL>");
  EXPECT_FALSE(ds.columns[3].not_null);
  EXPECT_EQ(ds.columns[4].type, "MAP<STRING, ARRAY<STRUCT<k: STRING, v: DECIMAL(5,1)>>>");
  EXPECT_EQ(ds.columns[4].comment, "nested");
  EXPECT_EQ(ds.columns[5].type, "TIMESTAMP");
  ASSERT_EQ(ds.expectations.size(), 5u);
  EXPECT_EQ(ds.expectations[0].name, "valid_id");
  EXPECT_EQ(ds.expectations[0].condition, "id IS NOT NULL");
  EXPECT_EQ(ds.expectations[0].action, Expectation::Action::kWarn);
  EXPECT_EQ(ds.expectations[1].condition, "amount > 0 AND (tags IS NULL OR size(tags) > 0)");
  EXPECT_EQ(ds.expectations[1].action, Expectation::Action::kDrop);
  EXPECT_EQ(ds.expectations[2].action, Expectation::Action::kFail);
  EXPECT_EQ(ds.expectations[3].action, Expectation::Action::kQuarantine);
  EXPECT_EQ(ds.expectations[4].condition, "note != 'a;b' AND note != ')'");
  EXPECT_EQ(ds.query, "SELECT * FROM STREAM(raw)");
}

TEST(SqlParserTest, ConstraintsWithoutColumns) {
  ASSERT_OK_AND_ASSIGN(
      auto defs,
      Parse("CREATE MATERIALIZED VIEW v (CONSTRAINT a EXPECT (x > 1) ON VIOLATION DROP ROW) "
            "AS SELECT 2 AS x"));
  ASSERT_EQ(defs.datasets.size(), 1u);
  EXPECT_TRUE(defs.datasets[0].columns.empty());
  ASSERT_EQ(defs.datasets[0].expectations.size(), 1u);
  EXPECT_EQ(defs.datasets[0].expectations[0].condition, "x > 1");
}

TEST(SqlParserTest, ViewColumnsAndExpectations) {
  ASSERT_OK_AND_ASSIGN(
      auto defs,
      Parse("CREATE TEMPORARY VIEW v (a COMMENT 'first', b, CONSTRAINT ok EXPECT (a > 0)) "
            "TBLPROPERTIES ('x' = 'y') AS SELECT 1 AS a, 2 AS b"));
  const DatasetDefinition& ds = defs.datasets[0];
  ASSERT_EQ(ds.columns.size(), 2u);
  EXPECT_EQ(ds.columns[0].name, "a");
  EXPECT_EQ(ds.columns[0].type, "");
  EXPECT_EQ(ds.columns[0].comment, "first");
  EXPECT_EQ(ds.expectations.size(), 1u);
  EXPECT_EQ(ds.table_properties.at("x"), "y");
}

TEST(SqlParserTest, TableSpecErrors) {
  EXPECT_PARSE_ERROR("CREATE STREAMING TABLE t (id)",
                     "t.sql:1: expected a type for column id, found ')'");
  EXPECT_PARSE_ERROR("CREATE STREAMING TABLE t (id INT, id STRING)",
                     "t.sql:1: duplicate column 'id'");
  EXPECT_PARSE_ERROR(
      "CREATE STREAMING TABLE t (CONSTRAINT a EXPECT x > 1)",
      "t.sql:1: expected '(' after EXPECT (CONSTRAINT a EXPECT (condition)), found 'x'");
  EXPECT_PARSE_ERROR(
      "CREATE STREAMING TABLE t (CONSTRAINT a EXPECT (x > 1), CONSTRAINT a EXPECT (y))",
      "t.sql:1: duplicate expectation name 'a'");
  EXPECT_PARSE_ERROR("CREATE STREAMING TABLE t (CONSTRAINT a EXPECT ())",
                     "t.sql:1: empty condition in EXPECT of a");
  EXPECT_PARSE_ERROR("CREATE STREAMING TABLE t (CONSTRAINT a EXPECT ((x > 1)",
                     "t.sql:1: unbalanced parentheses in EXPECT (...)");
  EXPECT_PARSE_ERROR("CREATE STREAMING TABLE t (CONSTRAINT a UNIQUE (x))",
                     "t.sql:1: expected EXPECT (condition), PRIMARY KEY or FOREIGN KEY after "
                     "CONSTRAINT a, found 'UNIQUE'");
  EXPECT_PARSE_ERROR("CREATE STREAMING TABLE t (CONSTRAINT a EXPECT (x) ON VIOLATION DROP)",
                     "t.sql:1: expected ROW after ON VIOLATION DROP, found ')'");
  EXPECT_PARSE_ERROR("CREATE STREAMING TABLE t (id INT NOT)",
                     "t.sql:1: expected NULL after NOT in column id");
  EXPECT_PARSE_ERROR("CREATE STREAMING TABLE t (id INT COMMENT 5)",
                     "t.sql:1: expected a string literal after COMMENT, found '5'");
  EXPECT_PARSE_ERROR("CREATE STREAMING TABLE t (id INT",
                     "t.sql:1: unterminated column list: expected ')'");
  EXPECT_PARSE_ERROR("CREATE STREAMING TABLE t (, id INT)",
                     "t.sql:1: expected a column definition or a CONSTRAINT, found ','");
  Status s = ParseError("CREATE STREAMING TABLE t (id INT MASK m) AS SELECT 1");
  EXPECT_TRUE(s.IsNotSupported());
  EXPECT_EQ(s.message(), "t.sql:1: column id: MASK is not supported in a pipeline");
  s = ParseError("CREATE STREAMING TABLE t (id INT GENERATED ALWAYS AS (1))");
  EXPECT_TRUE(s.IsNotSupported());
  s = ParseError("CREATE STREAMING TABLE t (CONSTRAINT c CHECK (x > 0))");
  EXPECT_TRUE(s.IsNotSupported());
}

TEST(SqlParserTest, TableClausesInAnyOrder) {
  ASSERT_OK_AND_ASSIGN(auto defs, Parse(R"(
CREATE OR REFRESH MATERIALIZED VIEW a
  TBLPROPERTIES ('delta.appendOnly' = 'true', delta.enableChangeDataFeed = true,
                 "pipelines.reset.allowed" 'false', 'n' = 10, 'neg' = -1)
  COMMENT 'the a view'
  PARTITIONED BY (region, `day`)
  USING DELTA
AS SELECT 1;
CREATE MATERIALIZED VIEW b CLUSTER BY (region, address.zip) AS SELECT 1;
CREATE STREAMING TABLE c CLUSTER BY AUTO;
CREATE STREAMING TABLE d CLUSTER BY NONE COMMENT 'x';
)"));
  ASSERT_EQ(defs.datasets.size(), 4u);
  const DatasetDefinition& a = defs.datasets[0];
  EXPECT_EQ(a.partition_by, (std::vector<std::string>{"region", "day"}));
  EXPECT_EQ(a.comment, "the a view");
  std::map<std::string, std::string> props = {{"delta.appendOnly", "true"},
                                              {"delta.enableChangeDataFeed", "true"},
                                              {"pipelines.reset.allowed", "false"},
                                              {"n", "10"},
                                              {"neg", "-1"}};
  EXPECT_EQ(a.table_properties, props);
  EXPECT_EQ(defs.datasets[1].cluster_by, (std::vector<std::string>{"region", "address.zip"}));
  EXPECT_FALSE(defs.datasets[1].cluster_by_auto);
  EXPECT_TRUE(defs.datasets[2].cluster_by.empty());
  EXPECT_TRUE(defs.datasets[2].cluster_by_auto);
  EXPECT_FALSE(defs.datasets[2].query.has_value());
  EXPECT_TRUE(defs.datasets[3].cluster_by.empty());
  EXPECT_FALSE(defs.datasets[3].cluster_by_auto);
}

TEST(SqlParserTest, TableClauseErrors) {
  EXPECT_PARSE_ERROR("CREATE MATERIALIZED VIEW v COMMENT 'a' COMMENT 'b' AS SELECT 1",
                     "t.sql:1: duplicate COMMENT clause");
  EXPECT_PARSE_ERROR(
      "CREATE MATERIALIZED VIEW v\nTBLPROPERTIES ('a'='1')\nTBLPROPERTIES ('b'='2') AS SELECT 1",
      "t.sql:3: duplicate TBLPROPERTIES clause");
  EXPECT_PARSE_ERROR("CREATE MATERIALIZED VIEW v TBLPROPERTIES ('a'='1', 'a'='2') AS SELECT 1",
                     "t.sql:1: duplicate key 'a' in TBLPROPERTIES");
  EXPECT_PARSE_ERROR("CREATE MATERIALIZED VIEW v PARTITIONED BY (a) CLUSTER BY (b) AS SELECT 1",
                     "t.sql:1: materialized view v: PARTITIONED BY and CLUSTER BY cannot be used "
                     "together");
  EXPECT_PARSE_ERROR("CREATE MATERIALIZED VIEW v PARTITIONED BY (years(ts)) AS SELECT 1",
                     "t.sql:1: PARTITIONED BY takes column names; the transform years(...) is not "
                     "supported");
  EXPECT_PARSE_ERROR("CREATE MATERIALIZED VIEW v PARTITIONED BY (a.b) AS SELECT 1",
                     "t.sql:1: PARTITIONED BY takes top-level columns, not 'a.b'");
  EXPECT_PARSE_ERROR("CREATE MATERIALIZED VIEW v PARTITIONED BY (a STRING) AS SELECT 1",
                     "t.sql:1: expected ')' or ',' in PARTITIONED BY, found 'STRING'");
  EXPECT_PARSE_ERROR("CREATE MATERIALIZED VIEW v\n  SELEC 1",
                     "t.sql:2: expected AS <query> or a clause (PARTITIONED BY, CLUSTER BY, "
                     "COMMENT, TBLPROPERTIES) after the materialized view name, found 'SELEC'");
  EXPECT_PARSE_ERROR("CREATE MATERIALIZED VIEW v COMMENT 'x'",
                     "t.sql:1: expected AS <query> for the materialized view v, found end of "
                     "statement");
  EXPECT_PARSE_ERROR("CREATE VIEW v", "t.sql:1: expected AS <query> for the view v");
  EXPECT_PARSE_ERROR("CREATE MATERIALIZED VIEW v AS", "t.sql:1: expected a query after AS");
  EXPECT_PARSE_ERROR("CREATE MATERIALIZED VIEW AS SELECT 1",
                     "t.sql:1: expected AS <query> or a clause");  // "AS" taken as the name
  EXPECT_PARSE_ERROR("CREATE MATERIALIZED VIEW v COMMENT 'x' (a INT) AS SELECT 1",
                     "t.sql:1: the column list of a materialized view comes right after its name");
  EXPECT_PARSE_ERROR("CREATE TEMPORARY VIEW v PARTITIONED BY (a) AS SELECT 1",
                     "t.sql:1: PARTITIONED BY does not apply to a temporary view");
  EXPECT_PARSE_ERROR("CREATE VIEW v CLUSTER BY (a) AS SELECT 1",
                     "t.sql:1: CLUSTER BY does not apply to a view");
  EXPECT_PARSE_ERROR("CREATE TEMPORARY VIEW s.v AS SELECT 1",
                     "t.sql:1: a temporary view name cannot be qualified: 's.v'");
  EXPECT_PARSE_ERROR("CREATE PRIVATE VIEW v AS SELECT 1",
                     "t.sql:1: PRIVATE applies to streaming tables and materialized views");
  EXPECT_PARSE_ERROR("CREATE OR DROP STREAMING TABLE t",
                     "t.sql:1: expected REFRESH or REPLACE after CREATE OR, found 'DROP'");
  EXPECT_PARSE_ERROR("CREATE MATERIALIZED VIEW v FLOW AUTO CDC FROM s KEYS (a) SEQUENCE BY b",
                     "t.sql:1: FLOW AUTO CDC applies to streaming tables, not to a materialized "
                     "view");
  Status s = ParseError("CREATE STREAMING TABLE t USING PARQUET AS SELECT 1");
  EXPECT_TRUE(s.IsNotSupported());
  EXPECT_EQ(s.message(), "t.sql:1: USING PARQUET: pipeline tables are Delta tables");
  s = ParseError("CREATE STREAMING TABLE t LOCATION '/x' AS SELECT 1");
  EXPECT_TRUE(s.IsNotSupported());
  EXPECT_EQ(s.message(), "t.sql:1: the LOCATION clause is not supported in a pipeline");
  s = ParseError("CREATE STREAMING TABLE t WITH ROW FILTER f ON (a) AS SELECT 1");
  EXPECT_TRUE(s.IsNotSupported());
}

// ---- flows ----

TEST(SqlParserTest, AppendFlows) {
  ASSERT_OK_AND_ASSIGN(auto defs, Parse(R"(
CREATE STREAMING TABLE users;
CREATE FLOW users_flow AS INSERT INTO users BY NAME SELECT * FROM STREAM(users_east);
CREATE FLOW backfill COMMENT 'one time' AS
INSERT INTO ONCE users BY NAME
SELECT * FROM old_users;
CREATE FLOW f2 AS INSERT ONCE INTO TABLE sales.users BY NAME SELECT 1;
CREATE FLOW f3 AS INSERT INTO once BY NAME SELECT 1;
)"));
  ASSERT_EQ(defs.datasets.size(), 1u);
  EXPECT_FALSE(defs.datasets[0].query.has_value());
  ASSERT_EQ(defs.flows.size(), 4u);
  const FlowDefinition& f = defs.flows[0];
  EXPECT_EQ(f.kind, FlowDefinition::Kind::kAppend);
  EXPECT_EQ(f.name, "users_flow");
  EXPECT_EQ(f.target, "users");
  EXPECT_FALSE(f.once);
  EXPECT_EQ(f.query, "SELECT * FROM STREAM(users_east)");
  EXPECT_FALSE(f.comment.has_value());
  EXPECT_EQ(f.location.line, 3u);
  EXPECT_FALSE(f.auto_cdc.has_value());
  const FlowDefinition& b = defs.flows[1];
  EXPECT_EQ(b.name, "backfill");
  EXPECT_TRUE(b.once);
  EXPECT_EQ(b.comment, "one time");
  EXPECT_EQ(b.query, "SELECT * FROM old_users");
  EXPECT_EQ(b.location.line, 4u);
  EXPECT_TRUE(defs.flows[2].once);
  EXPECT_EQ(defs.flows[2].target, "sales.users");
  EXPECT_FALSE(defs.flows[3].once);
  EXPECT_EQ(defs.flows[3].target, "once");
}

TEST(SqlParserTest, AppendFlowErrors) {
  EXPECT_PARSE_ERROR("CREATE FLOW f AS INSERT INTO t SELECT 1",
                     "t.sql:1: expected BY NAME after the flow's target (CREATE FLOW f AS INSERT "
                     "INTO t BY NAME <query>), found 'SELECT'");
  EXPECT_PARSE_ERROR("CREATE FLOW f AS INSERT OVERWRITE t BY NAME SELECT 1",
                     "t.sql:1: INSERT OVERWRITE flows are not supported");
  EXPECT_PARSE_ERROR("CREATE FLOW f AS INSERT INTO t (a, b) BY NAME SELECT 1",
                     "t.sql:1: a flow's INSERT cannot list columns");
  EXPECT_PARSE_ERROR("CREATE FLOW f AS INSERT INTO t PARTITION (a = 1) BY NAME SELECT 1",
                     "t.sql:1: a flow's INSERT cannot name a PARTITION");
  EXPECT_PARSE_ERROR("CREATE FLOW f AS INSERT INTO t BY NAME",
                     "t.sql:1: expected a query after BY NAME");
  EXPECT_PARSE_ERROR("CREATE FLOW s.f AS INSERT INTO t BY NAME SELECT 1",
                     "t.sql:1: a flow name is one identifier, not 's.f'");
  EXPECT_PARSE_ERROR("CREATE FLOW f INSERT INTO t BY NAME SELECT 1",
                     "t.sql:1: expected AS after CREATE FLOW f, found 'INSERT'");
  EXPECT_PARSE_ERROR("CREATE FLOW f AS SELECT 1",
                     "t.sql:1: expected INSERT INTO or AUTO CDC INTO after CREATE FLOW f AS, found "
                     "'SELECT'");
  EXPECT_PARSE_ERROR("CREATE OR REFRESH FLOW f AS INSERT INTO t BY NAME SELECT 1",
                     "t.sql:1: CREATE FLOW takes no OR REFRESH / OR REPLACE");
  EXPECT_PARSE_ERROR("CREATE PRIVATE FLOW f AS INSERT INTO t BY NAME SELECT 1",
                     "t.sql:1: CREATE FLOW takes no PRIVATE");
}

// ---- AUTO CDC ----

TEST(SqlParserTest, AutoCdcThreeSpellings) {
  ASSERT_OK_AND_ASSIGN(auto defs, Parse(R"(
CREATE OR REFRESH STREAMING TABLE customers;
CREATE FLOW customers_cdc AS AUTO CDC INTO customers
  FROM STREAM(cdc.customers) KEYS (id) SEQUENCE BY ts;
APPLY CHANGES INTO LIVE.customers
  FROM STREAM cdc.customers KEYS (id) SEQUENCE BY ts;
CREATE OR REFRESH STREAMING TABLE accounts (CONSTRAINT ok EXPECT (id > 0))
  COMMENT 'scd1 accounts'
  FLOW AUTO CDC FROM STREAM(cdc_accounts) KEYS (id) SEQUENCE BY ts;
CREATE FLOW snapshot_once AS AUTO CDC ONCE INTO customers FROM snapshot KEYS (id) SEQUENCE BY ts;
)"));
  ASSERT_EQ(defs.datasets.size(), 2u);
  EXPECT_EQ(defs.datasets[1].name, "accounts");
  EXPECT_FALSE(defs.datasets[1].query.has_value());
  EXPECT_EQ(defs.datasets[1].comment, "scd1 accounts");
  EXPECT_EQ(defs.datasets[1].expectations.size(), 1u);
  ASSERT_EQ(defs.flows.size(), 4u);
  const FlowDefinition& a = defs.flows[0];
  EXPECT_EQ(a.kind, FlowDefinition::Kind::kAutoCdc);
  EXPECT_EQ(a.name, "customers_cdc");
  EXPECT_EQ(a.target, "customers");
  EXPECT_FALSE(a.once);
  ASSERT_TRUE(a.auto_cdc.has_value());
  EXPECT_EQ(a.auto_cdc->source, "cdc.customers");
  EXPECT_TRUE(a.auto_cdc->source_is_stream);
  EXPECT_EQ(a.auto_cdc->keys, std::vector<std::string>{"id"});
  EXPECT_EQ(a.auto_cdc->sequence_by, std::vector<std::string>{"ts"});
  EXPECT_EQ(a.auto_cdc->scd_type, 1);
  EXPECT_EQ(a.location.line, 3u);
  const FlowDefinition& b = defs.flows[1];
  EXPECT_EQ(b.name, "customers");
  EXPECT_EQ(b.target, "customers");
  EXPECT_EQ(b.auto_cdc->source, "cdc.customers");
  EXPECT_TRUE(b.auto_cdc->source_is_stream);
  EXPECT_EQ(b.location.line, 5u);
  const FlowDefinition& c = defs.flows[2];
  EXPECT_EQ(c.name, "accounts");
  EXPECT_EQ(c.target, "accounts");
  EXPECT_EQ(c.auto_cdc->source, "cdc_accounts");
  EXPECT_EQ(c.location.line, 7u);
  const FlowDefinition& d = defs.flows[3];
  EXPECT_TRUE(d.once);
  EXPECT_EQ(d.auto_cdc->source, "snapshot");
  EXPECT_FALSE(d.auto_cdc->source_is_stream);
}

TEST(SqlParserTest, AutoCdcEveryClauseInAnyOrder) {
  ASSERT_OK_AND_ASSIGN(auto defs, Parse(R"(
CREATE FLOW f AS AUTO CDC INTO target
FROM STREAM(source)
STORED AS SCD TYPE 2
TRACK HISTORY ON * EXCEPT (updated_at, `note`)
COLUMNS * EXCEPT (operation, sequenceNum)
APPLY AS DELETE WHEN operation = 'DELETE' AND (flag IN ('x', 'y'))
SEQUENCE BY STRUCT(sequenceNum, coalesce(sub_seq, 0))
IGNORE NULL UPDATES ON (name, city)
KEYS (userId, region)
)"));
  ASSERT_EQ(defs.flows.size(), 1u);
  const AutoCdcDefinition& cdc = *defs.flows[0].auto_cdc;
  EXPECT_EQ(cdc.source, "source");
  EXPECT_EQ(cdc.keys, (std::vector<std::string>{"userId", "region"}));
  EXPECT_TRUE(cdc.ignore_null_updates);
  ASSERT_TRUE(cdc.ignore_null_updates_on.has_value());
  EXPECT_FALSE(cdc.ignore_null_updates_on->all_except);
  EXPECT_EQ(cdc.ignore_null_updates_on->columns, (std::vector<std::string>{"name", "city"}));
  EXPECT_EQ(cdc.apply_as_delete_when, "operation = 'DELETE' AND (flag IN ('x', 'y'))");
  EXPECT_FALSE(cdc.apply_as_truncate_when.has_value());
  EXPECT_EQ(cdc.sequence_by, (std::vector<std::string>{"sequenceNum", "coalesce(sub_seq, 0)"}));
  ASSERT_TRUE(cdc.columns.has_value());
  EXPECT_TRUE(cdc.columns->all_except);
  EXPECT_EQ(cdc.columns->columns, (std::vector<std::string>{"operation", "sequenceNum"}));
  EXPECT_EQ(cdc.scd_type, 2);
  ASSERT_TRUE(cdc.track_history_on.has_value());
  EXPECT_TRUE(cdc.track_history_on->all_except);
  EXPECT_EQ(cdc.track_history_on->columns, (std::vector<std::string>{"updated_at", "note"}));
}

TEST(SqlParserTest, AutoCdcClauseForms) {
  ASSERT_OK_AND_ASSIGN(auto defs, Parse(R"(
APPLY CHANGES INTO a FROM s KEYS (id) IGNORE NULL UPDATES APPLY AS TRUNCATE WHEN op = 'TRUNCATE'
  APPLY AS DELETE WHEN op = 'DELETE' SEQUENCE BY ts COLUMNS (id, name) STORED AS SCD TYPE 1;
APPLY CHANGES INTO b FROM s KEYS (id) SEQUENCE BY ts + 1 COLUMNS id, name, city
  IGNORE NULL UPDATES ON * EXCEPT (city) STORED AS SCD TYPE 2 TRACK HISTORY ON (name);
APPLY CHANGES INTO c FROM s KEYS (id) SEQUENCE BY ts STORED AS SCD TYPE 2 TRACK HISTORY ON name, city;
APPLY CHANGES INTO d FROM stream KEYS (id) SEQUENCE BY ts;
)"));
  ASSERT_EQ(defs.flows.size(), 4u);
  const AutoCdcDefinition& a = *defs.flows[0].auto_cdc;
  EXPECT_TRUE(a.ignore_null_updates);
  EXPECT_FALSE(a.ignore_null_updates_on.has_value());
  EXPECT_EQ(a.apply_as_truncate_when, "op = 'TRUNCATE'");
  EXPECT_EQ(a.apply_as_delete_when, "op = 'DELETE'");
  EXPECT_EQ(a.sequence_by, std::vector<std::string>{"ts"});
  EXPECT_FALSE(a.columns->all_except);
  EXPECT_EQ(a.columns->columns, (std::vector<std::string>{"id", "name"}));
  EXPECT_EQ(a.scd_type, 1);
  EXPECT_FALSE(a.source_is_stream);
  const AutoCdcDefinition& b = *defs.flows[1].auto_cdc;
  EXPECT_EQ(b.sequence_by, std::vector<std::string>{"ts + 1"});
  EXPECT_EQ(b.columns->columns, (std::vector<std::string>{"id", "name", "city"}));
  EXPECT_TRUE(b.ignore_null_updates_on->all_except);
  EXPECT_EQ(b.ignore_null_updates_on->columns, std::vector<std::string>{"city"});
  EXPECT_EQ(b.track_history_on->columns, std::vector<std::string>{"name"});
  EXPECT_FALSE(b.track_history_on->all_except);
  const AutoCdcDefinition& c = *defs.flows[2].auto_cdc;
  EXPECT_EQ(c.track_history_on->columns, (std::vector<std::string>{"name", "city"}));
  const AutoCdcDefinition& d = *defs.flows[3].auto_cdc;
  EXPECT_EQ(d.source, "stream");  // a table named stream, not the STREAM keyword
  EXPECT_FALSE(d.source_is_stream);
}

TEST(SqlParserTest, AutoCdcErrors) {
  EXPECT_PARSE_ERROR("APPLY CHANGES INTO t FROM s SEQUENCE BY ts",
                     "t.sql:1: AUTO CDC into t: KEYS (...) is required");
  EXPECT_PARSE_ERROR("CREATE FLOW f AS AUTO CDC INTO t FROM s KEYS (id)",
                     "t.sql:1: AUTO CDC into t: SEQUENCE BY is required");
  EXPECT_PARSE_ERROR("APPLY CHANGES INTO t FROM s KEYS (a)\n  KEYS (b) SEQUENCE BY ts",
                     "t.sql:2: duplicate KEYS clause");
  EXPECT_PARSE_ERROR("APPLY CHANGES INTO t FROM s KEYS (a) SEQUENCE BY x SEQUENCE BY y",
                     "t.sql:1: duplicate SEQUENCE BY clause");
  EXPECT_PARSE_ERROR(
      "APPLY CHANGES INTO t FROM s KEYS (a) SEQUENCE BY x\n"
      "APPLY AS DELETE WHEN a APPLY AS DELETE WHEN b",
      "t.sql:2: duplicate APPLY AS DELETE WHEN clause");
  EXPECT_PARSE_ERROR(
      "APPLY CHANGES INTO t FROM s KEYS (a) SEQUENCE BY x\n"
      "  APPLY AS TRUNCATE WHEN op = 'T'\n  STORED AS SCD TYPE 2",
      "t.sql:2: AUTO CDC into t: APPLY AS TRUNCATE WHEN is not supported with "
      "STORED AS SCD TYPE 2");
  EXPECT_PARSE_ERROR("APPLY CHANGES INTO t FROM s KEYS (a) SEQUENCE BY x TRACK HISTORY ON (b)",
                     "t.sql:1: AUTO CDC into t: TRACK HISTORY ON requires STORED AS SCD TYPE 2");
  EXPECT_PARSE_ERROR("APPLY CHANGES INTO t FROM s KEYS (a) SEQUENCE BY x STORED AS SCD TYPE 3",
                     "t.sql:1: expected 1 or 2 after STORED AS SCD TYPE, found '3'");
  EXPECT_PARSE_ERROR("APPLY CHANGES INTO t FROM s KEYS (a) SEQUENCE BY KEYS (b)",
                     "t.sql:1: expected an expression after SEQUENCE BY, found 'KEYS'");
  EXPECT_PARSE_ERROR(
      "APPLY CHANGES INTO t FROM s KEYS (a) SEQUENCE BY x APPLY AS UPSERT WHEN y",
      "t.sql:1: expected DELETE WHEN or TRUNCATE WHEN after APPLY AS, found 'UPSERT'");
  EXPECT_PARSE_ERROR("APPLY CHANGES INTO t FROM s KEYS () SEQUENCE BY x",
                     "t.sql:1: expected a column name in KEYS, found ')'");
  EXPECT_PARSE_ERROR("APPLY CHANGES INTO t FROM s WHERE x KEYS (a) SEQUENCE BY x",
                     "t.sql:1: unexpected 'WHERE' in AUTO CDC into t; expected KEYS, IGNORE NULL "
                     "UPDATES, APPLY AS DELETE WHEN, APPLY AS TRUNCATE WHEN, SEQUENCE BY, COLUMNS, "
                     "STORED AS SCD TYPE or TRACK HISTORY ON");
  EXPECT_PARSE_ERROR("APPLY CHANGES INTO t KEYS (a) SEQUENCE BY x",
                     "t.sql:1: expected FROM after the AUTO CDC target t, found 'KEYS'");
  EXPECT_PARSE_ERROR("APPLY CHANGES INTO t FROM STREAM(s KEYS (a) SEQUENCE BY x",
                     "t.sql:1: expected ')' after the STREAM(...) source, found 'KEYS'");
  EXPECT_PARSE_ERROR("APPLY CHANGES INTO t FROM s KEYS (a) SEQUENCE BY x IGNORE NULL UPDATES ON a",
                     "t.sql:1: expected (columns) or * EXCEPT (columns) after IGNORE NULL UPDATES "
                     "ON, found 'a'");
  EXPECT_PARSE_ERROR("CREATE STREAMING TABLE t FLOW AUTO CDC FROM s KEYS (a)",
                     "t.sql:1: AUTO CDC into t: SEQUENCE BY is required");
  EXPECT_PARSE_ERROR("CREATE STREAMING TABLE t FLOW CDC FROM s",
                     "t.sql:1: expected AUTO after FLOW (FLOW AUTO CDC FROM ...), found 'CDC'");
}

// ---- a realistic pipeline ----

TEST(SqlParserTest, BronzeSilverGold) {
  ParseOptions options;
  options.catalog = "main";
  options.schema = "sales";
  options.configuration = {{"landing", "/Volumes/main/sales/landing"}};
  const std::string bronze = R"(-- Bronze: raw files as they land.
CREATE OR REFRESH STREAMING TABLE orders_raw
COMMENT 'Raw orders from the landing zone'
TBLPROPERTIES ('quality' = 'bronze')
AS SELECT *, _metadata.file_path AS source_file
FROM STREAM read_files('${landing}/orders/', format => 'json');

CREATE OR REFRESH STREAMING TABLE customers_cdc_raw
AS SELECT * FROM STREAM read_files('${landing}/customers_cdc/', format => 'json');
)";
  const std::string silver = R"(-- Silver: cleaned and conformed.
SET spark.sql.session.timeZone = UTC;

CREATE OR REFRESH STREAMING TABLE orders (
  order_id BIGINT NOT NULL COMMENT 'business key',
  customer_id BIGINT,
  amount DECIMAL(12, 2),
  order_ts TIMESTAMP,
  CONSTRAINT valid_order EXPECT (order_id IS NOT NULL) ON VIOLATION DROP ROW,
  CONSTRAINT positive_amount EXPECT (amount > 0)
)
PARTITIONED BY (order_date)
TBLPROPERTIES ('quality' = 'silver')
AS SELECT
  CAST(order_id AS BIGINT) AS order_id,
  customer_id,
  CAST(amount AS DECIMAL(12, 2)) AS amount,
  to_timestamp(order_ts) AS order_ts,
  to_date(order_ts) AS order_date
FROM STREAM(orders_raw);

CREATE OR REFRESH STREAMING TABLE customers
COMMENT 'SCD type 2 customers';

CREATE FLOW customers_cdc AS AUTO CDC INTO customers
FROM STREAM(customers_cdc_raw)
KEYS (customer_id)
APPLY AS DELETE WHEN operation = 'DELETE'
SEQUENCE BY sequence_num
COLUMNS * EXCEPT (operation, sequence_num, _rescued_data)
STORED AS SCD TYPE 2;
)";
  const std::string gold = R"(-- Gold: business aggregates.
USE SCHEMA reporting;

CREATE TEMPORARY VIEW current_customers AS
SELECT * FROM sales.customers WHERE __END_AT IS NULL;

CREATE OR REFRESH MATERIALIZED VIEW revenue_by_customer
CLUSTER BY (customer_id)
AS SELECT c.customer_id, c.name, sum(o.amount) AS revenue
FROM sales.orders o JOIN current_customers c USING (customer_id)
GROUP BY ALL;
)";
  ASSERT_OK_AND_ASSIGN(auto defs, ParsePipelineSql({{"transformations/bronze.sql", bronze},
                                                    {"transformations/silver.sql", silver},
                                                    {"transformations/gold.sql", gold}},
                                                   options));
  ASSERT_EQ(defs.datasets.size(), 6u);
  std::vector<std::string> names;
  for (const auto& d : defs.datasets) names.push_back(d.name);
  EXPECT_EQ(names,
            (std::vector<std::string>{"orders_raw", "customers_cdc_raw", "orders", "customers",
                                      "current_customers", "revenue_by_customer"}));
  EXPECT_EQ(defs.datasets[0].query,
            "SELECT *, _metadata.file_path AS source_file\n"
            "FROM STREAM read_files('/Volumes/main/sales/landing/orders/', format => 'json')");
  EXPECT_EQ(defs.datasets[0].location.line, 2u);
  EXPECT_EQ(defs.datasets[0].schema, "sales");
  EXPECT_EQ(defs.datasets[1].location.line, 8u);
  const DatasetDefinition& orders = defs.datasets[2];
  EXPECT_EQ(orders.location.file, "transformations/silver.sql");
  EXPECT_EQ(orders.location.line, 4u);
  EXPECT_EQ(orders.columns.size(), 4u);
  EXPECT_EQ(orders.expectations.size(), 2u);
  EXPECT_EQ(orders.partition_by, std::vector<std::string>{"order_date"});
  EXPECT_EQ(orders.sql_conf.at("spark.sql.session.timeZone"), "UTC");
  EXPECT_EQ(defs.datasets[3].location.line, 22u);
  EXPECT_FALSE(defs.datasets[3].query.has_value());
  EXPECT_EQ(defs.datasets[4].kind, DatasetKind::kTemporaryView);
  EXPECT_EQ(defs.datasets[4].schema, "reporting");
  EXPECT_EQ(defs.datasets[5].kind, DatasetKind::kMaterializedView);
  EXPECT_EQ(defs.datasets[5].cluster_by, std::vector<std::string>{"customer_id"});
  EXPECT_EQ(defs.datasets[5].location.line, 7u);
  ASSERT_EQ(defs.flows.size(), 1u);
  EXPECT_EQ(defs.flows[0].location.line, 25u);
  EXPECT_EQ(defs.flows[0].auto_cdc->scd_type, 2);
  EXPECT_EQ(defs.flows[0].auto_cdc->apply_as_delete_when, "operation = 'DELETE'");
  EXPECT_EQ(defs.sql_conf.at("spark.sql.session.timeZone"), "UTC");
}

}  // namespace
}  // namespace medallion::pipeline
