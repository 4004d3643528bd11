// Running one flow of a pipeline update (../shared/DESIGN.md, "One pipeline run", step 3).
//
// An append flow into a streaming table processes one batch per update:
//   1. the target table's epoch E (the version of its txn appId "medallion:<pipeline>:reset",
//      raised by each full refresh; 0 when absent) and the flow's committed batch (the version of
//      its txn appId "medallion:<pipeline>:<flow>:<E>") are read from the target's snapshot;
//   2. a batch planned but not committed (pipeline/flow_progress.h) is run again with the same
//      plan; otherwise a new batch is planned: for a file source the files not planned before
//      (Auto Loader's exactly-once file discovery; ingest/file_source.h infers and evolves the
//      schema), for a Delta source the commits after the last version read (the first batch reads
//      the whole snapshot). No new input: nothing runs ("no new data"). A ONCE flow plans one batch
//      per epoch;
//   3. the query runs over views of exactly those inputs; batch reads (no STREAM) see the latest
//      snapshot of their table;
//   4. expectations are evaluated on every output row: a row fails an expectation when its
//      condition is false (NULL passes, as in a SQL CHECK constraint). FAIL UPDATE with a failing
//      row fails the flow and commits nothing; rows failing a QUARANTINE expectation go to
//      `<table>_quarantine` with `_failed_expectations` (every expectation the row failed) and
//      `_quarantined_at`; rows failing a DROP ROW expectation (and no QUARANTINE one) are dropped;
//      the rest are written. Rows read = written + dropped + quarantined;
//   5. the quarantined rows, then the written rows, are committed, each commit carrying the txn
//      (appId, batch): a retry after a crash between them skips what was committed.
// How the rows are evaluated (only a matter of speed): without expectations or NOT NULL columns,
// the query goes straight into the files and the counts come from their statistics. Otherwise
// the query is evaluated once into the kept rows' files, counting every row's outcome on the way
// (engine/row_tally.h); the quarantined rows, when there are any, come from a second evaluation
// that must give the rows counted, else (an expectation on random()) nothing is committed and the
// batch runs again from one evaluation kept in a TEMP table. At most 61 expectations per dataset
// (NotSupported beyond).
// A Delta source commit that removes data (UPDATE, DELETE, MERGE, overwrite) fails the flow, as
// Spark's Delta streaming source does, unless the table property `skipChangeCommits` is set on the
// reading dataset (TBLPROPERTIES ('skipChangeCommits' = 'true')): then such commits are skipped.
//
// An AUTO CDC flow (pipeline/auto_cdc.h) plans and records its batches the same way (the plan also
// records the batch's time, for tombstones). Its batch applies the source's new rows as change
// events to the target's rows and to the hidden state table `__medallion_autocdc_<table>` beside
// the target (one row per key: latest sequence, tombstones), then commits the new state and then
// the target, each with the batch's txn. A re-run after the state commit reads the state as it was
// before it (the previous version), so the batch computes the same output. Each commit after the
// first is a MERGE (engine/delta_dml.h) that rewrites only the files holding the batch's keys.
// Expectations do not apply to AUTO CDC flows.
//
// A materialized view is skipped when none of its inputs changed since its last refresh and its
// definition is the same (the state file <state>/flows/<flow>/refresh.json records input versions
// and a definition hash). Otherwise it is refreshed incrementally (pipeline/incremental_refresh.h)
// when its query is one GROUP BY over one Delta table, it has no expectations or declared columns,
// and that table's commits since the last refresh only appended files (no data-changing remove, no
// metaData change):
//   - GENERIC_AGGREGATE, when every aggregate is count / sum / min / max / avg: the appended rows'
//     partial aggregates are merged into the rows of the keys they touch in the hidden state table
//     `__medallion_mv_state_<view>` beside the view (its txn appId
//     "medallion:<pipeline>:<flow>:aggregate-state" records the input version it holds, which must
//     be the last refresh's), and the view's rows of those keys are computed from the merged state;
//     the state is committed first, then the view. A complete recompute of such a view makes the
//     state (at the input version it records) and computes the view from it;
//   - GROUP_AGGREGATE otherwise: the distinct GROUP BY values of the appended rows are the touched
//     groups; the query runs over the table's rows of those groups (a semi join), unless they are
//     more than half of the view's rows (then recomputing all costs less).
// One commit replaces the view's rows of the touched keys, rewriting only the files that hold
// them: a replaceWhere overwrite, or a MERGE when a touched key is NULL (keys then match with IS
// NOT DISTINCT FROM). Anything else recomputes the view from its inputs and overwrites its table
// (schema included). A crash after a commit and before the state file is written only makes the
// next refresh recompute (GROUP_AGGREGATE: the same groups; GENERIC_AGGREGATE: the whole view,
// since the state is then ahead of the record).
//
// Thread-safety: a FlowExecutor runs one flow on its own Connection; many run in parallel on one
// Database. Flows writing the same table must not run at once (the update orders them).
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/result.h"
#include "delta/parquet_handler.h"
#include "delta/parquet_writer.h"
#include "engine/database.h"
#include "pipeline/dataflow_graph.h"
#include "pipeline/event_log.h"
#include "storage/object_store.h"

