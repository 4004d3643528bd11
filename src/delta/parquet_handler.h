// ParquetHandler: how the Delta protocol core reads Parquet without depending on a Parquet library.
//
// delta/ never links DuckDB (docs/architecture.md); checkpoints (PROTOCOL.md, "Checkpoints") are
// Parquet files, so the protocol core asks an implementation of this interface, supplied by the
// caller, to read them. engine/ implements it with DuckDB (engine/duckdb_parquet_handler.h); tests may
// implement it with canned rows.
//
// Rows come back as JSON object texts, one per Parquet row, with the same shape as the action JSON in
// commit files: a struct column is a nested object, a list an array, a map an object (string keys),
// NULL is `null` (to be read as "absent"). So one action parser serves commits and checkpoints alike.
//
// Thread-safety: implementations must allow concurrent calls.
#pragma once

#include <string>
#include <vector>

#include "common/result.h"

namespace medallion::delta {

class ParquetHandler {
 public:
  virtual ~ParquetHandler() = default;

  // Every row of the Parquet file at `local_path` (log replay passes store.LocalPath(key); for a
  // store without local paths, such as MemoryObjectStore, it passes the store key itself, which
  // only a test handler can serve), projected to the top-level `columns` (all columns
  // when empty; a requested column the file lacks is omitted from the objects), in file order.
  // NotFound when the file is absent, Corruption when it is not valid Parquet.
  virtual Result<std::vector<std::string>> ReadRowsAsJson(const std::string& local_path,
                                                          const std::vector<std::string>& columns) = 0;
};

}  // namespace medallion::delta
