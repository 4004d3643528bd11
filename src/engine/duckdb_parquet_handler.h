// DuckDbParquetHandler: delta::ParquetHandler implemented with DuckDB's read_parquet, so the Delta
// protocol core can read checkpoints (PROTOCOL.md, "Checkpoints") without linking DuckDB itself.
//
// Thread-safety: ReadRowsAsJson may be called from many threads at once (a connection per call on
// one shared in-memory database).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "common/result.h"
#include "delta/parquet_handler.h"
#include "engine/database.h"

namespace medallion::engine {

class DuckDbParquetHandler final : public delta::ParquetHandler {
 public:
  // A handler on its own small in-memory DuckDB database.
  static Result<std::unique_ptr<DuckDbParquetHandler>> Make();

  Result<std::vector<std::string>> ReadRowsAsJson(const std::string& local_path,
                                                  const std::vector<std::string>& columns) override;

 private:
  explicit DuckDbParquetHandler(std::unique_ptr<Database> db) : db_(std::move(db)) {}
  std::unique_ptr<Database> db_;
};

}  // namespace medallion::engine
