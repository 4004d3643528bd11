// Declarative pipeline benchmarks: the fixed costs of `medallion dry-run` and of a run with
// nothing new, measured in-process through pipeline::Pipeline against the targets in
// docs/benchmarks.md ("Declarative pipelines"; run them with `make bench`, which calls
// scripts/bench).
//
//   - BM_DryRun100: Pipeline::Load + Pipeline::DryRun of a pipeline of 100 datasets (10 bronze
//     streaming tables reading CSV folders with STREAM read_files, 40 silver streaming tables
//     reading STREAM(bronze) with expectations, 50 gold materialized views joining and
//     aggregating silver). Target: under 200 ms. Part: BM_DryRun100/load, Load alone.
//   - BM_NoOpRun20: Load + Run of a pipeline of 20 datasets (4 bronze, 8 silver, 8 gold) that has
//     run before, with nothing new: every flow is UP_TO_DATE. Target: under 300 ms. Parts:
//     BM_NoOpRun20/load, Load alone; BM_NoOpRun20/run, Run alone (the iteration's Load untimed).
//
// The data is tiny on purpose (3 CSV files of 100 rows per bronze table): these are the costs a
// pipeline pays whatever its size (parsing, graph building, binding, snapshot loads, schema
// inference on a sample, state files, the event log), not the cost of moving data. The
// end-to-end comparison with DuckDB on 3M rows is bench/pipeline_vs_duckdb.sh.
//
// The pipelines are generated in a fresh folder under $TMPDIR, removed at exit; generating them
// and the first run of the 20-dataset pipeline take about a second, printed on stderr. Each no-op
// run appends its events to the pipeline's event log (a Delta table), as `medallion run` does, so
// that table grows by one commit per iteration (a checkpoint every 10 keeps its load short). The
// times are wall clock (DuckDB works on its own threads); the CPU column is the whole process's.
#include <benchmark/benchmark.h>
#include <fmt/format.h>
#include <stdlib.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <utility>

#include "bench_util.h"
#include "common/result.h"
#include "common/status.h"
#include "engine/database.h"
#include "pipeline/pipeline_update.h"

namespace medallion::bench {
namespace {

namespace fs = std::filesystem;
using pipeline::FlowReport;
using pipeline::Pipeline;

// The shape of a generated pipeline: `bronze` streaming tables, each read by
// `silver_per_bronze` silver streaming tables and summarized by `gold_per_bronze` gold
// materialized views. Every dataset has one (implicit) flow.
struct PipelineShape {
  int bronze = 0;
  int silver_per_bronze = 0;  // 1..kSilverKinds
  int gold_per_bronze = 0;    // 1..kGoldKinds
  int datasets() const { return bronze * (1 + silver_per_bronze + gold_per_bronze); }
};

constexpr int kSilverKinds = 4;
constexpr int kGoldKinds = 5;
constexpr PipelineShape kDryRunShape{10, 4, 5};  // 100 datasets
constexpr PipelineShape kNoOpShape{4, 2, 2};     // 20 datasets
constexpr int kFilesPerSource = 3;               // CSV files in each landing folder
constexpr int kRowsPerFile = 100;

// ---- failure handling: a fixture that cannot be built ends the run ----

void WriteFile(const fs::path& path, std::string_view text) {
  fs::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary);
  out << text;
  if (!out) Fail(path.string(), Status::IOError("cannot write"));
}

// ---- the generated pipeline ----

// One landing folder of orders as an upstream system would drop them: a header, then rows with
// a few defects for the expectations to catch (a missing id, a non-positive amount, an unknown
// status, a missing channel).
void WriteLandingFolder(const fs::path& folder, int source, std::mt19937_64& rng) {
  static constexpr const char* kStatuses[] = {"placed", "Shipped", "returned", " placed ", "lost"};
  static constexpr const char* kCountries[] = {"us", "gb", "nl", "de", "fr", "jp"};
  static constexpr const char* kChannels[] = {"web", "store", "partner", ""};
  std::uniform_int_distribution<int> pick(0, 1000000);
  for (int f = 0; f < kFilesPerSource; ++f) {
    std::string csv = "order_id,customer_id,amount,status,order_ts,country,channel\n";
    for (int r = 0; r < kRowsPerFile; ++r) {
      const int64_t id = (static_cast<int64_t>(source) * kFilesPerSource + f) * kRowsPerFile + r;
      const int x = pick(rng);
      const std::string order_id = x % 53 == 0 ? "" : std::to_string(id);
      const double amount = x % 41 == 0 ? -5.0 : static_cast<double>(x % 90000) / 100.0 + 1.0;
      csv += fmt::format("{},{},{:.2f},{},2026-{:02}-{:02} {:02}:{:02}:00,{},{}\n", order_id,
                         1000 + x % 250, amount, kStatuses[x % 5], 1 + f * 3 + x % 3, 1 + x % 28,
                         x % 24, x % 60, kCountries[x % 6], kChannels[x % 4]);
    }
    WriteFile(folder / fmt::format("orders-{:03}.csv", f), csv);
  }
}

std::string BronzeSql(int i) {
  return fmt::format(R"(
CREATE OR REFRESH STREAMING TABLE bronze_orders_{0}
COMMENT 'Raw orders of region {0}, as they land'
AS SELECT *, _metadata.file_name AS source_file, current_timestamp() AS ingested_at
FROM STREAM read_files('${{landing}}/orders_{0}', format => 'csv', header => true);
)",
                     i);
}

