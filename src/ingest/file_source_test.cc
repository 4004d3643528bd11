#include "ingest/file_source.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <set>

#include "engine/sql_text.h"
#include "storage/test_util.h"

namespace medallion::ingest {
namespace {

namespace fs = std::filesystem;
using Rows = std::vector<std::vector<std::string>>;

class FileSourceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto db = engine::Database::Open();
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    db_ = std::move(*db);
    auto conn = db_->Connect();
    ASSERT_TRUE(conn.ok()) << conn.status().ToString();
    conn_ = std::move(*conn);
    ASSERT_OK(conn_->Execute("SET TimeZone = 'UTC'"));
  }

  std::string Landing() const { return dir_.path() + "/landing"; }

  // Writes landing/<relative>; returns its absolute path.
  std::string Write(const std::string& relative, const std::string& content) {
    fs::path path = fs::path(Landing()) / relative;
    fs::create_directories(path.parent_path());
    std::ofstream(path, std::ios::binary) << content;
    return path.string();
  }

  FileSourceOptions Options(const std::string& args, bool legacy = false) {
    std::string sql = engine::QuoteString(Landing()) + (args.empty() ? "" : ", " + args);
    auto options = ParseReadFilesArguments(sql, legacy);
    EXPECT_TRUE(options.ok()) << options.status().ToString();
    return options.ok() ? *options : FileSourceOptions{};
  }

  std::vector<SourceFile> List(const FileSourceOptions& options) {
    auto files = ListSourceFiles(options);
    EXPECT_TRUE(files.ok()) << files.status().ToString();
    return files.ok() ? *files : std::vector<SourceFile>{};
  }

  // Files of the listing whose path contains `part`.
  static std::vector<SourceFile> Only(const std::vector<SourceFile>& files,
                                      const std::string& part) {
    std::vector<SourceFile> out;
    for (const SourceFile& file : files) {
      if (file.path.find(part) != std::string::npos) out.push_back(file);
    }
    return out;
  }

  // Every cell as DuckDB text ("NULL" for NULL).
  Rows Query(const std::string& sql) {
    auto result = conn_->Query(sql);
    EXPECT_TRUE(result.ok()) << result.status().ToString() << "\n" << sql;
    Rows rows;
    if (!result.ok()) return rows;
    for (size_t r = 0; r < result->row_count(); ++r) {
      std::vector<std::string> row;
      for (size_t c = 0; c < result->column_count(); ++c) row.push_back(result->GetText(c, r));
      rows.push_back(std::move(row));
    }
    return rows;
  }

  static std::string Schema(const SourceSchema& schema) {
    std::string out;
    for (const SourceColumn& column : schema.columns) {
      if (!out.empty()) out += ", ";
      out += column.name + " " + column.type;
    }
    return out;
  }

  // The JSON text of a rescued value for `path`'s file.
  static std::string FilePathJson(const std::string& path) {
    return fmt::format("\"_file_path\":\"{}\"", path);
  }

  storage::TempFolder dir_;
  std::unique_ptr<engine::Database> db_;
  std::unique_ptr<engine::Connection> conn_;
};

// ---- CSV ----------------------------------------------------------------------------------------

TEST_F(FileSourceTest, CsvWithHeaderHintsRescueAndMetadata) {
  std::string a = Write("a.csv", "id,name,delay\n1,x,10\n2,y,abc\n3,z,\n");
  struct timespec times[2] = {{1700000000, 123456000}, {1700000000, 123456000}};
  ASSERT_EQ(::utimensat(AT_FDCWD, a.c_str(), times, 0), 0);
  FileSourceOptions options = Options(
      "format => 'csv', header => true, schemaHints => 'delay INT', rescuedDataColumn => "
      "'_rescued_data'");
  std::vector<SourceFile> files = List(options);
  ASSERT_EQ(files.size(), 1u);
  ASSERT_OK_AND_ASSIGN(InferredSchema inferred,
                       InferSchema(*conn_, options, files, std::nullopt));
  EXPECT_EQ(Schema(inferred.schema), "id INTEGER, name VARCHAR, delay INTEGER");
  EXPECT_TRUE(inferred.changed);
  EXPECT_TRUE(inferred.new_columns.empty());

  ASSERT_OK_AND_ASSIGN(ReadSummary summary,
                       ReadIntoTable(*conn_, options, inferred.schema, files, "batch"));
  EXPECT_EQ(summary.rows, 3);
  EXPECT_TRUE(summary.malformed.empty());
  EXPECT_EQ(Query("SELECT id, name, delay, _rescued_data FROM batch ORDER BY id"),
            (Rows{{"1", "x", "10", "NULL"},
                  {"2", "y", "NULL", "{\"delay\":\"abc\"," + FilePathJson(a) + "}"},
                  {"3", "z", "NULL", "NULL"}}));
  EXPECT_EQ(Query("SELECT DISTINCT _metadata.file_path, _metadata.file_name, "
                  "_metadata.file_size, _metadata.file_block_start, _metadata.file_block_length, "
                  "epoch_us(_metadata.file_modification_time) FROM batch"),
            (Rows{{a, "a.csv", std::to_string(fs::file_size(a)), "0",
                   std::to_string(fs::file_size(a)), "1700000000123456"}}));
  EXPECT_EQ(Query("SELECT typeof(_metadata), typeof(_rescued_data) FROM batch LIMIT 1"),
            (Rows{{"STRUCT(file_path VARCHAR, file_name VARCHAR, file_size BIGINT, "
                   "file_block_start BIGINT, file_block_length BIGINT, file_modification_time "
                   "TIMESTAMP WITH TIME ZONE)",
                   "VARCHAR"}}));
  // The engine hides _metadata from `*` this way.
  EXPECT_EQ(Query(fmt::format("SELECT * EXCLUDE ({}) FROM batch WHERE id = 1", kMetadataColumn)),
            (Rows{{"1", "x", "10", "NULL"}}));
}

TEST_F(FileSourceTest, CsvWithoutHeaderNamesColumnsLikeSpark) {
  Write("a.csv", "1,x\n2,y\n");
  FileSourceOptions options = Options("format => 'csv'");
  std::vector<SourceFile> files = List(options);
  ASSERT_OK_AND_ASSIGN(InferredSchema inferred,
                       InferSchema(*conn_, options, files, std::nullopt));
  EXPECT_EQ(Schema(inferred.schema), "_c0 INTEGER, _c1 VARCHAR");
  ASSERT_OK_AND_ASSIGN(ReadSummary summary,
                       ReadIntoTable(*conn_, options, inferred.schema, files, "batch"));
  EXPECT_EQ(summary.rows, 2);
  EXPECT_EQ(Query("SELECT _c0, _c1 FROM batch ORDER BY _c0"), (Rows{{"1", "x"}, {"2", "y"}}));
}

