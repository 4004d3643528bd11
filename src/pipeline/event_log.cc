#include "common/clock.h"
#include "pipeline/event_log.h"

#include <fmt/format.h>

#include <chrono>

#include "common/macros.h"
#include "delta/transaction.h"
#include "engine/delta_writer.h"
#include "engine/sql_text.h"

namespace medallion::pipeline {
namespace {

// The TEMP table Flush appends the events to.
constexpr const char* kEventsTable = "__medallion_events";

}  // namespace

EventLog::EventLog(storage::ObjectStore& store, std::string table_root, std::string pipeline_id,
                   std::string pipeline_name, std::string update_id)
    : store_(store),
      table_root_(std::move(table_root)),
      pipeline_id_(std::move(pipeline_id)),
      pipeline_name_(std::move(pipeline_name)),
      update_id_(std::move(update_id)),
      // Sequence numbers increase across updates: the update's start in ms, then a counter.
      next_seq_(NowMicros() / 1000 * 100000) {}

void EventLog::Add(PipelineEvent event) {
  std::lock_guard<std::mutex> lock(mu_);
  rows_.push_back(Row{delta::GenerateUuid(), next_seq_++, NowMicros(), std::move(event)});
}

Status EventLog::Flush(engine::Connection& conn, delta::ParquetHandler& parquet,
                       delta::ParquetWriter& checkpoint_writer) {
  std::vector<Row> rows;
  {
    std::lock_guard<std::mutex> lock(mu_);
    rows.swap(rows_);
  }
  if (rows.empty()) return Status::OK();
  // The events go into a TEMP table through DuckDB's appender (no SQL text to parse per event)
  // and are shaped into the log's columns by the write's query. The column types are fixed by
  // casting, so the first commit's schema does not depend on which events happen to be present.
  RETURN_NOT_OK(conn.Execute(fmt::format(
      "CREATE OR REPLACE TEMP TABLE {} (id VARCHAR, seq BIGINT, flow_name VARCHAR, "
      "dataset_name VARCHAR, ts BIGINT, message VARCHAR, level VARCHAR, error_class VARCHAR, "
      "error_message VARCHAR, details VARCHAR, event_type VARCHAR)",
      kEventsTable)));
  Status appended = [&]() -> Status {
    ASSIGN_OR_RETURN(auto appender, conn.MakeAppender("", kEventsTable));
    auto text = [&](const std::string& v) {  // "" is NULL
      return v.empty() ? appender->AppendNull() : appender->Append(v);
    };
    for (const Row& r : rows) {
      const PipelineEvent& e = r.event;
      RETURN_NOT_OK(appender->Append(r.id));
      RETURN_NOT_OK(appender->Append(r.seq));
      RETURN_NOT_OK(text(e.flow_name));
      RETURN_NOT_OK(text(e.dataset_name));
      RETURN_NOT_OK(appender->Append(r.timestamp_us));
      RETURN_NOT_OK(appender->Append(e.message));
      RETURN_NOT_OK(appender->Append(e.level));
      RETURN_NOT_OK(appender->Append(e.error_class.empty() ? std::string("Error") : e.error_class));
      RETURN_NOT_OK(e.error_message ? appender->Append(*e.error_message) : appender->AppendNull());
      RETURN_NOT_OK(text(e.details_json));
      RETURN_NOT_OK(appender->Append(e.event_type));
      RETURN_NOT_OK(appender->EndRow());
    }
    return appender->Close();
  }();
  std::string sql = fmt::format(
      "SELECT id, {{'control_plane_seq_no': seq}}::STRUCT(control_plane_seq_no BIGINT) AS sequence, "
      "{{'pipeline_id': {0}, 'pipeline_name': {1}, 'update_id': {2}, "
      "'flow_id': {0} || ':' || flow_name, 'flow_name': flow_name, 'dataset_name': dataset_name}}"
      "::STRUCT(pipeline_id VARCHAR, pipeline_name VARCHAR, update_id VARCHAR, flow_id VARCHAR, "
      "flow_name VARCHAR, dataset_name VARCHAR) AS origin, "
      "make_timestamptz(ts) AS \"timestamp\", message, level, 'STABLE' AS maturity_level, "
      "CASE WHEN error_message IS NOT NULL THEN {{'fatal': true, 'exceptions': "
      "[{{'class_name': error_class, 'message': error_message}}]}} END"
      "::STRUCT(fatal BOOLEAN, exceptions STRUCT(class_name VARCHAR, message VARCHAR)[]) AS error, "
      "details, event_type FROM {3} ORDER BY seq",
      engine::QuoteString(pipeline_id_), engine::QuoteString(pipeline_name_),
      engine::QuoteString(update_id_), kEventsTable);
  engine::WriteOptions options;
  options.operation = "WRITE";
  options.checkpoint_writer = &checkpoint_writer;
  Status written = appended;
  if (written.ok()) {
    written = engine::WriteDelta(conn, sql, store_, table_root_, parquet, options).status();
  }
  (void)conn.Execute(fmt::format("DROP TABLE IF EXISTS {}", kEventsTable));
  if (!written.ok()) {
    std::lock_guard<std::mutex> lock(mu_);  // keep the events for a later Flush
    rows_.insert(rows_.begin(), rows.begin(), rows.end());
    return written.WithContext("event log");
  }
  return Status::OK();
}

}  // namespace medallion::pipeline