// Silver kind k of region i: typed and cleaned rows of bronze_orders_i.
std::string SilverSql(int i, int k) {
  switch (k) {
    case 0:
      return fmt::format(R"(
CREATE OR REFRESH STREAMING TABLE silver_orders_{0} (
  CONSTRAINT valid_id EXPECT (order_id IS NOT NULL) ON VIOLATION DROP ROW,
  CONSTRAINT positive_amount EXPECT (amount > 0) ON VIOLATION DROP ROW,
  CONSTRAINT known_status EXPECT (status IN ('placed', 'shipped', 'returned'))
)
COMMENT 'Typed orders of region {0}'
AS SELECT
  CAST(order_id AS BIGINT) AS order_id,
  CAST(customer_id AS BIGINT) AS customer_id,
  CAST(amount AS DECIMAL(10, 2)) AS amount,
  lower(trim(status)) AS status,
  CAST(order_ts AS TIMESTAMP) AS order_ts,
  upper(country) AS country,
  coalesce(nullif(channel, ''), 'unknown') AS channel,
  source_file
FROM STREAM(bronze_orders_{0});
)",
                         i);
    case 1:
      return fmt::format(R"(
CREATE OR REFRESH STREAMING TABLE silver_order_sizes_{0} (
  CONSTRAINT has_amount EXPECT (amount IS NOT NULL) ON VIOLATION DROP ROW,
  CONSTRAINT valid_band EXPECT (size_band <> 'invalid')
)
AS SELECT
  CAST(order_id AS BIGINT) AS order_id,
  CASE WHEN amount >= 500 THEN 'large'
       WHEN amount >= 100 THEN 'medium'
       WHEN amount > 0 THEN 'small'
       ELSE 'invalid' END AS size_band,
  CAST(amount AS DOUBLE) AS amount
FROM STREAM(LIVE.bronze_orders_{0});
)",
                         i);
    case 2:
      return fmt::format(R"(
CREATE OR REFRESH STREAMING TABLE silver_order_days_{0} (
  CONSTRAINT valid_day EXPECT (order_day IS NOT NULL) ON VIOLATION DROP ROW
)
AS SELECT
  CAST(order_id AS BIGINT) AS order_id,
  date_format(order_ts, 'yyyy-MM-dd') AS order_day,
  date_format(order_ts, 'yyyy-MM') AS order_month,
  hour(order_ts) AS order_hour,
  CAST(amount AS DOUBLE) AS amount
FROM STREAM bronze_orders_{0};
)",
                         i);
    default:
      return fmt::format(R"(
CREATE OR REFRESH STREAMING TABLE silver_order_segments_{0} (
  CONSTRAINT has_customer EXPECT (customer_id IS NOT NULL),
  CONSTRAINT has_id EXPECT (order_id IS NOT NULL) ON VIOLATION DROP ROW
)
AS SELECT
  CAST(order_id AS BIGINT) AS order_id,
  CAST(customer_id AS BIGINT) AS customer_id,
  concat_ws('-', upper(country), coalesce(nullif(lower(channel), ''), 'unknown')) AS segment,
  coalesce(CAST(amount AS DOUBLE), 0.0) AS amount
FROM STREAM(bronze_orders_{0});
)",
                         i);
  }
}