TEST_F(FileSourceTest, CsvTypeInferenceReadFilesVersusCloudFiles) {
  Write("a.csv",
        "i,l,d,b,dt,ts,s,n\n"
        "1,5000000000,1.5,true,2024-01-02,2024-01-02 03:04:05,x,\n"
        "2,1,2,FALSE,2024-12-31,2024-01-02T03:04:05Z,1,\n");
  FileSourceOptions read_files = Options("format => 'csv', header => true");
  std::vector<SourceFile> files = List(read_files);
  ASSERT_OK_AND_ASSIGN(InferredSchema typed,
                       InferSchema(*conn_, read_files, files, std::nullopt));
  EXPECT_EQ(Schema(typed.schema),
            "i INTEGER, l BIGINT, d DOUBLE, b BOOLEAN, dt DATE, ts TIMESTAMP WITH TIME ZONE, "
            "s VARCHAR, n VARCHAR");

  FileSourceOptions cloud_files =
      Options("'csv', map('header', 'true')", /*legacy=*/true);
  ASSERT_OK_AND_ASSIGN(InferredSchema strings,
                       InferSchema(*conn_, cloud_files, files, std::nullopt));
  EXPECT_EQ(Schema(strings.schema),
            "i VARCHAR, l VARCHAR, d VARCHAR, b VARCHAR, dt VARCHAR, ts VARCHAR, s VARCHAR, "
            "n VARCHAR");

  FileSourceOptions cloud_files_typed = Options(
      "'csv', map('header', 'true', 'cloudFiles.inferColumnTypes', 'true')", /*legacy=*/true);
  ASSERT_OK_AND_ASSIGN(InferredSchema typed_again,
                       InferSchema(*conn_, cloud_files_typed, files, std::nullopt));
  EXPECT_EQ(typed_again.schema, typed.schema);

  ASSERT_OK_AND_ASSIGN(ReadSummary summary,
                       ReadIntoTable(*conn_, read_files, typed.schema, files, "batch"));
  EXPECT_EQ(Query("SELECT i, l, d, b, dt, ts, s, n, _rescued_data FROM batch ORDER BY i"),
            (Rows{{"1", "5000000000", "1.5", "true", "2024-01-02", "2024-01-02 03:04:05+00", "x",
                   "NULL", "NULL"},
                  {"2", "1", "2.0", "false", "2024-12-31", "2024-01-02 03:04:05+00", "1", "NULL",
                   "NULL"}}));
}

TEST_F(FileSourceTest, CsvValuesThatDoNotFitAreRescuedNotRounded) {
  std::string a = Write("a.csv", "n,b,d\n1.5,yes,2024-13-01\n1e3,true,2024-01-01\n 7 ,False,\n");
  FileSourceOptions options =
      Options("format => 'csv', header => true, schema => 'n INT, b BOOLEAN, d DATE', "
              "rescuedDataColumn => '_rescued_data'");
  std::vector<SourceFile> files = List(options);
  ASSERT_OK_AND_ASSIGN(InferredSchema inferred,
                       InferSchema(*conn_, options, files, std::nullopt));
  ASSERT_OK_AND_ASSIGN(ReadSummary summary,
                       ReadIntoTable(*conn_, options, inferred.schema, files, "batch"));
  EXPECT_EQ(summary.rows, 3);
  EXPECT_EQ(Query("SELECT n, b, d, _rescued_data FROM batch ORDER BY _rescued_data NULLS LAST"),
            (Rows{{"NULL", "NULL", "NULL",
                   "{\"n\":\"1.5\",\"b\":\"yes\",\"d\":\"2024-13-01\"," + FilePathJson(a) + "}"},
                  {"NULL", "true", "2024-01-01", "{\"n\":\"1e3\"," + FilePathJson(a) + "}"},
                  {"7", "false", "NULL", "NULL"}}));
}

TEST_F(FileSourceTest, CsvColumnNameCaseMismatchIsRescued) {
  Write("a.csv", "id,name\n1,x\n");
  std::string b = Write("b.csv", "ID,name\n2,y\n");
  FileSourceOptions options = Options("format => 'csv', header => true");
  std::vector<SourceFile> files = List(options);
  ASSERT_OK_AND_ASSIGN(InferredSchema inferred,
                       InferSchema(*conn_, options, files, std::nullopt));
  EXPECT_EQ(Schema(inferred.schema), "id INTEGER, name VARCHAR");
  ASSERT_OK_AND_ASSIGN(ReadSummary summary,
                       ReadIntoTable(*conn_, options, inferred.schema, files, "batch"));
  EXPECT_EQ(Query("SELECT id, name, _rescued_data FROM batch ORDER BY name"),
            (Rows{{"1", "x", "NULL"}, {"NULL", "y", "{\"ID\":\"2\"," + FilePathJson(b) + "}"}}));

  // readerCaseSensitive => false reads it.
  FileSourceOptions insensitive =
      Options("format => 'csv', header => true, readerCaseSensitive => false");
  ASSERT_OK(ReadIntoTable(*conn_, insensitive, inferred.schema, files, "batch2").status());
  EXPECT_EQ(Query("SELECT id, name, _rescued_data FROM batch2 ORDER BY name"),
            (Rows{{"1", "x", "NULL"}, {"2", "y", "NULL"}}));
}

