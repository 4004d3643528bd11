// Value: one SQL value taken out of a query result (DuckDB's Value, behind a pimpl).
//
// Used where a caller needs the structure of nested values (LIST, STRUCT, MAP) or DuckDB's exact text
// rendering of any type; the hot paths (QueryResult::GetInt64/GetDouble/GetString) avoid it.
// Conversions follow DuckDB's casting rules; a conversion DuckDB refuses returns InvalidArgument.
//
// Thread-safety: immutable; copies share the underlying value and may be read from any thread.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "common/result.h"
#include "engine/column_type.h"

namespace medallion::engine {

class Value {
 public:
  // SQL NULL of unknown type.
  Value();

  bool is_null() const;
  const ColumnType& type() const;

  // Scalar conversions. InvalidArgument for NULL or a value of a type that does not convert.
  Result<bool> AsBool() const;
  Result<int64_t> AsInt64() const;      // any integer type that fits, DECIMAL with scale 0
  Result<double> AsDouble() const;      // any numeric type
  Result<std::string> AsString() const; // VARCHAR/BLOB bytes as stored (no quoting)
  Result<int32_t> AsDateDays() const;   // DATE: days since 1970-01-01
  Result<int64_t> AsEpochMicros() const;  // any TIMESTAMP kind: microseconds since the epoch (UTC
                                          // for WITH TIME ZONE, wall clock for TIMESTAMP)

  // DECIMAL: the unscaled integer as decimal digits ("-12345" for -123.45 at scale 2).
  Result<std::string> DecimalUnscaled() const;

  // Nested access. size(): list/array length, struct field count or map entry count; 0 otherwise.
  size_t size() const;
  Value child(size_t i) const;           // list element or struct field i
  std::string child_name(size_t i) const;  // struct field name
  Value map_key(size_t i) const;
  Value map_value(size_t i) const;

  // DuckDB's own text form, as `CAST(v AS VARCHAR)` gives it ("NULL" for NULL).
  std::string ToString() const;
  // A JSON rendering: numbers and booleans bare, NULL as null, LIST as array, STRUCT as object,
  // MAP as an object when keys are strings (else an array of {key, value}), others as JSON strings.
  std::string ToJson() const;

  struct Impl;
  explicit Value(std::shared_ptr<const Impl> impl);

 private:
  std::shared_ptr<const Impl> impl_;
};

}  // namespace medallion::engine
