// Delta Lake benchmarks: snapshot loading, small commits and full scans, measured against the
// targets and baselines in docs/benchmarks.md (run them with `make bench`, which calls
// scripts/bench).
//
// Every benchmark has a baseline measured in the same run, so that figures can be reported as
// ratios on a noisy machine:
//   - snapshot loads (limits 50 ms and 1 s) are compared with the limit; their parts are the
//     listing (from `_last_checkpoint`, and of the whole log as before) and the handler's typed
//     read of the checkpoint (and DuckDB's JSON rows, the way it was read before);
//   - a small commit (limit 5 ms) is compared with one fsynced PutIfAbsent of the same bytes on
//     the same store, the floor of any durable commit;
//   - a full scan of a Delta table (limit 1.1x) is compared with DuckDB's own read_parquet over the
//     same files, the same query on the same connection.
//
// Fixtures are built once per process, on first use, in a fresh folder under $TMPDIR that is
// removed at exit, or in $MEDALLION_BENCH_FIXTURES, which is kept so that the next run reuses the
// slow ones (scripts/bench uses BUILD_DIR/bench/fixtures). Building the 10,000-commit table takes
// minutes (10,000 transactions, each with the snapshot of its version made in memory); the others
// take seconds. Each build prints its duration on stderr. All times are wall-clock (DuckDB works
// on its own threads).
//
// The flights data is $MEDALLION_SOURCE_DIR/third_party/data/flights-3m.parquet (scripts/bootstrap
// fetches it); without it the scan benchmarks report an error and the others still run.
#include <benchmark/benchmark.h>
#include <fmt/format.h>
#include <stdlib.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "bench_util.h"
#include "common/clock.h"
#include "common/result.h"
#include "common/status.h"
#include "delta/actions.h"
#include "delta/checkpoint_writer.h"
#include "delta/log_replay.h"
#include "delta/log_segment.h"
#include "delta/snapshot.h"
#include "delta/transaction.h"
#include "engine/database.h"
#include "engine/delta_scan.h"
#include "engine/duckdb_parquet_handler.h"
#include "engine/duckdb_parquet_writer.h"
#include "engine/sql_text.h"
#include "storage/local_object_store.h"

namespace medallion::bench {
namespace {

namespace fs = std::filesystem;
using delta::AddFile;
using delta::Snapshot;
using delta::SnapshotBuilder;
using delta::Transaction;
using delta::TransactionOptions;
using engine::QuoteString;

// The sizes of the fixtures (the targets in docs/benchmarks.md name them).
constexpr int64_t kManyCommits = 10004;        // versions 1..10004 after the create (v0)
constexpr int64_t kCheckpointInterval = 10;    // delta.checkpointInterval of every table
constexpr int64_t kManyFilesCommits = 100;     // commits of ...
constexpr int64_t kManyFilesPerCommit = 1000;  // ... this many adds: 100,000 active files
constexpr int64_t kCommitHistory = 100;        // commits before the commit benchmarks start
constexpr int kFlightsFiles = 8;               // Parquet files of the unpartitioned flights table
constexpr int64_t kFlightsRows = 3000000;


// Prints how long building a fixture took.
class FixtureTimer {
 public:
  explicit FixtureTimer(std::string name)
      : name_(std::move(name)), start_(std::chrono::steady_clock::now()) {
    std::fprintf(stderr, "delta_bench: building fixture %s ...\n", name_.c_str());
  }
  ~FixtureTimer() {
    double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    std::fprintf(stderr, "delta_bench: fixture %s built in %.1f s\n", name_.c_str(), s);
  }