// Lines in: 7 data lines (and a header). Every one is a row or a reported malformed record.
TEST_F(FileSourceTest, CsvMalformedLinesAreKeptAsRowsWithTheirText) {
  std::string bad = Write("bad.csv",
                          "id,name,delay\n"
                          "1,a,10\n"
                          "2,b,abc\n"
                          "3,c,5,extra\n"
                          "4,d\n"
                          "\n"
                          "6,f,8\n"
                          "7,\"unterminated,9\n"
                          "8,h,1\n");
  std::string good = Write("good.csv", "id,name,delay\n9,\"multi\nline\",2\n");
  constexpr int64_t kDataLinesIn = 7 + 2;  // bad.csv (blank line excluded) + good.csv
  FileSourceOptions options = Options("format => 'csv', header => true");
  std::vector<SourceFile> files = List(options);
  ASSERT_OK_AND_ASSIGN(InferredSchema inferred,
                       InferSchema(*conn_, options, files, std::nullopt));
  EXPECT_EQ(Schema(inferred.schema), "id INTEGER, name VARCHAR, delay VARCHAR");

  ASSERT_OK_AND_ASSIGN(ReadSummary summary,
                       ReadIntoTable(*conn_, options, inferred.schema, files, "batch"));
  ASSERT_EQ(summary.malformed.size(), 3u);
  EXPECT_EQ(summary.malformed_dropped, 0);
  EXPECT_EQ(summary.malformed[0].file, bad);
  EXPECT_EQ(summary.malformed[0].line, 4);
  EXPECT_EQ(summary.malformed[0].raw, "3,c,5,extra");
  EXPECT_EQ(summary.malformed[1].line, 5);
  EXPECT_EQ(summary.malformed[1].raw, "4,d");
  EXPECT_EQ(summary.malformed[2].line, 8);
  // DuckDB reads a quoted value across lines: the unterminated quote takes the rest of the file.
  EXPECT_EQ(summary.malformed[2].raw, "7,\"unterminated,9\n8,h,1");
  EXPECT_EQ(summary.malformed[2].line_count, 2);

  int64_t well_formed = summary.rows - static_cast<int64_t>(summary.malformed.size());
  int64_t malformed_lines = 0;
  for (const MalformedRecord& record : summary.malformed) malformed_lines += record.line_count;
  // good.csv's record spans two physical lines but is one record.
  EXPECT_EQ(well_formed + 1 + malformed_lines, kDataLinesIn);
  EXPECT_EQ(summary.rows, 7);

  EXPECT_EQ(Query("SELECT id, name, delay, _rescued_data FROM batch WHERE id IS NULL ORDER BY "
                  "_rescued_data"),
            (Rows{{"NULL", "NULL", "NULL",
                   "{\"_corrupt_record\":\"3,c,5,extra\"," + FilePathJson(bad) + "}"},
                  {"NULL", "NULL", "NULL",
                   "{\"_corrupt_record\":\"4,d\"," + FilePathJson(bad) + "}"},
                  {"NULL", "NULL", "NULL",
                   "{\"_corrupt_record\":\"7,\\\"unterminated,9\\n8,h,1\"," + FilePathJson(bad) +
                       "}"}}));
  EXPECT_EQ(Query("SELECT id, name, delay FROM batch WHERE id IS NOT NULL ORDER BY id"),
            (Rows{{"1", "a", "10"}, {"2", "b", "abc"}, {"6", "f", "8"}, {"9", "multi\nline", "2"}}));
  EXPECT_EQ(Query("SELECT count(*) FROM batch WHERE _metadata.file_path IS NULL"),
            (Rows{{"0"}}));
  // The reject tables are gone.
  EXPECT_EQ(Query("SELECT count(*) FROM duckdb_tables() WHERE table_name LIKE '__mdl_csv_%'"),
            (Rows{{"0"}}));
}

TEST_F(FileSourceTest, CsvMalformedLinesWithoutRescuedColumnAreReportedAndCounted) {
  Write("bad.csv", "id,name\n1,a\n2,b,c\n3\n4,d\n");
  FileSourceOptions options = Options("format => 'csv', header => true, schema => 'id INT, "
                                      "name STRING'");
  std::vector<SourceFile> files = List(options);
  ASSERT_OK_AND_ASSIGN(InferredSchema inferred,
                       InferSchema(*conn_, options, files, std::nullopt));
  ASSERT_OK_AND_ASSIGN(ReadSummary summary,
                       ReadIntoTable(*conn_, options, inferred.schema, files, "batch"));
  EXPECT_EQ(summary.rows, 2);
  EXPECT_EQ(summary.malformed_dropped, 2);
  EXPECT_EQ(summary.rows + summary.malformed_dropped, 4);  // lines in
  ASSERT_EQ(summary.malformed.size(), 2u);
  EXPECT_EQ(summary.malformed[0].raw, "2,b,c");
  EXPECT_EQ(summary.malformed[1].raw, "3");
  EXPECT_EQ(Query("SELECT * EXCLUDE (_metadata) FROM batch ORDER BY id"),
            (Rows{{"1", "a"}, {"4", "d"}}));
}

TEST_F(FileSourceTest, CsvParseModes) {
  std::string bad = Write("bad.csv", "id,name\n1,a\n2,b,c\n");
  FileSourceOptions drop = Options("format => 'csv', header => true, mode => 'DROPMALFORMED'");
  std::vector<SourceFile> files = List(drop);
  ASSERT_OK_AND_ASSIGN(InferredSchema inferred, InferSchema(*conn_, drop, files, std::nullopt));
  ASSERT_OK_AND_ASSIGN(ReadSummary summary,
                       ReadIntoTable(*conn_, drop, inferred.schema, files, "batch"));
  EXPECT_EQ(summary.rows, 1);
  EXPECT_EQ(summary.malformed_dropped, 1);

  FileSourceOptions fail = Options("format => 'csv', header => true, mode => 'FAILFAST'");
  auto failed = ReadIntoTable(*conn_, fail, inferred.schema, files, "batch_ff");
  ASSERT_TRUE(failed.status().IsCorruption()) << failed.status().ToString();
  EXPECT_NE(failed.status().message().find(bad + " line 3"), std::string::npos)
      << failed.status().ToString();
  EXPECT_EQ(Query("SELECT count(*) FROM duckdb_tables() WHERE table_name = 'batch_ff'"),
            (Rows{{"0"}}));
}

