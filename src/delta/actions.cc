#include "delta/actions.h"

#include <simdjson.h>

#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>
#include <string>

#include "common/macros.h"

namespace medallion::delta {
namespace {

namespace dom = simdjson::dom;
using OJson = nlohmann::ordered_json;

std::string Where(ActionSource source) {
  std::string out(source.file.empty() ? std::string_view("<action>") : source.file);
  if (source.line > 0) out += " line " + std::to_string(source.line);
  return out;
}

// Reads the fields of one action object, turning type errors into Corruption with context.
class FieldReader {
 public:
  FieldReader(dom::object object, ActionSource source, std::string_view action)
      : object_(object), source_(source), action_(action) {}

  Status Error(std::string_view message) const {
    return Status::Corruption(Where(source_) + ": " + std::string(action_) + ": " +
                              std::string(message));
  }
  Status Missing(std::string_view key) const {
    return Error("missing required field '" + std::string(key) + "'");
  }
  Status WrongType(std::string_view key, std::string_view expected) const {
    return Error("field '" + std::string(key) + "' is not " + std::string(expected));
  }

  // The field, or nullopt when absent or null.
  std::optional<dom::element> Get(std::string_view key) const {
    dom::element e;
    if (object_.at_key(key).get(e) != simdjson::SUCCESS) return std::nullopt;
    if (e.is_null()) return std::nullopt;
    return e;
  }

  Result<std::optional<std::string>> OptString(std::string_view key) const {
    auto e = Get(key);
    if (!e) return std::optional<std::string>();
    std::string_view s;
    if (e->get_string().get(s) != simdjson::SUCCESS) return WrongType(key, "a string");
    return std::optional<std::string>(std::string(s));
  }
  Result<std::string> String(std::string_view key) const {
    ASSIGN_OR_RETURN(auto v, OptString(key));
    if (!v) return Missing(key);
    return std::move(*v);
  }

  Result<std::optional<int64_t>> OptInt(std::string_view key) const {
    auto e = Get(key);
    if (!e) return std::optional<int64_t>();
    int64_t i;
    if (e->get_int64().get(i) == simdjson::SUCCESS) return std::optional<int64_t>(i);
    double d;
    if (e->get_double().get(d) == simdjson::SUCCESS && std::floor(d) == d &&
        std::abs(d) < 9.2e18) {
      return std::optional<int64_t>(static_cast<int64_t>(d));
    }
    // Some writers quote numbers.
    std::string_view s;
    if (e->get_string().get(s) == simdjson::SUCCESS) {
      try {
        size_t used = 0;
        const long long v = std::stoll(std::string(s), &used);
        if (used == s.size()) return std::optional<int64_t>(v);
      } catch (...) {
      }
    }
    return WrongType(key, "an integer");
  }
  Result<int64_t> Int(std::string_view key) const {
    ASSIGN_OR_RETURN(auto v, OptInt(key));
    if (!v) return Missing(key);
    return *v;
  }
  Result<std::optional<int32_t>> OptInt32(std::string_view key) const {
    ASSIGN_OR_RETURN(auto v, OptInt(key));
    if (!v) return std::optional<int32_t>();
    if (*v < std::numeric_limits<int32_t>::min() || *v > std::numeric_limits<int32_t>::max()) {
      return Error("field '" + std::string(key) + "' is out of the 32-bit range");
    }
    return std::optional<int32_t>(static_cast<int32_t>(*v));
  }
  Result<int32_t> Int32(std::string_view key) const {
    ASSIGN_OR_RETURN(auto v, OptInt32(key));
    if (!v) return Missing(key);
    return *v;
  }

  Result<std::optional<bool>> OptBool(std::string_view key) const {
    auto e = Get(key);
    if (!e) return std::optional<bool>();
    bool b;
    if (e->get_bool().get(b) == simdjson::SUCCESS) return std::optional<bool>(b);
    std::string_view s;
    if (e->get_string().get(s) == simdjson::SUCCESS && (s == "true" || s == "false")) {
      return std::optional<bool>(s == "true");
    }
    return WrongType(key, "a boolean");
  }

