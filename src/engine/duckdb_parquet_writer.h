// DuckDbParquetWriter: delta::ParquetWriter implemented with DuckDB, so the Delta protocol core can
// write checkpoints (PROTOCOL.md, "Checkpoints") without linking DuckDB itself.
//
// How: the JSON rows go to a scratch newline-delimited JSON file, which DuckDB reads with
// `read_json(..., columns = {...})` (the columns typed from the Delta schema: string -> VARCHAR,
// long -> BIGINT, integer -> INTEGER, boolean -> BOOLEAN, struct -> STRUCT, array -> LIST,
// map -> MAP, timestamp -> TIMESTAMPTZ, timestamp_ntz -> TIMESTAMP, ...) and writes with
// `COPY ... TO (FORMAT parquet)`; the Parquet bytes are read back and both scratch files removed.
// Row order is kept (DuckDB preserves insertion order).
//
// Errors: InvalidArgument when DuckDB cannot convert a row to the schema (its message);
// IOError when the scratch folder fails.
//
// Thread-safety: WriteRowsAsParquet may be called from many threads at once (scratch names are
// unique; a connection per call on one shared in-memory database, opened by the first call: most
// commits write no checkpoint, and opening DuckDB costs ~15 ms).
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/result.h"
#include "delta/parquet_writer.h"
#include "engine/database.h"

namespace medallion::engine {

class DuckDbParquetWriter final : public delta::ParquetWriter {
 public:
  // A writer on its own small in-memory DuckDB database (opened by the first write); scratch
  // files go to `scratch_folder` ($TMPDIR or /tmp when empty), which must exist.
  static Result<std::unique_ptr<DuckDbParquetWriter>> Make(std::string scratch_folder = "");

  Result<std::string> WriteRowsAsParquet(const std::vector<std::string>& json_rows,
                                         const delta::Schema& schema) override;

 private:
  explicit DuckDbParquetWriter(std::string scratch_folder)
      : scratch_folder_(std::move(scratch_folder)) {}
  Result<std::unique_ptr<Connection>> Connect();

  std::mutex mu_;
  std::unique_ptr<Database> db_;  // guarded by mu_
  std::string scratch_folder_;
};

}  // namespace medallion::engine
