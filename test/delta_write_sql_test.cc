// Writing Delta tables end to end: engine::WriteDelta (data files, statistics, schema enforcement,
// overwrite, replaceWhere, checkpoints) and the SQL forms of engine::Session (CREATE TABLE AS
// SELECT, INSERT INTO / OVERWRITE / REPLACE WHERE). Every table written is read back through the
// Delta scan and checked by the protocol validator (test/delta_validity.h).
#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include "delta/log_segment.h"
#include "delta/snapshot.h"
#include "delta/transaction.h"
#include "delta_table_test.h"
#include "delta_validity.h"
#include "session_rows.h"
#include "engine/delta_writer.h"
#include "engine/duckdb_parquet_handler.h"
#include "engine/session.h"
#include "storage/local_object_store.h"
#include "storage/test_util.h"

namespace medallion::engine {
namespace {

using ::testing::HasSubstr;
using Mode = WriteOptions::Mode;

class DeltaWriteTest : public testutil::DeltaTableTest {
 protected:
  Result<WriteResult> Write(std::string_view sql, WriteOptions options = {},
                            const std::string& table = "t") {
    return WriteDelta(session_->connection(), sql, *store_, table, *parquet_, options);
  }

  // The rows of `sql` as sorted text lines ("a|b|c").
  std::vector<std::string> Rows(const std::string& sql) {
    auto r = session_->Query(sql);
    EXPECT_TRUE(r.ok()) << sql << ": " << r.status().ToString();
    std::vector<std::string> rows;
    if (!r.ok()) return rows;
    for (size_t i = 0; i < r->row_count(); ++i) {
      std::string line;
      for (size_t c = 0; c < r->column_count(); ++c) line += (c ? "|" : "") + r->GetText(c, i);
      rows.push_back(line);
    }
    std::sort(rows.begin(), rows.end());
    return rows;
  }

  void ExpectValid(const std::string& table = "t") {
    EXPECT_OK(validity::ValidateDeltaTable(Path(table)));
  }

