// QueryResult: the materialized result of one statement (rows in DuckDB's columnar chunks).
//
// Cells are addressed by (column, row), both from 0. Typed getters read DuckDB's vectors directly and
// are cheap; GetValue/GetText build a Value (engine/value.h) and suit nested types and display.
// Getter errors: InvalidArgument when the cell is NULL or the column's type does not convert;
// an out-of-range column or row is a programming error and returns Internal.
//
// Thread-safety: immutable after creation; concurrent reads are safe. Move-only.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/result.h"
#include "engine/column_type.h"
#include "engine/value.h"

namespace medallion::engine {

class QueryResult {
 public:
  QueryResult(QueryResult&&) noexcept;
  QueryResult& operator=(QueryResult&&) noexcept;
  ~QueryResult();

  size_t column_count() const;
  const std::string& column_name(size_t column) const;
  const ColumnType& column_type(size_t column) const;
  size_t row_count() const;
  // For INSERT/UPDATE/DELETE: the rows changed; 0 otherwise.
  int64_t rows_changed() const;

  bool IsNull(size_t column, size_t row) const;
  Result<bool> GetBool(size_t column, size_t row) const;
  Result<int64_t> GetInt64(size_t column, size_t row) const;  // integer columns (UBIGINT if < 2^63)
  Result<double> GetDouble(size_t column, size_t row) const;  // integer, FLOAT, DOUBLE, DECIMAL
  Result<std::string> GetString(size_t column, size_t row) const;  // VARCHAR, BLOB (raw bytes)
  Value GetValue(size_t column, size_t row) const;
  // DuckDB's text form of the cell; "NULL" for NULL.
  std::string GetText(size_t column, size_t row) const;

  struct Impl;
  explicit QueryResult(std::unique_ptr<Impl> impl);

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace medallion::engine