// Inference gives each column the first candidate type every value parses as. It tests values in
// two passes and with cheaper expressions than the rules it implements; compare it with those
// rules, written out plainly, on values at the edges of each type.
TEST_F(FileSourceTest, CsvInferenceFollowsThePerValueRules) {
  const std::vector<std::string> values = {
      "1", " 1 ", "+1", "-0", "\t5", "5\n", "007", "1.5", "1e3", "0x10", "1_000", "+-1", ".5",
      "inf", "-Infinity", "NaN", "2147483647", "2147483648", "-2147483649",
      "9223372036854775807", "9223372036854775808", "99999999999999999999999999999999999999",
      "100000000000000000000000000000000000000", "-99999999999999999999999999999999999999",
      "0000000000000000000000000000000000000000001", "true", " TRUE ", "False", "false\t", "yes",
      "2024-01-02", " 2024-01-02 ", "2024-1-2", "2024-13-01", "2024-01-02\t", "2024-01-02\n",
      "2024-01-02T", "2024-01-02T03:04", "2024-01-02 03:04:05", "2024-01-02 03:04:05 ",
      "2024-01-02 03:04:05Z", "2024-01-02 03:04:05+02", "2024-01-02  ", "2024-01-02 x",
      "2024-01-02 03:04\n", "2024-01-02\n03:04", "20240102", "abc", " "};
  // The rules: a candidate fits when the test holds (in this order; else VARCHAR).
  const std::vector<std::pair<std::string, std::string>> rules = {
      {"INTEGER",
       "regexp_full_match({0}, '\\s*[+-]?[0-9]+\\s*') AND TRY_CAST({0} AS INTEGER) IS NOT NULL"},
      {"BIGINT",
       "regexp_full_match({0}, '\\s*[+-]?[0-9]+\\s*') AND TRY_CAST({0} AS BIGINT) IS NOT NULL"},
      {"DECIMAL(38,0)",
       "regexp_full_match({0}, '\\s*[+-]?[0-9]+\\s*') AND TRY_CAST({0} AS DECIMAL(38,0)) IS NOT "
       "NULL"},
      {"DOUBLE", "TRY_CAST({0} AS DOUBLE) IS NOT NULL"},
      {"BOOLEAN", "lower(trim({0})) IN ('true', 'false')"},
      {"DATE",
       "regexp_full_match(trim({0}), '[0-9]{{4}}-[0-9]{{1,2}}-[0-9]{{1,2}}') AND TRY_CAST({0} AS "
       "DATE) IS NOT NULL"},
      {"TIMESTAMP WITH TIME ZONE",
       "regexp_full_match(trim({0}), '[0-9]{{4}}-[0-9]{{1,2}}-[0-9]{{1,2}}[T ].*') AND "
       "TRY_CAST({0} AS TIMESTAMPTZ) IS NOT NULL"},
  };
  FileSourceOptions options = Options("format => 'csv', header => true");
  std::set<std::string> types_seen;
  for (size_t i = 0; i < values.size(); ++i) {
    const std::string& value = values[i];
    std::string quoted = "\"";
    for (char c : value) quoted += c == '"' ? std::string("\"\"") : std::string(1, c);
    quoted += "\"";
    std::string name = fmt::format("v{:02}.csv", i);
    Write(name, "c\n" + quoted + "\n");
    std::string expected = "VARCHAR";
    for (const auto& [type, rule] : rules) {
      Rows holds = Query("SELECT " + fmt::format(fmt::runtime(rule), engine::QuoteString(value)));
      if (holds == Rows{{"true"}}) {
        expected = type;
        break;
      }
    }
    ASSERT_OK_AND_ASSIGN(InferredSchema inferred,
                         InferSchema(*conn_, options, Only(List(options), name), std::nullopt));
    EXPECT_EQ(Schema(inferred.schema), "c " + expected) << "value [" << value << "]";
    types_seen.insert(expected);
  }
  EXPECT_EQ(types_seen.size(), rules.size() + 1) << "the values cover every type";
}

// Wide decimals read whole numbers through HUGEINT (DuckDB's direct cast is slow): the values
// are those of the direct cast.
TEST_F(FileSourceTest, CsvWideDecimalsReadAsTheDirectCast) {
  const std::vector<std::string> values = {
      "12345678901234567890123456789", " 7 ", "-0", "+5", "1.555", "abc", "1e3",
      "1000000000000000000000000000000000000",  // 37 digits: too wide for DECIMAL(38,2)
      "999999999999999999999999999999999999", "0000000000000000000000000000000000000000001"};
  std::string content = "i,d\n";
  for (size_t i = 0; i < values.size(); ++i) content += fmt::format("{},{}\n", i, values[i]);
  Write("a.csv", content);
  FileSourceOptions options =
      Options("format => 'csv', header => true, schema => 'i INT, d DECIMAL(38,2)'");
  ASSERT_OK(ReadIntoTable(*conn_, options, SourceSchema{options.schema}, List(options), "batch")
                .status());
  for (size_t i = 0; i < values.size(); ++i) {
    EXPECT_EQ(Query(fmt::format("SELECT d FROM batch WHERE i = {}", i)),
              Query(fmt::format("SELECT TRY_CAST({} AS DECIMAL(38,2))",
                                engine::QuoteString(values[i]))))
        << "value [" << values[i] << "]";
  }
}

// Every record counts, not only the first ones; a column without any value is STRING.
TEST_F(FileSourceTest, CsvInferenceReadsEveryRecord) {
  std::string content = "n,d,b,t,empty\n";
  for (int i = 0; i < 5000; ++i) {
    content += fmt::format("{},{},{},2024-01-02,\n", i, i, i % 2 == 0 ? "true" : "false");
  }
  content += "5000,0.5,maybe,2024-01-02 03:04:05,\n";
  Write("a.csv", content);
  Write("b.csv", "n,d,b,t,empty\n3000000000,1,true,2024-01-03,\n");
  FileSourceOptions options = Options("format => 'csv', header => true");
  ASSERT_OK_AND_ASSIGN(InferredSchema inferred,
                       InferSchema(*conn_, options, List(options), std::nullopt));
  EXPECT_EQ(Schema(inferred.schema),
            "n BIGINT, d DOUBLE, b VARCHAR, t VARCHAR, empty VARCHAR");

  // Hinted columns are not inferred: their type is the hint's whatever the values.
  FileSourceOptions hinted =
      Options("format => 'csv', header => true, schemaHints => 'b BOOLEAN, t STRING'");
  ASSERT_OK_AND_ASSIGN(InferredSchema with_hints,
                       InferSchema(*conn_, hinted, List(hinted), std::nullopt));
  EXPECT_EQ(Schema(with_hints.schema),
            "n BIGINT, d DOUBLE, b BOOLEAN, t VARCHAR, empty VARCHAR");
}

TEST_F(FileSourceTest, CsvDialectOptions) {
  Write("a.csv", "skip me\nid;name\n# a comment\n1;'x;y'\n2;NA\n");
  FileSourceOptions options =
      Options("format => 'csv', header => true, sep => ';', quote => \"'\", nullValue => 'NA', "
              "comment => '#', skipRows => 1");
  std::vector<SourceFile> files = List(options);
  ASSERT_OK_AND_ASSIGN(InferredSchema inferred,
                       InferSchema(*conn_, options, files, std::nullopt));
  EXPECT_EQ(Schema(inferred.schema), "id INTEGER, name VARCHAR");
  ASSERT_OK_AND_ASSIGN(ReadSummary summary,
                       ReadIntoTable(*conn_, options, inferred.schema, files, "batch"));
  EXPECT_TRUE(summary.malformed.empty());
  EXPECT_EQ(Query("SELECT id, name FROM batch ORDER BY id"), (Rows{{"1", "x;y"}, {"2", "NULL"}}));
}

