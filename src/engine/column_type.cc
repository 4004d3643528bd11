#include "engine/column_type.h"

#include <fmt/format.h>

namespace medallion::engine {

bool ColumnType::IsInteger() const {
  switch (id) {
    case TypeId::kTinyInt:
    case TypeId::kSmallInt:
    case TypeId::kInteger:
    case TypeId::kBigInt:
    case TypeId::kHugeInt:
    case TypeId::kUTinyInt:
    case TypeId::kUSmallInt:
    case TypeId::kUInteger:
    case TypeId::kUBigInt:
      return true;
    default:
      return false;
  }
}

bool ColumnType::IsNumeric() const {
  return IsInteger() || id == TypeId::kFloat || id == TypeId::kDouble || id == TypeId::kDecimal;
}

bool ColumnType::IsNested() const {
  return id == TypeId::kList || id == TypeId::kStruct || id == TypeId::kMap || id == TypeId::kArray;
}

std::string ColumnType::ToString() const {
  switch (id) {
    case TypeId::kInvalid: return "INVALID";
    case TypeId::kBoolean: return "BOOLEAN";
    case TypeId::kTinyInt: return "TINYINT";
    case TypeId::kSmallInt: return "SMALLINT";
    case TypeId::kInteger: return "INTEGER";
    case TypeId::kBigInt: return "BIGINT";
    case TypeId::kHugeInt: return "HUGEINT";
    case TypeId::kUTinyInt: return "UTINYINT";
    case TypeId::kUSmallInt: return "USMALLINT";
    case TypeId::kUInteger: return "UINTEGER";
    case TypeId::kUBigInt: return "UBIGINT";
    case TypeId::kFloat: return "FLOAT";
    case TypeId::kDouble: return "DOUBLE";
    case TypeId::kDecimal: return fmt::format("DECIMAL({},{})", decimal_width, decimal_scale);
    case TypeId::kVarchar: return "VARCHAR";
    case TypeId::kBlob: return "BLOB";
    case TypeId::kDate: return "DATE";
    case TypeId::kTime: return "TIME";
    case TypeId::kTimestamp: return "TIMESTAMP";
    case TypeId::kTimestampTz: return "TIMESTAMP WITH TIME ZONE";
    case TypeId::kTimestampMs: return "TIMESTAMP_MS";
    case TypeId::kTimestampNs: return "TIMESTAMP_NS";
    case TypeId::kTimestampS: return "TIMESTAMP_S";
    case TypeId::kInterval: return "INTERVAL";
    case TypeId::kUuid: return "UUID";
    case TypeId::kList: return children.empty() ? "LIST" : children[0].second.ToString() + "[]";
    case TypeId::kArray: return children.empty() ? "ARRAY" : children[0].second.ToString() + "[]";
    case TypeId::kStruct: {
      std::string out = "STRUCT(";
      for (size_t i = 0; i < children.size(); ++i) {
        if (i > 0) out += ", ";
        out += children[i].first + " " + children[i].second.ToString();
      }
      return out + ")";
    }
    case TypeId::kMap:
      if (children.size() != 2) return "MAP";
      return "MAP(" + children[0].second.ToString() + ", " + children[1].second.ToString() + ")";
    case TypeId::kEnum: return "ENUM";
    case TypeId::kSqlNull: return "NULL";
    case TypeId::kOther: return "OTHER";
  }
  return "OTHER";
}

}  // namespace medallion::engine