  // The table holds exactly the rows of `expected_sql` (as multisets).
  void ExpectSameRows(const std::string& expected_sql, const std::string& table = "t") {
    EXPECT_EQ(Count("SELECT count(*) FROM " + Ref(table)),
              Count("SELECT count(*) FROM (" + expected_sql + ")"));
    EXPECT_EQ(Count(fmt::format("SELECT count(*) FROM (({}) EXCEPT ALL (SELECT * FROM {}))",
                                expected_sql, Ref(table))),
              0);
    EXPECT_EQ(Count(fmt::format("SELECT count(*) FROM ((SELECT * FROM {}) EXCEPT ALL ({}))",
                                Ref(table), expected_sql)),
              0);
  }
};

constexpr char kAllTypes[] =
    "SELECT * FROM (VALUES "
    "(true, 1::TINYINT, 2::SMALLINT, 3::INTEGER, 4::BIGINT, 1.5::FLOAT, 2.25::DOUBLE, "
    "12.34::DECIMAL(10,2), "
    " 123456789012345678901234.567891::DECIMAL(38,6), 'héllo', '\\x00\\xFF'::BLOB, DATE "
    "'2021-02-03', "
    " TIMESTAMPTZ '2021-01-01 10:11:12.345678+00', TIMESTAMP '2020-05-06 07:08:09.5', [1, 2, "
    "NULL], "
    " {'a': 1, 'b': 'x', 'c': {'d': DATE '2000-01-01'}}, MAP {'k': 1, 'l': NULL}), "
    "(NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, "
    "NULL, NULL), "
    "(false, (-128)::TINYINT, (-32768)::SMALLINT, (-2147483648)::INTEGER, "
    "(-9223372036854775808)::BIGINT, "
    " 'nan'::FLOAT, '-inf'::DOUBLE, -0.01::DECIMAL(10,2), 0::DECIMAL(38,6), '', ''::BLOB, DATE "
    "'1969-12-31', "
    " TIMESTAMPTZ '1960-01-01 00:00:00+00', TIMESTAMP '2262-01-01 00:00:00', [], "
    " {'a': NULL, 'b': NULL, 'c': NULL}, MAP {}), "
    "(NULL, 127::TINYINT, 32767::SMALLINT, 2147483647::INTEGER, 9223372036854775807::BIGINT, "
    " 3.0::FLOAT, 1e300::DOUBLE, 99999999.99::DECIMAL(10,2), -1::DECIMAL(38,6), 'zzz', "
    "'abc'::BLOB, "
    " DATE '9999-12-31', TIMESTAMPTZ '2100-12-31 23:59:59.999999+00', TIMESTAMP '1900-01-01 "
    "00:00:00', "
    " NULL, NULL, NULL)"
    ") AS v(bo, ti, si, i, bi, f, d, dec, dec38, s, bl, dt, ts, ntz, arr, st, m)";

TEST_F(DeltaWriteTest, RoundTripsAllTypesIncludingNestedAndNulls) {
  ASSERT_OK_AND_ASSIGN(WriteResult w, Write(kAllTypes));
  EXPECT_TRUE(w.committed);
  EXPECT_EQ(w.version, 0);
  EXPECT_EQ(w.num_files, 1);
  EXPECT_EQ(w.num_rows, 4);
  EXPECT_GT(w.num_bytes, 0);
  ExpectSameRows(kAllTypes);
  auto s = Snapshot();
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(
      s->schema().AsStruct()->ToString(),
      "struct<bo: boolean, ti: byte, si: short, i: integer, bi: long, f: float, d: double, "
      "dec: decimal(10,2), dec38: decimal(38,6), s: string, bl: binary, dt: date, ts: timestamp, "
      "ntz: timestamp_ntz, arr: array<integer>, st: struct<a: integer, b: string, c: struct<d: "
      "date>>, "
      "m: map<string, integer>>");
  // Decimal bounds keep every digit.
  ASSERT_EQ(s->files().size(), 1u);
  EXPECT_THAT(*s->files()[0].stats, HasSubstr("\"dec38\":123456789012345678901234.567891"));
  EXPECT_THAT(*s->files()[0].stats, HasSubstr("\"dec\":-0.01"));
  // timestamp_ntz needs the table feature.
  EXPECT_EQ(s->protocol().min_reader_version, 3);
  EXPECT_EQ(s->protocol().min_writer_version, 7);
  ExpectValid();
}

TEST_F(DeltaWriteTest, WidensUnsignedAndHugeInt) {
  ASSERT_OK(
      Write("SELECT 200::UTINYINT AS a, 60000::USMALLINT AS b, 4000000000::UINTEGER AS c, "
            "18446744073709551615::UBIGINT AS d, sum(x) AS e FROM range(3) t(x)"));
  auto s = Snapshot();
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->schema().AsStruct()->ToString(),
            "struct<a: short, b: integer, c: long, d: decimal(20,0), e: long>");
  EXPECT_EQ(Rows("SELECT * FROM " + Ref()),
            std::vector<std::string>{"200|60000|4000000000|18446744073709551615|3"});
  ExpectValid();
  auto bad = Write("SELECT '10:00'::TIME AS t", {}, "u");
  EXPECT_EQ(bad.status().code(), StatusCode::kNotSupported);
  EXPECT_THAT(bad.status().message(),
              HasSubstr("column 't': DuckDB type TIME cannot be stored in a Delta table"));
}

TEST_F(DeltaWriteTest, PartitionsWithSpecialCharactersAndNulls) {
  const std::string query =
      "SELECT * FROM (VALUES (1, 'a b', 1), (2, 'x=y/z:%', 1), (3, '', 2), (4, NULL, NULL), "
      "(5, 'ü#{}[]*?\"''\\^', 2), (6, 'a b', 1)) AS v(id, p, q)";
  WriteOptions o;
  o.partition_by = {"p", "q"};
  ASSERT_OK_AND_ASSIGN(WriteResult w, Write(query, o));
  EXPECT_EQ(w.num_files, 5);
  // Spark writes an empty string partition value as NULL.
  ExpectSameRows("SELECT id, nullif(p, '') AS p, q FROM (" + query + ")");
  EXPECT_TRUE(std::filesystem::is_directory(Path() + "/p=a b/q=1"));
  EXPECT_TRUE(std::filesystem::is_directory(Path() + "/p=x%3Dy%2Fz%3A%25/q=1"));
  EXPECT_TRUE(std::filesystem::is_directory(Path() + "/p=__HIVE_DEFAULT_PARTITION__/q=2"));
  EXPECT_TRUE(std::filesystem::is_directory(
      Path() + "/p=__HIVE_DEFAULT_PARTITION__/q=__HIVE_DEFAULT_PARTITION__"));
  EXPECT_TRUE(std::filesystem::is_directory(Path() + "/p=ü%23%7B}%5B%5D%2A%3F%22%27%5C%5E/q=2"));
  auto s = Snapshot();
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->metadata().partition_columns, (std::vector<std::string>{"p", "q"}));
  for (const auto& add : s->files()) {
    if (add.partition_values.at("q") == "1" && add.partition_values.at("p") == "x=y/z:%") {
      EXPECT_EQ(add.path.substr(0, add.path.find("/part-")), "p=x%253Dy%252Fz%253A%2525/q=1");
    }
  }
  ExpectValid();
}