 private:
  std::string name_;
  std::chrono::steady_clock::time_point start_;
};

// ---- shared state: the scratch folder, stores, Parquet handler and writer ----

// The folder of every fixture: bench_util.h's reusable ScratchDir. With $MEDALLION_BENCH_FIXTURES
// set, that folder, kept after the run so that the next run reuses the fixtures that are complete
// (a marker file each; building the 10,000-commit table takes minutes).
const fs::path& FixtureDir() {
  static const fs::path& dir = []() -> const fs::path& {
    const fs::path& scratch = ScratchDir(/*reusable=*/true);
    fs::create_directories(scratch / "scratch");
    fs::create_directories(scratch / "complete");
    return scratch;
  }();
  return dir;
}

// Fixture markers: a fixture whose marker exists is reused as it is; one without is rebuilt from
// nothing (an interrupted build leaves no marker). Bump kFixtureFormat when a fixture changes.
constexpr int kFixtureFormat = 1;

fs::path MarkerOf(const std::string& fixture) {
  return FixtureDir() / "complete" / fmt::format("{}.v{}", fixture, kFixtureFormat);
}

// True when `fixture` can be reused; otherwise removes what an earlier build left of `folders`.
bool FixtureComplete(const std::string& fixture, const std::vector<std::string>& folders) {
  if (fs::exists(MarkerOf(fixture))) return true;
  for (const auto& f : folders) fs::remove_all(FixtureDir() / f);
  return false;
}

void MarkComplete(const std::string& fixture) {
  std::FILE* f = std::fopen(MarkerOf(fixture).c_str(), "w");
  if (f != nullptr) std::fclose(f);
}

// The store fixtures are written through: no fsync, so building them is quick.
storage::LocalObjectStore& FixtureStore() {
  static auto store = Unwrap(
      storage::LocalObjectStore::Make(FixtureDir().string(), {.sync = false}), "fixture store");
  return *store;
}

// The same folder with fsync on (LocalObjectStore's default): what the commit benchmarks use.
storage::LocalObjectStore& DurableStore() {
  static auto store =
      Unwrap(storage::LocalObjectStore::Make(FixtureDir().string()), "durable store");
  return *store;
}

engine::DuckDbParquetHandler& Parquet() {
  static auto handler = Unwrap(engine::DuckDbParquetHandler::Make(), "parquet handler");
  return *handler;
}

engine::DuckDbParquetWriter& CheckpointWriter() {
  static auto writer = Unwrap(
      engine::DuckDbParquetWriter::Make((FixtureDir() / "scratch").string()), "parquet writer");
  return *writer;
}

// ---- synthetic tables: metadata and add actions shaped like Spark's ----

delta::Metadata SyntheticMetadata() {
  delta::Metadata m;
  m.id = delta::GenerateUuid();
  m.schema_string = R"({"type":"struct","fields":[)"
                    R"({"name":"id","type":"long","nullable":true,"metadata":{}},)"
                    R"({"name":"ts","type":"timestamp","nullable":true,"metadata":{}},)"
                    R"({"name":"customer","type":"string","nullable":true,"metadata":{}},)"
                    R"({"name":"amount","type":"double","nullable":true,"metadata":{}}]})";
  m.configuration = {{"delta.checkpointInterval", std::to_string(kCheckpointInterval)}};
  m.created_time = NowMs();
  return m;
}

// One add as Spark writes it: a part-file name with a UUID, a size, and statistics
// (numRecords, minValues, maxValues, nullCount for every column), about 300 bytes of stats.
AddFile SparkLikeAdd(std::mt19937_64& rng, int64_t n) {
  std::uniform_int_distribution<int64_t> records(10000, 1000000);
  const int64_t rows = records(rng);
  const int64_t first_id = n * 1000000;
  AddFile add;
  add.path = fmt::format("part-{:05}-{}-c000.snappy.parquet", n % 100000, delta::GenerateUuid());
  add.size = rows * 24 + 4096;
  add.modification_time = NowMs();
  add.data_change = true;
  add.stats = fmt::format(
      R"({{"numRecords":{0},"minValues":{{"id":{1},"ts":"2024-01-01T00:00:00.000Z",)"
      R"("customer":"customer-{3:06}","amount":0.5}},"maxValues":{{"id":{2},)"
      R"("ts":"2024-12-31T23:59:59.999Z","customer":"customer-{4:06}","amount":99999.5}},)"
      R"("nullCount":{{"id":0,"ts":0,"customer":{5},"amount":0}}}})",
      rows, first_id, first_id + rows - 1, n % 1000, n % 1000 + 999, rows / 100);
  return add;
}

void CreateTable(storage::ObjectStore& store, const std::string& root, delta::Metadata metadata,
                 std::vector<AddFile> files = {}) {
  auto txn = Unwrap(Transaction::ForTable(store, root, nullptr), "create " + root);
  txn->UpdateMetadata(std::move(metadata));
  if (!files.empty()) txn->AddFiles(std::move(files));
  Unwrap(txn->Commit(Parquet()), "create " + root);
}

// Appends `commits` blind-append commits of `files_per_commit` Spark-like adds each, with
// Transaction. The read snapshot is read from the log only every `refresh_every` commits; in
// between, the snapshot of each new version is made in memory from the previous one and the
// commit (Snapshot::FromParentAndCommit), so that every transaction starts from the latest version
// (no lost races to catch up with) and writes its checkpoint without reading the log again.
void AppendCommits(storage::ObjectStore& store, const std::string& root, int64_t commits,
                   int64_t files_per_commit, delta::ParquetWriter* checkpoint_writer,
                   int64_t refresh_every, std::mt19937_64& rng, int64_t* file_counter) {
  TransactionOptions options;
  options.checkpoint_writer = checkpoint_writer;
  options.initial_backoff_ms = 0;  // the "lost races" are against our own earlier commits
  options.max_backoff_ms = 0;
  std::shared_ptr<const Snapshot> snapshot;
  for (int64_t i = 0; i < commits; ++i) {
    if (snapshot == nullptr || i % refresh_every == 0) {
      snapshot = Unwrap(SnapshotBuilder(store, root).Build(Parquet()), "read " + root);
    }
    auto txn = Unwrap(Transaction::ForTable(store, root, snapshot, options), "append " + root);
    txn->SetOperation("WRITE", {{"mode", "Append"}, {"partitionBy", "[]"}});
    std::vector<AddFile> files;
    files.reserve(static_cast<size_t>(files_per_commit));
    for (int64_t f = 0; f < files_per_commit; ++f)
      files.push_back(SparkLikeAdd(rng, (*file_counter)++));
    txn->AddFiles(std::move(files));
    delta::CommitResult result = Unwrap(txn->Commit(Parquet()), "append " + root);
    Check(result.checkpoint_status, "checkpoint " + root);
    if (result.version == snapshot->version() + 1 && (i + 1) % refresh_every != 0) {
      const std::string key = delta::LogPrefix(root) + delta::CommitFileName(result.version);
      const std::string text = Unwrap(store.Read(key), "read " + key);
      snapshot = Unwrap(Snapshot::FromParentAndCommit(
                            *snapshot, Unwrap(delta::ParseActions(text, key), "parse " + key),
                            Unwrap(store.Head(key), "head " + key)),
                        "next snapshot of " + root);
    } else {
      snapshot = nullptr;  // read from the log before the next commit
    }
  }
}

// A table of kManyCommits + 1 commits with one add each and a checkpoint every 10 versions,
// written by Transaction with its checkpoint writer.
const std::string& ManyCommitsTable() {
  static const std::string root = [] {
    const std::string r = "many_commits";
    if (FixtureComplete(r, {r})) return r;
    FixtureTimer timer(fmt::format("{} ({} commits, checkpoint every {})", r, kManyCommits + 1,
                                   kCheckpointInterval));
    std::mt19937_64 rng(1);
    int64_t counter = 0;
    CreateTable(FixtureStore(), r, SyntheticMetadata());
    AppendCommits(FixtureStore(), r, kManyCommits, 1, &CheckpointWriter(), 40, rng, &counter);
    MarkComplete(r);
    return r;
  }();
  return root;
}

// Two copies of one log of kManyFilesCommits commits of kManyFilesPerCommit adds: one with a
// checkpoint of the latest version, one without (JSON commits only).
struct ManyFilesTables {
  std::string with_checkpoint;
  std::string json_only;
};

const ManyFilesTables& ManyFiles() {
  static const ManyFilesTables tables = [] {
    ManyFilesTables t{"many_files_checkpoint", "many_files_json"};
    if (FixtureComplete("many_files", {t.with_checkpoint, t.json_only})) return t;
    FixtureTimer timer(
        fmt::format("many_files ({} commits x {} adds)", kManyFilesCommits, kManyFilesPerCommit));
    std::mt19937_64 rng(2);
    int64_t counter = 0;
    CreateTable(FixtureStore(), t.json_only, SyntheticMetadata());
    AppendCommits(FixtureStore(), t.json_only, kManyFilesCommits, kManyFilesPerCommit, nullptr, 10,
                  rng, &counter);
    fs::copy(FixtureDir() / t.json_only, FixtureDir() / t.with_checkpoint,
             fs::copy_options::recursive);
    auto snapshot = Unwrap(SnapshotBuilder(FixtureStore(), t.with_checkpoint).Build(Parquet()),
                           "read " + t.with_checkpoint);
    Unwrap(
        delta::WriteCheckpoint(FixtureStore(), *snapshot, CheckpointWriter(), NowMs()),
        "checkpoint " + t.with_checkpoint);
    MarkComplete("many_files");
    return t;
  }();
  return tables;
}

// The local path of the newest checkpoint of `root`.
std::string NewestCheckpointPath(const std::string& root) {
  auto listing = Unwrap(FixtureStore().List(delta::LogPrefix(root)), "list " + root);
  std::string newest;
  for (const auto& meta : listing) {
    if (meta.key.ends_with(".checkpoint.parquet") && meta.key > newest) newest = meta.key;
  }
  if (newest.empty()) Fail(root, Status::NotFound("no checkpoint"));
  return Unwrap(FixtureStore().LocalPath(newest), "path");
}

// ---- snapshot loading ----

void BM_SnapshotLoad(benchmark::State& state, const std::string& root,
                     std::optional<int64_t> version) {
  size_t files = 0;
  int64_t loaded_version = 0;
  for (auto _ : state) {
    SnapshotBuilder builder(FixtureStore(), root);
    if (version) builder.AtVersion(*version);
    auto snapshot = builder.Build(Parquet());
    if (!snapshot.ok()) {
      state.SkipWithError(snapshot.status().ToString().c_str());
      return;
    }
    files = (*snapshot)->files().size();
    loaded_version = (*snapshot)->version();
    benchmark::DoNotOptimize(snapshot);
  }
  state.counters["active_files"] = static_cast<double>(files);
  state.counters["version"] = static_cast<double>(loaded_version);
}

// The floor of a checkpoint-based load: DuckDB reading the checkpoint's add column as JSON rows.
void BM_ReadCheckpointRows(benchmark::State& state, const std::string& root) {
  const std::string path = NewestCheckpointPath(root);
  size_t rows = 0;
  for (auto _ : state) {
    auto read = Parquet().ReadRowsAsJson(path, {"add"});
    if (!read.ok()) {
      state.SkipWithError(read.status().ToString().c_str());
      return;
    }
    rows = read->size();
    benchmark::DoNotOptimize(read);
  }
  state.counters["rows"] = static_cast<double>(rows);
}

// What log replay does with the newest checkpoint: the handler's typed read of every action
// column (no JSON in between).
void BM_ReadCheckpointActions(benchmark::State& state, const std::string& root) {
  const std::string path = NewestCheckpointPath(root);
  size_t actions = 0;
  for (auto _ : state) {
    delta::ActionCollector collector;
    Status read = Parquet().ReadCheckpointActions(path, delta::CheckpointColumns(), collector);
    if (!read.ok()) {
      state.SkipWithError(read.ToString().c_str());
      return;
    }
    actions = collector.actions.size();
    benchmark::DoNotOptimize(collector.actions);
  }
  state.counters["actions"] = static_cast<double>(actions);
}

// The listing a load makes: `_last_checkpoint`, then the log from that checkpoint on.
void BM_ListLogSegment(benchmark::State& state, const std::string& root) {
  size_t files = 0;
  for (auto _ : state) {
    auto segment = delta::ListLogSegment(FixtureStore(), root);
    if (!segment.ok()) {
      state.SkipWithError(segment.status().ToString().c_str());
      return;
    }
    files = segment->commits().size() + (segment->checkpoint() ? 1 : 0);
    benchmark::DoNotOptimize(segment);
  }
  state.counters["segment_files"] = static_cast<double>(files);
}

// Listing and classifying the whole log (what a load did before it used `_last_checkpoint`).
void BM_ListLog(benchmark::State& state, const std::string& root) {
  size_t files = 0;
  for (auto _ : state) {
    auto listing = delta::ListLog(FixtureStore(), root);
    if (!listing.ok()) {
      state.SkipWithError(listing.status().ToString().c_str());
      return;
    }
    files = listing->commits.size() + listing->checkpoints.size();
    benchmark::DoNotOptimize(listing);
  }
  state.counters["log_files"] = static_cast<double>(files);
}

// ---- small commits ----

// A table with kCommitHistory one-file commits and a checkpoint every 10, for one benchmark.
// Rebuilt on every run (the benchmark appends to it).
std::string CommitTable(const std::string& root) {
  fs::remove_all(FixtureDir() / root);
  FixtureTimer timer(root);
  std::mt19937_64 rng(3);
  int64_t counter = 0;
  CreateTable(FixtureStore(), root, SyntheticMetadata());
  AppendCommits(FixtureStore(), root, kCommitHistory, 1, &CheckpointWriter(), 10, rng, &counter);
  return root;
}

// One blind append of one Spark-like add (Transaction::ForTable + AddFiles + Commit) with fsync on.
// The read snapshot is loaded before each commit, untimed. With `checkpoints`, the transaction
// writes the checkpoint every 10th version itself, so its cost is spread over the commits;
// without, the same checkpoints are written untimed, so both tables look alike.
void BM_Commit(benchmark::State& state, bool checkpoints) {
  static const std::string plain_root = CommitTable("commit_plain");
  static const std::string checkpoint_root = CommitTable("commit_checkpoints");
  const std::string& root = checkpoints ? checkpoint_root : plain_root;
  storage::ObjectStore& store = DurableStore();
  TransactionOptions options;
  options.checkpoint_writer = checkpoints ? &CheckpointWriter() : nullptr;
  std::mt19937_64 rng(4);
  int64_t counter = 1000000, written = 0;
  for (auto _ : state) {
    state.PauseTiming();
    auto snapshot = SnapshotBuilder(store, root).Build(Parquet());
    if (!snapshot.ok()) {
      state.SkipWithError(snapshot.status().ToString().c_str());
      return;
    }
    AddFile add = SparkLikeAdd(rng, counter++);
    state.ResumeTiming();

    auto txn = Transaction::ForTable(store, root, *snapshot, options);
    if (!txn.ok()) {
      state.SkipWithError(txn.status().ToString().c_str());
      return;
    }
    (*txn)->SetOperation("WRITE", {{"mode", "Append"}, {"partitionBy", "[]"}});
    (*txn)->AddFiles({std::move(add)});
    auto result = (*txn)->Commit(Parquet());
    if (!result.ok() || !result->checkpoint_status.ok()) {
      Status s = result.ok() ? result->checkpoint_status : result.status();
      state.SkipWithError(s.ToString().c_str());
      return;
    }
    if (result->checkpoint_written) ++written;

    if (!checkpoints && result->version % kCheckpointInterval == 0) {
      state.PauseTiming();
      auto at = SnapshotBuilder(store, root).AtVersion(result->version).Build(Parquet());
      Status s =
          at.ok()
              ? delta::WriteCheckpoint(store, **at, CheckpointWriter(), NowMs()).status()
              : at.status();
      if (!s.ok()) {
        state.SkipWithError(s.ToString().c_str());
        return;
      }
      state.ResumeTiming();
    }
  }
  state.counters["checkpoints_written"] = static_cast<double>(written);
}

// The floor of a durable commit: one PutIfAbsent of a commit's bytes to a new key on the same
// store (temporary file, fsync, link, fsync of the folder).
void BM_PutIfAbsentFsync(benchmark::State& state) {
  static const std::string payload = [] {
    const std::string root = "commit_payload";
    fs::remove_all(FixtureDir() / root);
    fs::remove_all(FixtureDir() / "put_floor");
    CreateTable(FixtureStore(), root, SyntheticMetadata());
    std::mt19937_64 rng(5);
    int64_t counter = 0;
    AppendCommits(FixtureStore(), root, 1, 1, nullptr, 1, rng, &counter);
    return Unwrap(FixtureStore().Read(delta::LogPrefix(root) + delta::CommitFileName(1)), "read");
  }();
  storage::ObjectStore& store = DurableStore();
  static int64_t n = 0;  // keys stay new across the calls of this function
  for (auto _ : state) {
    Status s = store.PutIfAbsent(fmt::format("put_floor/_delta_log/{:020}.json", n++), payload);
    if (!s.ok()) {
      state.SkipWithError(s.ToString().c_str());
      return;
    }
  }
  state.counters["bytes"] = static_cast<double>(payload.size());
}

// ---- full scans of the flights data ----

std::string FlightsSource() {
  return std::string(MEDALLION_SOURCE_DIR) + "/third_party/data/flights-3m.parquet";
}

// The connection every scan runs on (DuckDB's default threads: one per core).
engine::Connection& ScanConnection() {
  static auto db = Unwrap(engine::Database::Open(), "open database");
  static auto conn = Unwrap(db->Connect(), "connect");
  return *conn;
}

struct FlightsTable {
  std::string root;
  std::string view;                // registered once with RegisterDeltaScan
  std::string read_parquet;        // DuckDB's own read of the same files: the baseline
  std::string all_columns;         // every column, for the query that touches them all
  std::vector<std::string> files;  // local paths
};

std::string FlightsSchema(bool with_month) {
  std::string s = R"({"type":"struct","fields":[)"
                  R"({"name":"date","type":"timestamp_ntz","nullable":true,"metadata":{}},)"
                  R"({"name":"delay","type":"long","nullable":true,"metadata":{}},)"
                  R"({"name":"distance","type":"long","nullable":true,"metadata":{}},)"
                  R"({"name":"origin","type":"string","nullable":true,"metadata":{}},)"
                  R"({"name":"destination","type":"string","nullable":true,"metadata":{}})";
  if (with_month) s += R"(,{"name":"month","type":"integer","nullable":true,"metadata":{}})";
  return s + "]}";
}

std::string AggQuery(const std::string& source) {
  return "SELECT sum(delay), count(*), count(DISTINCT origin) FROM " + source;
}
std::string AllColumnsQuery(const FlightsTable& t, const std::string& source) {
  return fmt::format("SELECT sum(hash({})), count(*) FROM {}", t.all_columns, source);
}

std::string RowText(const engine::QueryResult& r) {
  std::string out;
  for (size_t c = 0; c < r.column_count(); ++c) out += (c ? "|" : "") + r.GetText(c, 0);
  return out;
}

// Registers the view and checks that it answers as DuckDB does over the same files.
void RegisterAndCheck(FlightsTable& t) {
  engine::Connection& conn = ScanConnection();
  auto snapshot =
      Unwrap(SnapshotBuilder(FixtureStore(), t.root).Build(Parquet()), "read " + t.root);
  Check(engine::RegisterDeltaScan(conn, *snapshot, FixtureStore(), t.view), "register " + t.view);
  for (const auto& [delta_sql, parquet_sql] :
       {std::pair{AggQuery(t.view), AggQuery(t.read_parquet)},
        std::pair{AllColumnsQuery(t, t.view), AllColumnsQuery(t, t.read_parquet)}}) {
    std::string a = RowText(Unwrap(conn.Query(delta_sql), delta_sql));
    std::string b = RowText(Unwrap(conn.Query(parquet_sql), parquet_sql));
    if (a != b)
      Fail(t.view, Status::Internal("Delta view and read_parquet differ: " + a + " vs " + b));
  }
}

std::string FileList(const std::vector<std::string>& files) {
  std::string list;
  for (const auto& f : files) list += (list.empty() ? "" : ", ") + QuoteString(f);
  return "[" + list + "]";
}

// flights-3m.parquet split by row ranges into kFlightsFiles files, as an unpartitioned table.
const FlightsTable* Flights() {
  static const std::optional<FlightsTable> table = []() -> std::optional<FlightsTable> {
    if (!fs::exists(FlightsSource())) return std::nullopt;
    FixtureTimer timer("flights (8 files)");
    FlightsTable t;
    t.root = "flights";
    fs::remove_all(FixtureDir() / t.root);  // rebuilt on every run: it takes seconds
    t.view = "flights";
    t.all_columns = "date, delay, distance, origin, destination";
    fs::create_directories(FixtureDir() / t.root);
    std::vector<AddFile> adds;
    const int64_t per_file = (kFlightsRows + kFlightsFiles - 1) / kFlightsFiles;
    for (int i = 0; i < kFlightsFiles; ++i) {
      const std::string name = fmt::format("part-{:05}.snappy.parquet", i);
      const fs::path path = FixtureDir() / t.root / name;
      Check(ScanConnection().Execute(fmt::format(
                "COPY (SELECT * EXCLUDE (file_row_number) FROM read_parquet({}, file_row_number = "
                "true) WHERE file_row_number >= {} AND file_row_number < {}) TO {} "
                "(FORMAT parquet, COMPRESSION snappy)",
                QuoteString(FlightsSource()), i * per_file, (i + 1) * per_file,
                QuoteString(path.string()))),
            "split flights");
      AddFile add;
      add.path = name;
      add.size = static_cast<int64_t>(fs::file_size(path));
      add.modification_time = NowMs();
      adds.push_back(std::move(add));
      t.files.push_back(path.string());
    }
    delta::Metadata m = SyntheticMetadata();
    m.schema_string = FlightsSchema(false);
    CreateTable(FixtureStore(), t.root, std::move(m), std::move(adds));
    t.read_parquet = "read_parquet(" + FileList(t.files) + ")";
    RegisterAndCheck(t);
    return t;
  }();
  return table ? &*table : nullptr;
}

// The same data partitioned by month (a computed INTEGER column), written by DuckDB's
// PARTITION_BY into month=N/ folders; the baseline reads them with hive_partitioning.
const FlightsTable* FlightsByMonth() {
  static const std::optional<FlightsTable> table = []() -> std::optional<FlightsTable> {
    if (!fs::exists(FlightsSource())) return std::nullopt;
    FixtureTimer timer("flights_by_month");
    FlightsTable t;
    t.root = "flights_by_month";
    fs::remove_all(FixtureDir() / t.root);  // rebuilt on every run: it takes seconds
    t.view = "flights_by_month";
    t.all_columns = "date, delay, distance, origin, destination, month";
    const fs::path folder = FixtureDir() / t.root;
    Check(ScanConnection().Execute(fmt::format(
              "COPY (SELECT *, month(date)::INTEGER AS month FROM read_parquet({})) TO {} "
              "(FORMAT parquet, COMPRESSION snappy, PARTITION_BY (month))",
              QuoteString(FlightsSource()), QuoteString(folder.string()))),
          "partition flights");
    std::vector<AddFile> adds;
    for (const auto& entry : fs::recursive_directory_iterator(folder)) {
      if (!entry.is_regular_file() || entry.path().extension() != ".parquet") continue;
      const std::string relative = fs::relative(entry.path(), folder).string();
      const std::string dir = entry.path().parent_path().filename().string();  // month=N
      AddFile add;
      add.path = relative;
      add.partition_values["month"] = dir.substr(dir.find('=') + 1);
      add.size = static_cast<int64_t>(entry.file_size());
      add.modification_time = NowMs();
      adds.push_back(std::move(add));
      t.files.push_back(entry.path().string());
    }
    std::sort(t.files.begin(), t.files.end());
    delta::Metadata m = SyntheticMetadata();
    m.schema_string = FlightsSchema(true);
    m.partition_columns = {"month"};
    CreateTable(FixtureStore(), t.root, std::move(m), std::move(adds));
    t.read_parquet = "read_parquet(" + FileList(t.files) +
                     ", hive_partitioning = true, hive_types = {'month': INTEGER})";
    RegisterAndCheck(t);
    return t;
  }();
  return table ? &*table : nullptr;
}

enum class ScanQuery { kAgg, kAllColumns };
enum class ScanPath {
  kDeltaView,      // the query on the view RegisterDeltaScan made (registered once)
  kDeltaEndToEnd,  // SnapshotBuilder::Build + RegisterDeltaScan + the query, each time
};

// One Delta path and the baseline, the query on read_parquet([the same files]), timed in pairs:
// each iteration runs both, in alternating order, so that a change in the machine's load hits both
// alike. Reports each side's mean time per query and their ratio (Delta / read_parquet); the
// benchmark's own time is that of the pair.
void BM_ScanPaired(benchmark::State& state, const FlightsTable* (*fixture)(), ScanQuery query,
                   ScanPath path) {
  const FlightsTable* t = fixture();
  if (t == nullptr) {
    state.SkipWithError(("no " + FlightsSource() + " (run scripts/bootstrap)").c_str());
    return;
  }
  engine::Connection& conn = ScanConnection();
  const std::string e2e_view = t->view + "_e2e";
  const std::string delta_source = path == ScanPath::kDeltaView ? t->view : e2e_view;
  auto sql_for = [&](const std::string& source) {
    return query == ScanQuery::kAgg ? AggQuery(source) : AllColumnsQuery(*t, source);
  };
  const std::string delta_sql = sql_for(delta_source);
  const std::string parquet_sql = sql_for(t->read_parquet);
  using Clock = std::chrono::steady_clock;
  Clock::duration delta_time{}, parquet_time{};
  auto run_delta = [&]() -> Status {
    const auto start = Clock::now();
    if (path == ScanPath::kDeltaEndToEnd) {
      auto snapshot = SnapshotBuilder(FixtureStore(), t->root).Build(Parquet());
      if (!snapshot.ok()) return snapshot.status();
      Status s = engine::RegisterDeltaScan(conn, **snapshot, FixtureStore(), e2e_view);
      if (!s.ok()) return s;
    }
    auto result = conn.Query(delta_sql);
    delta_time += Clock::now() - start;
    return result.status();
  };
  auto run_parquet = [&]() -> Status {
    const auto start = Clock::now();
    auto result = conn.Query(parquet_sql);
    parquet_time += Clock::now() - start;
    return result.status();
  };
  int64_t n = 0;
  for (auto _ : state) {
    const bool delta_first = n++ % 2 == 0;
    Status s = delta_first ? run_delta() : run_parquet();
    if (s.ok()) s = delta_first ? run_parquet() : run_delta();
    if (!s.ok()) {
      state.SkipWithError(s.ToString().c_str());
      return;
    }
  }
  const double delta_ms = std::chrono::duration<double, std::milli>(delta_time).count();
  const double parquet_ms = std::chrono::duration<double, std::milli>(parquet_time).count();
  state.counters["delta_ms"] = n > 0 ? delta_ms / static_cast<double>(n) : 0;
  state.counters["read_parquet_ms"] = n > 0 ? parquet_ms / static_cast<double>(n) : 0;
  state.counters["ratio"] = parquet_ms > 0 ? delta_ms / parquet_ms : 0;
  state.counters["files"] = static_cast<double>(t->files.size());
}

// What end to end adds to a query: SnapshotBuilder::Build + RegisterDeltaScan (one parquet_schema
// query over the files' footers and the CREATE VIEW), without the query.
void BM_LoadAndRegister(benchmark::State& state, const FlightsTable* (*fixture)()) {
  const FlightsTable* t = fixture();
  if (t == nullptr) {
    state.SkipWithError(("no " + FlightsSource() + " (run scripts/bootstrap)").c_str());
    return;
  }
  for (auto _ : state) {
    auto snapshot = SnapshotBuilder(FixtureStore(), t->root).Build(Parquet());
    Status s = snapshot.ok() ? engine::RegisterDeltaScan(ScanConnection(), **snapshot,
                                                         FixtureStore(), t->view + "_registered")
                             : snapshot.status();
    if (!s.ok()) {
      state.SkipWithError(s.ToString().c_str());
      return;
    }
  }
}

// ---- registration ----

void RegisterAll() {
  using benchmark::RegisterBenchmark;
  const auto ms = benchmark::kMillisecond;
  auto many_commits = [](std::optional<int64_t> version) {
    return [version](benchmark::State& s) { BM_SnapshotLoad(s, ManyCommitsTable(), version); };
  };
  RegisterBenchmark("snapshot_10k_commits/latest", many_commits(std::nullopt))
      ->Unit(ms)
      ->UseRealTime();
  RegisterBenchmark("snapshot_10k_commits/at_checkpoint", many_commits(10000))
      ->Unit(ms)
      ->UseRealTime();
  RegisterBenchmark("snapshot_10k_commits/before_checkpoint", many_commits(9999))
      ->Unit(ms)
      ->UseRealTime();
  RegisterBenchmark("snapshot_10k_commits/read_checkpoint_rows",
                    [](benchmark::State& s) { BM_ReadCheckpointRows(s, ManyCommitsTable()); })
      ->Unit(ms)
      ->UseRealTime();

  RegisterBenchmark("snapshot_10k_commits/read_checkpoint_actions",
                    [](benchmark::State& s) { BM_ReadCheckpointActions(s, ManyCommitsTable()); })
      ->Unit(ms)
      ->UseRealTime();
  RegisterBenchmark("snapshot_10k_commits/list_log",
                    [](benchmark::State& s) { BM_ListLog(s, ManyCommitsTable()); })
      ->Unit(ms)
      ->UseRealTime();
  RegisterBenchmark("snapshot_10k_commits/list_log_segment",
                    [](benchmark::State& s) { BM_ListLogSegment(s, ManyCommitsTable()); })
      ->Unit(ms)
      ->UseRealTime();

  RegisterBenchmark(
      "snapshot_100k_files/checkpoint",
      [](benchmark::State& s) { BM_SnapshotLoad(s, ManyFiles().with_checkpoint, std::nullopt); })
      ->Unit(ms)
      ->UseRealTime();
  RegisterBenchmark(
      "snapshot_100k_files/json_only",
      [](benchmark::State& s) { BM_SnapshotLoad(s, ManyFiles().json_only, std::nullopt); })
      ->Unit(ms)
      ->UseRealTime();
  RegisterBenchmark(
      "snapshot_100k_files/read_checkpoint_rows",
      [](benchmark::State& s) { BM_ReadCheckpointRows(s, ManyFiles().with_checkpoint); })
      ->Unit(ms)
      ->UseRealTime();
  RegisterBenchmark(
      "snapshot_100k_files/read_checkpoint_actions",
      [](benchmark::State& s) { BM_ReadCheckpointActions(s, ManyFiles().with_checkpoint); })
      ->Unit(ms)
      ->UseRealTime();

  RegisterBenchmark("commit/append", [](benchmark::State& s) { BM_Commit(s, false); })
      ->Unit(ms)
      ->UseRealTime();
  RegisterBenchmark("commit/append_with_checkpoints",
                    [](benchmark::State& s) { BM_Commit(s, true); })
      ->Unit(ms)
      ->UseRealTime();
  RegisterBenchmark("commit/put_if_absent_fsync", BM_PutIfAbsentFsync)->Unit(ms)->UseRealTime();

  struct Variant {
    const char* name;
    const FlightsTable* (*fixture)();
  };
  for (Variant v : {Variant{"flat", Flights}, Variant{"by_month", FlightsByMonth}}) {
    auto fixture = v.fixture;
    RegisterBenchmark(fmt::format("scan_{}/load_and_register", v.name).c_str(),
                      [fixture](benchmark::State& s) { BM_LoadAndRegister(s, fixture); })
        ->Unit(ms)
        ->UseRealTime();
    for (auto [qname, q] :
         {std::pair{"agg", ScanQuery::kAgg}, std::pair{"all_columns", ScanQuery::kAllColumns}}) {
      for (auto [pname, p] : {std::pair{"view_vs_read_parquet", ScanPath::kDeltaView},
                              std::pair{"end_to_end_vs_read_parquet", ScanPath::kDeltaEndToEnd}}) {
        auto query = q;
        auto path = p;
        RegisterBenchmark(
            fmt::format("scan_{}/{}/{}", v.name, qname, pname).c_str(),
            [fixture, query, path](benchmark::State& s) { BM_ScanPaired(s, fixture, query, path); })
            ->Unit(ms)
            ->UseRealTime();
      }
    }
  }
}

}  // namespace
}  // namespace medallion::bench

int main(int argc, char** argv) {
  return medallion::bench::RunBenchmarks(argc, argv, medallion::bench::RegisterAll);
}