  // A map<string, string> as a JSON object, or as an array of {"key":..,"value":..} entries (the
  // shape some Parquet-to-JSON conversions give maps). Null values become nullopt.
  Result<std::optional<PartitionValues>> OptNullableMap(std::string_view key) const {
    auto e = Get(key);
    if (!e) return std::optional<PartitionValues>();
    PartitionValues out;
    auto put = [&](std::string_view k, dom::element v) -> Status {
      if (v.is_null()) {
        out[std::string(k)] = std::nullopt;
        return Status::OK();
      }
      std::string_view s;
      if (v.get_string().get(s) == simdjson::SUCCESS) {
        out[std::string(k)] = std::string(s);
        return Status::OK();
      }
      // Non-string scalars (a number in a hand-written log): keep their JSON text.
      if (v.is_number() || v.is_bool()) {
        out[std::string(k)] = simdjson::to_string(v);
        return Status::OK();
      }
      return Error("map field '" + std::string(key) + "' has a non-string value for key '" +
                   std::string(k) + "'");
    };
    dom::object obj;
    dom::array arr;
    if (e->get_object().get(obj) == simdjson::SUCCESS) {
      for (dom::key_value_pair kv : obj) RETURN_NOT_OK(put(kv.key, kv.value));
    } else if (e->get_array().get(arr) == simdjson::SUCCESS) {
      for (dom::element entry : arr) {
        dom::object eo;
        std::string_view k;
        dom::element v;
        if (entry.get_object().get(eo) != simdjson::SUCCESS ||
            eo.at_key("key").get_string().get(k) != simdjson::SUCCESS ||
            eo.at_key("value").get(v) != simdjson::SUCCESS) {
          return WrongType(key, "a map");
        }
        RETURN_NOT_OK(put(k, v));
      }
    } else {
      return WrongType(key, "a map");
    }
    return std::optional<PartitionValues>(std::move(out));
  }
  Result<PartitionValues> NullableMap(std::string_view key, bool required) const {
    ASSIGN_OR_RETURN(auto v, OptNullableMap(key));
    if (!v) {
      if (required) return Missing(key);
      return PartitionValues{};
    }
    return std::move(*v);
  }
  // A map<string,string>; null values are dropped.
  Result<std::optional<StringMap>> OptStringMap(std::string_view key) const {
    ASSIGN_OR_RETURN(auto v, OptNullableMap(key));
    if (!v) return std::optional<StringMap>();
    StringMap out;
    for (auto& [k, val] : *v) {
      if (val) out.emplace(k, std::move(*val));
    }
    return std::optional<StringMap>(std::move(out));
  }
  Result<StringMap> StringMapOrEmpty(std::string_view key) const {
    ASSIGN_OR_RETURN(auto v, OptStringMap(key));
    return v ? std::move(*v) : StringMap{};
  }

  Result<std::optional<std::vector<std::string>>> OptStringArray(std::string_view key) const {
    auto e = Get(key);
    if (!e) return std::optional<std::vector<std::string>>();
    dom::array arr;
    if (e->get_array().get(arr) != simdjson::SUCCESS) return WrongType(key, "an array");
    std::vector<std::string> out;
    for (dom::element item : arr) {
      std::string_view s;
      if (item.get_string().get(s) != simdjson::SUCCESS) {
        return WrongType(key, "an array of strings");
      }
      out.emplace_back(s);
    }
    return std::optional<std::vector<std::string>>(std::move(out));
  }

  Result<std::optional<FieldReader>> OptObject(std::string_view key,
                                               std::string_view sub_action) const {
    auto e = Get(key);
    if (!e) return std::optional<FieldReader>();
    dom::object obj;
    if (e->get_object().get(obj) != simdjson::SUCCESS) return WrongType(key, "an object");
    return std::optional<FieldReader>(FieldReader(obj, source_, sub_action));
  }