TEST_F(DeltaWriteTest, PartitionValuesOfEveryPrimitiveType) {
  const std::string query =
      "SELECT 1 AS id, true AS b, 7::TINYINT AS y, 8::BIGINT AS l, 1.5::DOUBLE AS d, 'NaN'::DOUBLE "
      "AS n, "
      "12.50::DECIMAL(6,2) AS dec, DATE '2021-03-04' AS dt, TIMESTAMPTZ '2021-03-04 "
      "05:06:07.123456+00' AS ts, "
      "TIMESTAMP '2021-03-04 05:06:07' AS ntz";
  WriteOptions o;
  o.partition_by = {"b", "y", "l", "d", "n", "dec", "dt", "ts", "ntz"};
  ASSERT_OK(Write(query, o));
  ExpectSameRows(query);
  auto s = Snapshot();
  ASSERT_NE(s, nullptr);
  ASSERT_EQ(s->files().size(), 1u);
  const auto& pv = s->files()[0].partition_values;
  EXPECT_EQ(pv.at("b"), "true");
  EXPECT_EQ(pv.at("dec"), "12.50");
  EXPECT_EQ(pv.at("n"), "NaN");
  EXPECT_EQ(pv.at("dt"), "2021-03-04");
  EXPECT_EQ(pv.at("ts"), "2021-03-04T05:06:07.123456Z");
  EXPECT_EQ(pv.at("ntz"), "2021-03-04 05:06:07.000000");
  ExpectValid();
}

TEST_F(DeltaWriteTest, StatisticsAsSparkWritesThem) {
  const std::string long_a(40, 'a');
  const std::string query =
      "SELECT * FROM (VALUES (5, 'b" + long_a +
      "', TIMESTAMPTZ '2021-01-01 00:00:00.123999+00', {'x': 1, 'y': 'q'}, true, [1]), "
      "(-3, 'a" +
      long_a +
      "', TIMESTAMPTZ '2020-06-01 12:00:00+00', {'x': NULL, 'y': 'r'}, NULL, NULL), "
      "(NULL, NULL, NULL, NULL, false, [2])) AS v(id, s, ts, st, flag, arr)";
  ASSERT_OK(Write(query));
  auto s = Snapshot();
  ASSERT_NE(s, nullptr);
  ASSERT_EQ(s->files().size(), 1u);
  ASSERT_TRUE(s->files()[0].stats.has_value());
  auto stats = nlohmann::ordered_json::parse(*s->files()[0].stats);
  const std::string prefix = "a" + std::string(31, 'a');
  const std::string max_prefix = "b" + std::string(31, 'a') + "\xF4\x8F\xBF\xBF";  // + U+10FFFF
  nlohmann::ordered_json expected = {
      {"numRecords", 3},
      {"minValues",
       {{"id", -3},
        {"s", prefix},
        {"ts", "2020-06-01T12:00:00.000Z"},
        {"st", {{"x", 1}, {"y", "q"}}}}},
      {"maxValues",
       {{"id", 5},
        {"s", max_prefix},
        {"ts", "2021-01-01T00:00:00.123Z"},
        {"st", {{"x", 1}, {"y", "r"}}}}},
      {"nullCount",
       {{"id", 1}, {"s", 1}, {"ts", 1}, {"st", {{"x", 2}, {"y", 1}}}, {"flag", 1}, {"arr", 1}}}};
  EXPECT_EQ(stats, expected) << stats.dump();
  ExpectValid();
}

TEST_F(DeltaWriteTest, StatisticsHonorNumIndexedColumns) {
  WriteOptions o;
  o.table_properties = {{"delta.dataSkippingNumIndexedCols", "2"}};
  ASSERT_OK(Write("SELECT 1 AS a, {'b': 2, 'c': 3} AS s, 4 AS d", o));
  auto s = Snapshot();
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(
      *s->files()[0].stats,
      R"({"numRecords":1,"minValues":{"a":1,"s":{"b":2}},"maxValues":{"a":1,"s":{"b":2}},"nullCount":{"a":0,"s":{"b":0}}})");
  ExpectValid();
}

// DuckDB reports no bounds for very long strings and no null count for arrays and maps: those
// leaves are computed from the written files instead, and the stats stay exact.
TEST_F(DeltaWriteTest, StatisticsDuckDbDoesNotReportAreComputed) {
  const std::string query =
      "SELECT * FROM (VALUES (1, repeat('é', 50000) || 'z', [1, 2], MAP {'k': 1}, "
      "{'l': [3]}), (2, 'b', NULL, NULL, NULL), (3, NULL, [], MAP {}, {'l': NULL})) "
      "AS v(id, s, arr, m, st)";
  ASSERT_OK_AND_ASSIGN(WriteResult w, Write(query));
  EXPECT_EQ(w.null_counts.at("id"), 0);
  EXPECT_EQ(w.null_counts.at("s"), 1);
  EXPECT_FALSE(w.null_counts.contains("arr"));  // nested: not counted by DuckDB
  auto s = Snapshot();
  ASSERT_NE(s, nullptr);
  ASSERT_EQ(s->files().size(), 1u);
  auto stats = nlohmann::ordered_json::parse(*s->files()[0].stats);
  EXPECT_EQ(stats["minValues"]["s"], "b");
  std::string max_prefix;
  for (int i = 0; i < 32; ++i) max_prefix += "é";
  EXPECT_EQ(stats["maxValues"]["s"], max_prefix + "\xF4\x8F\xBF\xBF");  // + U+10FFFF
  EXPECT_EQ(stats["nullCount"]["arr"], 1);
  EXPECT_EQ(stats["nullCount"]["m"], 1);
  EXPECT_EQ(stats["nullCount"]["st"]["l"], 2);
  ExpectValid();
}