// ---- schema evolution ------------------------------------------------------------------------

class SchemaEvolutionTest : public FileSourceTest {
 protected:
  void SetUp() override {
    FileSourceTest::SetUp();
    first_ = Write("1.csv", "id,name\n1,a\n");
  }
  // Runs the first batch (1.csv) and returns its schema; then writes 2.csv with a new column.
  SourceSchema FirstRun(const FileSourceOptions& options) {
    auto inferred = InferSchema(*conn_, options, List(options), std::nullopt);
    EXPECT_TRUE(inferred.ok()) << inferred.status().ToString();
    second_ = Write("2.csv", "id,name,discount\n2,b,0.5\n");
    return inferred.ok() ? inferred->schema : SourceSchema{};
  }
  std::vector<SourceFile> NewFiles(const FileSourceOptions& options) {
    return Only(List(options), "2.csv");
  }
  std::string first_;
  std::string second_;
};

TEST_F(SchemaEvolutionTest, AddNewColumnsAppendsThemAndReportsThem) {
  FileSourceOptions options = Options("format => 'csv', header => true");
  EXPECT_EQ(options.schema_evolution_mode, SchemaEvolutionMode::kAddNewColumns);
  SourceSchema previous = FirstRun(options);
  EXPECT_EQ(Schema(previous), "id INTEGER, name VARCHAR");
  std::vector<SourceFile> files = NewFiles(options);
  ASSERT_OK_AND_ASSIGN(InferredSchema evolved, InferSchema(*conn_, options, files, previous));
  EXPECT_EQ(Schema(evolved.schema), "id INTEGER, name VARCHAR, discount DOUBLE");
  EXPECT_TRUE(evolved.changed);
  ASSERT_EQ(evolved.new_columns.size(), 1u);
  EXPECT_EQ(evolved.new_columns[0].column, (SourceColumn{"discount", "DOUBLE"}));
  EXPECT_EQ(evolved.new_columns[0].first_file, second_);
  ASSERT_OK(ReadIntoTable(*conn_, options, evolved.schema, files, "batch").status());
  EXPECT_EQ(Query("SELECT id, name, discount, _rescued_data FROM batch"),
            (Rows{{"2", "b", "0.5", "NULL"}}));

  // A run without new columns leaves the schema alone.
  ASSERT_OK_AND_ASSIGN(InferredSchema same,
                       InferSchema(*conn_, options, files, evolved.schema));
  EXPECT_FALSE(same.changed);
  EXPECT_TRUE(same.new_columns.empty());
}

TEST_F(SchemaEvolutionTest, NewColumnTypesComeFromHintsWhenHinted) {
  FileSourceOptions options =
      Options("format => 'csv', header => true, schemaHints => 'discount DECIMAL(4,2)'");
  SourceSchema previous = FirstRun(options);
  EXPECT_EQ(Schema(previous), "id INTEGER, name VARCHAR, discount DECIMAL(4,2)");
  ASSERT_OK_AND_ASSIGN(InferredSchema evolved,
                       InferSchema(*conn_, options, NewFiles(options), previous));
  EXPECT_TRUE(evolved.new_columns.empty()) << "the hint already added it";
  EXPECT_FALSE(evolved.changed);
}

TEST_F(SchemaEvolutionTest, RescueKeepsTheSchemaAndRescuesTheNewColumn) {
  FileSourceOptions options =
      Options("format => 'csv', header => true, schemaEvolutionMode => 'rescue'");
  SourceSchema previous = FirstRun(options);
  std::vector<SourceFile> files = NewFiles(options);
  ASSERT_OK_AND_ASSIGN(InferredSchema kept, InferSchema(*conn_, options, files, previous));
  EXPECT_EQ(kept.schema, previous);
  EXPECT_FALSE(kept.changed);
  ASSERT_EQ(kept.new_columns.size(), 1u);
  EXPECT_EQ(kept.new_columns[0].column.name, "discount");
  ASSERT_OK(ReadIntoTable(*conn_, options, kept.schema, files, "batch").status());
  EXPECT_EQ(Query("SELECT * EXCLUDE (_metadata) FROM batch"),
            (Rows{{"2", "b", "{\"discount\":\"0.5\"," + FilePathJson(second_) + "}"}}));
}

TEST_F(SchemaEvolutionTest, FailOnNewColumnsNamesTheFileAndColumns) {
  FileSourceOptions options =
      Options("format => 'csv', header => true, schemaEvolutionMode => 'failOnNewColumns'");
  SourceSchema previous = FirstRun(options);
  auto failed = InferSchema(*conn_, options, NewFiles(options), previous);
  ASSERT_TRUE(failed.status().IsInvalidArgument()) << failed.status().ToString();
  EXPECT_NE(failed.status().message().find(second_), std::string::npos);
  EXPECT_NE(failed.status().message().find("discount"), std::string::npos);
}

TEST_F(SchemaEvolutionTest, NoneIgnoresTheNewColumn) {
  FileSourceOptions options =
      Options("format => 'csv', header => true, schemaEvolutionMode => 'none'");
  EXPECT_EQ(options.rescued_data_column, "");
  SourceSchema previous = FirstRun(options);
  std::vector<SourceFile> files = NewFiles(options);
  ASSERT_OK_AND_ASSIGN(InferredSchema kept, InferSchema(*conn_, options, files, previous));
  EXPECT_EQ(kept.schema, previous);
  EXPECT_EQ(kept.new_columns.size(), 1u);
  ASSERT_OK(ReadIntoTable(*conn_, options, kept.schema, files, "batch").status());
  EXPECT_EQ(Query("SELECT * EXCLUDE (_metadata) FROM batch"), (Rows{{"2", "b"}}));
}

TEST_F(SchemaEvolutionTest, SchemaPersistsThroughJson) {
  FileSourceOptions options = Options("format => 'csv', header => true");
  SourceSchema previous = FirstRun(options);
  ASSERT_OK_AND_ASSIGN(SourceSchema restored, SourceSchema::FromJson(previous.ToJson()));
  ASSERT_OK_AND_ASSIGN(InferredSchema evolved,
                       InferSchema(*conn_, options, NewFiles(options), restored));
  EXPECT_EQ(evolved.schema.columns.size(), 3u);
}

