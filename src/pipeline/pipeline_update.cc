#include "common/text.h"
#include "pipeline/pipeline_update.h"

#include <fmt/format.h>

#include <fstream>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "common/macros.h"
#include "delta/snapshot.h"
#include "delta/transaction.h"
#include "engine/delta_scan.h"
#include "engine/delta_writer.h"
#include "engine/spark_sql.h"
#include "engine/sql_text.h"
#include "orchestrate/task_graph.h"
#include "pipeline/sql_parser.h"

namespace medallion::pipeline {
namespace {

using nlohmann::json;

Result<std::string> ReadTextFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::IOError(fmt::format("cannot read {}", path.string()));
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

const char* FlowTypeName(const Flow& flow, const Dataset& target) {
  if (flow.kind == FlowDefinition::Kind::kAutoCdc) return "AUTO_CDC";
  if (target.definition.kind == DatasetKind::kMaterializedView) return "MATERIALIZED_VIEW";
  return "APPEND";
}

// Resolves user-given dataset names (qualified or not) to dataset indexes.
Result<std::set<size_t>> ResolveSelection(const DataflowGraph& graph,
                                          const std::vector<std::string>& names) {
  std::set<size_t> out;
  for (const std::string& name : names) {
    std::string wanted = AsciiLower(name);
    std::vector<size_t> matches;
    for (size_t d = 0; d < graph.datasets().size(); ++d) {
      const Dataset& ds = graph.datasets()[d];
      if (!ds.is_table()) continue;
      const std::string& canonical = ds.canonical_name;
      if (canonical == wanted || canonical.ends_with("." + wanted)) matches.push_back(d);
    }
    if (matches.empty()) {
      return Status::InvalidArgument(fmt::format(
          "no table named '{}' in this pipeline (tables: {})", name,
          [&] {
            std::string all;
            for (const auto& ds : graph.datasets()) {
              if (ds.is_table()) all += (all.empty() ? "" : ", ") + ds.definition.name;
            }
            return all;
          }()));
    }
    if (matches.size() > 1) {
      return Status::InvalidArgument(
          fmt::format("'{}' names more than one table: qualify it with its schema", name));
    }
    out.insert(matches.front());
  }
  return out;
}

// Flows (not view flows) that `flow` waits for: the writers of every table it reads, through
// views.
void UpstreamTableFlows(const DataflowGraph& graph, size_t flow, std::set<size_t>& out,
                        std::set<size_t>& visited) {
  for (size_t u : graph.flows()[flow].upstream_flows) {
    if (!visited.insert(u).second) continue;
    if (graph.datasets()[graph.flows()[u].target].is_table()) {
      out.insert(u);
    } else {
      UpstreamTableFlows(graph, u, out, visited);
    }
  }
}

}  // namespace

std::string_view FlowStateName(FlowReport::State state) {
  switch (state) {
    case FlowReport::State::kRunning: return "RUNNING";
    case FlowReport::State::kCompleted: return "COMPLETED";
    case FlowReport::State::kUpToDate: return "UP_TO_DATE";
    case FlowReport::State::kFailed: return "FAILED";
    case FlowReport::State::kSkipped: return "SKIPPED";
    case FlowReport::State::kExcluded: return "EXCLUDED";
  }
  return "UNKNOWN";
}

bool UpdateResult::ok() const {
  return std::none_of(flows.begin(), flows.end(), [](const FlowReport& f) {
    return f.state == FlowReport::State::kFailed || f.state == FlowReport::State::kSkipped;
  });
}

std::filesystem::path PipelineStateFolder(const PipelineSpec& spec) {
  std::filesystem::path folder = spec.lakehouse / "_pipelines" / spec.name;
  if (spec.storage) {
    std::string storage = *spec.storage;
    if (storage.starts_with("file://")) storage = storage.substr(7);
    else if (storage.starts_with("file:")) storage = storage.substr(5);
    folder = storage;
  }
  if (folder.is_relative()) folder = spec.root_dir / folder;
  return folder.lexically_normal();
}

Result<std::filesystem::path> FindEventLog(std::string_view name,
                                           const std::filesystem::path& start_dir) {
  std::filesystem::path as_folder(name);
  if (std::filesystem::is_directory(as_folder / "_delta_log")) return as_folder;
  auto spec_file = FindPipelineSpec(start_dir);
  if (spec_file.ok()) {
    ASSIGN_OR_RETURN(PipelineSpec spec, LoadPipelineSpec(*spec_file));
    if (spec.name == name) return PipelineStateFolder(spec) / kEventLogFolder;
    return Status::NotFound(fmt::format(
        "no event log for pipeline '{}': the pipeline here ({}) is named '{}'", name,
        spec_file->string(), spec.name));
  }
  return Status::NotFound(fmt::format(
      "no event log for pipeline '{}': no spark-pipeline.yml in {} or its parents, and no Delta "
      "table at that path",
      name, start_dir.string()));
}

Result<std::unique_ptr<Pipeline>> Pipeline::Load(const std::filesystem::path& spec_file,
                                                 const engine::DatabaseOptions& database) {
  std::unique_ptr<Pipeline> p(new Pipeline());
  ASSIGN_OR_RETURN(p->spec_, LoadPipelineSpec(spec_file));
  ASSIGN_OR_RETURN(auto files, ResolveLibraries(p->spec_));
  std::vector<SqlSource> sources;
  for (const auto& file : files) {
    ASSIGN_OR_RETURN(std::string text, ReadTextFile(file));
    std::string display = std::filesystem::relative(file, p->spec_.root_dir).string();
    sources.push_back(SqlSource{display, std::move(text)});
  }
  ParseOptions parse_options;
  parse_options.configuration = p->spec_.configuration;
  parse_options.catalog = p->spec_.catalog;
  parse_options.schema = p->spec_.schema;
  ASSIGN_OR_RETURN(auto definitions, ParsePipelineSql(sources, parse_options));

  p->state_folder_ = PipelineStateFolder(p->spec_);

  engine::DatabaseOptions db_options = database;
  if (db_options.temp_directory.empty()) {
    db_options.temp_directory = (p->state_folder_ / "tmp").string();
  }
  ASSIGN_OR_RETURN(p->db_, engine::Database::Open(db_options));
  ASSIGN_OR_RETURN(auto conn, p->db_->Connect());
  DataflowGraph::Options graph_options;
  graph_options.default_catalog = p->spec_.catalog;
  graph_options.default_schema = p->spec_.schema.empty() ? "default" : p->spec_.schema;
  graph_options.lakehouse = p->spec_.lakehouse.string();
  ASSIGN_OR_RETURN(p->graph_, DataflowGraph::Build(definitions, graph_options, *conn));
  // The spark_* macros, once for every connection the flows will open, when some query or
  // expectation calls one.
  bool calls_macros = false;
  for (const Flow& f : p->graph_.flows()) calls_macros |= engine::CallsSparkFunctions(f.sql);
  for (const Dataset& d : p->graph_.datasets()) {
    for (const Expectation& e : d.definition.expectations) {
      ASSIGN_OR_RETURN(std::string condition, engine::TranslateSparkSql(e.condition));
      calls_macros |= engine::CallsSparkFunctions(condition);
    }
  }
  if (calls_macros) {
    RETURN_NOT_OK(engine::RegisterSparkFunctions(*conn, engine::MacroScope::kDatabase));
  }
  ASSIGN_OR_RETURN(p->parquet_, engine::DuckDbParquetHandler::Make());
  return p;
}

Result<std::string> Pipeline::PipelineId() {
  std::string key = "pipeline.json";
  auto existing = state_->Read(key);
  if (!existing.ok()) {
    json doc = {{"id", delta::GenerateUuid()}, {"name", spec_.name}};
    Status put = state_->PutIfAbsent(key, doc.dump());
    if (!put.ok() && put.code() != StatusCode::kAlreadyExists) return put;
    existing = state_->Read(key);
  }
  RETURN_NOT_OK(existing.status());
  json doc = json::parse(*existing, nullptr, false);
  if (doc.is_discarded() || !doc.contains("id")) {
    return Status::Corruption(fmt::format("{}: malformed pipeline state file",
                                          (state_folder_ / key).string()));
  }
  return doc["id"].get<std::string>();
}

Status Pipeline::DryRun() {
  ASSIGN_OR_RETURN(auto conn, db_->Connect());
  RETURN_NOT_OK(conn->Execute("SET TimeZone = 'UTC'"));
  std::filesystem::create_directories(spec_.lakehouse);
  ASSIGN_OR_RETURN(auto lakehouse, storage::LocalObjectStore::Make(spec_.lakehouse.string()));
  UpdateContext ctx;
  ctx.pipeline_name = spec_.name;
  ctx.root_dir = spec_.root_dir.string();
  ctx.graph = &graph_;
  ctx.database = db_.get();
  ctx.lakehouse = lakehouse.get();
  ctx.lakehouse_path = spec_.lakehouse.string();
  ctx.parquet = parquet_.get();
  std::map<size_t, std::string> dry_tables;
  // Binding runs hundreds of small statements: one thread avoids scheduling them across the pool,
  // and one transaction avoids a commit per statement (everything is rolled back at the end).
  ASSIGN_OR_RETURN(auto threads, conn->Query("SELECT current_setting('threads')"));
  ASSIGN_OR_RETURN(int64_t pool_threads, threads.GetInt64(0, 0));
  RETURN_NOT_OK(conn->Execute("SET threads = 1"));
  auto bind_all = [&]() -> Status {
    RETURN_NOT_OK(conn->Execute("BEGIN TRANSACTION"));
    for (size_t f : graph_.topological_order()) {
      const Flow& flow = graph_.flows()[f];
      const Dataset& target = graph_.datasets()[flow.target];
      std::string table = fmt::format("__medallion_dry_{}", f);
      Status bound = FlowExecutor(ctx, f).Bind(*conn, dry_tables, table);
      if (!bound.ok()) {
        return Status(bound.code(),
                      fmt::format("{}:{}: {}: {}", flow.location.file, flow.location.line,
                                  target.definition.name, bound.message()));
      }
      if (!dry_tables.count(flow.target)) dry_tables[flow.target] = table;
    }
    return Status::OK();
  };
  Status bound = bind_all();
  (void)conn->Execute("ROLLBACK");  // fails only when no transaction is open
  RETURN_NOT_OK(conn->Execute(fmt::format("SET threads = {}", pool_threads)));
  return bound;
}

Result<UpdateResult> Pipeline::Run(const UpdateOptions& options) {
  auto started = std::chrono::steady_clock::now();
  std::filesystem::create_directories(spec_.lakehouse);
  std::filesystem::create_directories(state_folder_);
  if (!lakehouse_) {
    ASSIGN_OR_RETURN(lakehouse_, storage::LocalObjectStore::Make(spec_.lakehouse.string()));
  }
  if (!state_) {
    ASSIGN_OR_RETURN(state_, storage::LocalObjectStore::Make(state_folder_.string()));
  }
  if (!checkpoint_writer_) {
    ASSIGN_OR_RETURN(checkpoint_writer_, engine::DuckDbParquetWriter::Make());
  }
  ASSIGN_OR_RETURN(std::string pipeline_id, PipelineId());
  UpdateResult result;
  result.update_id = delta::GenerateUuid();
  EventLog events(*state_, std::string(kEventLogFolder), pipeline_id, spec_.name,
                  result.update_id);
  ASSIGN_OR_RETURN(auto conn, db_->Connect());

  // 1. Selection.
  ASSIGN_OR_RETURN(std::set<size_t> refresh, ResolveSelection(graph_, options.refresh));
  ASSIGN_OR_RETURN(std::set<size_t> full, ResolveSelection(graph_, options.full_refresh));
  std::set<size_t> selected;  // datasets to update
  bool select_all = refresh.empty() && full.empty();
  for (size_t d = 0; d < graph_.datasets().size(); ++d) {
    if (!graph_.datasets()[d].is_table()) continue;
    if (select_all || refresh.count(d) || full.count(d)) selected.insert(d);
  }
  if (options.full_refresh_all) full = selected;

  json selection_full = json::array(), selection_refresh = json::array();
  for (size_t d : full) selection_full.push_back(graph_.datasets()[d].definition.name);
  for (size_t d : refresh) selection_refresh.push_back(graph_.datasets()[d].definition.name);
  events.Add({.event_type = "create_update",
              .message = fmt::format("Update {} started by USER_ACTION.",
                                     result.update_id.substr(0, 6)),
              .details_json = json{{"create_update",
                                    {{"cause", "USER_ACTION"},
                                     {"full_refresh", options.full_refresh_all},
                                     {"full_refresh_selection", selection_full},
                                     {"refresh_selection", selection_refresh}}}}
                                  .dump()});
  events.Add({.event_type = "update_progress",
              .message = fmt::format("Update {} is INITIALIZING.", result.update_id.substr(0, 6)),
              .details_json = json{{"update_progress", {{"state", "INITIALIZING"}}}}.dump()});
  for (size_t f = 0; f < graph_.flows().size(); ++f) {
    const Flow& flow = graph_.flows()[f];
    const Dataset& target = graph_.datasets()[flow.target];
    if (!target.is_table()) continue;
    json inputs = json::array();
    for (size_t d : graph_.InputDatasets(flow.target)) {
      inputs.push_back(graph_.datasets()[d].definition.name);
    }
    for (const auto& s : flow.sources) {
      if (s.kind != FlowSource::Kind::kDataset) inputs.push_back(s.display_name);
    }
    events.Add({.event_type = "flow_definition",
                .message = fmt::format("Flow '{}' is defined as {}.", flow.name,
                                       FlowTypeName(flow, target)),
                .flow_name = flow.name,
                .dataset_name = target.definition.name,
                .details_json = json{{"flow_definition",
                                      {{"output_dataset", target.definition.name},
                                       {"input_datasets", inputs},
                                       {"flow_type", FlowTypeName(flow, target)},
                                       {"once", flow.once},
                                       {"explain_text", flow.sql}}}}
                                    .dump()});
  }

  // 2. Full refresh.
  for (size_t d : full) {
    const Dataset& ds = graph_.datasets()[d];
    auto allowed = ds.definition.table_properties.find("pipelines.reset.allowed");
    if (allowed != ds.definition.table_properties.end() && AsciiLower(allowed->second) == "false") {
      return Status::InvalidArgument(fmt::format(
          "{}:{}: cannot fully refresh '{}': its table property pipelines.reset.allowed is false",
          ds.definition.location.file, ds.definition.location.line, ds.definition.name));
    }
  }
  for (size_t d : full) {
    const Dataset& ds = graph_.datasets()[d];
    if (ds.definition.kind == DatasetKind::kMaterializedView) {
      for (size_t f : graph_.FlowsInto(d)) {
        Status deleted = state_->Delete(MaterializedViewRefreshKey(graph_.flows()[f].name));
        if (!deleted.ok() && deleted.code() != StatusCode::kNotFound) return deleted;
      }
      continue;
    }
    auto main = delta::SnapshotBuilder(*lakehouse_, ds.table_folder).Build(*parquet_);
    if (!main.ok()) {
      if (main.status().code() == StatusCode::kNotFound) continue;  // nothing to truncate
      return main.status();
    }
    int64_t epoch = (*main)->TxnVersion(ResetAppId(spec_.name)).value_or(0) + 1;
    for (std::string folder : {ds.table_folder + "_quarantine", AutoCdcStateFolder(ds.table_folder),
                               ds.table_folder}) {
      auto snapshot = delta::SnapshotBuilder(*lakehouse_, folder).Build(*parquet_);
      if (!snapshot.ok()) {
        if (snapshot.status().code() == StatusCode::kNotFound) continue;
        return snapshot.status();
      }
      std::string view = "__medallion_truncate";
      RETURN_NOT_OK(engine::RegisterDeltaScan(*conn, **snapshot, *lakehouse_, view));
      engine::WriteOptions write;
      write.mode = engine::WriteOptions::Mode::kOverwrite;
      write.txn = std::make_pair(ResetAppId(spec_.name), epoch);
      write.operation = "TRUNCATE";
      write.checkpoint_writer = checkpoint_writer_.get();
      RETURN_NOT_OK(engine::WriteDelta(*conn, fmt::format("SELECT * FROM {} LIMIT 0", view),
                                       *lakehouse_, folder, *parquet_, write)
                        .status()
                        .WithContext(fmt::format("full refresh of {}", ds.definition.name)));
    }
  }

  // 3. The task graph.
  UpdateContext ctx;
  ctx.pipeline_name = spec_.name;
  ctx.root_dir = spec_.root_dir.string();
  ctx.graph = &graph_;
  ctx.database = db_.get();
  ctx.lakehouse = lakehouse_.get();
  ctx.lakehouse_path = spec_.lakehouse.string();
  ctx.state = state_.get();
  ctx.parquet = parquet_.get();
  ctx.checkpoint_writer = checkpoint_writer_.get();
  ctx.event_log = &events;

  orchestrate::TaskGraph tasks;
  std::vector<size_t> task_flow;             // task id -> flow
  std::map<size_t, orchestrate::TaskId> flow_task;
  std::vector<FlowReport> reports(graph_.flows().size());
  for (size_t f : graph_.topological_order()) {
    const Flow& flow = graph_.flows()[f];
    const Dataset& target = graph_.datasets()[flow.target];
    if (!target.is_table()) continue;
    reports[f].flow_name = flow.name;
    reports[f].dataset_name = target.definition.name;
    if (!selected.count(flow.target)) {
      reports[f].state = FlowReport::State::kExcluded;
      continue;
    }
    flow_task[f] = tasks.Add(flow.name, [&, f](int attempt) -> Status {
      reports[f].attempts = attempt;
      auto metrics = FlowExecutor(ctx, f).Run();
      if (!metrics.ok()) return metrics.status();
      reports[f].metrics = std::move(*metrics);
      return Status::OK();
    });
    task_flow.push_back(f);
  }
  std::map<size_t, orchestrate::TaskId> last_writer;  // dataset -> last task writing it
  for (size_t f : graph_.topological_order()) {
    auto it = flow_task.find(f);
    if (it == flow_task.end()) continue;
    std::set<size_t> upstream, visited;
    UpstreamTableFlows(graph_, f, upstream, visited);
    for (size_t u : upstream) {
      if (auto ut = flow_task.find(u); ut != flow_task.end()) {
        RETURN_NOT_OK(tasks.AddDependency(it->second, ut->second));
      }
    }
    size_t target = graph_.flows()[f].target;
    if (auto lw = last_writer.find(target); lw != last_writer.end()) {
      RETURN_NOT_OK(tasks.AddDependency(it->second, lw->second));
    }
    last_writer[target] = it->second;
  }

  events.Add({.event_type = "update_progress",
              .message = fmt::format("Update {} is RUNNING.", result.update_id.substr(0, 6)),
              .details_json = json{{"update_progress", {{"state", "RUNNING"}}}}.dump()});
  orchestrate::RunOptions run_options;
  run_options.parallelism = options.parallelism;
  std::map<size_t, std::chrono::steady_clock::time_point> started_at;  // by flow
  run_options.on_event = [&](const orchestrate::TaskEvent& e) {
    size_t f = task_flow[e.task];
    FlowReport& report = reports[f];
    if (e.kind == orchestrate::TaskEvent::Kind::kStarted && e.attempt == 1) {
      report.state = FlowReport::State::kRunning;
      started_at[f] = std::chrono::steady_clock::now();
      events.Add({.event_type = "flow_progress",
                  .message = fmt::format("Flow '{}' is RUNNING.", report.flow_name),
                  .flow_name = report.flow_name,
                  .dataset_name = report.dataset_name,
                  .details_json = json{{"flow_progress", {{"status", "RUNNING"}}}}.dump()});
      if (options.observer) options.observer(report);
    }
    if (e.kind == orchestrate::TaskEvent::Kind::kRetrying) {
      events.Add({.event_type = "flow_progress",
                  .level = "WARN",
                  .message = fmt::format("Flow '{}' failed (attempt {}), retrying in {} ms: {}",
                                         report.flow_name, e.attempt, e.backoff.count(),
                                         e.status.message()),
                  .flow_name = report.flow_name,
                  .dataset_name = report.dataset_name,
                  .details_json = json{{"flow_progress", {{"status", "RUNNING"}}}}.dump()});
    }
    if (e.kind != orchestrate::TaskEvent::Kind::kFinished) return;
    report.attempts = e.attempt;
    if (auto it = started_at.find(f); it != started_at.end()) {
      report.duration = std::chrono::duration_cast<std::chrono::milliseconds>(
          std::chrono::steady_clock::now() - it->second);
    }
    switch (e.state) {
      case orchestrate::TaskState::kCompleted:
        report.state = report.metrics.outcome == FlowMetrics::Outcome::kUpToDate
                           ? FlowReport::State::kUpToDate
                           : FlowReport::State::kCompleted;
        break;
      case orchestrate::TaskState::kFailed:
        report.state = FlowReport::State::kFailed;
        report.error = e.status;
        break;
      case orchestrate::TaskState::kSkipped:
      case orchestrate::TaskState::kCancelled:
        report.state = FlowReport::State::kSkipped;
        report.error = e.status;
        break;
    }
    const FlowMetrics& m = report.metrics;
    json expectations = json::array();
    for (const auto& x : m.expectations) {
      expectations.push_back({{"name", x.name},
                              {"dataset", x.dataset},
                              {"passed_records", x.passed_records},
                              {"failed_records", x.failed_records}});
    }
    std::string status(FlowStateName(report.state));
    if (report.state == FlowReport::State::kUpToDate) status = "COMPLETED";
    json details = {{"flow_progress",
                     {{"status", status},
                      {"metrics",
                       {{"num_output_rows", m.num_output_rows},
                        {"num_input_rows", m.num_input_rows},
                        {"num_input_files", m.num_input_files},
                        {"num_rescued_rows", m.num_rescued_rows},
                        {"num_malformed_records_dropped", m.num_malformed_dropped},
                        {"num_upserted_rows", m.num_upserted_rows},
                        {"num_deleted_rows", m.num_deleted_rows}}},
                      {"data_quality",
                       {{"dropped_records", m.num_dropped_rows},
                        {"quarantined_records", m.num_quarantined_rows},
                        {"expectations", expectations}}}}}};
    if (!m.refresh_technique.empty()) {
      // Databricks' planning_information event: the techniques considered and the one chosen.
      // The incremental technique tried (GROUP_AGGREGATE when none applied) and the complete one.
      json techniques = json::array();
      const std::string incremental =
          m.refresh_technique == "COMPLETE_RECOMPUTE" ? "GROUP_AGGREGATE" : m.refresh_technique;
      for (std::string_view t : {std::string_view(incremental), std::string_view("COMPLETE_RECOMPUTE")}) {
        const bool chosen = t == m.refresh_technique;
        const bool applicable = chosen || t == "COMPLETE_RECOMPUTE" || m.incremental_applicable;
        json info = {{"maintenance_type", fmt::format("MAINTENANCE_TYPE_{}", t)},
                     {"is_chosen", chosen},
                     {"is_applicable", applicable}};
        if (!chosen && t == incremental && !m.not_incremental_reason.empty()) {
          info["incrementalization_issues"] = json::array(
              {{{"issue_type", m.not_incremental_reason.substr(0, m.not_incremental_reason.find(':'))},
                {"prevent_incrementalization", !applicable},
                {"message", m.not_incremental_reason}}});
        }
        techniques.push_back(std::move(info));
      }
      events.Add({.event_type = "planning_information",
                  .level = "INFO",
                  .message = fmt::format("Flow '{}' has been planned to be executed as {}.",
                                         report.flow_name, m.refresh_technique),
                  .flow_name = report.flow_name,
                  .dataset_name = report.dataset_name,
                  .details_json = json{{"planning_information",
                                        {{"technique_information", techniques}}}}.dump()});
    }
    PipelineEvent event{.event_type = "flow_progress",
                        .level = report.state == FlowReport::State::kFailed ? "ERROR" : "INFO",
                        .message = fmt::format("Flow '{}' has {}.", report.flow_name,
                                               status == "FAILED" ? "FAILED" : status),
                        .flow_name = report.flow_name,
                        .dataset_name = report.dataset_name,
                        .details_json = details.dump()};
    if (report.state == FlowReport::State::kFailed) {
      event.error_message = report.error.message();
      event.error_class = std::string(StatusCodeName(report.error.code()));
    }
    events.Add(std::move(event));
    if (options.observer) options.observer(report);
  };
  RETURN_NOT_OK(orchestrate::RunTaskGraph(tasks, run_options).status());
  for (size_t f : graph_.topological_order()) {
    if (graph_.datasets()[graph_.flows()[f].target].is_table()) result.flows.push_back(reports[f]);
  }
  std::string final_state = result.ok() ? "COMPLETED" : "FAILED";
  events.Add({.event_type = "update_progress",
              .level = result.ok() ? "INFO" : "ERROR",
              .message = fmt::format("Update {} is {}.", result.update_id.substr(0, 6), final_state),
              .details_json = json{{"update_progress", {{"state", final_state}}}}.dump()});
  RETURN_NOT_OK(events.Flush(*conn, *parquet_, *checkpoint_writer_));
  result.duration = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - started);
  return result;
}

}  // namespace medallion::pipeline
