// The pipeline event log: a Delta table per pipeline (at <state>/event_log) with the columns of
// Databricks' pipeline event log ("Pipeline event log schema"), so monitoring queries written for
// Databricks run unchanged through `event_log('<pipeline>')`:
//
//   id              STRING     a UUID per event
//   sequence        STRUCT<control_plane_seq_no: BIGINT>   orders the events of the pipeline
//   origin          STRUCT<pipeline_id, pipeline_name, update_id, flow_id, flow_name,
//                          dataset_name: STRING>
//   timestamp       TIMESTAMP  when the event happened (UTC)
//   message         STRING     a human-readable line
//   level           STRING     INFO | WARN | ERROR | METRICS
//   maturity_level  STRING     STABLE
//   error           STRUCT<fatal: BOOLEAN, exceptions: ARRAY<STRUCT<class_name, message: STRING>>>
//   details         STRING     JSON, shaped by event_type (read it with `details:path`)
//   event_type      STRING     create_update | update_progress | flow_definition | flow_progress
//
// details by event type (the fields Databricks documents and monitoring queries read):
//   create_update    {"create_update": {"cause": "USER_ACTION", "full_refresh": bool,
//                     "full_refresh_selection": [...], "refresh_selection": [...]}}
//   update_progress  {"update_progress": {"state": "INITIALIZING|RUNNING|COMPLETED|FAILED"}}
//   flow_definition  {"flow_definition": {"output_dataset": "...", "input_datasets": [...],
//                     "flow_type": "APPEND|MATERIALIZED_VIEW|AUTO_CDC", "once": bool,
//                     "explain_text": "<query>"}}
//   flow_progress    {"flow_progress": {"status": "QUEUED|RUNNING|COMPLETED|FAILED|SKIPPED|
//                     EXCLUDED", "metrics": {"num_output_rows": n, "num_upserted_rows",
//                     "num_deleted_rows", "num_rescued_rows", ...}, "data_quality":
//                     {"dropped_records": n, "quarantined_records": n, "expectations":
//                     [{"name", "dataset", "passed_records", "failed_records"}]}}}
//
// Events are buffered in memory and committed to the table in one Delta commit per Flush (the
// update runner flushes at its end, also after failures). A process killed mid-update loses that
// update's buffered events, never table data.
//
// Thread-safety: Add may be called from many threads at once; Flush from one thread.
#pragma once

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "delta/parquet_handler.h"
#include "delta/parquet_writer.h"
#include "engine/database.h"
#include "storage/object_store.h"

namespace medallion::pipeline {

struct PipelineEvent {
  std::string event_type;
  std::string level = "INFO";
  std::string message;
  std::string flow_name;     // origin.flow_name ("" for pipeline-level events)
  std::string dataset_name;  // origin.dataset_name
  std::string details_json;  // the details column (JSON text)
  std::optional<std::string> error_message;  // error.exceptions[0].message; sets error.fatal
  std::string error_class;                   // error.exceptions[0].class_name
};

class EventLog {
 public:
  // `table_root` is the event log's folder in `store` (a local store).
  EventLog(storage::ObjectStore& store, std::string table_root, std::string pipeline_id,
           std::string pipeline_name, std::string update_id);

  void Add(PipelineEvent event);
  // Appends the buffered events to the table (creating it on first use) and clears the buffer.
  // `parquet` reads and `checkpoint_writer` writes the table's checkpoints (borrowed).
  Status Flush(engine::Connection& conn, delta::ParquetHandler& parquet,
               delta::ParquetWriter& checkpoint_writer);

  const std::string& update_id() const { return update_id_; }

 private:
  struct Row {
    std::string id;
    int64_t seq;
    int64_t timestamp_us;
    PipelineEvent event;
  };
  storage::ObjectStore& store_;
  std::string table_root_;
  std::string pipeline_id_;
  std::string pipeline_name_;
  std::string update_id_;
  std::mutex mu_;
  std::vector<Row> rows_;   // guarded by mu_
  int64_t next_seq_ = 0;    // guarded by mu_
};

// The name of the event log's folder inside the pipeline state folder.
inline constexpr std::string_view kEventLogFolder = "event_log";

}  // namespace medallion::pipeline
