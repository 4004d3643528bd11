// Schema: the Delta table schema model (PROTOCOL.md, "Schema Serialization Format").
//
// A table schema is a struct of fields; a field has a name, a type, a nullability and free-form
// metadata (a JSON object, kept as text). Types are primitive (string, long, integer, short, byte,
// float, double, decimal(p,s), boolean, binary, date, timestamp, timestamp_ntz) or nested (struct,
// array(elementType, containsNull), map(keyType, valueType, valueContainsNull)).
//
// Column mapping (PROTOCOL.md, "Column Mapping") stores each field's physical name and id in its
// metadata under `delta.columnMapping.physicalName` / `delta.columnMapping.id`; `StructField`
// extracts them when parsing.
//
// Errors of ParseSchema: Corruption for malformed JSON or a missing/mistyped required member;
// NotSupported naming the type and the field for a type medallion does not know ("variant",
// "interval", ...).
//
// Thread-safety: types are immutable once built (DataType is shared through shared_ptr<const>), and
// may be read from any thread.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace medallion::delta {

enum class TypeKind {
  kString,
  kLong,
  kInteger,
  kShort,
  kByte,
  kFloat,
  kDouble,
  kDecimal,
  kBoolean,
  kBinary,
  kDate,
  kTimestamp,     // microseconds since the epoch, UTC
  kTimestampNtz,  // microseconds since the epoch, no time zone
  kStruct,
  kArray,
  kMap,
};

class DataType;
using DataTypePtr = std::shared_ptr<const DataType>;

struct StructField {
  std::string name;
  DataTypePtr type;
  bool nullable = true;
  std::string metadata_json = "{}";  // the field's metadata object, minified JSON

  // From metadata: delta.columnMapping.physicalName and delta.columnMapping.id, when present.
  std::optional<std::string> physical_name;
  std::optional<int64_t> column_mapping_id;

  // The name in data files: the physical name when `column_mapping` is true and one is recorded,
  // else the display name.
  const std::string& PhysicalName(bool column_mapping) const {
    return column_mapping && physical_name ? *physical_name : name;
  }

  bool operator==(const StructField& other) const;
};

class DataType {
 public:
  // Primitive types. Decimal: 1 <= precision <= 38, 0 <= scale <= precision (checked by
  // MakeDecimal, which returns InvalidArgument otherwise).
  static DataTypePtr Primitive(TypeKind kind);
  static Result<DataTypePtr> MakeDecimal(int32_t precision, int32_t scale);
  static DataTypePtr Struct(std::vector<StructField> fields);
  static DataTypePtr Array(DataTypePtr element, bool contains_null);
  static DataTypePtr Map(DataTypePtr key, DataTypePtr value, bool value_contains_null);

  TypeKind kind() const { return kind_; }
  bool is_primitive() const {
    return kind_ != TypeKind::kStruct && kind_ != TypeKind::kArray && kind_ != TypeKind::kMap;
  }
  int32_t precision() const { return precision_; }  // decimal only
  int32_t scale() const { return scale_; }          // decimal only
  const std::vector<StructField>& fields() const { return fields_; }  // struct only
  const DataTypePtr& element_type() const { return element_; }       // array only
  bool contains_null() const { return contains_null_; }              // array only
  const DataTypePtr& key_type() const { return key_; }                // map only
  const DataTypePtr& value_type() const { return value_; }            // map only
  bool value_contains_null() const { return contains_null_; }        // map only

  // The type name as in the schema JSON for primitives ("long", "decimal(10,2)", "timestamp_ntz")
  // and "struct" / "array" / "map" for nested types.
  std::string Name() const;
  // A readable form: "struct<a: long, b: array<string>>".
  std::string ToString() const;

  bool operator==(const DataType& other) const;

 private:
  explicit DataType(TypeKind kind) : kind_(kind) {}

  TypeKind kind_;
  int32_t precision_ = 0;
  int32_t scale_ = 0;
  std::vector<StructField> fields_;
  DataTypePtr element_;
  DataTypePtr key_;
  DataTypePtr value_;
  bool contains_null_ = true;
};

// The top-level schema of a table.
class Schema {
 public:
  Schema() = default;
  explicit Schema(std::vector<StructField> fields) : fields_(std::move(fields)) {}

  const std::vector<StructField>& fields() const { return fields_; }

  // The top-level field named `name` (exact match), or nullptr.
  const StructField* FindField(std::string_view name) const;
  // Like FindField, ignoring ASCII case (Delta column names are unique regardless of case).
  const StructField* FindFieldIgnoreCase(std::string_view name) const;
  // A nested field by path ({"a", "b", "c"} is a.b.c), descending through structs only; nullptr
  // when any step is missing.
  const StructField* FindFieldByPath(const std::vector<std::string>& path) const;

  // The schema as a struct type.
  DataTypePtr AsStruct() const { return DataType::Struct(fields_); }

  bool operator==(const Schema& other) const { return fields_ == other.fields_; }

 private:
  std::vector<StructField> fields_;
};

// Parses a `schemaString` (PROTOCOL.md, "Schema Serialization Format"). Errors as in the header.
Result<Schema> ParseSchema(std::string_view schema_json);

// Parses one type in its JSON form (a type name string, or a struct/array/map object); `field`
// names the field for messages.
Result<DataTypePtr> ParseDataType(std::string_view type_json, std::string_view field = "");

// Serializes a schema as a single-line `schemaString`, fields in order, metadata as stored.
std::string SerializeSchema(const Schema& schema);

}  // namespace medallion::delta