// ---- JSON ----------------------------------------------------------------------------------------

TEST_F(FileSourceTest, JsonLinesInferenceAndRead) {
  std::string a = Write(
      "a.json",
      "{\"id\":1,\"name\":\"a\",\"score\":1.5,\"ok\":true,\"tags\":[\"x\"],\"geo\":{\"lat\":1.0,"
      "\"city\":\"P\"},\"n\":null}\n"
      "{\"id\":2,\"name\":\"b\",\"score\":2,\"ok\":false,\"tags\":[],\"geo\":{\"lat\":2.5}}\n");
  FileSourceOptions options = Options("format => 'json'");
  std::vector<SourceFile> files = List(options);
  ASSERT_OK_AND_ASSIGN(InferredSchema inferred,
                       InferSchema(*conn_, options, files, std::nullopt));
  EXPECT_EQ(Schema(inferred.schema),
            "id BIGINT, name VARCHAR, score DOUBLE, ok BOOLEAN, tags VARCHAR[], geo "
            "STRUCT(\"lat\" DOUBLE, \"city\" VARCHAR), n VARCHAR");
  ASSERT_OK_AND_ASSIGN(ReadSummary summary,
                       ReadIntoTable(*conn_, options, inferred.schema, files, "batch"));
  EXPECT_EQ(summary.rows, 2);
  // (Nested values as text in SQL: QueryResult::GetText crashes on an empty list value.)
  EXPECT_EQ(Query("SELECT id, name, score, ok, tags::VARCHAR, geo::VARCHAR, n, _rescued_data "
                  "FROM batch ORDER BY id"),
            (Rows{{"1", "a", "1.5", "true", "[x]", "{'lat': 1.0, 'city': P}", "NULL", "NULL"},
                  {"2", "b", "2.0", "false", "[]", "{'lat': 2.5, 'city': NULL}", "NULL",
                   "NULL"}}));

  // cloud_files: every leaf a string, the nesting kept.
  FileSourceOptions legacy = Options("'json'", /*legacy=*/true);
  ASSERT_OK_AND_ASSIGN(InferredSchema strings, InferSchema(*conn_, legacy, files, std::nullopt));
  EXPECT_EQ(Schema(strings.schema),
            "id VARCHAR, name VARCHAR, score VARCHAR, ok VARCHAR, tags VARCHAR[], geo "
            "STRUCT(\"lat\" VARCHAR, \"city\" VARCHAR), n VARCHAR");
  ASSERT_OK(ReadIntoTable(*conn_, legacy, strings.schema, files, "batch2").status());
  EXPECT_EQ(Query("SELECT id, score, ok, geo.lat FROM batch2 ORDER BY id"),
            (Rows{{"1", "1.5", "true", "1.0"}, {"2", "2", "false", "2.5"}}));
}

TEST_F(FileSourceTest, JsonMismatchesNewFieldsAndCaseMismatchesAreRescued) {
  std::string a = Write("a.json",
                        "{\"id\":1,\"delay\":5}\n"
                        "{\"id\":2,\"delay\":\"abc\"}\n"
                        "{\"id\":3,\"delay\":1.5}\n"
                        "{\"id\":4,\"Delay\":7,\"extra\":{\"k\":[1]}}\n");
  FileSourceOptions options = Options(
      "format => 'json', schema => 'id BIGINT, delay INT', rescuedDataColumn => '_rescued_data'");
  std::vector<SourceFile> files = List(options);
  ASSERT_OK_AND_ASSIGN(InferredSchema inferred,
                       InferSchema(*conn_, options, files, std::nullopt));
  // The given schema is checked: two columns it lacks (Delay differs only in case: not new).
  ASSERT_EQ(inferred.new_columns.size(), 1u);
  EXPECT_EQ(inferred.new_columns[0].column.name, "extra");
  ASSERT_OK_AND_ASSIGN(ReadSummary summary,
                       ReadIntoTable(*conn_, options, inferred.schema, files, "batch"));
  EXPECT_EQ(summary.rows, 4);
  EXPECT_EQ(Query("SELECT id, delay, _rescued_data FROM batch ORDER BY id"),
            (Rows{{"1", "5", "NULL"},
                  {"2", "NULL", "{\"delay\":\"abc\"," + FilePathJson(a) + "}"},
                  {"3", "NULL", "{\"delay\":1.5," + FilePathJson(a) + "}"},
                  {"4", "NULL",
                   "{\"Delay\":7,\"extra\":{\"k\":[1]}," + FilePathJson(a) + "}"}}));
}

TEST_F(FileSourceTest, JsonMalformedLinesAreKeptOrCounted) {
  std::string a = Write("a.json",
                        "{\"id\":1}\n"
                        "{\"id\":2, broken\n"
                        "\n"
                        "[1,2]\n"
                        "{\"id\":3}\r\n"
                        "not json at all\n");
  constexpr int64_t kLinesIn = 5;  // non-blank lines
  FileSourceOptions options = Options("format => 'json'");
  std::vector<SourceFile> files = List(options);
  ASSERT_OK_AND_ASSIGN(InferredSchema inferred,
                       InferSchema(*conn_, options, files, std::nullopt));
  EXPECT_EQ(Schema(inferred.schema), "id BIGINT");
  ASSERT_OK_AND_ASSIGN(ReadSummary summary,
                       ReadIntoTable(*conn_, options, inferred.schema, files, "batch"));
  EXPECT_EQ(summary.rows, kLinesIn);
  EXPECT_EQ(summary.malformed_dropped, 0);
  ASSERT_EQ(summary.malformed.size(), 3u);
  EXPECT_EQ(summary.malformed[0].line, 2);
  EXPECT_EQ(summary.malformed[0].error, "malformed JSON");
  EXPECT_EQ(summary.malformed[1].line, 4);
  EXPECT_EQ(summary.malformed[1].error, "not a JSON object");
  EXPECT_EQ(summary.malformed[2].line, 6);
  EXPECT_EQ(summary.malformed[2].raw, "not json at all");
  EXPECT_EQ(Query("SELECT id, _rescued_data FROM batch ORDER BY id, _rescued_data"),
            (Rows{{"1", "NULL"},
                  {"3", "NULL"},
                  {"NULL", "{\"_corrupt_record\":\"[1,2]\"," + FilePathJson(a) + "}"},
                  {"NULL", "{\"_corrupt_record\":\"not json at all\"," + FilePathJson(a) + "}"},
                  {"NULL", "{\"_corrupt_record\":\"{\\\"id\\\":2, broken\"," + FilePathJson(a) +
                               "}"}}));

  // Without a rescued data column they are reported, not rows: the counts still reconcile.
  FileSourceOptions strict = Options("format => 'json', schema => 'id BIGINT'");
  ASSERT_OK_AND_ASSIGN(ReadSummary counted,
                       ReadIntoTable(*conn_, strict, inferred.schema, files, "batch2"));
  EXPECT_EQ(counted.rows, 2);
  EXPECT_EQ(counted.malformed_dropped, 3);
  EXPECT_EQ(counted.rows + counted.malformed_dropped, kLinesIn);
}