 private:
  dom::object object_;
  ActionSource source_;
  std::string_view action_;
};

Result<std::optional<DeletionVectorDescriptor>> ParseDv(const FieldReader& r,
                                                        std::string_view action) {
  std::string label = std::string(action) + ".deletionVector";
  ASSIGN_OR_RETURN(auto sub, r.OptObject("deletionVector", label));
  if (!sub) return std::optional<DeletionVectorDescriptor>();
  DeletionVectorDescriptor dv;
  // A checkpoint row may carry an all-null DV struct: no DV.
  if (!sub->Get("storageType") && !sub->Get("pathOrInlineDv")) {
    return std::optional<DeletionVectorDescriptor>();
  }
  ASSIGN_OR_RETURN(dv.storage_type, sub->String("storageType"));
  ASSIGN_OR_RETURN(dv.path_or_inline_dv, sub->String("pathOrInlineDv"));
  ASSIGN_OR_RETURN(dv.offset, sub->OptInt32("offset"));
  ASSIGN_OR_RETURN(dv.size_in_bytes, sub->Int32("sizeInBytes"));
  ASSIGN_OR_RETURN(dv.cardinality, sub->Int("cardinality"));
  ASSIGN_OR_RETURN(dv.max_row_index, sub->OptInt("maxRowIndex"));
  return std::optional<DeletionVectorDescriptor>(std::move(dv));
}

Result<Action> ParseProtocol(const FieldReader& r) {
  Protocol p;
  ASSIGN_OR_RETURN(p.min_reader_version, r.Int32("minReaderVersion"));
  ASSIGN_OR_RETURN(p.min_writer_version, r.Int32("minWriterVersion"));
  ASSIGN_OR_RETURN(auto rf, r.OptStringArray("readerFeatures"));
  ASSIGN_OR_RETURN(auto wf, r.OptStringArray("writerFeatures"));
  if (rf) p.reader_features = std::set<std::string>(rf->begin(), rf->end());
  if (wf) p.writer_features = std::set<std::string>(wf->begin(), wf->end());
  return Action(std::move(p));
}

Result<Action> ParseMetadata(const FieldReader& r) {
  Metadata m;
  ASSIGN_OR_RETURN(m.id, r.String("id"));
  ASSIGN_OR_RETURN(m.name, r.OptString("name"));
  ASSIGN_OR_RETURN(m.description, r.OptString("description"));
  ASSIGN_OR_RETURN(auto format, r.OptObject("format", "metaData.format"));
  if (format) {
    ASSIGN_OR_RETURN(auto provider, format->OptString("provider"));
    if (provider) m.format_provider = std::move(*provider);
    ASSIGN_OR_RETURN(m.format_options, format->StringMapOrEmpty("options"));
  }
  ASSIGN_OR_RETURN(m.schema_string, r.String("schemaString"));
  ASSIGN_OR_RETURN(auto cols, r.OptStringArray("partitionColumns"));
  if (cols) m.partition_columns = std::move(*cols);
  ASSIGN_OR_RETURN(m.configuration, r.StringMapOrEmpty("configuration"));
  ASSIGN_OR_RETURN(m.created_time, r.OptInt("createdTime"));
  return Action(std::move(m));
}

Result<Action> ParseAdd(const FieldReader& r) {
  AddFile a;
  ASSIGN_OR_RETURN(a.path, r.String("path"));
  ASSIGN_OR_RETURN(a.partition_values, r.NullableMap("partitionValues", /*required=*/false));
  ASSIGN_OR_RETURN(a.size, r.Int("size"));
  ASSIGN_OR_RETURN(auto mtime, r.OptInt("modificationTime"));
  a.modification_time = mtime.value_or(0);
  ASSIGN_OR_RETURN(auto dc, r.OptBool("dataChange"));
  a.data_change = dc.value_or(true);
  ASSIGN_OR_RETURN(a.stats, r.OptString("stats"));
  ASSIGN_OR_RETURN(a.tags, r.StringMapOrEmpty("tags"));
  ASSIGN_OR_RETURN(a.deletion_vector, ParseDv(r, "add"));
  ASSIGN_OR_RETURN(a.base_row_id, r.OptInt("baseRowId"));
  ASSIGN_OR_RETURN(a.default_row_commit_version, r.OptInt("defaultRowCommitVersion"));
  ASSIGN_OR_RETURN(a.clustering_provider, r.OptString("clusteringProvider"));
  return Action(std::move(a));
}

Result<Action> ParseRemove(const FieldReader& r) {
  RemoveFile a;
  ASSIGN_OR_RETURN(a.path, r.String("path"));
  ASSIGN_OR_RETURN(a.deletion_timestamp, r.OptInt("deletionTimestamp"));
  ASSIGN_OR_RETURN(auto dc, r.OptBool("dataChange"));
  a.data_change = dc.value_or(true);
  ASSIGN_OR_RETURN(a.extended_file_metadata, r.OptBool("extendedFileMetadata"));
  ASSIGN_OR_RETURN(a.partition_values, r.OptNullableMap("partitionValues"));
  ASSIGN_OR_RETURN(a.size, r.OptInt("size"));
  ASSIGN_OR_RETURN(a.stats, r.OptString("stats"));
  ASSIGN_OR_RETURN(a.tags, r.OptStringMap("tags"));
  ASSIGN_OR_RETURN(a.deletion_vector, ParseDv(r, "remove"));
  ASSIGN_OR_RETURN(a.base_row_id, r.OptInt("baseRowId"));
  ASSIGN_OR_RETURN(a.default_row_commit_version, r.OptInt("defaultRowCommitVersion"));
  return Action(std::move(a));
}

Result<Action> ParseCdc(const FieldReader& r) {
  AddCdcFile a;
  ASSIGN_OR_RETURN(a.path, r.String("path"));
  ASSIGN_OR_RETURN(a.partition_values, r.NullableMap("partitionValues", /*required=*/false));
  ASSIGN_OR_RETURN(a.size, r.Int("size"));
  ASSIGN_OR_RETURN(auto dc, r.OptBool("dataChange"));
  a.data_change = dc.value_or(false);
  ASSIGN_OR_RETURN(a.tags, r.StringMapOrEmpty("tags"));
  return Action(std::move(a));
}

Result<Action> ParseTxn(const FieldReader& r) {
  Txn t;
  ASSIGN_OR_RETURN(t.app_id, r.String("appId"));
  ASSIGN_OR_RETURN(t.version, r.Int("version"));
  ASSIGN_OR_RETURN(t.last_updated, r.OptInt("lastUpdated"));
  return Action(std::move(t));
}

Result<Action> ParseCommitInfo(const FieldReader& r, dom::element raw) {
  CommitInfo c;
  c.raw_json = simdjson::to_string(raw);
  ASSIGN_OR_RETURN(c.timestamp, r.OptInt("timestamp"));
  ASSIGN_OR_RETURN(c.in_commit_timestamp, r.OptInt("inCommitTimestamp"));
  // Free-form: a non-string operation is not an error, just not extracted.
  auto op = r.OptString("operation");
  if (op.ok()) c.operation = std::move(*op);
  return Action(std::move(c));
}

Result<Action> ParseDomainMetadata(const FieldReader& r) {
  DomainMetadata d;
  ASSIGN_OR_RETURN(d.domain, r.String("domain"));
  ASSIGN_OR_RETURN(d.configuration, r.String("configuration"));
  ASSIGN_OR_RETURN(auto removed, r.OptBool("removed"));
  d.removed = removed.value_or(false);
  return Action(std::move(d));
}

Result<Action> ParseCheckpointMetadata(const FieldReader& r) {
  CheckpointMetadata c;
  ASSIGN_OR_RETURN(c.version, r.Int("version"));
  ASSIGN_OR_RETURN(c.tags, r.StringMapOrEmpty("tags"));
  return Action(std::move(c));
}

Result<Action> ParseSidecar(const FieldReader& r) {
  Sidecar s;
  ASSIGN_OR_RETURN(s.path, r.String("path"));
  ASSIGN_OR_RETURN(s.size_in_bytes, r.Int("sizeInBytes"));
  ASSIGN_OR_RETURN(auto mtime, r.OptInt("modificationTime"));
  s.modification_time = mtime.value_or(0);
  ASSIGN_OR_RETURN(s.tags, r.StringMapOrEmpty("tags"));
  return Action(std::move(s));
}

// ---- serialization ----

OJson MapJson(const StringMap& m) {
  OJson o = OJson::object();
  for (const auto& [k, v] : m) o[k] = v;
  return o;
}
OJson MapJson(const PartitionValues& m) {
  OJson o = OJson::object();
  for (const auto& [k, v] : m) o[k] = v ? OJson(*v) : OJson(nullptr);
  return o;
}
OJson DvJson(const DeletionVectorDescriptor& dv) {
  OJson o = OJson::object();
  o["storageType"] = dv.storage_type;
  o["pathOrInlineDv"] = dv.path_or_inline_dv;
  if (dv.offset) o["offset"] = *dv.offset;
  o["sizeInBytes"] = dv.size_in_bytes;
  o["cardinality"] = dv.cardinality;
  if (dv.max_row_index) o["maxRowIndex"] = *dv.max_row_index;
  return o;
}

struct Serializer {
  OJson operator()(const Protocol& p) const {
    OJson o = OJson::object();
    o["minReaderVersion"] = p.min_reader_version;
    o["minWriterVersion"] = p.min_writer_version;
    if (p.reader_features) o["readerFeatures"] = *p.reader_features;
    if (p.writer_features) o["writerFeatures"] = *p.writer_features;
    return o;
  }
  OJson operator()(const Metadata& m) const {
    OJson o = OJson::object();
    o["id"] = m.id;
    if (m.name) o["name"] = *m.name;
    if (m.description) o["description"] = *m.description;
    o["format"] = OJson{{"provider", m.format_provider}, {"options", MapJson(m.format_options)}};
    o["schemaString"] = m.schema_string;
    o["partitionColumns"] = m.partition_columns;
    o["configuration"] = MapJson(m.configuration);
    if (m.created_time) o["createdTime"] = *m.created_time;
    return o;
  }
  OJson operator()(const AddFile& a) const {
    OJson o = OJson::object();
    o["path"] = a.path;
    o["partitionValues"] = MapJson(a.partition_values);
    o["size"] = a.size;
    o["modificationTime"] = a.modification_time;
    o["dataChange"] = a.data_change;
    if (a.stats) o["stats"] = *a.stats;
    if (!a.tags.empty()) o["tags"] = MapJson(a.tags);
    if (a.deletion_vector) o["deletionVector"] = DvJson(*a.deletion_vector);
    if (a.base_row_id) o["baseRowId"] = *a.base_row_id;
    if (a.default_row_commit_version) o["defaultRowCommitVersion"] = *a.default_row_commit_version;
    if (a.clustering_provider) o["clusteringProvider"] = *a.clustering_provider;
    return o;
  }
  OJson operator()(const RemoveFile& r) const {
    OJson o = OJson::object();
    o["path"] = r.path;
    if (r.deletion_timestamp) o["deletionTimestamp"] = *r.deletion_timestamp;
    o["dataChange"] = r.data_change;
    if (r.extended_file_metadata) o["extendedFileMetadata"] = *r.extended_file_metadata;
    if (r.partition_values) o["partitionValues"] = MapJson(*r.partition_values);
    if (r.size) o["size"] = *r.size;
    if (r.stats) o["stats"] = *r.stats;
    if (r.tags) o["tags"] = MapJson(*r.tags);
    if (r.deletion_vector) o["deletionVector"] = DvJson(*r.deletion_vector);
    if (r.base_row_id) o["baseRowId"] = *r.base_row_id;
    if (r.default_row_commit_version) o["defaultRowCommitVersion"] = *r.default_row_commit_version;
    return o;
  }
  OJson operator()(const AddCdcFile& c) const {
    OJson o = OJson::object();
    o["path"] = c.path;
    o["partitionValues"] = MapJson(c.partition_values);
    o["size"] = c.size;
    o["dataChange"] = c.data_change;
    if (!c.tags.empty()) o["tags"] = MapJson(c.tags);
    return o;
  }
  OJson operator()(const Txn& t) const {
    OJson o = OJson::object();
    o["appId"] = t.app_id;
    o["version"] = t.version;
    if (t.last_updated) o["lastUpdated"] = *t.last_updated;
    return o;
  }
  OJson operator()(const CommitInfo& c) const {
    // The raw object is authoritative; the extracted fields are written over it so that a
    // CommitInfo built in code (raw "{}") serializes what was set.
    OJson o = OJson::parse(c.raw_json.empty() ? std::string("{}") : c.raw_json, nullptr, false);
    if (!o.is_object()) o = OJson::object();
    if (c.timestamp) o["timestamp"] = *c.timestamp;
    if (c.in_commit_timestamp) o["inCommitTimestamp"] = *c.in_commit_timestamp;
    if (c.operation) o["operation"] = *c.operation;
    return o;
  }
  OJson operator()(const DomainMetadata& d) const {
    return OJson{{"domain", d.domain}, {"configuration", d.configuration}, {"removed", d.removed}};
  }
  OJson operator()(const CheckpointMetadata& c) const {
    OJson o = OJson::object();
    o["version"] = c.version;
    if (!c.tags.empty()) o["tags"] = MapJson(c.tags);
    return o;
  }
  OJson operator()(const Sidecar& s) const {
    OJson o = OJson::object();
    o["path"] = s.path;
    o["sizeInBytes"] = s.size_in_bytes;
    o["modificationTime"] = s.modification_time;
    if (!s.tags.empty()) o["tags"] = MapJson(s.tags);
    return o;
  }
};

struct Namer {
  std::string_view operator()(const Protocol&) const { return "protocol"; }
  std::string_view operator()(const Metadata&) const { return "metaData"; }
  std::string_view operator()(const AddFile&) const { return "add"; }
  std::string_view operator()(const RemoveFile&) const { return "remove"; }
  std::string_view operator()(const AddCdcFile&) const { return "cdc"; }
  std::string_view operator()(const Txn&) const { return "txn"; }
  std::string_view operator()(const CommitInfo&) const { return "commitInfo"; }
  std::string_view operator()(const DomainMetadata&) const { return "domainMetadata"; }
  std::string_view operator()(const CheckpointMetadata&) const { return "checkpointMetadata"; }
  std::string_view operator()(const Sidecar&) const { return "sidecar"; }
};

// True for null and for objects whose members are all (recursively) null: some checkpoint
// writers store a non-null struct of null fields in the action columns a row does not use.
bool AllNull(dom::element e) {
  if (e.is_null()) return true;
  dom::object obj;
  if (e.get_object().get(obj) != simdjson::SUCCESS) return false;
  for (dom::key_value_pair kv : obj) {
    if (!AllNull(kv.value)) return false;
  }
  return true;
}

}  // namespace

Result<std::optional<Action>> ParseAction(std::string_view json, ActionSource source) {
  size_t first = json.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) return std::optional<Action>();
  // One parser per thread: dom::parser is not thread-safe, and reusing it avoids reallocations.
  thread_local dom::parser parser;
  dom::element doc;
  if (auto err = parser.parse(json.data(), json.size(), /*realloc_if_needed=*/true).get(doc);
      err != simdjson::SUCCESS) {
    return Status::Corruption(Where(source) + ": malformed JSON: " +
                              simdjson::error_message(err));
  }
  dom::object top;
  if (doc.get_object().get(top) != simdjson::SUCCESS) {
    return Status::Corruption(Where(source) + ": an action must be a JSON object");
  }
  for (dom::key_value_pair kv : top) {
    if (AllNull(kv.value)) continue;
    const std::string_view name = kv.key;
    dom::object obj;
    const bool is_object = kv.value.get_object().get(obj) == simdjson::SUCCESS;
    auto check_object = [&]() -> Status {
      if (!is_object) {
        return Status::Corruption(Where(source) + ": " + std::string(name) +
                                  ": action is not a JSON object");
      }
      return Status::OK();
    };
    Result<Action> action = Status::Internal("unset");
    if (name == "add") {
      RETURN_NOT_OK(check_object());
      action = ParseAdd(FieldReader(obj, source, name));
    } else if (name == "remove") {
      RETURN_NOT_OK(check_object());
      action = ParseRemove(FieldReader(obj, source, name));
    } else if (name == "metaData") {
      RETURN_NOT_OK(check_object());
      action = ParseMetadata(FieldReader(obj, source, name));
    } else if (name == "protocol") {
      RETURN_NOT_OK(check_object());
      action = ParseProtocol(FieldReader(obj, source, name));
    } else if (name == "txn") {
      RETURN_NOT_OK(check_object());
      action = ParseTxn(FieldReader(obj, source, name));
    } else if (name == "commitInfo") {
      RETURN_NOT_OK(check_object());
      action = ParseCommitInfo(FieldReader(obj, source, name), kv.value);
    } else if (name == "cdc") {
      RETURN_NOT_OK(check_object());
      action = ParseCdc(FieldReader(obj, source, name));
    } else if (name == "domainMetadata") {
      RETURN_NOT_OK(check_object());
      action = ParseDomainMetadata(FieldReader(obj, source, name));
    } else if (name == "checkpointMetadata") {
      RETURN_NOT_OK(check_object());
      action = ParseCheckpointMetadata(FieldReader(obj, source, name));
    } else if (name == "sidecar") {
      RETURN_NOT_OK(check_object());
      action = ParseSidecar(FieldReader(obj, source, name));
    } else {
      continue;  // an action this reader does not know: ignored (PROTOCOL.md, "Protocol Evolution")
    }
    if (!action.ok()) return action.status();
    return std::optional<Action>(std::move(action).ValueOrDie());
  }
  return std::optional<Action>();
}

