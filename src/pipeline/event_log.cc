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

std::string StringOrNull(const std::string& s) {
  return s.empty() ? "NULL::VARCHAR" : engine::QuoteString(s);
}

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
  std::string values;
  for (const Row& r : rows) {
    const PipelineEvent& e = r.event;
    std::string error =
        e.error_message
            ? fmt::format("{{'fatal': true, 'exceptions': [{{'class_name': {}, 'message': {}}}]}}",
                          engine::QuoteString(e.error_class.empty() ? "Error" : e.error_class),
                          engine::QuoteString(*e.error_message))
            : "NULL";
    values += fmt::format(
        "{}({}, {{'control_plane_seq_no': {}::BIGINT}}, {{'pipeline_id': {}, 'pipeline_name': {}, "
        "'update_id': {}, 'flow_id': {}, 'flow_name': {}, 'dataset_name': {}}}, "
        "make_timestamptz({}::BIGINT), {}, {}, 'STABLE', {}, {}, {})",
        values.empty() ? "" : ",\n", engine::QuoteString(r.id), r.seq,
        engine::QuoteString(pipeline_id_), engine::QuoteString(pipeline_name_),
        engine::QuoteString(update_id_),
        e.flow_name.empty() ? "NULL::VARCHAR"
                            : engine::QuoteString(pipeline_id_ + ":" + e.flow_name),
        StringOrNull(e.flow_name), StringOrNull(e.dataset_name), r.timestamp_us,
        engine::QuoteString(e.message), engine::QuoteString(e.level), error,
        StringOrNull(e.details_json), engine::QuoteString(e.event_type));
  }
  // The column types are fixed by casting, so the first commit's schema does not depend on which
  // events happen to be present.
  std::string sql = fmt::format(
      "SELECT id::VARCHAR AS id, sequence::STRUCT(control_plane_seq_no BIGINT) AS sequence, "
      "origin::STRUCT(pipeline_id VARCHAR, pipeline_name VARCHAR, update_id VARCHAR, "
      "flow_id VARCHAR, flow_name VARCHAR, dataset_name VARCHAR) AS origin, "
      "\"timestamp\"::TIMESTAMPTZ AS \"timestamp\", message::VARCHAR AS message, "
      "level::VARCHAR AS level, maturity_level::VARCHAR AS maturity_level, "
      "error::STRUCT(fatal BOOLEAN, exceptions STRUCT(class_name VARCHAR, message VARCHAR)[]) "
      "AS error, details::VARCHAR AS details, event_type::VARCHAR AS event_type FROM (VALUES {}) "
      "AS t(id, sequence, origin, \"timestamp\", message, level, maturity_level, error, details, "
      "event_type)",
      values);
  engine::WriteOptions options;
  options.operation = "WRITE";
  options.checkpoint_writer = &checkpoint_writer;
  auto written = engine::WriteDelta(conn, sql, store_, table_root_, parquet, options);
  if (!written.ok()) {
    std::lock_guard<std::mutex> lock(mu_);  // keep the events for a later Flush
    rows_.insert(rows_.begin(), rows.begin(), rows.end());
    return written.status().WithContext("event log");
  }
  return Status::OK();
}

}  // namespace medallion::pipeline