TEST_F(FileSourceTest, JsonMultiLineDocuments) {
  Write("array.json", "[\n  {\"id\": 1, \"name\": \"a\"},\n  {\"id\": 2}\n]\n");
  Write("object.json", "{\n  \"id\": 3,\n  \"name\": \"c\"\n}\n");
  Write("broken.json", "{\n  \"id\": 4,\n");
  FileSourceOptions options = Options("format => 'json', multiLine => true");
  std::vector<SourceFile> files = List(options);
  ASSERT_OK_AND_ASSIGN(InferredSchema inferred,
                       InferSchema(*conn_, options, files, std::nullopt));
  EXPECT_EQ(Schema(inferred.schema), "id BIGINT, name VARCHAR");
  ASSERT_OK_AND_ASSIGN(ReadSummary summary,
                       ReadIntoTable(*conn_, options, inferred.schema, files, "batch"));
  EXPECT_EQ(summary.rows, 4);
  ASSERT_EQ(summary.malformed.size(), 1u);
  EXPECT_EQ(summary.malformed[0].line_count, 3);
  EXPECT_EQ(Query("SELECT id, name FROM batch WHERE id IS NOT NULL ORDER BY id"),
            (Rows{{"1", "a"}, {"2", "NULL"}, {"3", "c"}}));
}

TEST_F(FileSourceTest, JsonAddNewColumnsEvolves) {
  Write("1.json", "{\"id\":1}\n");
  FileSourceOptions options = Options("format => 'json'");
  ASSERT_OK_AND_ASSIGN(InferredSchema first,
                       InferSchema(*conn_, options, List(options), std::nullopt));
  std::string second = Write("2.json", "{\"id\":2,\"more\":{\"a\":true}}\n");
  std::vector<SourceFile> files = Only(List(options), "2.json");
  ASSERT_OK_AND_ASSIGN(InferredSchema evolved, InferSchema(*conn_, options, files, first.schema));
  EXPECT_EQ(Schema(evolved.schema), "id BIGINT, more STRUCT(\"a\" BOOLEAN)");
  ASSERT_EQ(evolved.new_columns.size(), 1u);
  EXPECT_EQ(evolved.new_columns[0].first_file, second);
  ASSERT_OK(ReadIntoTable(*conn_, options, evolved.schema, files, "batch").status());
  EXPECT_EQ(Query("SELECT id, more.a FROM batch"), (Rows{{"2", "true"}}));
}

TEST_F(FileSourceTest, JsonReaderCaseInsensitive) {
  Write("a.json", "{\"ID\":1,\"Name\":\"a\",\"more\":2}\n");
  FileSourceOptions options = Options(
      "format => 'json', schema => 'id BIGINT, name STRING', readerCaseSensitive => false, "
      "rescuedDataColumn => '_rescued_data'");
  std::vector<SourceFile> files = List(options);
  ASSERT_OK_AND_ASSIGN(ReadSummary summary,
                       ReadIntoTable(*conn_, options, SourceSchema{options.schema}, files, "b"));
  EXPECT_EQ(Query("SELECT id, name, _rescued_data FROM b"),
            (Rows{{"1", "a", "{\"more\":2," + FilePathJson(files[0].path) + "}"}}));
}

TEST_F(FileSourceTest, BuildReadQueryGivesOneSelect) {
  Write("a.json", "{\"id\":1}\n{oops\n");
  FileSourceOptions options = Options("format => 'json'");
  std::vector<SourceFile> files = List(options);
  ASSERT_OK_AND_ASSIGN(InferredSchema inferred,
                       InferSchema(*conn_, options, files, std::nullopt));
  ASSERT_OK_AND_ASSIGN(ReadQuery query, BuildReadQuery(*conn_, options, inferred.schema, files));
  EXPECT_TRUE(query.malformed_rows_sql.empty());
  EXPECT_TRUE(query.cleanup_sql.empty());
  ASSERT_OK_AND_ASSIGN(engine::QueryResult result, conn_->Query(query.sql));
  ASSERT_EQ(result.column_count(), 3u);
  EXPECT_EQ(result.column_name(0), "id");
  EXPECT_EQ(result.column_name(1), "_rescued_data");
  EXPECT_EQ(result.column_name(2), kMetadataColumn);
  EXPECT_EQ(result.row_count(), 2u);
  // Embedded as a subquery, the way the engine substitutes it for read_files(...).
  EXPECT_EQ(Query("SELECT * EXCLUDE (_metadata), _metadata.file_name AS src FROM (" + query.sql +
                  ") WHERE id IS NOT NULL"),
            (Rows{{"1", "NULL", "a.json"}}));
  EXPECT_TRUE(BuildReadQuery(*conn_, options, inferred.schema, {}).status().IsInvalidArgument());
}

// ---- Parquet and text ----------------------------------------------------------------------------