// Unpartitioned writes go straight from the query into files of about target_file_rows rows,
// in whole row groups.
TEST_F(DeltaWriteTest, DirectWriteCutsFilesByRowGroups) {
  WriteOptions o;
  o.target_file_rows = 122'880;
  const std::string query = "SELECT i, 'v' || i AS s FROM range(400000) t(i)";
  ASSERT_OK_AND_ASSIGN(WriteResult w, Write(query, o));
  EXPECT_EQ(w.num_rows, 400'000);
  EXPECT_EQ(w.num_inserted_rows, 400'000);
  EXPECT_GE(w.num_files, 3);
  auto s = Snapshot();
  ASSERT_NE(s, nullptr);
  int64_t total = 0;
  for (const auto& add : s->files()) {
    int64_t n = nlohmann::json::parse(*add.stats)["numRecords"].get<int64_t>();
    EXPECT_LT(n, 2 * 122'880);
    total += n;
  }
  EXPECT_EQ(total, 400'000);
  EXPECT_EQ(Rows("SELECT count(*), count(DISTINCT i), sum(i) FROM " + Ref()),
            std::vector<std::string>{"400000|400000|79999800000"});
  ExpectValid();
}

// A caller's check before the commit sees what would be committed; its error is the write's:
// nothing is committed and the files written are removed.
TEST_F(DeltaWriteTest, BeforeCommitErrorCommitsNothing) {
  WriteOptions o;
  o.partition_by = {"p"};
  int64_t seen_rows = -1, seen_files = -1;
  o.before_commit = [&](const WriteResult& r) {
    seen_rows = r.num_inserted_rows;
    seen_files = r.num_files;
    return Status::Aborted("refused by the caller");
  };
  auto refused = Write("SELECT i, i % 2 AS p FROM range(3) t(i)", o);
  EXPECT_EQ(refused.status().code(), StatusCode::kAborted) << refused.status().ToString();
  EXPECT_EQ(seen_rows, 3);
  EXPECT_EQ(seen_files, 2);
  EXPECT_FALSE(std::filesystem::exists(Path() + "/_delta_log/00000000000000000000.json"));
  int files = 0;
  if (std::filesystem::exists(Path())) {
    for (const auto& e : std::filesystem::recursive_directory_iterator(Path())) {
      files += e.path().extension() == ".parquet";
    }
  }
  EXPECT_EQ(files, 0);
  o.before_commit = [](const WriteResult&) { return Status::OK(); };
  ASSERT_OK_AND_ASSIGN(WriteResult w, Write("SELECT i, i % 2 AS p FROM range(3) t(i)", o));
  EXPECT_EQ(w.num_inserted_rows, 3);
  ExpectValid();
}

// A partitioned table written straight from the query: one file per partition value, NULL
// values in Hive's default partition, every row once.
TEST_F(DeltaWriteTest, PartitionedWriteStraightFromTheQuery) {
  WriteOptions o;
  o.partition_by = {"p"};
  ASSERT_OK_AND_ASSIGN(
      WriteResult w,
      Write("SELECT i, CASE WHEN i % 3 = 2 THEN NULL ELSE (i % 3)::VARCHAR END AS p "
            "FROM range(300000) t(i)",
            o));
  EXPECT_EQ(w.num_inserted_rows, 300000);
  EXPECT_EQ(w.num_files, 3);
  EXPECT_EQ(Rows("SELECT p, count(*), sum(i) FROM " + Ref() + " GROUP BY p ORDER BY p"),
            (std::vector<std::string>{"0|100000|14999850000", "1|100000|14999950000",
                                      "NULL|100000|15000050000"}));
  EXPECT_TRUE(std::filesystem::exists(Path() + "/p=__HIVE_DEFAULT_PARTITION__"));
  ExpectValid();
}

TEST_F(DeltaWriteTest, SplitsFilesAtTargetRows) {
  WriteOptions o;
  o.target_file_rows = 10;
  o.partition_by = {"p"};
  ASSERT_OK_AND_ASSIGN(WriteResult w,
                       Write("SELECT i, i % 2 AS p, 'v' || i AS s FROM range(35) t(i)", o));
  EXPECT_GE(w.num_files, 4);
  auto s = Snapshot();
  ASSERT_NE(s, nullptr);
  for (const auto& add : s->files()) {
    auto stats = nlohmann::json::parse(*add.stats);
    EXPECT_LE(stats["numRecords"].get<int64_t>(), 10);
  }
  ExpectSameRows("SELECT i, i % 2 AS p, 'v' || i AS s FROM range(35) t(i)");
  ExpectValid();
}

TEST_F(DeltaWriteTest, ModesErrorIfExistsAndIgnore) {
  ASSERT_OK(Write("SELECT 1 AS a"));
  WriteOptions o;
  o.mode = Mode::kErrorIfExists;
  auto exists = Write("SELECT 2 AS a", o);
  EXPECT_EQ(exists.status().code(), StatusCode::kAlreadyExists);
  EXPECT_THAT(exists.status().message(), HasSubstr("already exists"));
  o.mode = Mode::kIgnore;
  ASSERT_OK_AND_ASSIGN(WriteResult ignored, Write("SELECT 2 AS a", o));
  EXPECT_FALSE(ignored.committed);
  EXPECT_EQ(Rows("SELECT * FROM " + Ref()), std::vector<std::string>{"1"});
  ExpectValid();
}

TEST_F(DeltaWriteTest, SchemaEnforcementOnAppend) {
  ASSERT_OK(Write("SELECT 1::BIGINT AS id, 'a' AS name"));
  auto wrong_type = Write("SELECT 'x' AS id, 'b' AS name");
  EXPECT_EQ(wrong_type.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(wrong_type.status().message(),
              HasSubstr("column 'id': cannot write string to long (without merge_schema)"));
  auto missing = Write("SELECT 1::BIGINT AS id");
  EXPECT_THAT(missing.status().message(),
              HasSubstr("the query lacks the table's column(s) 'name'"));
  auto extra = Write("SELECT 1::BIGINT AS id, 'b' AS name, 3 AS extra");
  EXPECT_THAT(extra.status().message(), HasSubstr("the query has column(s) 'extra' that the table "
                                                  "does not have (use merge_schema to add them)"));
  // Safe casts are applied: integer into long, matching names ignore case and order.
  ASSERT_OK(Write("SELECT 'c' AS NAME, 2::INTEGER AS id"));
  EXPECT_EQ(Rows("SELECT * FROM " + Ref()), (std::vector<std::string>{"1|a", "2|c"}));
  // Narrowing without merge_schema is refused.
  ASSERT_OK(Write("SELECT 1::INTEGER AS n", {}, "narrow"));
  auto narrow = Write("SELECT 5000000000::BIGINT AS n", {}, "narrow");
  EXPECT_THAT(narrow.status().message(), HasSubstr("column 'n': cannot write long to integer"));
  ExpectValid();
  ExpectValid("narrow");
}

TEST_F(DeltaWriteTest, MergeSchemaAddsColumnsAndWidens) {
  ASSERT_OK(Write("SELECT 1::INTEGER AS id, 1.5::FLOAT AS f, {'a': 1} AS s"));
  WriteOptions o;
  o.merge_schema = true;
  ASSERT_OK(Write(
      "SELECT 5000000000::BIGINT AS id, 2.5::DOUBLE AS f, {'a': 2, 'b': 'x'} AS s, 'new' AS extra",
      o));
  auto s = Snapshot();
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->schema().AsStruct()->ToString(),
            "struct<id: long, f: double, s: struct<a: integer, b: string>, extra: string>");
  EXPECT_EQ(Rows("SELECT * FROM " + Ref()),
            (std::vector<std::string>{"1|1.5|{'a': 1, 'b': NULL}|NULL",
                                      "5000000000|2.5|{'a': 2, 'b': x}|new"}));
  ExpectValid();
}

TEST_F(DeltaWriteTest, NotNullColumnsAreChecked) {
  // A table whose schema has a NOT NULL column (as another writer may create it).
  {
    ASSERT_OK_AND_ASSIGN(auto txn, delta::Transaction::ForTable(*store_, "t", nullptr));
    delta::Metadata m;
    m.id = delta::GenerateUuid();
    m.schema_string =
        R"({"type":"struct","fields":[{"name":"id","type":"long","nullable":false,"metadata":{}},)"
        R"({"name":"v","type":"string","nullable":true,"metadata":{}},)"
        R"({"name":"st","type":{"type":"struct","fields":[)"
        R"({"name":"a","type":"long","nullable":true,"metadata":{}}]},"nullable":false,)"
        R"("metadata":{}}]})";
    txn->UpdateMetadata(m);
    ASSERT_OK(txn->Commit(*parquet_));
  }
  auto data_files = [&] {
    int n = 0;
    for (const auto& e : std::filesystem::recursive_directory_iterator(Path())) {
      n += e.path().extension() == ".parquet";
    }
    return n;
  };
  auto bad = Write("SELECT NULL::BIGINT AS id, 'x' AS v, {'a': 1} AS st");
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(bad.status().message(), HasSubstr("NOT NULL constraint violated for column: id"));
  // A nested column: DuckDB does not count its NULLs, the files are read.
  bad = Write("SELECT 1::BIGINT AS id, 'x' AS v, NULL::STRUCT(a BIGINT) AS st");
  EXPECT_THAT(bad.status().message(), HasSubstr("NOT NULL constraint violated for column: st"));
  EXPECT_EQ(data_files(), 0);  // the refused writes left no files behind
  ASSERT_OK(Write("SELECT 1::BIGINT AS id, NULL AS v, {'a': NULL} AS st"));
  EXPECT_EQ(Rows("SELECT id, v FROM " + Ref()), std::vector<std::string>{"1|NULL"});
  ExpectValid();
}

// A NOT NULL partition column of a write straight from the query: its NULLs are in the folder
// names, not in the files' statistics.
TEST_F(DeltaWriteTest, NotNullPartitionColumnIsChecked) {
  {
    ASSERT_OK_AND_ASSIGN(auto txn, delta::Transaction::ForTable(*store_, "t", nullptr));
    delta::Metadata m;
    m.id = delta::GenerateUuid();
    m.partition_columns = {"p"};
    m.schema_string =
        R"({"type":"struct","fields":[{"name":"i","type":"long","nullable":true,"metadata":{}},)"
        R"({"name":"p","type":"string","nullable":false,"metadata":{}}]})";
    txn->UpdateMetadata(m);
    ASSERT_OK(txn->Commit(*parquet_));
  }
  auto bad = Write("SELECT i, CASE WHEN i = 5 THEN NULL ELSE 'a' END AS p FROM range(10) t(i)");
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(bad.status().message(), HasSubstr("NOT NULL constraint violated for column: p"));
  ASSERT_OK(Write("SELECT i, 'a' AS p FROM range(10) t(i)"));
  EXPECT_EQ(Rows("SELECT count(*) FROM " + Ref()), std::vector<std::string>{"10"});
  ExpectValid();
}

TEST_F(DeltaWriteTest, OverwriteReplacesAllFiles) {
  WriteOptions o;
  o.partition_by = {"p"};
  ASSERT_OK(Write("SELECT i, i % 3 AS p FROM range(9) t(i)", o));
  WriteOptions ow;
  ow.mode = Mode::kOverwrite;
  ASSERT_OK_AND_ASSIGN(WriteResult w, Write("SELECT 100 + i AS i, 7 AS p FROM range(2) t(i)", ow));
  EXPECT_EQ(w.num_removed_files, 3);
  ExpectSameRows("SELECT 100 + i AS i, 7 AS p FROM range(2) t(i)");
  auto s = Snapshot();
  ASSERT_NE(s, nullptr);
  ASSERT_TRUE(s->commit_info().has_value());
  auto info = nlohmann::json::parse(s->commit_info()->raw_json);
  EXPECT_EQ(info["operation"], "WRITE");
  EXPECT_EQ(info["operationParameters"]["mode"], "Overwrite");
  EXPECT_EQ(info["operationParameters"]["partitionBy"], "[\"p\"]");
  EXPECT_EQ(info["operationMetrics"]["numFiles"], "1");
  EXPECT_EQ(info["operationMetrics"]["numOutputRows"], "2");
  EXPECT_EQ(info["operationMetrics"]["numRemovedFiles"], "3");
  ExpectValid();
}

TEST_F(DeltaWriteTest, ReplaceWhereOnPartitionColumns) {
  WriteOptions o;
  o.partition_by = {"p"};
  ASSERT_OK(Write("SELECT i, i % 3 AS p FROM range(9) t(i)", o));
  WriteOptions rw;
  rw.mode = Mode::kOverwrite;
  rw.replace_where = "p = 1";
  ASSERT_OK_AND_ASSIGN(WriteResult w, Write("SELECT 50 AS i, 1 AS p", rw));
  EXPECT_EQ(w.num_removed_files, 1);
  EXPECT_EQ(w.num_deleted_rows, 3);
  EXPECT_EQ(w.num_copied_rows, 0);
  EXPECT_EQ(w.num_files_scanned, 1);  // the other partitions are skipped by their values
  ExpectSameRows("SELECT i, i % 3 AS p FROM range(9) t(i) WHERE i % 3 <> 1 UNION ALL SELECT 50, 1");
  // New rows must all match the predicate (Spark's message).
  auto bad = Write("SELECT 51 AS i, 2 AS p", rw);
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(bad.status().message(), HasSubstr("Written data does not conform to partial table "
                                                "overwrite condition or constraint 'p = 1'"));
  auto s = Snapshot();
  auto info = nlohmann::json::parse(s->commit_info()->raw_json);
  EXPECT_EQ(info["operationParameters"]["predicate"], "[\"p = 1\"]");
  // Without the constraint check (Databricks' replaceWhere.constraintCheck.enabled = false) the
  // row is written as it is; the rows matching the predicate are still the ones replaced.
  rw.replace_where_constraint_check = false;
  ASSERT_OK_AND_ASSIGN(WriteResult unchecked, Write("SELECT 51 AS i, 2 AS p", rw));
  EXPECT_EQ(unchecked.num_deleted_rows, 1);
  ExpectSameRows("SELECT i, i % 3 AS p FROM range(9) t(i) WHERE i % 3 <> 1 UNION ALL SELECT 51, 2");
  ExpectValid();
}

TEST_F(DeltaWriteTest, ReplaceWhereOnDataColumnsRewritesFiles) {
  WriteOptions o;
  o.target_file_rows = 5;
  ASSERT_OK(Write("SELECT i, 'v' || i AS s FROM range(10) t(i)", o));  // files {0..4}, {5..9}
  WriteOptions rw;
  rw.mode = Mode::kOverwrite;
  rw.replace_where = "i >= 3 AND i < 5";
  ASSERT_OK_AND_ASSIGN(WriteResult w, Write("SELECT 3 AS i, 'new' AS s", rw));
  EXPECT_EQ(w.num_removed_files, 1);
  EXPECT_EQ(w.num_deleted_rows, 2);
  EXPECT_EQ(w.num_copied_rows, 3);
  EXPECT_EQ(w.num_inserted_rows, 1);
  EXPECT_EQ(w.num_files_scanned, 1);  // {5..9} is skipped by its statistics
  ExpectSameRows(
      "SELECT i, 'v' || i AS s FROM range(10) t(i) WHERE NOT (i >= 3 AND i < 5) UNION ALL SELECT "
      "3, 'new'");
  ExpectValid();
}

TEST_F(DeltaWriteTest, TwelveAppendsWriteACheckpoint) {
  for (int i = 0; i < 12; ++i) {
    ASSERT_OK_AND_ASSIGN(WriteResult w, Write(fmt::format("SELECT {} AS i, 'r{}' AS s", i, i)));
    EXPECT_EQ(w.checkpoint_written, i == 10) << i;
  }
  ASSERT_OK_AND_ASSIGN(auto listing, delta::ListLog(*store_, "t"));
  ASSERT_EQ(listing.checkpoints.size(), 1u);
  EXPECT_EQ(listing.checkpoints[0].version, 10);
  ExpectSameRows("SELECT i, 'r' || i AS s FROM range(12) t(i)");
  ExpectValid();
}

TEST_F(DeltaWriteTest, IdempotentTxnSkipsAppliedBatches) {
  WriteOptions o;
  o.txn = std::make_pair(std::string("flow"), int64_t{3});
  ASSERT_OK_AND_ASSIGN(WriteResult first, Write("SELECT 1 AS a", o));
  EXPECT_TRUE(first.committed);
  ASSERT_OK_AND_ASSIGN(WriteResult again, Write("SELECT 1 AS a", o));
  EXPECT_FALSE(again.committed);
  EXPECT_EQ(Count("SELECT count(*) FROM " + Ref()), 1);
  EXPECT_EQ(Snapshot()->TxnVersion("flow"), 3);
  ExpectValid();
}

TEST_F(DeltaWriteTest, EmptyQueryCreatesAnEmptyTable) {
  ASSERT_OK_AND_ASSIGN(WriteResult w, Write("SELECT 1 AS a WHERE false"));
  EXPECT_EQ(w.num_files, 0);
  EXPECT_EQ(Count("SELECT count(*) FROM " + Ref()), 0);
  ExpectValid();
}

TEST_F(DeltaWriteTest, EscapePartitionValueAsSpark) {
  EXPECT_EQ(EscapePartitionValue("a b"), "a b");
  EXPECT_EQ(EscapePartitionValue("a/b=c:d%"), "a%2Fb%3Dc%3Ad%25");
  EXPECT_EQ(EscapePartitionValue("\x01\x7f{}[]#*?\"'\\^"), "%01%7F%7B}%5B%5D%23%2A%3F%22%27%5C%5E");
  EXPECT_EQ(EscapePartitionValue("ü"), "ü");
  for (const std::string v : {"a b", "x/y", "%%", "\x01z", "{ok}"}) {
    EXPECT_EQ(EscapePartitionValue(v), validity::SparkEscapePathName(v)) << v;
  }
}

TEST_F(DeltaWriteTest, ValidatorCatchesWrongStatsAndSizes) {
  ASSERT_OK(Write("SELECT i FROM range(3) t(i)"));
  ASSERT_OK_AND_ASSIGN(std::string commit, store_->Read("t/_delta_log/00000000000000000000.json"));
  const std::string records = "\\\"numRecords\\\":3";
  size_t at = commit.find(records);
  ASSERT_NE(at, std::string::npos) << commit;
  commit.replace(at, records.size(), "\\\"numRecords\\\":4");
  at = commit.find("\"size\":");
  ASSERT_NE(at, std::string::npos);
  commit.insert(at + 7, "1");
  ASSERT_OK(store_->Write("t/_delta_log/00000000000000000000.json", commit));
  Status s = validity::ValidateDeltaTable(Path());
  EXPECT_EQ(s.code(), StatusCode::kCorruption);
  EXPECT_THAT(s.message(), HasSubstr("numRecords 4 but the file has 3 rows"));
  EXPECT_THAT(s.message(), HasSubstr("but the file has"));
  EXPECT_THAT(s.message(), HasSubstr("bytes"));
}

// ---- SQL --------------------------------------------------------------------------------------

TEST_F(DeltaWriteTest, SqlCreateTableAsSelect) {
  ASSERT_OK_AND_ASSIGN(
      auto r,
      session_->Query("CREATE TABLE " + Ref() +
                      " USING DELTA PARTITIONED BY (p) "
                      "TBLPROPERTIES ('delta.checkpointInterval' = '5', delta.appendOnly = false) "
                      "AS SELECT i AS `id`, i % 2 AS p FROM range(4) t(i)"));
  EXPECT_EQ(r.column_name(0), "num_affected_rows");
  EXPECT_EQ(r.column_name(1), "num_inserted_rows");
  EXPECT_EQ(r.GetText(0, 0), "4");
  auto s = Snapshot();
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->metadata().partition_columns, std::vector<std::string>{"p"});
  EXPECT_EQ(s->metadata().configuration.at("delta.checkpointInterval"), "5");
  EXPECT_EQ(s->metadata().configuration.at("delta.appendOnly"), "false");
  EXPECT_EQ(*s->commit_info()->operation, "CREATE TABLE AS SELECT");
  ExpectSameRows("SELECT i AS id, i % 2 AS p FROM range(4) t(i)");
  // Existing table: an error; IF NOT EXISTS: nothing; OR REPLACE: replaced, with a new schema.
  auto again = session_->Query("CREATE TABLE " + Ref() + " AS SELECT 1 AS x");
  EXPECT_EQ(again.status().code(), StatusCode::kAlreadyExists);
  ASSERT_OK_AND_ASSIGN(
      auto skipped, session_->Query("CREATE TABLE IF NOT EXISTS " + Ref() + " AS SELECT 1 AS x"));
  EXPECT_EQ(skipped.GetText(0, 0), "0");
  ASSERT_OK(session_->Query("CREATE OR REPLACE TABLE " + Ref() + " AS SELECT 'z' AS x"));
  EXPECT_EQ(Rows("SELECT * FROM " + Ref()), std::vector<std::string>{"z"});
  s = Snapshot();
  EXPECT_TRUE(s->metadata().partition_columns.empty());
  EXPECT_EQ(*s->commit_info()->operation, "CREATE OR REPLACE TABLE AS SELECT");
  ExpectValid();
  // A plain DuckDB CREATE TABLE still works.
  ASSERT_OK(session_->Query("CREATE TABLE plain AS SELECT 1 AS a"));
}

TEST_F(DeltaWriteTest, SqlInsertIntoOverwriteAndReplaceWhere) {
  ASSERT_OK(
      session_->Query("CREATE TABLE " + Ref() + " PARTITIONED BY (p) AS SELECT 1 AS id, 'a' AS p"));
  // By position (the query's names do not matter), then by name.
  ASSERT_OK_AND_ASSIGN(auto r,
                       session_->Query("INSERT INTO " + Ref() + " SELECT 2 AS x, 'b' AS y"));
  EXPECT_EQ(r.GetText(1, 0), "1");
  ASSERT_OK(session_->Query("INSERT INTO TABLE " + Ref() + " BY NAME SELECT 'c' AS p, 3 AS id"));
  ASSERT_OK(session_->Query("INSERT INTO " + Ref() + " VALUES (4, 'a')"));
  EXPECT_EQ(Rows("SELECT * FROM " + Ref()), (std::vector<std::string>{"1|a", "2|b", "3|c", "4|a"}));
  auto arity = session_->Query("INSERT INTO " + Ref() + " SELECT 1");
  EXPECT_THAT(arity.status().message(),
              HasSubstr("the query has 1 columns, the table has 2 (id, p)"));
  // REPLACE WHERE on a partition column, with a query reading another Delta table.
  ASSERT_OK(session_->Query("CREATE TABLE " + Ref("src") + " AS SELECT 10 AS id, 'a' AS p"));
  ASSERT_OK(session_->Query("INSERT INTO " + Ref() + " REPLACE WHERE p = 'a' SELECT * FROM " +
                            Ref("src")));
  EXPECT_EQ(Rows("SELECT * FROM " + Ref()), (std::vector<std::string>{"10|a", "2|b", "3|c"}));
  // INSERT OVERWRITE reading the table it overwrites.
  ASSERT_OK(session_->Query("INSERT OVERWRITE " + Ref() + " SELECT id * 2, p FROM " + Ref() +
                            " WHERE p <> 'c'"));
  EXPECT_EQ(Rows("SELECT * FROM " + Ref()), (std::vector<std::string>{"20|a", "4|b"}));
  ASSERT_OK_AND_ASSIGN(auto history, session_->Query("DESCRIBE HISTORY " + Ref()));
  std::vector<std::string> ops;
  for (size_t i = 0; i < history.row_count(); ++i) ops.push_back(history.GetText(2, i));
  EXPECT_EQ(ops, (std::vector<std::string>{"WRITE", "WRITE", "WRITE", "WRITE", "WRITE",
                                           "CREATE TABLE AS SELECT"}));
  // INSERT into a missing table.
  auto missing = session_->Query("INSERT INTO " + Ref("nope") + " SELECT 1");
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  ExpectValid();
  ExpectValid("src");
}

}  // namespace
}  // namespace medallion::engine
