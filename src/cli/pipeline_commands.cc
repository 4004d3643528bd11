#include "cli/pipeline_commands.h"

#include <fmt/format.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <mutex>
#include <set>
#include <thread>

#include "common/macros.h"
#include "pipeline/pipeline_spec.h"
#include "pipeline/pipeline_update.h"

namespace medallion::cli {
namespace {

namespace fs = std::filesystem;
using pipeline::FlowReport;

struct PipelineArgs {
  std::string spec;
  std::string name;       // init
  std::string format = "text";  // graph
  std::vector<std::string> refresh;
  std::vector<std::string> full_refresh;
  bool full_refresh_all = false;
  int parallelism = 0;
  std::string memory_limit;
  int threads = 0;
};

int Fail(const Status& status) {
  std::cerr << "medallion: " << status.ToString() << '\n';
  return 1;
}

Result<std::unique_ptr<pipeline::Pipeline>> LoadPipeline(const PipelineArgs& args) {
  fs::path spec;
  if (!args.spec.empty()) {
    spec = args.spec;
  } else {
    ASSIGN_OR_RETURN(spec, pipeline::FindPipelineSpec(fs::current_path()));
  }
  engine::DatabaseOptions database;
  database.memory_limit = args.memory_limit;
  database.threads = args.threads;
  return pipeline::Pipeline::Load(spec, database);
}

// ---- init ----------------------------------------------------------------------------------

constexpr const char* kSpecTemplate = R"(# A Spark Declarative Pipelines spec (medallion runs it locally: `medallion run`).
name: {name}
libraries:
  - glob:
      include: transformations/**
configuration:
  # Where the raw files land; read by transformations/bronze.sql as ${{landing}}.
  landing: data/landing
)";

constexpr const char* kBronzeSql = R"(-- Bronze: raw orders as they land, one streaming table fed incrementally by Auto Loader.
CREATE OR REFRESH STREAMING TABLE bronze_orders
COMMENT 'Raw orders from the landing folder'
AS SELECT *, _metadata.file_path AS source_file, current_timestamp() AS ingested_at
FROM STREAM read_files('${landing}/orders', format => 'csv', header => true);

CREATE OR REFRESH STREAMING TABLE bronze_customers
AS SELECT * FROM STREAM read_files('${landing}/customers', format => 'json');
)";

constexpr const char* kSilverSql = R"(-- Silver: typed, cleaned orders; expectations count, drop or quarantine bad rows.
CREATE OR REFRESH STREAMING TABLE silver_orders (
  CONSTRAINT valid_id EXPECT (order_id IS NOT NULL) ON VIOLATION DROP ROW,
  CONSTRAINT positive_amount EXPECT (amount > 0) ON VIOLATION QUARANTINE,
  CONSTRAINT known_status EXPECT (status IN ('placed', 'shipped', 'returned'))
)
AS SELECT
  CAST(order_id AS BIGINT) AS order_id,
  CAST(customer_id AS BIGINT) AS customer_id,
  CAST(amount AS DECIMAL(10, 2)) AS amount,
  lower(trim(status)) AS status,
  to_date(order_date) AS order_date
FROM STREAM(bronze_orders);

CREATE OR REFRESH MATERIALIZED VIEW silver_customers
AS SELECT CAST(id AS BIGINT) AS customer_id, initcap(name) AS name, upper(country) AS country
FROM bronze_customers;
)";

constexpr const char* kGoldSql = R"(-- Gold: what people chart.
CREATE OR REFRESH MATERIALIZED VIEW gold_revenue_by_country
AS SELECT c.country, count(*) AS orders, sum(o.amount) AS revenue
FROM silver_orders o JOIN silver_customers c ON o.customer_id = c.customer_id
WHERE o.status <> 'returned'
GROUP BY c.country;
)";

constexpr const char* kOrdersCsv =
    "order_id,customer_id,amount,status,order_date\n"
    "1,10,25.50,placed,2026-01-03\n"
    "2,11,12.00,Shipped,2026-01-03\n"
    "3,10,-4.00,placed,2026-01-04\n"
    ",12,9.99,placed,2026-01-04\n"
    "5,12,100.00,returned,2026-01-05\n"
    "6,11,42.00,lost,2026-01-05\n";

constexpr const char* kCustomersJson =
    "{\"id\": 10, \"name\": \"ada lovelace\", \"country\": \"gb\"}\n"
    "{\"id\": 11, \"name\": \"grace hopper\", \"country\": \"us\"}\n"
    "{\"id\": 12, \"name\": \"edsger dijkstra\", \"country\": \"nl\"}\n";

Status WriteFile(const fs::path& path, std::string_view text) {
  fs::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary);
  out << text;
  if (!out) return Status::IOError("cannot write " + path.string());
  return Status::OK();
}

Status RunInit(const PipelineArgs& args) {
  if (args.name.empty()) return Status::InvalidArgument("init needs --name NAME");
  fs::path root = fs::current_path() / args.name;
  if (fs::exists(root)) {
    return Status::AlreadyExists(fmt::format("{} already exists", root.string()));
  }
  RETURN_NOT_OK(WriteFile(root / "spark-pipeline.yml",
                          fmt::format(fmt::runtime(kSpecTemplate), fmt::arg("name", args.name))));
  RETURN_NOT_OK(WriteFile(root / "transformations" / "bronze.sql", kBronzeSql));
  RETURN_NOT_OK(WriteFile(root / "transformations" / "silver.sql", kSilverSql));
  RETURN_NOT_OK(WriteFile(root / "transformations" / "gold.sql", kGoldSql));
  RETURN_NOT_OK(WriteFile(root / "data" / "landing" / "orders" / "orders-2026-01-03.csv", kOrdersCsv));
  RETURN_NOT_OK(
      WriteFile(root / "data" / "landing" / "customers" / "customers.json", kCustomersJson));
  std::cout << fmt::format(
      "Created pipeline '{}' in {}\n"
      "  spark-pipeline.yml         the spec\n"
      "  transformations/*.sql      bronze -> silver -> gold\n"
      "  data/landing/              sample files (add more and run again: only new files are read)\n"
      "Next:\n  cd {}\n  medallion run\n  medallion sql \"SELECT * FROM delta.`lakehouse/default/gold_revenue_by_country`\"\n",
      args.name, root.string(), args.name);
  return Status::OK();
}

// ---- run -----------------------------------------------------------------------------------

std::string Count(int64_t n) {
  std::string digits = std::to_string(n < 0 ? -n : n);
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return (n < 0 ? "-" : "") + out;
}

std::string Seconds(std::chrono::milliseconds d) {
  return fmt::format("{:.2f} s", static_cast<double>(d.count()) / 1000.0);
}

std::string Outcome(const FlowReport& r) {
  const auto& m = r.metrics;
  switch (r.state) {
    case FlowReport::State::kCompleted: {
      std::string text = fmt::format("{} rows written", Count(m.num_output_rows));
      if (m.num_dropped_rows) text += fmt::format(", {} dropped", Count(m.num_dropped_rows));
      if (m.num_quarantined_rows) {
        text += fmt::format(", {} quarantined", Count(m.num_quarantined_rows));
      }
      if (m.num_rescued_rows) text += fmt::format(", {} rescued", Count(m.num_rescued_rows));
      if (!m.detail.empty()) text += " (" + m.detail + ")";
      return text;
    }
    case FlowReport::State::kUpToDate: return m.detail.empty() ? "up to date" : m.detail;
    case FlowReport::State::kFailed: return r.error.message();
    case FlowReport::State::kSkipped: return r.error.message();
    case FlowReport::State::kExcluded: return "not selected";
    case FlowReport::State::kRunning: return "";
  }
  return "";
}

// While attached to a terminal: one status line with the running flows, redrawn every 200 ms.
class ProgressLine {
 public:
  explicit ProgressLine(bool enabled) : enabled_(enabled) {
    if (enabled_) thread_ = std::thread([this] { Loop(); });
  }
  ~ProgressLine() {
    if (!enabled_) return;
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }
  void Started(const std::string& flow) {
    std::lock_guard<std::mutex> lock(mu_);
    running_[flow] = std::chrono::steady_clock::now();
  }
  // Prints a finished line (clearing the status line first).
  void Print(const std::string& line) {
    std::lock_guard<std::mutex> lock(mu_);
    if (enabled_) std::cerr << "\r\033[K";
    std::cout << line << std::flush;
  }
  void Finished(const std::string& flow) {
    std::lock_guard<std::mutex> lock(mu_);
    running_.erase(flow);
  }

 private:
  void Loop() {
    static const char* kSpinner = "|/-\\";
    int tick = 0;
    std::unique_lock<std::mutex> lock(mu_);
    while (!stop_) {
      cv_.wait_for(lock, std::chrono::milliseconds(200));
      if (stop_ || running_.empty()) continue;
      std::string line;
      auto now = std::chrono::steady_clock::now();
      for (const auto& [flow, since] : running_) {
        line += fmt::format("{}{} {:.1f}s", line.empty() ? "" : ", ", flow,
                            std::chrono::duration<double>(now - since).count());
      }
      std::cerr << "\r\033[K  " << kSpinner[tick++ % 4] << " running: " << line << std::flush;
    }
    std::cerr << "\r\033[K" << std::flush;
  }
  bool enabled_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::map<std::string, std::chrono::steady_clock::time_point> running_;
  std::thread thread_;
};

Status RunUpdate(const PipelineArgs& args, bool* failed) {
  ASSIGN_OR_RETURN(auto p, LoadPipeline(args));
  const auto& graph = p->graph();
  size_t tables = 0;
  for (const auto& ds : graph.datasets()) tables += ds.is_table() ? 1 : 0;
  std::cout << fmt::format("Pipeline '{}': {} tables, {} flows; lakehouse {}\n", p->spec().name,
                           tables, graph.flows().size(), p->spec().lakehouse.string());
  pipeline::UpdateOptions options;
  options.refresh = args.refresh;
  options.full_refresh = args.full_refresh;
  options.full_refresh_all = args.full_refresh_all;
  options.parallelism = args.parallelism;
  ProgressLine progress(isatty(STDERR_FILENO) != 0);
  options.observer = [&](const FlowReport& r) {
    if (r.state == FlowReport::State::kRunning) {
      progress.Started(r.flow_name);
      return;
    }
    progress.Finished(r.flow_name);
    progress.Print(fmt::format("  {:<11} {:<28} {:>8}  {}\n", pipeline::FlowStateName(r.state),
                               r.flow_name, Seconds(r.duration), Outcome(r)));
  };
  auto result = p->Run(options);
  if (!result.ok()) return result.status();
  // The summary table.
  std::cout << fmt::format("\n  {:<28} {:<11} {:>12} {:>12} {:>9} {:>11} {:>9}\n", "flow", "status",
                           "rows read", "written", "dropped", "quarantined", "time");
  for (const FlowReport& r : result->flows) {
    const auto& m = r.metrics;
    bool ran = r.state == FlowReport::State::kCompleted;
    std::cout << fmt::format("  {:<28} {:<11} {:>12} {:>12} {:>9} {:>11} {:>9}\n", r.flow_name,
                             pipeline::FlowStateName(r.state), ran ? Count(m.num_input_rows) : "-",
                             ran ? Count(m.num_output_rows) : "-",
                             ran ? Count(m.num_dropped_rows) : "-",
                             ran ? Count(m.num_quarantined_rows) : "-", Seconds(r.duration));
  }
  std::cout << fmt::format("\nUpdate {} {} in {}. Event log: medallion sql \"SELECT * FROM "
                           "event_log('{}')\"\n",
                           result->update_id.substr(0, 8), result->ok() ? "completed" : "FAILED",
                           Seconds(result->duration), p->spec().name);
  for (const FlowReport& r : result->flows) {
    if (r.state == FlowReport::State::kFailed) {
      std::cerr << fmt::format("medallion: flow '{}' failed: {}\n", r.flow_name,
                               r.error.ToString());
    }
  }
  *failed = !result->ok();
  return Status::OK();
}

// ---- graph ---------------------------------------------------------------------------------

std::string KindName(pipeline::DatasetKind kind) {
  switch (kind) {
    case pipeline::DatasetKind::kStreamingTable: return "streaming table";
    case pipeline::DatasetKind::kMaterializedView: return "materialized view";
    case pipeline::DatasetKind::kTemporaryView: return "temporary view";
    case pipeline::DatasetKind::kView: return "view";
  }
  return "dataset";
}

Status PrintGraph(const PipelineArgs& args) {
  ASSIGN_OR_RETURN(auto p, LoadPipeline(args));
  const auto& g = p->graph();
  // Edges: input (dataset or source) -> dataset, labelled with the flow.
  struct Edge {
    std::string from, to, flow;
    bool streaming;
  };
  std::vector<Edge> edges;
  std::set<std::string> external;
  for (const auto& flow : g.flows()) {
    const std::string& to = g.datasets()[flow.target].definition.name;
    for (const auto& s : flow.sources) {
      std::string from = s.dataset ? g.datasets()[*s.dataset].definition.name
                                   : (s.kind == pipeline::FlowSource::Kind::kFiles
                                          ? s.display_name.substr(0, s.display_name.find('(')) +
                                                "(" + s.arguments.substr(0, s.arguments.find(',')) + ")"
                                          : s.display_name);
      if (!s.dataset) external.insert(from);
      edges.push_back({from, to, flow.name, s.streaming});
    }
  }
  auto id = [](const std::string& name) {
    std::string out = "n_";
    for (char c : name) out += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
    return out;
  };
  if (args.format == "dot") {
    std::cout << "digraph \"" << p->spec().name << "\" {\n  rankdir=LR;\n";
    for (const auto& ds : g.datasets()) {
      std::cout << fmt::format("  {} [label=\"{}\\n({})\", shape={}];\n", id(ds.definition.name),
                               ds.definition.name, KindName(ds.definition.kind),
                               ds.is_table() ? "box" : "ellipse");
    }
    for (const auto& e : external) {
      std::cout << fmt::format("  {} [label=\"{}\", shape=note];\n", id(e), e);
    }
    for (const auto& e : edges) {
      std::cout << fmt::format("  {} -> {}{};\n", id(e.from), id(e.to),
                               e.streaming ? " [style=bold, label=\"stream\"]" : "");
    }
    std::cout << "}\n";
    return Status::OK();
  }
  if (args.format == "mermaid") {
    std::cout << "flowchart LR\n";
    for (const auto& ds : g.datasets()) {
      std::cout << fmt::format("  {}[\"{}<br/>{}\"]\n", id(ds.definition.name), ds.definition.name,
                               KindName(ds.definition.kind));
    }
    for (const auto& e : external) std::cout << fmt::format("  {}[/\"{}\"/]\n", id(e), e);
    for (const auto& e : edges) {
      std::cout << fmt::format("  {} {} {}\n", id(e.from), e.streaming ? "==>" : "-->", id(e.to));
    }
    return Status::OK();
  }
  if (args.format != "text") {
    return Status::InvalidArgument("--format must be text, dot or mermaid, not " + args.format);
  }
  std::cout << fmt::format("Pipeline '{}' ({})\n", p->spec().name, p->spec().path.string());
  for (size_t f : g.topological_order()) {
    const auto& flow = g.flows()[f];
    const auto& ds = g.datasets()[flow.target];
    std::string inputs;
    std::set<std::string> seen;
    for (const auto& e : edges) {
      if (e.flow != flow.name || e.to != ds.definition.name) continue;
      std::string input = std::string(e.streaming ? "STREAM " : "") + e.from;
      if (seen.insert(input).second) inputs += (inputs.empty() ? "" : ", ") + input;
    }
    std::cout << fmt::format("  {:<30} {:<18} <- {}{}\n", ds.definition.name,
                             KindName(ds.definition.kind), inputs.empty() ? "(nothing)" : inputs,
                             flow.implicit ? "" : fmt::format("   [flow {}{}]", flow.name,
                                                              flow.once ? ", ONCE" : ""));
  }
  return Status::OK();
}

}  // namespace

std::function<int()> AddPipelineCommands(CLI::App& app) {
  auto args = std::make_shared<PipelineArgs>();
  auto add_spec = [&](CLI::App* c) {
    c->add_option("--spec", args->spec,
                  "The pipeline spec (default: spark-pipeline.yml here or in a parent folder)");
  };
  CLI::App* init = app.add_subcommand("init", "Create a pipeline project with a working example");
  init->add_option("--name", args->name, "The project (and pipeline) name")->required();

  CLI::App* run = app.add_subcommand("run", "Run one update of the pipeline");
  add_spec(run);
  run->add_option("--refresh", args->refresh, "Update only these tables")->delimiter(',');
  run->add_option("--full-refresh", args->full_refresh, "Truncate and reprocess these tables")
      ->delimiter(',');
  run->add_flag("--full-refresh-all", args->full_refresh_all,
                "Truncate and reprocess every table");
  run->add_option("--parallelism", args->parallelism,
                  "Flows run at once (default: the number of cores)");
  run->add_option("--memory-limit", args->memory_limit, "DuckDB memory limit, e.g. 4GB");
  run->add_option("--threads", args->threads, "DuckDB worker threads (default: all cores)");

  CLI::App* dry = app.add_subcommand(
      "dry-run", "Check the pipeline: parse, resolve and bind every query; nothing runs");
  add_spec(dry);
  CLI::App* graph = app.add_subcommand("graph", "Print the pipeline's dataflow graph");
  add_spec(graph);
  graph->add_option("--format", args->format, "text (default), dot or mermaid");

  return [args, init, run, dry, graph]() -> int {
    if (init->parsed()) {
      Status s = RunInit(*args);
      return s.ok() ? 0 : Fail(s);
    }
    if (run->parsed()) {
      bool failed = false;
      Status s = RunUpdate(*args, &failed);
      if (!s.ok()) return Fail(s);
      return failed ? 1 : 0;
    }
    if (dry->parsed()) {
      auto p = LoadPipeline(*args);
      if (!p.ok()) return Fail(p.status());
      Status s = (*p)->DryRun();
      if (!s.ok()) return Fail(s);
      size_t n = (*p)->graph().datasets().size();
      std::cout << fmt::format("Pipeline '{}' is valid: {} datasets, {} flows.\n",
                               (*p)->spec().name, n, (*p)->graph().flows().size());
      return 0;
    }
    if (graph->parsed()) {
      Status s = PrintGraph(*args);
      return s.ok() ? 0 : Fail(s);
    }
    return -1;
  };
}

}  // namespace medallion::cli
