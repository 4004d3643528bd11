// ingest_bench: the CSV file source (ingest/file_source.h) against DuckDB's own typed read_csv of
// the same files, in one process and one in-memory database, each step timed (wall clock, best of
// --repeat runs; the steps take turns, so a change in the machine's load affects them alike):
//
//   duckdb_read_csv   CREATE TEMP TABLE AS SELECT * FROM read_csv([files], header, typed columns,
//                     hive_partitioning = false)
//   infer_first       InferSchema with no previous schema (a first run)
//   infer_later       InferSchema with the first run's schema (a later run: new-column detection)
//   read_into_table   ReadIntoTable with the inferred schema (the batch's rows, rescued data,
//                     _metadata, malformed records)
//   file_source       infer_first + read_into_table: what a first run of a flow pays
//
// Usage:
//   ingest_bench [--repeat N] [--sql] [--options "read_files options"] [--duckdb-columns "{...}"]
//                FOLDER
// (--sql prints the read query.)
// The default options and columns are those of examples/flights' flow flights_csv:
//   format => 'csv', header => true, schemaHints => 'date TIMESTAMP_NTZ, delay BIGINT, distance
//   BIGINT'
// and {'date': 'TIMESTAMP', 'delay': 'BIGINT', 'distance': 'BIGINT', 'origin': 'VARCHAR',
// 'destination': 'VARCHAR'}. Land the flights files first (examples/flights/land.sh), then e.g.
//   build/bench/ingest_bench examples/flights/landing/flights/csv
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "common/status.h"
#include "engine/database.h"
#include "engine/sql_text.h"
#include "ingest/file_source.h"

namespace medallion::bench {
namespace {

[[noreturn]] void Fail(std::string_view what, const Status& status) {
  std::fprintf(stderr, "ingest_bench: %.*s: %s\n", static_cast<int>(what.size()), what.data(),
               status.ToString().c_str());
  std::exit(1);
}

template <typename T>
T Unwrap(Result<T> result, std::string_view what) {
  if (!result.ok()) Fail(what, result.status());
  return std::move(*result);
}

// Wall-clock seconds of one run of `step`.
double Seconds(const std::function<void()>& step) {
  auto start = std::chrono::steady_clock::now();
  step();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

int Main(int argc, char** argv) {
  int repeat = 3;
  bool print_sql = false;
  std::string options_sql =
      "format => 'csv', header => true, schemaHints => 'date TIMESTAMP_NTZ, delay BIGINT, "
      "distance BIGINT'";
  std::string duckdb_columns =
      "{'date': 'TIMESTAMP', 'delay': 'BIGINT', 'distance': 'BIGINT', 'origin': 'VARCHAR', "
      "'destination': 'VARCHAR'}";
  std::string folder;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "--repeat" && i + 1 < argc) {
      repeat = std::max(1, std::atoi(argv[++i]));
    } else if (arg == "--sql") {
      print_sql = true;
    } else if (arg == "--options" && i + 1 < argc) {
      options_sql = argv[++i];
    } else if (arg == "--duckdb-columns" && i + 1 < argc) {
      duckdb_columns = argv[++i];
    } else if (!arg.starts_with("--") && folder.empty()) {
      folder = std::string(arg);
    } else {
      std::fprintf(
          stderr,
          "usage: ingest_bench [--repeat N] [--sql] [--options SQL] [--duckdb-columns STRUCT] "
          "FOLDER\n");
      return 2;
    }
  }
  if (folder.empty()) {
    std::fprintf(stderr, "ingest_bench: give the folder of CSV files\n");
    return 2;
  }

  auto db = Unwrap(engine::Database::Open(), "open database");
  auto conn = Unwrap(db->Connect(), "connect");
  ingest::FileSourceOptions options = Unwrap(
      ingest::ParseReadFilesArguments(engine::QuoteString(folder) + ", " + options_sql, false),
      "options");
  std::vector<ingest::SourceFile> files = Unwrap(ingest::ListSourceFiles(options), "list");
  std::string list;
  for (const ingest::SourceFile& file : files) {
    if (!list.empty()) list += ", ";
    list += engine::QuoteString(file.path);
  }

  // The steps take turns: duckdb, infer first, infer later, read; again.
  int64_t duckdb_rows = 0;
  auto duckdb_step = [&] {
    Status status = conn->Execute(fmt::format(
        "CREATE OR REPLACE TEMP TABLE duck AS SELECT * FROM read_csv([{}], header = true, "
        "hive_partitioning = false, "
        "columns = {})",
        list, duckdb_columns));
    if (!status.ok()) Fail("duckdb read_csv", status);
    auto count = Unwrap(conn->Query("SELECT count(*) FROM duck"), "count");
    duckdb_rows = Unwrap(count.GetInt64(0, 0), "count");
  };
  ingest::InferredSchema first;
  auto infer_first_step = [&] {
    first = Unwrap(ingest::InferSchema(*conn, options, files, std::nullopt), "infer (first)");
  };
  auto infer_later_step = [&] {
    (void)Unwrap(ingest::InferSchema(*conn, options, files, first.schema), "infer (later)");
  };
  ingest::ReadSummary summary;
  auto read_step = [&] {
    summary = Unwrap(ingest::ReadIntoTable(*conn, options, first.schema, files, "batch"), "read");
  };
  infer_first_step();
  if (print_sql) {
    ingest::ReadQuery query =
        Unwrap(ingest::BuildReadQuery(*conn, options, first.schema, files), "build read query");
    std::printf("-- read query\n%s\n-- malformed records\n%s\n", query.sql.c_str(),
                query.malformed_records_sql.c_str());
    (void)conn->Execute(query.cleanup_sql);
  }
  double duckdb = std::numeric_limits<double>::infinity();
  double infer_first = duckdb;
  double infer_later = duckdb;
  double read = duckdb;
  for (int i = 0; i < repeat; ++i) {
    duckdb = std::min(duckdb, Seconds(duckdb_step));
    infer_first = std::min(infer_first, Seconds(infer_first_step));
    infer_later = std::min(infer_later, Seconds(infer_later_step));
    read = std::min(read, Seconds(read_step));
  }

  std::string schema;
  for (const ingest::SourceColumn& column : first.schema.columns) {
    if (!schema.empty()) schema += ", ";
    schema += column.name + " " + column.type;
  }
  std::printf("files: %zu, rows: %lld (duckdb: %lld), malformed: %zu, schema: %s\n", files.size(),
              static_cast<long long>(summary.rows), static_cast<long long>(duckdb_rows),
              summary.malformed.size(), schema.c_str());
  std::printf("best of %d (s):\n", repeat);
  std::printf("  duckdb_read_csv  %8.3f\n", duckdb);
  std::printf("  infer_first      %8.3f\n", infer_first);
  std::printf("  infer_later      %8.3f\n", infer_later);
  std::printf("  read_into_table  %8.3f   ratio to duckdb %.2fx\n", read, read / duckdb);
  std::printf("  file_source      %8.3f   ratio to duckdb %.2fx (infer_first + read)\n",
              infer_first + read, (infer_first + read) / duckdb);
  return 0;
}

}  // namespace
}  // namespace medallion::bench

int main(int argc, char** argv) { return medallion::bench::Main(argc, argv); }
