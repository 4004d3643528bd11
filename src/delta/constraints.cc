#include "delta/constraints.h"

#include <nlohmann/json.hpp>

#include "common/macros.h"
#include "common/text.h"
#include "delta/schema.h"

namespace medallion::delta {

namespace {

using nlohmann::json;

// The invariant expression of a field's metadata, or "" when it has none.
Result<std::string> InvariantOf(const StructField& field, const std::string& path) {
  json metadata = json::parse(field.metadata_json, nullptr, /*allow_exceptions=*/false);
  if (!metadata.is_object()) return std::string();
  auto it = metadata.find(std::string(kInvariantsKey));
  if (it == metadata.end()) return std::string();
  auto bad = [&](std::string_view why) {
    return Status::InvalidArgument("column " + path + ": " + std::string(kInvariantsKey) + " " +
                                   std::string(why));
  };
  if (!it->is_string()) return bad("is not a string");
  const std::string& text = it->get_ref<const std::string&>();
  json parsed = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded()) return text;  // a bare SQL expression (the older protocol text)
  if (!parsed.is_object() || !parsed.contains("expression") ||
      !parsed["expression"].is_object() || !parsed["expression"].contains("expression") ||
      !parsed["expression"]["expression"].is_string()) {
    return bad("has no expression.expression string");
  }
  return parsed["expression"]["expression"].get<std::string>();
}

Status CollectInvariants(const std::vector<StructField>& fields, const std::string& prefix,
                         std::vector<RowConstraint>* out) {
  for (const StructField& f : fields) {
    const std::string path = prefix.empty() ? f.name : prefix + "." + f.name;
    ASSIGN_OR_RETURN(std::string expression, InvariantOf(f, path));
    if (!expression.empty()) {
      out->push_back({RowConstraint::Kind::kInvariant, "EXPRESSION(" + expression + ")",
                      expression, path});
    }
    if (f.type && f.type->kind() == TypeKind::kStruct) {
      RETURN_NOT_OK(CollectInvariants(f.type->fields(), path, out));
    }
  }
  return Status::OK();
}

}  // namespace

std::string CheckConstraintKey(std::string_view name) {
  return std::string(kCheckConstraintPrefix) + AsciiLower(name);
}

Result<std::vector<RowConstraint>> TableConstraints(const Metadata& metadata) {
  std::vector<RowConstraint> out;
  for (const auto& [key, value] : metadata.configuration) {  // ordered by key
    if (!key.starts_with(kCheckConstraintPrefix)) continue;
    std::string name = key.substr(kCheckConstraintPrefix.size());
    if (name.empty() || value.find_first_not_of(" \t\r\n") == std::string::npos) {
      return Status::InvalidArgument("table property " + key + " is not a CHECK constraint");
    }
    out.push_back({RowConstraint::Kind::kCheck, std::move(name), value, ""});
  }
  ASSIGN_OR_RETURN(Schema schema, ParseSchema(metadata.schema_string));
  RETURN_NOT_OK(CollectInvariants(schema.fields(), "", &out));
  return out;
}

}  // namespace medallion::delta