TEST_F(FileSourceTest, ParquetKeepsTypesAndEvolvesByName) {
  fs::create_directories(Landing());
  std::string p1 = Landing() + "/1.parquet";
  ASSERT_OK(conn_->Execute(fmt::format(
      "COPY (SELECT 1::INTEGER AS id, 'a' AS name, DATE '2024-01-01' AS d) TO {} (FORMAT "
      "parquet)",
      engine::QuoteString(p1))));
  FileSourceOptions options = Options("format => 'parquet'");
  ASSERT_OK_AND_ASSIGN(InferredSchema first,
                       InferSchema(*conn_, options, List(options), std::nullopt));
  EXPECT_EQ(Schema(first.schema), "id INTEGER, name VARCHAR, d DATE");

  std::string p2 = Landing() + "/2.parquet";
  ASSERT_OK(conn_->Execute(fmt::format(
      "COPY (SELECT 'x2' AS id, 2.5::DOUBLE AS score, 'b' AS name) TO {} (FORMAT parquet)",
      engine::QuoteString(p2))));
  std::vector<SourceFile> files = Only(List(options), "2.parquet");
  ASSERT_OK_AND_ASSIGN(InferredSchema evolved, InferSchema(*conn_, options, files, first.schema));
  EXPECT_EQ(Schema(evolved.schema), "id INTEGER, name VARCHAR, d DATE, score DOUBLE");
  ASSERT_OK(ReadIntoTable(*conn_, options, evolved.schema, files, "batch").status());
  EXPECT_EQ(Query("SELECT id, name, d, score, _rescued_data FROM batch"),
            (Rows{{"NULL", "b", "NULL", "2.5", "{\"id\":\"x2\"," + FilePathJson(p2) + "}"}}));

  // Both files at once.
  ASSERT_OK(ReadIntoTable(*conn_, options, evolved.schema, List(options), "batch2").status());
  EXPECT_EQ(Query("SELECT id, name, d, score FROM batch2 ORDER BY name"),
            (Rows{{"1", "a", "2024-01-01", "NULL"}, {"NULL", "b", "NULL", "2.5"}}));
}

TEST_F(FileSourceTest, TextLinesAndWholeText) {
  Write("a.txt", "first\n\nthird\r\n");
  FileSourceOptions options = Options("format => 'text'");
  std::vector<SourceFile> files = List(options);
  ASSERT_OK_AND_ASSIGN(InferredSchema inferred,
                       InferSchema(*conn_, options, files, std::nullopt));
  EXPECT_EQ(Schema(inferred.schema), "value VARCHAR");
  ASSERT_OK_AND_ASSIGN(ReadSummary summary,
                       ReadIntoTable(*conn_, options, inferred.schema, files, "batch"));
  EXPECT_EQ(summary.rows, 3);
  EXPECT_EQ(Query("SELECT * EXCLUDE (_metadata) FROM batch ORDER BY value"),
            (Rows{{""}, {"first"}, {"third"}}));
  FileSourceOptions whole = Options("format => 'text', wholeText => true");
  ASSERT_OK_AND_ASSIGN(summary, ReadIntoTable(*conn_, whole, inferred.schema, files, "batch2"));
  EXPECT_EQ(summary.rows, 1);
}

// ---- file selection and scale --------------------------------------------------------------------

TEST_F(FileSourceTest, PathGlobFilterAndHiddenFiles) {
  Write("a.csv", "id\n1\n");
  Write("b.txt", "id\n2\n");
  Write("_tmp.csv", "id\n3\n");
  Write(".part.csv", "id\n4\n");
  Write("sub/c.csv", "id\n5\n");
  FileSourceOptions options =
      Options("format => 'csv', header => true, pathGlobFilter => '*.csv'");
  std::vector<SourceFile> files = List(options);
  ASSERT_EQ(files.size(), 2u);
  ASSERT_OK_AND_ASSIGN(InferredSchema inferred,
                       InferSchema(*conn_, options, files, std::nullopt));
  ASSERT_OK(ReadIntoTable(*conn_, options, inferred.schema, files, "batch").status());
  EXPECT_EQ(Query("SELECT id, _metadata.file_name FROM batch ORDER BY id"),
            (Rows{{"1", "a.csv"}, {"5", "c.csv"}}));
}

TEST_F(FileSourceTest, AThousandSmallFilesAreOneScan) {
  constexpr int kFiles = 1000;
  for (int i = 0; i < kFiles; ++i) {
    Write(fmt::format("day={:02}/f{:04}.csv", i % 10, i),
          fmt::format("id,v\n{},{}\n{},x{}\n", 2 * i, i, 2 * i + 1, i));
  }
  FileSourceOptions options = Options("format => 'csv', header => true");
  std::vector<SourceFile> files = List(options);
  ASSERT_EQ(files.size(), static_cast<size_t>(kFiles));
  ASSERT_OK_AND_ASSIGN(InferredSchema inferred,
                       InferSchema(*conn_, options, files, std::nullopt));
  EXPECT_EQ(Schema(inferred.schema), "id INTEGER, v VARCHAR");
  ASSERT_OK_AND_ASSIGN(ReadQuery query, BuildReadQuery(*conn_, options, inferred.schema, files));
  size_t scans = 0;
  for (size_t pos = query.sql.find("read_csv("); pos != std::string::npos;
       pos = query.sql.find("read_csv(", pos + 1)) {
    ++scans;
  }
  EXPECT_EQ(scans, 1u);
  ASSERT_OK_AND_ASSIGN(ReadSummary summary,
                       ReadIntoTable(*conn_, options, inferred.schema, files, "batch"));
  EXPECT_EQ(summary.rows, 2 * kFiles);
  EXPECT_EQ(Query("SELECT count(DISTINCT _metadata.file_path), count(_rescued_data) FROM batch"),
            (Rows{{"1000", "0"}}));
}

TEST_F(FileSourceTest, NothingToInferFrom) {
  Write("empty.csv", "");
  FileSourceOptions options = Options("format => 'csv', header => true");
  EXPECT_TRUE(InferSchema(*conn_, options, {}, std::nullopt).status().IsNotFound());
  EXPECT_TRUE(InferSchema(*conn_, options, List(options), std::nullopt).status().IsNotFound());
  // With a schema: fine, and reading an empty file gives no rows.
  FileSourceOptions given = Options("format => 'csv', header => true, schema => 'id INT'");
  ASSERT_OK_AND_ASSIGN(InferredSchema inferred,
                       InferSchema(*conn_, given, List(given), std::nullopt));
  ASSERT_OK_AND_ASSIGN(ReadSummary summary,
                       ReadIntoTable(*conn_, given, inferred.schema, List(given), "batch"));
  EXPECT_EQ(summary.rows, 0);
}

TEST_F(FileSourceTest, DataColumnNamedLikeTheRescuedColumnIsAnError) {
  Write("a.csv", "id,_rescued_data\n1,x\n");
  FileSourceOptions options = Options("format => 'csv', header => true");
  auto result = InferSchema(*conn_, options, List(options), std::nullopt);
  EXPECT_TRUE(result.status().IsInvalidArgument()) << result.status().ToString();
}

}  // namespace
}  // namespace medallion::ingest
