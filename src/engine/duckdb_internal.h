// Private to engine/: the definitions behind the pimpls, and conversions from DuckDB's C types.
// This and engine/*.cc are the only places that include duckdb.h.
#pragma once

#include <duckdb.h>

#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "engine/column_type.h"
#include "engine/query_result.h"
#include "engine/value.h"

namespace medallion::engine {

// Maps a DuckDB error type and message to a Status (see database.h for the mapping).
Status StatusFromDuckDb(duckdb_error_type type, const char* message);

// Registers RowTally's function (engine/row_tally.h) on the connection's database.
Status RegisterRowTally(duckdb_connection conn);

// Our description of a DuckDB logical type (recursive for nested types).
ColumnType ColumnTypeFromLogical(duckdb_logical_type type);

// Owns a duckdb_value.
struct ValueHandle {
  duckdb_value value = nullptr;
  explicit ValueHandle(duckdb_value v) : value(v) {}
  ~ValueHandle() {
    if (value != nullptr) duckdb_destroy_value(&value);
  }
  ValueHandle(const ValueHandle&) = delete;
  ValueHandle& operator=(const ValueHandle&) = delete;
};

struct Value::Impl {
  std::unique_ptr<ValueHandle> handle;  // null for a NULL of unknown type
  ColumnType type;
  bool null = true;
};

// Builds a Value from element `row` of `vector` whose logical type is `type`.
Value ValueFromVector(duckdb_vector vector, duckdb_logical_type type, idx_t row);

struct QueryResult::Impl {
  duckdb_result result{};
  bool has_result = false;
  std::vector<std::string> names;
  std::vector<ColumnType> types;
  std::vector<duckdb_logical_type> logical_types;
  std::vector<duckdb_data_chunk> chunks;
  std::vector<size_t> chunk_starts;  // first row of each chunk
  size_t rows = 0;
  int64_t rows_changed = 0;

  ~Impl();
  // Locates `row`: chunk index and offset within it.
  std::pair<size_t, size_t> Locate(size_t row) const;
};

// Takes ownership of a successful duckdb_result and materializes its chunks.
Result<QueryResult> MaterializeResult(duckdb_result result);

}  // namespace medallion::engine