// Gold kind k of region i (of `regions`): what people chart. Kinds 0, 1 and 4 read silver kinds
// 0 and 1 only; kind 2 needs silver kind 2, kind 3 silver kind 3.
std::string GoldSql(int i, int k, int regions) {
  switch (k) {
    case 0:
      return fmt::format(R"(
CREATE OR REFRESH MATERIALIZED VIEW gold_revenue_by_country_{0}
AS SELECT o.country, count(*) AS orders, sum(o.amount) AS revenue, avg(s.amount) AS avg_amount,
          count_if(s.size_band = 'large') AS large_orders
FROM silver_orders_{0} o JOIN silver_order_sizes_{0} s ON o.order_id = s.order_id
WHERE o.status <> 'returned'
GROUP BY o.country;
)",
                         i);
    case 1:
      return fmt::format(R"(
CREATE OR REFRESH MATERIALIZED VIEW gold_size_mix_{0}
AS SELECT size_band, count(*) AS orders, round(sum(amount), 2) AS amount,
          round(100.0 * count(*) / sum(count(*)) OVER (), 2) AS share_pct
FROM silver_order_sizes_{0}
GROUP BY size_band;
)",
                         i);
    case 2:
      return fmt::format(R"(
CREATE OR REFRESH MATERIALIZED VIEW gold_daily_{0}
AS SELECT d.order_day, d.order_month, count(DISTINCT o.customer_id) AS customers,
          sum(d.amount) AS amount, max(d.order_hour) AS last_hour,
          sum(CASE WHEN o.status = 'returned' THEN 1 ELSE 0 END) AS returns
FROM silver_order_days_{0} d JOIN silver_orders_{0} o ON d.order_id = o.order_id
GROUP BY d.order_day, d.order_month;
)",
                         i);
    case 3:
      return fmt::format(R"(
CREATE OR REFRESH MATERIALIZED VIEW gold_segments_{0}
AS SELECT segment, count(*) AS orders, sum(amount) AS amount,
          percentile_approx(amount, 0.5) AS median_amount
FROM silver_order_segments_{0}
GROUP BY segment;
)",
                         i);
    default:
      return fmt::format(R"(
CREATE OR REFRESH MATERIALIZED VIEW gold_cross_region_{0}
AS SELECT a.customer_id,
          count(DISTINCT a.order_id) AS orders_here,
          count(DISTINCT b.order_id) AS orders_next_region,
          concat_ws(',', min(a.country), max(b.country)) AS countries,
          coalesce(sum(a.amount), 0) AS amount_here
FROM silver_orders_{0} a LEFT JOIN silver_orders_{1} b ON a.customer_id = b.customer_id
GROUP BY a.customer_id;
)",
                         i, (i + 1) % regions);
  }
}

