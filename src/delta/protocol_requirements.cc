#include "delta/protocol_requirements.h"

#include <algorithm>
#include <set>
#include <string>

#include "common/macros.h"
#include "delta/constraints.h"
#include "delta/schema.h"
#include "delta/table_configuration.h"

namespace medallion::delta {
namespace {

bool AnyType(const DataType& type, TypeKind kind) {
  if (type.kind() == kind) return true;
  switch (type.kind()) {
    case TypeKind::kStruct:
      return std::any_of(type.fields().begin(), type.fields().end(),
                         [&](const StructField& f) { return AnyType(*f.type, kind); });
    case TypeKind::kArray:
      return AnyType(*type.element_type(), kind);
    case TypeKind::kMap:
      return AnyType(*type.key_type(), kind) || AnyType(*type.value_type(), kind);
    default:
      return false;
  }
}

// A field (at any depth) whose metadata has a key starting with `key_prefix`; its name or "".
std::string FieldWithMetadata(const std::vector<StructField>& fields, std::string_view key_prefix) {
  const std::string needle = "\"" + std::string(key_prefix);
  for (const auto& f : fields) {
    if (f.metadata_json.find(needle) != std::string::npos) return f.name;
    const DataType* t = f.type.get();
    while (t != nullptr && (t->kind() == TypeKind::kArray || t->kind() == TypeKind::kMap)) {
      t = t->kind() == TypeKind::kArray ? t->element_type().get() : t->value_type().get();
    }
    if (t != nullptr && t->kind() == TypeKind::kStruct) {
      std::string inner = FieldWithMetadata(t->fields(), key_prefix);
      if (!inner.empty()) return f.name + "." + inner;
    }
  }
  return "";
}

// The features a legacy protocol implies (PROTOCOL.md, "Table Features": legacy versions).
void LegacyFeatures(const Protocol& p, std::set<std::string>* reader,
                    std::set<std::string>* writer) {
  const int32_t w = p.min_writer_version;
  if (w >= 2) writer->insert({"appendOnly", "invariants"});
  if (w >= 3) writer->insert("checkConstraints");
  if (w >= 4) writer->insert({"changeDataFeed", "generatedColumns"});
  if (w >= 5) writer->insert("columnMapping");
  if (w >= 6) writer->insert("identityColumns");
  if (p.min_reader_version >= 2) reader->insert("columnMapping");
}

bool UsesTableFeatures(const Protocol& p) {
  return p.min_writer_version >= kTableFeaturesWriterVersion;
}

// Writer features medallion can honor (some only while unused; see CheckWriteSupported).
const std::set<std::string, std::less<>>& WritableFeatures() {
  static const std::set<std::string, std::less<>> kFeatures = {
      "appendOnly",       "invariants",     "checkConstraints",   "changeDataFeed",
      "generatedColumns", "columnMapping",  "identityColumns",    "deletionVectors",
      "timestampNtz",     "domainMetadata", "vacuumProtocolCheck"};
  return kFeatures;
}

}  // namespace

bool ProtocolSupportsFeature(const Protocol& protocol, std::string_view feature) {
  auto listed = [&](const std::optional<std::set<std::string>>& s) {
    return s && s->count(std::string(feature)) > 0;
  };
  if (listed(protocol.reader_features) || listed(protocol.writer_features)) return true;
  if (UsesTableFeatures(protocol)) return false;
  std::set<std::string> reader, writer;
  LegacyFeatures(protocol, &reader, &writer);
  return reader.count(std::string(feature)) > 0 || writer.count(std::string(feature)) > 0;
}

Result<Protocol> RequiredProtocol(const Metadata& metadata,
                                  const std::optional<Protocol>& current) {
  ASSIGN_OR_RETURN(TableProperties props, ParseTableProperties(metadata.configuration));
  ASSIGN_OR_RETURN(Schema schema, ParseSchema(metadata.schema_string));
  Protocol base = current.value_or(Protocol{1, 2, std::nullopt, std::nullopt});

  // Features needing table features (3,7), with whether they are reader features too.
  struct Need {
    std::string name;
    bool reader;
  };
  std::vector<Need> table_feature_needs;
  if (AnyType(*schema.AsStruct(), TypeKind::kTimestampNtz)) {
    table_feature_needs.push_back({"timestampNtz", true});
  }
  if (props.enable_deletion_vectors) table_feature_needs.push_back({"deletionVectors", true});

  // Row constraints (constraints.h): invariants are legacy writer 2, CHECK constraints writer 3.
  bool has_check = false;
  for (const auto& entry : metadata.configuration) {
    has_check = has_check || entry.first.starts_with(kCheckConstraintPrefix);
  }
  const bool has_invariants = !FieldWithMetadata(schema.fields(), kInvariantsKey).empty();

  const bool to_table_features = UsesTableFeatures(base) || !table_feature_needs.empty();
  if (!to_table_features) {
    Protocol out = base;
    if (has_check) out.min_writer_version = std::max(out.min_writer_version, 3);
    if (props.enable_change_data_feed) {
      out.min_writer_version = std::max(out.min_writer_version, 4);
    }
    return out;
  }

  // Table features: carry over what the protocol had (explicitly or by its legacy versions).
  std::set<std::string> reader = base.reader_features.value_or(std::set<std::string>{});
  std::set<std::string> writer = base.writer_features.value_or(std::set<std::string>{});
  if (!UsesTableFeatures(base)) LegacyFeatures(base, &reader, &writer);
  // Reader features are also writer features.
  writer.insert(reader.begin(), reader.end());
  if (props.enable_change_data_feed) writer.insert("changeDataFeed");
  if (has_check) writer.insert("checkConstraints");
  if (has_invariants) writer.insert("invariants");
  for (const auto& need : table_feature_needs) {
    writer.insert(need.name);
    if (need.reader) reader.insert(need.name);
  }
  Protocol out;
  out.min_writer_version = kTableFeaturesWriterVersion;
  // A reader version below 3 lists no reader features; features that are reader features move
  // the table to reader version 3. (Reader 2 means column mapping, which the list now holds.)
  const bool needs_reader_list = base.min_reader_version >= kTableFeaturesReaderVersion ||
                                 std::any_of(table_feature_needs.begin(), table_feature_needs.end(),
                                             [](const Need& n) { return n.reader; });
  if (needs_reader_list) {
    out.min_reader_version = kTableFeaturesReaderVersion;
    out.reader_features = std::move(reader);
  } else {
    out.min_reader_version = base.min_reader_version;
  }
  out.writer_features = std::move(writer);
  if (current && out == *current) return *current;
  return out;
}

Status CheckWriteSupported(const Protocol& protocol, const Metadata& metadata) {
  if (protocol.min_writer_version > kTableFeaturesWriterVersion) {
    return Status::NotSupported("table requires writer version " +
                                std::to_string(protocol.min_writer_version) +
                                ", above the highest medallion writes (" +
                                std::to_string(kTableFeaturesWriterVersion) + ")");
  }
  if (protocol.min_reader_version > kMaxReaderVersion) {
    return Status::NotSupported(
        "table requires reader version " + std::to_string(protocol.min_reader_version) +
        ", above the highest medallion supports (" + std::to_string(kMaxReaderVersion) + ")");
  }
  if (UsesTableFeatures(protocol)) {
    std::set<std::string> all = protocol.writer_features.value_or(std::set<std::string>{});
    if (protocol.reader_features) {
      all.insert(protocol.reader_features->begin(), protocol.reader_features->end());
    }
    for (const auto& f : all) {
      if (!WritableFeatures().count(f)) {
        return Status::NotSupported("table requires writer feature '" + f +
                                    "', which medallion cannot write");
      }
    }
  }
  ASSIGN_OR_RETURN(Schema schema, ParseSchema(metadata.schema_string));
  ASSIGN_OR_RETURN(TableProperties props, ParseTableProperties(metadata.configuration));
  auto in_use = [&](std::string_view feature, const std::string& what) {
    return Status::NotSupported("table uses writer feature '" + std::string(feature) + "' (" +
                                what + "), which medallion cannot write");
  };
  // Invariants and CHECK constraints are honored: the engine's writers check every row they add
  // (engine/delta_constraints.h). A constraint the protocol does not support would be ignored by
  // other writers.
  if (std::string f = FieldWithMetadata(schema.fields(), kInvariantsKey);
      !f.empty() && !ProtocolSupportsFeature(protocol, "invariants")) {
    return Status::InvalidArgument("column " + f +
                                   " has an invariant, which needs the invariants feature");
  }
  for (const auto& entry : metadata.configuration) {
    if (entry.first.starts_with(kCheckConstraintPrefix) &&
        !ProtocolSupportsFeature(protocol, "checkConstraints")) {
      return Status::InvalidArgument(entry.first +
                                     " needs writer version 3 or the checkConstraints feature");
    }
  }
  if (ProtocolSupportsFeature(protocol, "generatedColumns")) {
    std::string f = FieldWithMetadata(schema.fields(), "delta.generationExpression");
    if (!f.empty()) return in_use("generatedColumns", "column " + f);
  }
  if (ProtocolSupportsFeature(protocol, "identityColumns")) {
    std::string f = FieldWithMetadata(schema.fields(), "delta.identity.");
    if (!f.empty()) return in_use("identityColumns", "column " + f);
  }
  if (ProtocolSupportsFeature(protocol, "columnMapping") &&
      props.column_mapping_mode != ColumnMappingMode::kNone) {
    return in_use("columnMapping",
                  "mode " + std::string(ColumnMappingModeName(props.column_mapping_mode)));
  }
  // A property that needs a feature the protocol lacks would make other writers ignore it.
  if (props.enable_change_data_feed && !ProtocolSupportsFeature(protocol, "changeDataFeed")) {
    return Status::InvalidArgument(
        "delta.enableChangeDataFeed=true needs writer version 4 or the changeDataFeed feature");
  }
  if (props.enable_deletion_vectors && !ProtocolSupportsFeature(protocol, "deletionVectors")) {
    return Status::InvalidArgument(
        "delta.enableDeletionVectors=true needs the deletionVectors table feature");
  }
  if (AnyType(*schema.AsStruct(), TypeKind::kTimestampNtz) &&
      !ProtocolSupportsFeature(protocol, "timestampNtz")) {
    return Status::InvalidArgument("a timestamp_ntz column needs the timestampNtz table feature");
  }
  return Status::OK();
}

}  // namespace medallion::delta
