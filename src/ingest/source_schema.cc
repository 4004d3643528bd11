#include "ingest/source_schema.h"

#include <fmt/format.h>

#include <cctype>
#include <nlohmann/json.hpp>

namespace medallion::ingest {

const SourceColumn* SourceSchema::Find(std::string_view name, bool case_sensitive) const {
  for (const SourceColumn& column : columns) {
    if (column.name == name) return &column;
  }
  if (case_sensitive) return nullptr;
  for (const SourceColumn& column : columns) {
    if (EqualsIgnoreCase(column.name, name)) return &column;
  }
  return nullptr;
}

std::string SourceSchema::ToJson() const {
  nlohmann::ordered_json out;
  out["version"] = kSourceSchemaFormatVersion;
  out["columns"] = nlohmann::ordered_json::array();
  for (const SourceColumn& column : columns) {
    out["columns"].push_back({{"name", column.name}, {"type", column.type}});
  }
  return out.dump();
}

Result<SourceSchema> SourceSchema::FromJson(std::string_view json) {
  nlohmann::json doc = nlohmann::json::parse(json, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object()) {
    return Status::Corruption("source schema: not a JSON object");
  }
  auto version = doc.find("version");
  if (version == doc.end() || !version->is_number_integer()) {
    return Status::Corruption("source schema: missing integer member \"version\"");
  }
  if (version->get<int64_t>() > kSourceSchemaFormatVersion) {
    return Status::NotSupported(fmt::format("source schema: version {} is newer than {}",
                                            version->get<int64_t>(), kSourceSchemaFormatVersion));
  }
  auto columns = doc.find("columns");
  if (columns == doc.end() || !columns->is_array()) {
    return Status::Corruption("source schema: missing array member \"columns\"");
  }
  SourceSchema schema;
  for (const auto& column : *columns) {
    auto name = column.is_object() ? column.find("name") : column.end();
    auto type = column.is_object() ? column.find("type") : column.end();
    if (!column.is_object() || name == column.end() || !name->is_string() ||
        type == column.end() || !type->is_string()) {
      return Status::Corruption("source schema: a column needs string members name and type");
    }
    schema.columns.push_back({name->get<std::string>(), type->get<std::string>()});
  }
  return schema;
}

}  // namespace medallion::ingest