Result<std::vector<Action>> ParseActions(std::string_view ndjson, std::string_view file) {
  std::vector<Action> out;
  int64_t line_no = 0;
  size_t pos = 0;
  while (pos < ndjson.size()) {
    size_t end = ndjson.find('\n', pos);
    if (end == std::string_view::npos) end = ndjson.size();
    ++line_no;
    ASSIGN_OR_RETURN(auto action, ParseAction(ndjson.substr(pos, end - pos), {file, line_no}));
    if (action) out.push_back(std::move(*action));
    pos = end + 1;
  }
  return out;
}

Result<std::optional<CommitInfo>> ParseFirstCommitInfo(std::string_view ndjson,
                                                       std::string_view file) {
  int64_t line_no = 0;
  size_t pos = 0;
  while (pos < ndjson.size()) {
    size_t end = ndjson.find('\n', pos);
    if (end == std::string_view::npos) end = ndjson.size();
    ++line_no;
    const std::string_view line = ndjson.substr(pos, end - pos);
    pos = end + 1;
    // Cheap pre-check before a full parse: the action key must appear in the line.
    if (line.find("\"commitInfo\"") == std::string_view::npos) continue;
    thread_local dom::parser parser;
    dom::element doc;
    dom::object top;
    dom::element ci;
    if (parser.parse(line.data(), line.size(), true).get(doc) != simdjson::SUCCESS ||
        doc.get_object().get(top) != simdjson::SUCCESS ||
        top.at_key("commitInfo").get(ci) != simdjson::SUCCESS || ci.is_null()) {
      continue;  // not a commitInfo line (the key appeared inside another action)
    }
    ASSIGN_OR_RETURN(auto action, ParseAction(line, {file, line_no}));
    if (action && std::holds_alternative<CommitInfo>(*action)) {
      return std::optional<CommitInfo>(std::get<CommitInfo>(std::move(*action)));
    }
  }
  return std::optional<CommitInfo>();
}

std::string SerializeAction(const Action& action) {
  OJson o = OJson::object();
  o[std::string(ActionName(action))] = std::visit(Serializer{}, action);
  return o.dump();
}

std::string_view ActionName(const Action& action) { return std::visit(Namer{}, action); }

}  // namespace medallion::delta
