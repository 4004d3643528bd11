#include "engine/delta_types.h"

#include <fmt/format.h>

#include "engine/sql_text.h"

namespace medallion::engine {

using delta::DataType;
using delta::StructField;
using delta::TypeKind;

std::string DuckDbTypeOf(const DataType& type) {
  switch (type.kind()) {
    case TypeKind::kString: return "VARCHAR";
    case TypeKind::kLong: return "BIGINT";
    case TypeKind::kInteger: return "INTEGER";
    case TypeKind::kShort: return "SMALLINT";
    case TypeKind::kByte: return "TINYINT";
    case TypeKind::kFloat: return "FLOAT";
    case TypeKind::kDouble: return "DOUBLE";
    case TypeKind::kDecimal: return fmt::format("DECIMAL({},{})", type.precision(), type.scale());
    case TypeKind::kBoolean: return "BOOLEAN";
    case TypeKind::kBinary: return "BLOB";
    case TypeKind::kDate: return "DATE";
    case TypeKind::kTimestamp: return "TIMESTAMP WITH TIME ZONE";
    case TypeKind::kTimestampNtz: return "TIMESTAMP";
    case TypeKind::kStruct: {
      std::string out = "STRUCT(";
      for (size_t i = 0; i < type.fields().size(); ++i) {
        const StructField& f = type.fields()[i];
        out += (i ? ", " : "") + QuoteIdentifier(f.name) + " " + DuckDbTypeOf(*f.type);
      }
      return out + ")";
    }
    case TypeKind::kArray: return DuckDbTypeOf(*type.element_type()) + "[]";
    case TypeKind::kMap:
      return fmt::format("MAP({}, {})", DuckDbTypeOf(*type.key_type()), DuckDbTypeOf(*type.value_type()));
  }
  return "VARCHAR";
}

}  // namespace medallion::engine