// Writes the spec, the three SQL libraries and the landing folders; returns the spec file.
fs::path GeneratePipeline(const std::string& name, const PipelineShape& shape) {
  const fs::path root = ScratchDir() / name;
  WriteFile(root / "spark-pipeline.yml", fmt::format("name: {}\n"
                                                     "libraries:\n"
                                                     "  - glob:\n"
                                                     "      include: transformations/**\n"
                                                     "configuration:\n"
                                                     "  landing: landing\n"
                                                     "  spark.sql.session.timeZone: UTC\n",
                                                     name));
  std::string bronze = "-- Bronze: raw orders per region, fed incrementally by Auto Loader.\n";
  std::string silver = "-- Silver: typed, cleaned orders; expectations drop or count bad rows.\n";
  std::string gold = "-- Gold: aggregates and joins of silver.\n";
  std::mt19937_64 rng(42);
  for (int i = 0; i < shape.bronze; ++i) {
    WriteLandingFolder(root / "landing" / fmt::format("orders_{}", i), i, rng);
    bronze += BronzeSql(i);
    for (int k = 0; k < shape.silver_per_bronze; ++k) silver += SilverSql(i, k);
    for (int k = 0; k < shape.gold_per_bronze; ++k) {
      // Gold kinds 2 and 3 need silver kinds 2 and 3; a smaller pipeline uses kinds 0, 1, 4.
      int kind = k;
      if (shape.silver_per_bronze < kSilverKinds && k >= 2) kind = 4;
      gold += GoldSql(i, kind, shape.bronze);
    }
  }
  WriteFile(root / "transformations" / "bronze.sql", bronze);
  WriteFile(root / "transformations" / "silver.sql", silver);
  WriteFile(root / "transformations" / "gold.sql", gold);
  return root / "spark-pipeline.yml";
}

// Prints how long building a fixture took.
class FixtureTimer {
 public:
  explicit FixtureTimer(std::string name)
      : name_(std::move(name)), start_(std::chrono::steady_clock::now()) {}
  ~FixtureTimer() {
    double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    std::fprintf(stderr, "pipeline_bench: fixture %s built in %.1f s\n", name_.c_str(), s);
  }

 private:
  std::string name_;
  std::chrono::steady_clock::time_point start_;
};

// The 100-dataset pipeline, checked once: it loads, has the expected size and dry-runs.
const fs::path& DryRunPipeline() {
  static const fs::path spec = [] {
    FixtureTimer timer("dry_run_100");
    fs::path s = GeneratePipeline("dry_run_100", kDryRunShape);
    auto p = Unwrap(Pipeline::Load(s), "load dry_run_100");
    if (p->graph().datasets().size() != static_cast<size_t>(kDryRunShape.datasets())) {
      Fail("dry_run_100",
           Status::Internal(fmt::format("{} datasets, expected {}", p->graph().datasets().size(),
                                        kDryRunShape.datasets())));
    }
    Status dry = p->DryRun();
    if (!dry.ok()) Fail("dry-run dry_run_100", dry);
    return s;
  }();
  return spec;
}

// Fails unless every flow of `result` is in `state`.
Status CheckAllFlows(const pipeline::UpdateResult& result, FlowReport::State state) {
  for (const FlowReport& f : result.flows) {
    if (f.state != state) {
      return Status::Internal(fmt::format("flow {} is {}, expected {}: {}", f.flow_name,
                                          pipeline::FlowStateName(f.state),
                                          pipeline::FlowStateName(state), f.error.ToString()));
    }
  }
  return Status::OK();
}

// The 20-dataset pipeline after its first run (every flow COMPLETED, checked).
const fs::path& NoOpPipeline() {
  static const fs::path spec = [] {
    FixtureTimer timer("no_op_run_20 (generate + first run)");
    fs::path s = GeneratePipeline("no_op_run_20", kNoOpShape);
    auto p = Unwrap(Pipeline::Load(s), "load no_op_run_20");
    if (p->graph().datasets().size() != static_cast<size_t>(kNoOpShape.datasets())) {
      Fail("no_op_run_20", Status::Internal("unexpected number of datasets"));
    }
    auto first = Unwrap(p->Run({}), "first run of no_op_run_20");
    Status s_ok = CheckAllFlows(first, FlowReport::State::kCompleted);
    if (!s_ok.ok()) Fail("first run of no_op_run_20", s_ok);
    return s;
  }();
  return spec;
}