namespace medallion::pipeline {

// Shared by every flow of one update; borrowed, outlives the flows.
struct UpdateContext {
  std::string pipeline_name;
  std::string root_dir;  // the spec's folder: relative read_files paths start here
  const DataflowGraph* graph = nullptr;
  engine::Database* database = nullptr;
  storage::ObjectStore* lakehouse = nullptr;  // tables, rooted at the lakehouse folder
  std::string lakehouse_path;                 // its absolute local path
  storage::ObjectStore* state = nullptr;      // the pipeline state folder
  delta::ParquetHandler* parquet = nullptr;
  delta::ParquetWriter* checkpoint_writer = nullptr;  // writes the tables' checkpoints
  EventLog* event_log = nullptr;
};

struct ExpectationMetrics {
  std::string name;
  std::string dataset;
  int64_t passed_records = 0;
  int64_t failed_records = 0;
};

struct FlowMetrics {
  enum class Outcome {
    kCompleted,  // a batch was committed (possibly of 0 rows)
    kUpToDate,   // nothing new to read (streaming) or inputs unchanged (materialized view)
  };
  Outcome outcome = Outcome::kCompleted;
  int64_t batch = -1;           // streaming flows: the batch committed
  int64_t table_version = -1;   // the target's version after the commit
  int64_t num_input_files = 0;  // new files read (file sources)
  int64_t num_input_rows = 0;   // rows the query produced
  int64_t num_output_rows = 0;  // rows written to the target
  int64_t num_dropped_rows = 0;
  int64_t num_quarantined_rows = 0;
  int64_t num_rescued_rows = 0;  // rows with a non-NULL _rescued_data
  // Malformed records of file sources that are not rows (no rescued data column, or
  // mode DROPMALFORMED); ingest/file_source.h lists them. Counted, never silently lost.
  int64_t num_malformed_dropped = 0;
  int64_t num_upserted_rows = 0;  // AUTO CDC: target rows new or changed
  int64_t num_deleted_rows = 0;   // AUTO CDC: target rows removed
  std::vector<ExpectationMetrics> expectations;
  std::string detail;  // e.g. "3 new files", "inputs unchanged"
  // A materialized view's refresh: how it was done, as Databricks' event log names it in
  // planning_information ("GROUP_AGGREGATE" or "COMPLETE_RECOMPUTE"; empty for other flows), and
  // for a complete recompute after an earlier refresh, why it was not incremental.
  std::string refresh_technique;
  std::string not_incremental_reason;
  bool incremental_applicable = false;  // GROUP_AGGREGATE was possible but not chosen (cost)
};

// The txn appId that records a table's epoch (raised by each full refresh).
std::string ResetAppId(const std::string& pipeline_name);

// The key, in the pipeline state store, of a materialized view flow's last refresh record;
// deleting it forces the next refresh (full refresh).
std::string MaterializedViewRefreshKey(const std::string& flow);

// The folder of the hidden AUTO CDC state table of the streaming table in `table_folder`:
// "<schema>/__medallion_autocdc_<table>".
std::string AutoCdcStateFolder(const std::string& table_folder);

class FlowExecutor {
 public:
  FlowExecutor(const UpdateContext& context, size_t flow);

  // Runs the flow once, as the header comment describes.
  // Errors: InvalidArgument for query errors (DuckDB's message) and failed FAIL UPDATE
  // expectations (naming the expectation and a failing row); the store's IOError; Conflict when a
  // concurrent writer changed the target; AUTO CDC errors (a NULL sequence, naming the key).
  Result<FlowMetrics> Run();

  // Binds the flow's query over empty inputs of the right schemas and creates the empty TEMP
  // table `dry_table` with its output schema, for `medallion dry-run`. `dry_tables` maps each
  // dataset already bound to its TEMP table. Reads no data (file sources read a sample of their
  // files to infer a schema, as a run would).
  Status Bind(engine::Connection& conn, const std::map<size_t, std::string>& dry_tables,
              const std::string& dry_table);

 private:
  const UpdateContext& ctx_;
  const Flow& flow_;
  const Dataset& target_;
};

}  // namespace medallion::pipeline
