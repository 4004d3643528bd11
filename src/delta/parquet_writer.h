// ParquetWriter: how the Delta protocol core writes Parquet without depending on a Parquet library.
//
// The write-side twin of ParquetHandler (parquet_handler.h). delta/ never links DuckDB
// (docs/architecture.md); classic checkpoints (PROTOCOL.md, "Checkpoints", "Checkpoint Schema")
// are Parquet files, so the checkpoint writer hands rows and a schema to an implementation of this
// interface, supplied by the caller. engine/ implements it with DuckDB
// (engine/duckdb_parquet_writer.h); delta/ unit tests use a stand-in that keeps the rows as text.
//
// Rows go in as JSON object texts of the same shape ParquetHandler returns and commit files hold: a
// struct column is a nested object, a list an array, a map an object with string keys; a key that
// is absent or `null` is NULL. The schema is given in Delta's own type model (schema.h), so the
// interface names no engine's types: string -> Parquet BYTE_ARRAY (UTF8), long -> INT64,
// integer -> INT32, boolean -> BOOLEAN, struct -> group, array -> LIST, map -> MAP (string keys).
//
// The result is the file's bytes, not a file: the caller stores them through storage::ObjectStore
// (atomically, with Write), so the same code path serves local folders and remote stores. The
// whole file is held in memory; checkpoints of tables with millions of files would want a streaming
// variant later.
//
// Thread-safety: implementations must allow concurrent calls.
#pragma once

#include <string>
#include <vector>

#include "common/result.h"
#include "delta/schema.h"

namespace medallion::delta {

class ParquetWriter {
 public:
  virtual ~ParquetWriter() = default;

  // A Parquet file with the top-level columns of `schema`, in its order, and one row per element
  // of `json_rows`, in order. Keys of a row that the schema lacks are ignored.
  // InvalidArgument when a row is not a JSON object or a value does not fit its column's type;
  // IOError when scratch space fails; NotSupported for a column type the writer cannot produce.
  virtual Result<std::string> WriteRowsAsParquet(const std::vector<std::string>& json_rows,
                                                 const Schema& schema) = 0;
};

}  // namespace medallion::delta
