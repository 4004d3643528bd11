// Data skipping benchmarks (delta/data_skipping.h, docs/benchmarks.md "Data skipping"): a point
// query `WHERE id = X` on a Delta table of 1,000 files, through the Delta view, against DuckDB's
// read_parquet over all 1,000 files and over just the matching file, in the same run.
//
// Fixtures (built once per process with engine::WriteDelta, in a fresh folder under $TMPDIR that
// is removed at exit):
//   - `flat`: 1,000,000 rows (id 0..999,999 in order, a value and a short string) cut into 1,000
//     files of 1,000 rows, so each id lies in exactly one file's [min, max];
//   - `partitioned`: the same rows partitioned by `bucket = id // 100000` (10 partitions of 100
//     files).
// Every Delta benchmark reports `files_read` and aborts unless it equals the number of files that
// hold matching rows (1 for the point query on `flat`; on `partitioned` the files of one partition
// need not be cut in id order, so it is counted with DuckDB).
//
//   build-dml/bench/data_skipping_bench --benchmark_min_time=20x
#include <benchmark/benchmark.h>
#include <fmt/format.h>
#include <stdlib.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "bench_util.h"
#include "common/result.h"
#include "common/status.h"
#include "delta/data_skipping.h"
#include "delta/snapshot.h"
#include "engine/database.h"
#include "engine/delta_scan.h"
#include "engine/delta_writer.h"
#include "engine/duckdb_parquet_handler.h"
#include "engine/session.h"
#include "engine/sql_text.h"
#include "storage/local_object_store.h"

