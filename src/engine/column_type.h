// ColumnType: the SQL type of a result column or value, as DuckDB reports it, without exposing
// duckdb.h (only engine/*.cc include it; docs/architecture.md).
//
// Thread-safety: an immutable value.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace medallion::engine {

// DuckDB's logical type ids that medallion distinguishes. Others map to kOther (their text form is
// still available through Value::ToString / QueryResult::GetText).
enum class TypeId {
  kInvalid,
  kBoolean,
  kTinyInt,
  kSmallInt,
  kInteger,
  kBigInt,
  kHugeInt,
  kUTinyInt,
  kUSmallInt,
  kUInteger,
  kUBigInt,
  kFloat,
  kDouble,
  kDecimal,
  kVarchar,
  kBlob,
  kDate,
  kTime,
  kTimestamp,     // TIMESTAMP (microseconds, no time zone) = Spark/Delta timestamp_ntz
  kTimestampTz,   // TIMESTAMP WITH TIME ZONE (microseconds UTC) = Spark/Delta timestamp
  kTimestampMs,
  kTimestampNs,
  kTimestampS,
  kInterval,
  kUuid,
  kList,
  kStruct,
  kMap,
  kArray,
  kEnum,
  kSqlNull,
  kOther,
};

struct ColumnType {
  TypeId id = TypeId::kInvalid;
  uint8_t decimal_width = 0;  // DECIMAL only
  uint8_t decimal_scale = 0;  // DECIMAL only
  // LIST/ARRAY: one child named "". STRUCT: the fields in order. MAP: "key" and "value".
  std::vector<std::pair<std::string, ColumnType>> children;

  bool IsInteger() const;   // signed or unsigned integer of any width
  bool IsNumeric() const;   // integer, FLOAT, DOUBLE or DECIMAL
  bool IsNested() const;    // LIST, STRUCT, MAP, ARRAY
  // DuckDB's spelling: "INTEGER", "DECIMAL(18,2)", "INTEGER[]", "STRUCT(a INTEGER, b VARCHAR)",
  // "MAP(VARCHAR, INTEGER)", "TIMESTAMP WITH TIME ZONE".
  std::string ToString() const;
};

}  // namespace medallion::engine
