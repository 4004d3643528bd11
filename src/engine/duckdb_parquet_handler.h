// DuckDbParquetHandler: delta::ParquetHandler implemented with DuckDB's read_parquet, so the Delta
// protocol core can read checkpoints (PROTOCOL.md, "Checkpoints") without linking DuckDB itself.
//
// ReadCheckpointActions reads a checkpoint's file actions natively: the fields of `add` and
// `remove` that delta::AddFile/RemoveFile hold are projected one by one (so `stats_parsed`,
// `partitionValues_parsed` and fields medallion does not know are never read; nor are fields whose
// Parquet statistics say every row is NULL, such as `remove` in a checkpoint of appends) and
// converted from DuckDB's vectors into typed actions; the few rows of other actions (protocol, metaData, txn,
// domainMetadata, checkpointMetadata, sidecar) go through to_json and delta::ParseAction. It
// answers NotSupported (so log replay falls back to ReadRowsAsJson) for a file whose action
// columns have types it does not convert (e.g. a string field stored as BLOB) and when no columns
// are named.
//
// Thread-safety: every method may be called from many threads at once (a connection per call on
// one shared in-memory database).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "common/result.h"
#include "delta/parquet_handler.h"

namespace medallion::engine {

class DuckDbParquetHandler final : public delta::ParquetHandler {
 public:
  // A handler on its own small in-memory DuckDB database (one thread: checkpoint reads are small
  // and run alongside query work), opened by the first read: Internal from that read when DuckDB
  // cannot open it. Reads may come from several threads at once.
  static Result<std::unique_ptr<DuckDbParquetHandler>> Make();
  ~DuckDbParquetHandler() override;
  DuckDbParquetHandler(const DuckDbParquetHandler&) = delete;
  DuckDbParquetHandler& operator=(const DuckDbParquetHandler&) = delete;

  Result<std::vector<std::string>> ReadRowsAsJson(const std::string& local_path,
                                                  const std::vector<std::string>& columns) override;

  Status ReadCheckpointActions(const std::string& local_path,
                               const std::vector<std::string>& columns,
                               delta::ActionSink& sink) override;

  struct Impl;

 private:
  explicit DuckDbParquetHandler(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace medallion::engine