namespace medallion::bench {
namespace {

namespace fs = std::filesystem;

constexpr int64_t kRows = 1'000'000;
constexpr int64_t kRowsPerFile = 1'000;  // 1,000 files
constexpr int64_t kPointId = 654'321;    // in the file of ids 654,000..654,999
constexpr int64_t kBucket = 6;           // ids 600,000..699,999

struct Fixture {
  std::string dir;  // bench_util.h's scratch folder
  std::unique_ptr<storage::LocalObjectStore> store;
  std::unique_ptr<engine::DuckDbParquetHandler> parquet;
  std::unique_ptr<engine::Session> session;  // its connection runs every query
};

constexpr char kRowsSql[] =
    "SELECT i::BIGINT AS id, (i % 977)::DOUBLE AS amount, 'c' || (i % 31) AS category, "
    "(i // 100000)::INTEGER AS bucket FROM range(1000000) t(i)";

Fixture& Get() {
  static Fixture* f = [] {
    Fixture* fx = new Fixture;  // lives until exit
    fx->dir = ScratchDir().string();
    fx->store = Unwrap(storage::LocalObjectStore::Make(fx->dir, {/*sync=*/false}), "store");
    fx->parquet = Unwrap(engine::DuckDbParquetHandler::Make(), "parquet handler");
    fx->session = Unwrap(engine::Session::Open(), "session");
    for (bool partitioned : {false, true}) {
      engine::WriteOptions options;
      options.target_file_rows = kRowsPerFile;
      if (partitioned) options.partition_by = {"bucket"};
      auto start = std::chrono::steady_clock::now();
      Unwrap(engine::WriteDelta(fx->session->connection(), kRowsSql, *fx->store,
                                partitioned ? "partitioned" : "flat", *fx->parquet, options),
             "write fixture");
      std::fprintf(stderr, "data_skipping_bench: built %s in %.1f s\n",
                   partitioned ? "partitioned" : "flat",
                   std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    }
    return fx;
  }();
  return *f;
}

std::shared_ptr<const delta::Snapshot> Load(const std::string& table) {
  return Unwrap(delta::SnapshotBuilder(*Get().store, table).Build(*Get().parquet), "load " + table);
}

// The local paths of `table`'s files, all or those `keep` selects.
std::vector<std::string> Files(const std::string& table, const delta::SkippingPredicate& keep) {
  auto snapshot = Load(table);
  auto selected = Unwrap(delta::SelectFiles(*snapshot, keep), "select");
  std::vector<std::string> out;
  for (const delta::AddFile* f : selected.files) {
    auto key = Unwrap(snapshot->FileLocalPath(*f), "path");
    out.push_back(Unwrap(Get().store->LocalPath(key), "local path"));
  }
  return out;
}

std::string ReadParquet(const std::vector<std::string>& files, bool hive) {
  std::string list;
  for (const auto& f : files) list += (list.empty() ? "" : ", ") + engine::QuoteString(f);
  return fmt::format("read_parquet([{}]{})", list, hive ? ", hive_partitioning = true" : "");
}

delta::SkippingPredicate PointPredicate() {
  delta::SkippingPredicate p;
  p.conjuncts.push_back(delta::ColumnPredicate::Compare({"id"}, delta::SkippingOp::kEqual,
                                                        delta::Scalar::Int64(kPointId)));
  return p;
}
delta::SkippingPredicate BucketPredicate() {
  delta::SkippingPredicate p;
  p.conjuncts.push_back(delta::ColumnPredicate::Compare({"bucket"}, delta::SkippingOp::kEqual,
                                                        delta::Scalar::Int64(kBucket)));
  return p;
}

void RunQuery(benchmark::State& state, const std::string& sql, int64_t expected_rows) {
  engine::Connection& conn = Get().session->connection();
  for (auto _ : state) {
    auto r = conn.Query(sql);
    if (!r.ok()) Fail(sql, r.status());
    if (static_cast<int64_t>(r->row_count()) != expected_rows) {
      Fail(sql, Status::Internal(fmt::format("{} rows, expected {}", r->row_count(), expected_rows)));
    }
  }
}

// Through the Delta view, end to end as `medallion sql` runs it: the session loads the snapshot,
// finds `id = X` in the WHERE, registers only the matching files and runs the query.
void BM_Point_DeltaSession(benchmark::State& state, std::string table) {
  const std::string sql = fmt::format("SELECT * FROM delta.`{}/{}` WHERE id = {}", Get().dir, table,
                                      kPointId);
  for (auto _ : state) {
    auto r = Get().session->Query(sql);
    if (!r.ok() || r->row_count() != 1) Fail(sql, r.ok() ? Status::Internal("rows") : r.status());
  }
}

// How many of `table`'s files hold rows matching `where` (read with DuckDB, once).
int64_t FilesHoldingMatches(const std::string& table, const std::string& where) {
  std::string list;
  for (const auto& f : Files(table, {})) list += (list.empty() ? "" : ", ") + engine::QuoteString(f);
  auto r = Get().session->connection().Query(
      fmt::format("SELECT count(DISTINCT filename) FROM read_parquet([{}], filename = true, "
                  "hive_partitioning = true) WHERE {}",
                  list, where));
  if (!r.ok()) Fail("count matching files", r.status());
  return *r->GetInt64(0, 0);
}

// Snapshot load + RegisterDeltaScan with the predicate + the query, with files_read checked: it
// must equal the number of files holding matching rows (`expected_files` when not -1, e.g. 1 for
// the point query on the clustered flat table).
void BM_Point_DeltaRegister(benchmark::State& state, std::string table,
                            delta::SkippingPredicate predicate, std::string where,
                            int64_t expected_files, int64_t expected_rows) {
  engine::Connection& conn = Get().session->connection();
  const int64_t holding = FilesHoldingMatches(table, where);
  if (expected_files != -1 && holding != expected_files) {
    Fail("fixture", Status::Internal(fmt::format("{} files hold matches, expected {}", holding,
                                                 expected_files)));
  }
  expected_files = holding;
  engine::DeltaScanInfo info;
  for (auto _ : state) {
    auto snapshot = Load(table);
    engine::DeltaScanOptions options;
    options.predicate = predicate;
    Check(engine::RegisterDeltaScan(conn, *snapshot, *Get().store, "skip_view", options, &info),
          "register");
    auto r = conn.Query("SELECT * FROM skip_view WHERE " + where);
    if (!r.ok()) Fail(where, r.status());
    if (static_cast<int64_t>(r->row_count()) != expected_rows) Fail(where, Status::Internal("rows"));
  }
  if (info.files_read != expected_files) {
    Fail("files read", Status::Internal(fmt::format("{} files read, expected {}", info.files_read,
                                                    expected_files)));
  }
  state.counters["files_read"] = static_cast<double>(info.files_read);
  state.counters["files_total"] = static_cast<double>(info.files_considered);
}

// The same without the predicate: every file registered (the view before data skipping).
void BM_Point_DeltaNoSkipping(benchmark::State& state, std::string table, std::string where,
                              int64_t expected_rows) {
  engine::Connection& conn = Get().session->connection();
  auto snapshot = Load(table);
  engine::DeltaScanInfo info;
  for (auto _ : state) {
    Check(engine::RegisterDeltaScan(conn, *snapshot, *Get().store, "all_view", {}, &info),
          "register");
    auto r = conn.Query("SELECT * FROM all_view WHERE " + where);
    if (!r.ok() || static_cast<int64_t>(r->row_count()) != expected_rows) {
      Fail(where, r.ok() ? Status::Internal("rows") : r.status());
    }
  }
  state.counters["files_read"] = static_cast<double>(info.files_read);
}

void RegisterAll() {
  const std::string point = fmt::format("id = {}", kPointId);
  const std::string bucket = fmt::format("bucket = {}", kBucket);
  for (std::string table : {"flat", "partitioned"}) {
    const bool hive = table == "partitioned";
    benchmark::RegisterBenchmark(("point/" + table + "/delta_session").c_str(),
                                 BM_Point_DeltaSession, table)
        ->Unit(benchmark::kMillisecond)
        ->UseRealTime();
    benchmark::RegisterBenchmark(("point/" + table + "/delta_load_register_query").c_str(),
                                 BM_Point_DeltaRegister, table, PointPredicate(), point,
                                 hive ? -1 : 1, 1)
        ->Unit(benchmark::kMillisecond)
        ->UseRealTime();
    benchmark::RegisterBenchmark(("point/" + table + "/delta_no_skipping").c_str(),
                                 BM_Point_DeltaNoSkipping, table, point, 1)
        ->Unit(benchmark::kMillisecond)
        ->UseRealTime();
    benchmark::RegisterBenchmark(
        ("point/" + table + "/read_parquet_all_files").c_str(),
        [table, hive, point](benchmark::State& state) {
          RunQuery(state,
                   "SELECT * FROM " + ReadParquet(Files(table, {}), hive) + " WHERE " + point, 1);
        })
        ->Unit(benchmark::kMillisecond)
        ->UseRealTime();
    benchmark::RegisterBenchmark(
        ("point/" + table + "/read_parquet_matching_file").c_str(),
        [table, hive, point](benchmark::State& state) {
          RunQuery(state,
                   "SELECT * FROM " + ReadParquet(Files(table, PointPredicate()), hive) +
                       " WHERE " + point,
                   1);
        })
        ->Unit(benchmark::kMillisecond)
        ->UseRealTime();
  }
  // One partition of ten (partition pruning): about 100 files, 100,000 rows.
  benchmark::RegisterBenchmark("partition/delta_load_register_query", BM_Point_DeltaRegister,
                               std::string("partitioned"), BucketPredicate(), bucket, -1, 100000)
      ->Unit(benchmark::kMillisecond)
      ->UseRealTime();
  benchmark::RegisterBenchmark(
      "partition/read_parquet_all_files_hive", [bucket](benchmark::State& state) {
        RunQuery(state,
                 "SELECT * FROM " + ReadParquet(Files("partitioned", {}), true) + " WHERE " + bucket,
                 100000);
      })
      ->Unit(benchmark::kMillisecond)
      ->UseRealTime();
}

}  // namespace
}  // namespace medallion::bench

int main(int argc, char** argv) {
  return medallion::bench::RunBenchmarks(argc, argv, medallion::bench::RegisterAll);
}
