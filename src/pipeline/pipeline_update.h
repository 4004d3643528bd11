// A loaded pipeline and its updates: what `medallion run`, `dry-run` and `graph` do
// (../shared/DESIGN.md, "One pipeline run"; Databricks' "pipeline update").
//
// Pipeline::Load finds and validates the spec (pipeline/pipeline_spec.h), parses every SQL
// library (pipeline/sql_parser.h) and builds the dataflow graph (pipeline/dataflow_graph.h).
// Where things live:
//   - tables: <lakehouse>/<schema>/<table> (PipelineSpec::lakehouse, default ./lakehouse beside
//     the spec), or <lakehouse>/<catalog>/<schema>/<table> when the spec names a catalog;
//   - pipeline state (flow progress, materialized view refresh records, the pipeline id) and the
//     event log: the spec's `storage` folder when given, else <lakehouse>/_pipelines/<name>.
//
// Pipeline::Run performs one update:
//   1. selects the flows: all of them, or only those writing the datasets named in
//      `refresh` / `full_refresh` (Databricks' selective refresh); unknown names are errors;
//   2. full refresh (of the selection, or of everything with full_refresh_all): refused for a
//      table with TBLPROPERTIES ('pipelines.reset.allowed' = 'false'); otherwise a streaming
//      table (and its quarantine table) is truncated in a commit that raises its epoch (see
//      pipeline/flow_executor.h), so every flow into it starts over, ONCE flows included; a
//      materialized view is recomputed even when its inputs did not change;
//   3. runs the flows as a task graph (orchestrate/task_graph.h): dependency order, at most
//      `parallelism` at once, flows into one table one after another; transient failures (IOError,
//      Conflict) retry with exponential backoff; a failed flow's downstream flows are SKIPPED;
//   4. records create_update, flow_definition, flow_progress and update_progress events in the
//      event log (pipeline/event_log.h) and reports each flow to the observer.
// UpdateResult::ok() is false when any flow failed; the CLI exits non-zero then.
//
// Pipeline::DryRun binds every flow's query (and expectations) over empty inputs of the right
// schemas, in dependency order, without reading table data or writing anything.
//
// Thread-safety: one Run/DryRun at a time per Pipeline. Two processes running the same pipeline
// at once are safe for the tables (a batch plan is claimed with put-if-absent and commits are
// optimistic); one of them fails with AlreadyExists or Conflict.
#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/result.h"
#include "engine/database.h"
#include "engine/duckdb_parquet_handler.h"
#include "engine/duckdb_parquet_writer.h"
#include "pipeline/dataflow_graph.h"
#include "pipeline/flow_executor.h"
#include "pipeline/pipeline_spec.h"
#include "storage/local_object_store.h"

namespace medallion::pipeline {

struct FlowReport {
  enum class State {
    kRunning,    // started (observer only)
    kCompleted,  // committed a batch or refreshed
    kUpToDate,   // nothing new / inputs unchanged
    kFailed,
    kSkipped,    // an upstream flow failed
    kExcluded,   // not selected by --refresh / --full-refresh
  };
  std::string flow_name;
  std::string dataset_name;
  State state = State::kRunning;
  FlowMetrics metrics;
  Status error;  // kFailed: why; kSkipped: which upstream flow failed
  int attempts = 0;
  std::chrono::milliseconds duration{0};
};

// "RUNNING", "COMPLETED", "UP_TO_DATE", "FAILED", "SKIPPED", "EXCLUDED".
std::string_view FlowStateName(FlowReport::State state);

struct UpdateOptions {
  std::vector<std::string> refresh;       // datasets to update (names as in the SQL)
  std::vector<std::string> full_refresh;  // datasets to truncate and reprocess
  bool full_refresh_all = false;
  int parallelism = 0;                    // 0: the number of cores
  // Called when a flow starts and when it ends, never two calls at once.
  std::function<void(const FlowReport&)> observer;
};

struct UpdateResult {
  std::string update_id;
  std::vector<FlowReport> flows;  // in dependency order
  std::chrono::milliseconds duration{0};
  bool ok() const;
};

// Where a pipeline keeps its state and event log (see the header comment); absolute.
std::filesystem::path PipelineStateFolder(const PipelineSpec& spec);

// The event log folder of the pipeline named `name`: the spec found from `start_dir` upwards
// must have that name; or `name` is itself the folder of an event log (or any Delta table).
// NotFound otherwise, saying where it looked.
Result<std::filesystem::path> FindEventLog(std::string_view name,
                                           const std::filesystem::path& start_dir);

class Pipeline {
 public:
  // Loads the pipeline of `spec_file`. Errors: those of the spec, the parser (file:line) and the
  // graph; IOError for unreadable files.
  static Result<std::unique_ptr<Pipeline>> Load(const std::filesystem::path& spec_file,
                                                const engine::DatabaseOptions& database = {});

  const PipelineSpec& spec() const { return spec_; }
  const DataflowGraph& graph() const { return graph_; }
  // The pipeline's state folder (flow progress, event log).
  const std::filesystem::path& state_folder() const { return state_folder_; }
  std::filesystem::path event_log_folder() const { return state_folder_ / kEventLogFolder; }

  Status DryRun();
  Result<UpdateResult> Run(const UpdateOptions& options);

 private:
  Pipeline() = default;
  Result<std::string> PipelineId();

  PipelineSpec spec_;
  DataflowGraph graph_;
  std::filesystem::path state_folder_;
  std::unique_ptr<engine::Database> db_;
  std::unique_ptr<engine::DuckDbParquetHandler> parquet_;
  std::unique_ptr<engine::DuckDbParquetWriter> checkpoint_writer_;  // made on the first Run
  std::unique_ptr<storage::LocalObjectStore> lakehouse_;
  std::unique_ptr<storage::LocalObjectStore> state_;
};

}  // namespace medallion::pipeline
