#include "delta/schema.h"

#include <cctype>
#include <nlohmann/json.hpp>
#include <string>

#include "common/macros.h"

namespace medallion::delta {
namespace {

using Json = nlohmann::json;
using OJson = nlohmann::ordered_json;

constexpr std::string_view kPhysicalNameKey = "delta.columnMapping.physicalName";
constexpr std::string_view kColumnIdKey = "delta.columnMapping.id";

struct PrimitiveName {
  std::string_view name;
  TypeKind kind;
};
constexpr PrimitiveName kPrimitives[] = {
    {"string", TypeKind::kString},   {"long", TypeKind::kLong},
    {"integer", TypeKind::kInteger}, {"short", TypeKind::kShort},
    {"byte", TypeKind::kByte},       {"float", TypeKind::kFloat},
    {"double", TypeKind::kDouble},   {"boolean", TypeKind::kBoolean},
    {"binary", TypeKind::kBinary},   {"date", TypeKind::kDate},
    {"timestamp", TypeKind::kTimestamp}, {"timestamp_ntz", TypeKind::kTimestampNtz},
};

std::string Trim(std::string_view s) {
  size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return std::string(s.substr(b, e - b));
}

bool ParseInt(std::string_view s, int32_t* out) {
  std::string t = Trim(s);
  if (t.empty() || t.size() > 9) return false;
  for (char c : t) {
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
  }
  *out = std::stoi(t);
  return true;
}

Status Unsupported(std::string_view type_name, std::string_view field) {
  return Status::NotSupported("field '" + std::string(field) + "' has type '" +
                              std::string(type_name) + "', which medallion does not support");
}

Result<DataTypePtr> ParseTypeName(const std::string& name, std::string_view field) {
  for (const auto& p : kPrimitives) {
    if (p.name == name) return DataType::Primitive(p.kind);
  }
  if (name == "decimal") return DataType::MakeDecimal(10, 0);  // Spark's default
  if (name.rfind("decimal(", 0) == 0 && name.back() == ')') {
    const std::string inner = name.substr(8, name.size() - 9);
    const size_t comma = inner.find(',');
    int32_t p = 0, s = 0;
    if (comma == std::string::npos || !ParseInt(inner.substr(0, comma), &p) ||
        !ParseInt(inner.substr(comma + 1), &s)) {
      return Status::Corruption("field '" + std::string(field) + "': malformed decimal type '" +
                                name + "'");
    }
    auto t = DataType::MakeDecimal(p, s);
    if (!t.ok()) return t.status().WithContext("field '" + std::string(field) + "'");
    return t;
  }
  // Spark records CHAR/VARCHAR columns as strings (with the original type in metadata); accept the
  // type names too.
  if ((name.rfind("char(", 0) == 0 || name.rfind("varchar(", 0) == 0) && name.back() == ')') {
    return DataType::Primitive(TypeKind::kString);
  }
  return Unsupported(name, field);
}

Result<DataTypePtr> ParseTypeJson(const Json& j, const std::string& field);

Result<StructField> ParseField(const Json& j, const std::string& parent) {
  if (!j.is_object()) return Status::Corruption("schema: a struct field is not a JSON object");
  auto name_it = j.find("name");
  if (name_it == j.end() || !name_it->is_string()) {
    return Status::Corruption("schema: a field of '" + (parent.empty() ? "<root>" : parent) +
                              "' has no name");
  }
  StructField f;
  f.name = name_it->get<std::string>();
  const std::string path = parent.empty() ? f.name : parent + "." + f.name;
  auto type_it = j.find("type");
  if (type_it == j.end()) return Status::Corruption("schema: field '" + path + "' has no type");
  ASSIGN_OR_RETURN(f.type, ParseTypeJson(*type_it, path));
  auto nullable_it = j.find("nullable");
  if (nullable_it != j.end() && !nullable_it->is_null()) {
    if (!nullable_it->is_boolean()) {
      return Status::Corruption("schema: field '" + path + "': 'nullable' is not a boolean");
    }
    f.nullable = nullable_it->get<bool>();
  }
  auto meta_it = j.find("metadata");
  if (meta_it != j.end() && !meta_it->is_null()) {
    if (!meta_it->is_object()) {
      return Status::Corruption("schema: field '" + path + "': 'metadata' is not an object");
    }
    f.metadata_json = meta_it->dump();
    auto pn = meta_it->find(kPhysicalNameKey);
    if (pn != meta_it->end() && pn->is_string()) f.physical_name = pn->get<std::string>();
    auto id = meta_it->find(kColumnIdKey);
    if (id != meta_it->end()) {
      if (id->is_number_integer()) {
        f.column_mapping_id = id->get<int64_t>();
      } else if (id->is_string()) {
        try {
          f.column_mapping_id = std::stoll(id->get<std::string>());
        } catch (...) {
          return Status::Corruption("schema: field '" + path + "': bad " +
                                    std::string(kColumnIdKey));
        }
      }
    }
  }
  return f;
}

Result<DataTypePtr> ParseTypeJson(const Json& j, const std::string& field) {
  if (j.is_string()) return ParseTypeName(Trim(j.get<std::string>()), field);
  if (!j.is_object()) {
    return Status::Corruption("schema: field '" + field + "': type is neither a name nor an object");
  }
  auto type_it = j.find("type");
  if (type_it == j.end() || !type_it->is_string()) {
    return Status::Corruption("schema: field '" + field + "': nested type has no 'type' name");
  }
  const std::string kind = type_it->get<std::string>();
  if (kind == "struct") {
    auto fields_it = j.find("fields");
    if (fields_it == j.end() || !fields_it->is_array()) {
      return Status::Corruption("schema: struct '" + (field.empty() ? "<root>" : field) +
                                "' has no 'fields' array");
    }
    std::vector<StructField> fields;
    fields.reserve(fields_it->size());
    for (const auto& fj : *fields_it) {
      ASSIGN_OR_RETURN(auto f, ParseField(fj, field));
      fields.push_back(std::move(f));
    }
    return DataType::Struct(std::move(fields));
  }
  if (kind == "array") {
    auto el = j.find("elementType");
    if (el == j.end()) {
      return Status::Corruption("schema: array '" + field + "' has no elementType");
    }
    ASSIGN_OR_RETURN(auto element, ParseTypeJson(*el, field + ".element"));
    auto cn = j.find("containsNull");
    const bool contains_null = cn == j.end() || !cn->is_boolean() || cn->get<bool>();
    return DataType::Array(std::move(element), contains_null);
  }
  if (kind == "map") {
    auto kt = j.find("keyType");
    auto vt = j.find("valueType");
    if (kt == j.end() || vt == j.end()) {
      return Status::Corruption("schema: map '" + field + "' lacks keyType or valueType");
    }
    ASSIGN_OR_RETURN(auto key, ParseTypeJson(*kt, field + ".key"));
    ASSIGN_OR_RETURN(auto value, ParseTypeJson(*vt, field + ".value"));
    auto vcn = j.find("valueContainsNull");
    const bool value_contains_null = vcn == j.end() || !vcn->is_boolean() || vcn->get<bool>();
    return DataType::Map(std::move(key), std::move(value), value_contains_null);
  }
  return Unsupported(kind, field);
}

OJson TypeToJson(const DataType& t);

OJson FieldToJson(const StructField& f) {
  OJson o = OJson::object();
  o["name"] = f.name;
  o["type"] = TypeToJson(*f.type);
  o["nullable"] = f.nullable;
  OJson meta = OJson::parse(f.metadata_json.empty() ? std::string("{}") : f.metadata_json, nullptr,
                            false);
  o["metadata"] = meta.is_object() ? meta : OJson::object();
  return o;
}

OJson TypeToJson(const DataType& t) {
  switch (t.kind()) {
    case TypeKind::kStruct: {
      OJson o = OJson::object();
      o["type"] = "struct";
      o["fields"] = OJson::array();
      for (const auto& f : t.fields()) o["fields"].push_back(FieldToJson(f));
      return o;
    }
    case TypeKind::kArray: {
      OJson o = OJson::object();
      o["type"] = "array";
      o["elementType"] = TypeToJson(*t.element_type());
      o["containsNull"] = t.contains_null();
      return o;
    }
    case TypeKind::kMap: {
      OJson o = OJson::object();
      o["type"] = "map";
      o["keyType"] = TypeToJson(*t.key_type());
      o["valueType"] = TypeToJson(*t.value_type());
      o["valueContainsNull"] = t.value_contains_null();
      return o;
    }
    default:
      return t.Name();
  }
}

}  // namespace

bool StructField::operator==(const StructField& other) const {
  if (name != other.name || nullable != other.nullable) return false;
  if ((type == nullptr) != (other.type == nullptr)) return false;
  if (type && !(*type == *other.type)) return false;
  // Compare metadata as JSON values, not texts.
  return Json::parse(metadata_json, nullptr, false) == Json::parse(other.metadata_json, nullptr, false);
}

DataTypePtr DataType::Primitive(TypeKind kind) {
  return std::shared_ptr<const DataType>(new DataType(kind));
}

Result<DataTypePtr> DataType::MakeDecimal(int32_t precision, int32_t scale) {
  if (precision < 1 || precision > 38 || scale < 0 || scale > precision) {
    return Status::InvalidArgument("invalid decimal(" + std::to_string(precision) + "," +
                                   std::to_string(scale) +
                                   "): precision must be 1..38 and scale 0..precision");
  }
  auto t = std::shared_ptr<DataType>(new DataType(TypeKind::kDecimal));
  t->precision_ = precision;
  t->scale_ = scale;
  return DataTypePtr(std::move(t));
}

DataTypePtr DataType::Struct(std::vector<StructField> fields) {
  auto t = std::shared_ptr<DataType>(new DataType(TypeKind::kStruct));
  t->fields_ = std::move(fields);
  return t;
}

DataTypePtr DataType::Array(DataTypePtr element, bool contains_null) {
  auto t = std::shared_ptr<DataType>(new DataType(TypeKind::kArray));
  t->element_ = std::move(element);
  t->contains_null_ = contains_null;
  return t;
}

DataTypePtr DataType::Map(DataTypePtr key, DataTypePtr value, bool value_contains_null) {
  auto t = std::shared_ptr<DataType>(new DataType(TypeKind::kMap));
  t->key_ = std::move(key);
  t->value_ = std::move(value);
  t->contains_null_ = value_contains_null;
  return t;
}

std::string DataType::Name() const {
  switch (kind_) {
    case TypeKind::kDecimal:
      return "decimal(" + std::to_string(precision_) + "," + std::to_string(scale_) + ")";
    case TypeKind::kStruct:
      return "struct";
    case TypeKind::kArray:
      return "array";
    case TypeKind::kMap:
      return "map";
    default:
      for (const auto& p : kPrimitives) {
        if (p.kind == kind_) return std::string(p.name);
      }
      return "?";
  }
}

std::string DataType::ToString() const {
  switch (kind_) {
    case TypeKind::kStruct: {
      std::string s = "struct<";
      for (size_t i = 0; i < fields_.size(); ++i) {
        if (i) s += ", ";
        s += fields_[i].name + ": " + fields_[i].type->ToString();
      }
      return s + ">";
    }
    case TypeKind::kArray:
      return "array<" + element_->ToString() + ">";
    case TypeKind::kMap:
      return "map<" + key_->ToString() + ", " + value_->ToString() + ">";
    default:
      return Name();
  }
}

bool DataType::operator==(const DataType& other) const {
  if (kind_ != other.kind_) return false;
  switch (kind_) {
    case TypeKind::kDecimal:
      return precision_ == other.precision_ && scale_ == other.scale_;
    case TypeKind::kStruct:
      return fields_ == other.fields_;
    case TypeKind::kArray:
      return contains_null_ == other.contains_null_ && *element_ == *other.element_;
    case TypeKind::kMap:
      return contains_null_ == other.contains_null_ && *key_ == *other.key_ &&
             *value_ == *other.value_;
    default:
      return true;
  }
}

const StructField* Schema::FindField(std::string_view name) const {
  for (const auto& f : fields_) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

const StructField* Schema::FindFieldIgnoreCase(std::string_view name) const {
  for (const auto& f : fields_) {
    if (f.name.size() != name.size()) continue;
    bool equal = true;
    for (size_t i = 0; i < name.size() && equal; ++i) {
      equal = std::tolower(static_cast<unsigned char>(f.name[i])) ==
              std::tolower(static_cast<unsigned char>(name[i]));
    }
    if (equal) return &f;
  }
  return nullptr;
}

const StructField* Schema::FindFieldByPath(const std::vector<std::string>& path) const {
  if (path.empty()) return nullptr;
  const std::vector<StructField>* level = &fields_;
  const StructField* found = nullptr;
  for (size_t i = 0; i < path.size(); ++i) {
    found = nullptr;
    for (const auto& f : *level) {
      if (f.name == path[i]) {
        found = &f;
        break;
      }
    }
    if (!found) return nullptr;
    if (i + 1 < path.size()) {
      if (found->type->kind() != TypeKind::kStruct) return nullptr;
      level = &found->type->fields();
    }
  }
  return found;
}

Result<Schema> ParseSchema(std::string_view schema_json) {
  Json j = Json::parse(schema_json, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return Status::Corruption("schema: schemaString is not valid JSON");
  ASSIGN_OR_RETURN(auto type, ParseTypeJson(j, ""));
  if (type->kind() != TypeKind::kStruct) {
    return Status::Corruption("schema: schemaString is not a struct type");
  }
  return Schema(type->fields());
}

Result<DataTypePtr> ParseDataType(std::string_view type_json, std::string_view field) {
  Json j = Json::parse(type_json, nullptr, false);
  if (j.is_discarded()) {
    // A bare type name need not be quoted by callers.
    return ParseTypeName(Trim(type_json), field);
  }
  return ParseTypeJson(j, std::string(field));
}

std::string SerializeSchema(const Schema& schema) {
  return TypeToJson(*schema.AsStruct()).dump();
}

}  // namespace medallion::delta