// ---- benchmarks ----

// Load + DryRun of the 100-dataset pipeline (what `medallion dry-run` does).
void BM_DryRun100(benchmark::State& state) {
  const fs::path& spec = DryRunPipeline();
  size_t datasets = 0;
  for (auto _ : state) {
    auto p = Pipeline::Load(spec);
    Status s = p.ok() ? (*p)->DryRun() : p.status();
    if (!s.ok()) {
      state.SkipWithError(s.ToString().c_str());
      return;
    }
    datasets = (*p)->graph().datasets().size();
  }
  state.counters["datasets"] = static_cast<double>(datasets);
}

// Load alone of the 100-dataset pipeline: spec, SQL parsing, graph building, DuckDB open.
void BM_DryRun100Load(benchmark::State& state) {
  const fs::path& spec = DryRunPipeline();
  for (auto _ : state) {
    auto p = Pipeline::Load(spec);
    if (!p.ok()) {
      state.SkipWithError(p.status().ToString().c_str());
      return;
    }
    benchmark::DoNotOptimize(p);
  }
}

enum class NoOpPart {
  kLoadAndRun,  // what `medallion run` does
  kLoad,        // Pipeline::Load alone
  kRun,         // Pipeline::Run alone (the Load of the iteration is untimed)
};

// A run of the 20-dataset pipeline with nothing new: every flow must be UP_TO_DATE.
void BM_NoOpRun20(benchmark::State& state, NoOpPart part) {
  const fs::path& spec = NoOpPipeline();
  size_t flows = 0;
  for (auto _ : state) {
    if (part == NoOpPart::kRun) state.PauseTiming();
    auto p = Pipeline::Load(spec);
    if (!p.ok()) {
      state.SkipWithError(p.status().ToString().c_str());
      return;
    }
    if (part == NoOpPart::kLoad) continue;
    if (part == NoOpPart::kRun) state.ResumeTiming();
    auto result = (*p)->Run({});
    Status s = result.ok() ? CheckAllFlows(*result, FlowReport::State::kUpToDate) : result.status();
    if (!s.ok()) {
      state.SkipWithError(s.ToString().c_str());
      return;
    }
    flows = result->flows.size();
  }
  if (part != NoOpPart::kLoad) state.counters["flows"] = static_cast<double>(flows);
}

void RegisterAll() {
  using benchmark::RegisterBenchmark;
  // An iteration takes 50-500 ms: at least 2 s per repetition gives each median several of them.
  // The CPU time is the whole process's (DuckDB's worker threads included), which a busy machine
  // disturbs less than the wall time.
  auto configure = [](benchmark::internal::Benchmark* b) {
    b->Unit(benchmark::kMillisecond)->UseRealTime()->MeasureProcessCPUTime()->MinTime(2.0);
  };
  configure(RegisterBenchmark("BM_DryRun100", BM_DryRun100));
  configure(RegisterBenchmark("BM_DryRun100/load", BM_DryRun100Load));
  configure(RegisterBenchmark("BM_NoOpRun20",
                              [](benchmark::State& s) { BM_NoOpRun20(s, NoOpPart::kLoadAndRun); }));
  configure(RegisterBenchmark("BM_NoOpRun20/load",
                              [](benchmark::State& s) { BM_NoOpRun20(s, NoOpPart::kLoad); }));
  configure(RegisterBenchmark("BM_NoOpRun20/run",
                              [](benchmark::State& s) { BM_NoOpRun20(s, NoOpPart::kRun); }));
}

}  // namespace
}  // namespace medallion::bench

int main(int argc, char** argv) {
  return medallion::bench::RunBenchmarks(argc, argv, medallion::bench::RegisterAll);
}
