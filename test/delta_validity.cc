#include "delta_validity.h"

#include <fmt/format.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>

#include "common/macros.h"
#include "delta/actions.h"
#include "delta/checkpoint_writer.h"
#include "delta/file_path.h"
#include "delta/log_segment.h"
#include "delta/partition_value.h"
#include "delta/schema.h"
#include "delta/snapshot.h"
#include "engine/database.h"
#include "engine/delta_types.h"
#include "engine/duckdb_parquet_handler.h"
#include "engine/sql_text.h"
#include "storage/local_object_store.h"

namespace medallion::validity {
namespace {

using delta::DataType;
using delta::TypeKind;
using engine::QuoteIdentifier;
using engine::QuoteString;
using nlohmann::json;

struct Problems {
  std::vector<std::string> items;
  void Add(std::string p) { items.push_back(std::move(p)); }
};

// Required fields per action, with their JSON types (PROTOCOL.md, "Actions").
void CheckRequired(const json& obj, const std::string& where, Problems& out,
                   std::initializer_list<std::pair<const char*, json::value_t>> fields) {
  for (const auto& [name, type] : fields) {
    auto it = obj.find(name);
    if (it == obj.end() || it->is_null()) {
      out.Add(fmt::format("{}: missing required field '{}'", where, name));
      continue;
    }
    bool ok =
        it->type() == type || (type == json::value_t::number_integer && it->is_number_unsigned());
    if (!ok) out.Add(fmt::format("{}: field '{}' has the wrong JSON type", where, name));
  }
}

void CheckCommit(const std::string& name, const std::string& text, int64_t version, Problems& out) {
  size_t start = 0;
  int line = 0;
  bool has_commit_info = false, has_protocol = false, has_metadata = false;
  using VT = json::value_t;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    std::string_view l(text.data() + start, end - start);
    start = end + 1;
    ++line;
    if (l.empty()) continue;
    std::string where = fmt::format("{} line {}", name, line);
    json j = json::parse(l, nullptr, false);
    if (j.is_discarded() || !j.is_object() || j.size() != 1) {
      out.Add(where + ": not a JSON object with exactly one action");
      continue;
    }
    const std::string key = j.begin().key();
    const json& a = j.begin().value();
    if (!a.is_object()) {
      out.Add(where + ": action is not an object");
      continue;
    }
    if (key == "commitInfo") {
      has_commit_info = true;
      CheckRequired(a, where + " commitInfo", out,
                    {{"timestamp", VT::number_integer}, {"operation", VT::string}});
    } else if (key == "add") {
      CheckRequired(a, where + " add", out,
                    {{"path", VT::string},
                     {"partitionValues", VT::object},
                     {"size", VT::number_integer},
                     {"modificationTime", VT::number_integer},
                     {"dataChange", VT::boolean}});
      if (a.contains("stats")) {
        if (!a["stats"].is_string() ||
            json::parse(a["stats"].get<std::string>(), nullptr, false).is_discarded()) {
          out.Add(where + " add: stats is not a JSON text");
        }
      }
    } else if (key == "remove") {
      CheckRequired(a, where + " remove", out,
                    {{"path", VT::string},
                     {"dataChange", VT::boolean},
                     {"deletionTimestamp", VT::number_integer}});
    } else if (key == "metaData") {
      has_metadata = true;
      CheckRequired(a, where + " metaData", out,
                    {{"id", VT::string},
                     {"format", VT::object},
                     {"schemaString", VT::string},
                     {"partitionColumns", VT::array},
                     {"configuration", VT::object}});
      if (a.contains("format") && a["format"].is_object() && !a["format"].contains("provider")) {
        out.Add(where + " metaData: format without provider");
      }
    } else if (key == "protocol") {
      has_protocol = true;
      CheckRequired(
          a, where + " protocol", out,
          {{"minReaderVersion", VT::number_integer}, {"minWriterVersion", VT::number_integer}});
    } else if (key == "cdc") {  // PROTOCOL.md, "Add CDC File"
      CheckRequired(a, where + " cdc", out,
                    {{"path", VT::string},
                     {"partitionValues", VT::object},
                     {"size", VT::number_integer},
                     {"dataChange", VT::boolean}});
      if (a.contains("dataChange") && a["dataChange"].is_boolean() && a["dataChange"].get<bool>()) {
        out.Add(where + " cdc: dataChange must be false");
      }
    } else if (key == "txn") {
      CheckRequired(a, where + " txn", out,
                    {{"appId", VT::string}, {"version", VT::number_integer}});
    } else {
      out.Add(fmt::format("{}: unexpected action '{}'", where, key));
    }
  }
  if (!has_commit_info) out.Add(name + ": no commitInfo");
  if (version == 0 && (!has_protocol || !has_metadata))
    out.Add(name + ": version 0 lacks protocol or metaData");
  auto parsed = delta::ParseActions(text, name);
  if (!parsed.ok()) out.Add(name + ": " + parsed.status().ToString());
}

bool HasType(const DataType& t, TypeKind kind) {
  if (t.kind() == kind) return true;
  switch (t.kind()) {
    case TypeKind::kStruct:
      for (const auto& f : t.fields()) {
        if (HasType(*f.type, kind)) return true;
      }
      return false;
    case TypeKind::kArray:
      return HasType(*t.element_type(), kind);
    case TypeKind::kMap:
      return HasType(*t.key_type(), kind) || HasType(*t.value_type(), kind);
    default:
      return false;
  }
}

void CheckProtocol(const delta::Snapshot& s, Problems& out) {
  const auto& p = s.protocol();
  if (p.min_reader_version < 1 || p.min_reader_version > 3)
    out.Add("protocol: bad minReaderVersion");
  if (p.min_writer_version < 2 || p.min_writer_version > 7)
    out.Add("protocol: bad minWriterVersion");
  if ((p.min_reader_version == 3) != p.reader_features.has_value()) {
    out.Add("protocol: readerFeatures must be present exactly with reader version 3");
  }
  if ((p.min_writer_version == 7) != p.writer_features.has_value()) {
    out.Add("protocol: writerFeatures must be present exactly with writer version 7");
  }
  bool ntz = HasType(*s.schema().AsStruct(), TypeKind::kTimestampNtz);
  if (ntz) {
    bool ok = p.min_reader_version == 3 && p.min_writer_version == 7 &&
              p.reader_features->count("timestampNtz") && p.writer_features->count("timestampNtz");
    if (!ok) out.Add("protocol: a timestamp_ntz column needs (3,7) with the timestampNtz feature");
  }
  auto cdf = s.metadata().configuration.find("delta.enableChangeDataFeed");
  if (cdf != s.metadata().configuration.end() && cdf->second == "true") {
    bool ok = p.min_writer_version >= 4 &&
              (p.min_writer_version < 7 || p.writer_features->count("changeDataFeed"));
    if (!ok)
      out.Add("protocol: change data feed needs writer version 4 or the changeDataFeed feature");
  }
  for (const auto& [key, value] : s.metadata().configuration) {
    if (!key.starts_with("delta.constraints.")) continue;
    bool ok = p.min_writer_version >= 3 &&
              (p.min_writer_version < 7 || p.writer_features->count("checkConstraints"));
    if (!ok) out.Add("protocol: " + key + " needs writer version 3 or the checkConstraints feature");
  }
  if (!ntz && p.min_reader_version > 1 &&
      s.config().column_mapping_mode() == delta::ColumnMappingMode::kNone &&
      !s.config().deletion_vectors_supported()) {
    out.Add("protocol: reader version above 1 without a feature that needs it");
  }
}

struct Leaf {
  std::vector<std::string> path;
  std::string sql;
  const DataType* type;
};

void Leaves(const std::vector<delta::StructField>& fields, const std::vector<std::string>& prefix,
            const std::string& sql_prefix, std::vector<Leaf>* out) {
  for (const auto& f : fields) {
    auto path = prefix;
    path.push_back(f.name);
    std::string sql = sql_prefix.empty()
                          ? QuoteIdentifier(f.name)
                          : fmt::format("struct_extract({}, {})", sql_prefix, QuoteString(f.name));
    if (f.type->kind() == TypeKind::kStruct) {
      Leaves(f.type->fields(), path, sql, out);
    } else {
      out->push_back({path, sql, f.type.get()});
    }
  }
}

const json* AtPath(const json& root, const std::vector<std::string>& path) {
  const json* node = &root;
  for (const auto& p : path) {
    if (!node->is_object()) return nullptr;
    auto it = node->find(p);
    if (it == node->end()) return nullptr;
    node = &*it;
  }
  return node;
}

// A boolean SQL expression: does the stat value `v` match the column `leaf` of the file?
std::string StatCheckSql(const Leaf& leaf, const json& v, bool max) {
  std::string agg = fmt::format("{}({})", max ? "max" : "min", leaf.sql);
  switch (leaf.type->kind()) {
    case TypeKind::kString: {
      if (!v.is_string()) return "false";
      std::string s = QuoteString(v.get<std::string>());
      if (!max) return fmt::format("left({}, 32) = {}", agg, s);
      return fmt::format(
          "CASE WHEN length({0}) <= 32 THEN {0} = {1} ELSE starts_with({1}, left({0}, 32)) AND {1} "
          ">= {0} END",
          agg, s);
    }
    case TypeKind::kDate:
      return v.is_string()
                 ? fmt::format("{} = CAST({} AS DATE)", agg, QuoteString(v.get<std::string>()))
                 : "false";
    case TypeKind::kTimestamp:
      return v.is_string() ? fmt::format("date_trunc('millisecond', {}) = CAST({} AS TIMESTAMPTZ)",
                                         agg, QuoteString(v.get<std::string>()))
                           : "false";
    case TypeKind::kTimestampNtz:
      return v.is_string() ? fmt::format("date_trunc('millisecond', {}) = CAST({} AS TIMESTAMP)",
                                         agg, QuoteString(v.get<std::string>()))
                           : "false";
    case TypeKind::kFloat:
    case TypeKind::kDouble:
      return v.is_number() ? fmt::format("CAST({} AS DOUBLE) = CAST({} AS DOUBLE)", agg,
                                         QuoteString(v.dump()))
                           : "false";
    case TypeKind::kDecimal:  // the JSON parser reads decimals as doubles
      return v.is_number() ? fmt::format("CAST({} AS DOUBLE) = CAST({} AS DOUBLE)", agg,
                                         QuoteString(v.dump()))
                           : "false";
    default:
      return v.is_number() ? fmt::format("{} = CAST({} AS {})", agg, QuoteString(v.dump()),
                                         engine::DuckDbTypeOf(*leaf.type))
                           : "false";
  }
}

bool StatsEligible(TypeKind k) {
  switch (k) {
    case TypeKind::kByte:
    case TypeKind::kShort:
    case TypeKind::kInteger:
    case TypeKind::kLong:
    case TypeKind::kDecimal:
    case TypeKind::kString:
    case TypeKind::kDate:
    case TypeKind::kTimestamp:
    case TypeKind::kTimestampNtz:
      return true;
    default:
      return false;  // floats may legitimately lack bounds (NaN), booleans/binary/nested have none
  }
}

void CheckDataFile(engine::Connection& conn, const delta::Snapshot& s,
                   storage::LocalObjectStore& store, const delta::AddFile& add, Problems& out) {
  const std::string where = "file " + add.path;
  static const std::regex kName(
      R"(part-\d{5}-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\.c\d{3}\.snappy\.parquet)");
  auto decoded = delta::ParseFilePath(add.path);
  if (!decoded.ok() || decoded->kind != delta::FilePath::Kind::kRelative) {
    out.Add(where + ": not a relative, decodable path");
    return;
  }
  std::filesystem::path rel(decoded->path);
  if (!std::regex_match(rel.filename().string(), kName))
    out.Add(where + ": file name is not Spark's part-NNNNN-<uuid>.cNNN.snappy.parquet");
  // Folders = partition columns.
  const auto& pcols = s.metadata().partition_columns;
  std::vector<std::string> folders;
  for (const auto& part : rel.parent_path()) folders.push_back(part.string());
  if (folders.size() != pcols.size()) {
    out.Add(where + ": folder depth does not match the partition columns");
  }
  std::set<std::string> keys;
  for (const auto& [k, v] : add.partition_values) keys.insert(k);
  if (keys != std::set<std::string>(pcols.begin(), pcols.end()))
    out.Add(where + ": partitionValues keys differ from partitionColumns");
  for (size_t i = 0; i < pcols.size(); ++i) {
    auto it = add.partition_values.find(pcols[i]);
    std::optional<std::string> v = it == add.partition_values.end() ? std::nullopt : it->second;
    if (v && v->empty()) out.Add(where + ": empty-string partition value (write null)");
    std::string expected = SparkEscapePathName(pcols[i]) + "=" +
                           (v ? SparkEscapePathName(*v) : "__HIVE_DEFAULT_PARTITION__");
    if (i < folders.size() && folders[i] != expected) {
      out.Add(fmt::format("{}: folder '{}' should be '{}'", where, folders[i], expected));
    }
    const auto* field = s.schema().FindField(pcols[i]);
    if (field && !delta::ParsePartitionValue(v, *field->type, pcols[i]).ok()) {
      out.Add(fmt::format("{}: partition value of '{}' does not parse as {}", where, pcols[i],
                          field->type->ToString()));
    }
  }
  auto key = s.FileLocalPath(add);
  if (!key.ok()) {
    out.Add(where + ": " + key.status().ToString());
    return;
  }
  auto local = store.LocalPath(*key);
  std::error_code ec;
  auto size = std::filesystem::file_size(*local, ec);
  if (ec) {
    out.Add(where + ": missing");
    return;
  }
  if (static_cast<int64_t>(size) != add.size)
    out.Add(fmt::format("{}: size {} but the file has {} bytes", where, add.size, size));
  const std::string read =
      fmt::format("read_parquet({}, hive_partitioning = false)", QuoteString(*local));
  auto described = conn.Query("DESCRIBE SELECT * FROM " + read);
  if (!described.ok()) {
    out.Add(where + ": " + described.status().ToString());
    return;
  }
  std::set<std::string> file_columns;
  for (size_t r = 0; r < described->row_count(); ++r) file_columns.insert(described->GetText(0, r));
  for (const auto& p : pcols) {
    if (file_columns.count(p)) out.Add(where + ": holds partition column " + p);
  }

  if (!add.stats) {
    out.Add(where + ": no stats");
    return;
  }
  json stats = json::parse(*add.stats, nullptr, false);
  if (stats.is_discarded() || !stats.is_object() || !stats.contains("numRecords")) {
    out.Add(where + ": stats without numRecords");
    return;
  }
  std::vector<delta::StructField> data;
  for (const auto& f : s.schema().fields()) {
    if (std::find(pcols.begin(), pcols.end(), f.name) == pcols.end() && file_columns.count(f.name))
      data.push_back(f);
  }
  std::vector<Leaf> all_leaves, leaves;
  Leaves(data, {}, "", &all_leaves);
  // Only leaves the file has (older files lack fields added since).
  auto shape = conn.Query(fmt::format("SELECT * FROM {} LIMIT 0", read));
  if (!shape.ok()) {
    out.Add(where + ": " + shape.status().ToString());
    return;
  }
  for (auto& leaf : all_leaves) {
    const engine::ColumnType* t = nullptr;
    for (size_t c = 0; c < shape->column_count(); ++c) {
      if (shape->column_name(c) == leaf.path[0]) t = &shape->column_type(c);
    }
    for (size_t i = 1; t != nullptr && i < leaf.path.size(); ++i) {
      const engine::ColumnType* child = nullptr;
      for (const auto& [name, ct] : t->children) {
        if (name == leaf.path[i]) child = &ct;
      }
      t = child;
    }
    if (t != nullptr) leaves.push_back(std::move(leaf));
  }
  int64_t indexed = s.config().properties().data_skipping_num_indexed_cols;
  if (indexed >= 0 && static_cast<int64_t>(leaves.size()) > indexed) leaves.resize(indexed);
  // One query: count, and per leaf: null count, non-null count, and the min/max checks.
  std::string select = "count(*)";
  std::vector<std::string> labels;
  const json empty = json::object();
  const json& mins = stats.contains("minValues") ? stats["minValues"] : empty;
  const json& maxs = stats.contains("maxValues") ? stats["maxValues"] : empty;
  const json& nulls = stats.contains("nullCount") ? stats["nullCount"] : empty;
  for (const auto& leaf : leaves) {
    select += fmt::format(", count(*) - count({0}), count({0})", leaf.sql);
    for (bool max : {false, true}) {
      const json* v = AtPath(max ? maxs : mins, leaf.path);
      select += ", " + (v ? StatCheckSql(leaf, *v, max) : std::string("NULL"));
    }
  }
  auto r = conn.Query(fmt::format("SELECT {} FROM {}", select, read));
  if (!r.ok()) {
    out.Add(where + ": stats query: " + r.status().ToString());
    return;
  }
  int64_t rows = *r->GetInt64(0, 0);
  if (stats["numRecords"] != rows)
    out.Add(fmt::format("{}: numRecords {} but the file has {} rows", where,
                        stats["numRecords"].dump(), rows));
  size_t c = 1;
  for (const auto& leaf : leaves) {
    std::string name;
    for (const auto& p : leaf.path) name += (name.empty() ? "" : ".") + p;
    int64_t null_count = *r->GetInt64(c, 0), non_null = *r->GetInt64(c + 1, 0);
    const json* nc = AtPath(nulls, leaf.path);
    if (!nc || *nc != null_count)
      out.Add(fmt::format("{}: nullCount.{} should be {}", where, name, null_count));
    for (int k = 0; k < 2; ++k) {
      size_t col = c + 2 + k;
      const json* v = AtPath(k ? maxs : mins, leaf.path);
      if (v == nullptr) {
        if (non_null > 0 && StatsEligible(leaf.type->kind())) {
          out.Add(fmt::format("{}: {}.{} missing", where, k ? "maxValues" : "minValues", name));
        }
        continue;
      }
      if (r->IsNull(col, 0) || !*r->GetBool(col, 0)) {
        out.Add(fmt::format("{}: {}.{} = {} does not match the data", where,
                            k ? "maxValues" : "minValues", name, v->dump()));
      }
    }
    c += 4;
  }
}

void CheckCheckpoints(engine::Connection& conn, storage::LocalObjectStore& store,
                      const delta::LogListing& listing, Problems& out) {
  static const std::vector<std::string> kColumns = {"txn", "add", "remove", "metaData", "protocol"};
  static const std::vector<std::string> kAddFields = {
      "path", "partitionValues", "size", "modificationTime", "dataChange", "stats"};
  for (const auto& cp : listing.checkpoints) {
    for (const auto& f : cp.files) {
      auto local = store.LocalPath(f.meta.key);
      std::string where = "checkpoint " + f.meta.key;
      auto d = conn.Query(fmt::format(
          "SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM read_parquet({}))",
          QuoteString(*local)));
      if (!d.ok()) {
        out.Add(where + ": " + d.status().ToString());
        continue;
      }
      std::map<std::string, std::string> cols;
      for (size_t r = 0; r < d->row_count(); ++r) cols[d->GetText(0, r)] = d->GetText(1, r);
      for (const auto& c : kColumns) {
        if (!cols.count(c)) out.Add(where + ": no column " + c);
      }
      if (cols.count("add")) {
        for (const auto& af : kAddFields) {
          if (cols["add"].find(QuoteIdentifier(af) + " ") == std::string::npos &&
              cols["add"].find(af + " ") == std::string::npos) {
            out.Add(where + ": add has no field " + af);
          }
        }
      }
    }
  }
  if (!listing.checkpoints.empty()) {
    // PROTOCOL.md: `_last_checkpoint` is a hint that may be stale or absent (a writer may die
    // between writing a checkpoint and the hint); when present it must name a checkpoint that
    // exists, and its size must be that checkpoint's.
    auto hint = delta::ReadLastCheckpointHint(store, "");
    if (!hint.ok()) {
      out.Add("_last_checkpoint is unreadable: " + hint.status().ToString());
    } else if (hint->has_value()) {
      const delta::LogFile* named = nullptr;
      for (const auto& cp : listing.checkpoints) {
        if (cp.version == (*hint)->version) named = &cp.files[0];
      }
      if (named == nullptr) {
        out.Add("_last_checkpoint names version " + std::to_string((*hint)->version) +
                ", which has no checkpoint");
      } else {
        auto local = store.LocalPath(named->meta.key);
        auto n = conn.Query(
            fmt::format("SELECT count(*) FROM read_parquet({})", QuoteString(*local)));
        if (n.ok() && (*hint)->size && *(*hint)->size != *n->GetInt64(0, 0))
          out.Add("_last_checkpoint size differs from the rows");
      }
    }
  }
}

}  // namespace

std::string SparkEscapePathName(const std::string& value) {
  std::string out;
  for (unsigned char c : value) {
    bool special = c < 0x20 || c == 0x7F ||
                   std::string("\"#%'*/:=?\\{[]^").find(static_cast<char>(c)) != std::string::npos;
    if (special && c != 0) {
      out += fmt::format("%{:02X}", c);
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

Status ValidateDeltaTable(const std::string& table_path) {
  Problems out;
  ASSIGN_OR_RETURN(auto store, storage::LocalObjectStore::Make(table_path, {/*sync=*/false}));
  ASSIGN_OR_RETURN(auto listing, delta::ListLog(*store, ""));
  if (listing.commits.empty()) return Status::Corruption("no commits");
  // Every file in _delta_log/ ending in .json must be a commit name.
  ASSIGN_OR_RETURN(auto all, store->List("_delta_log/"));
  for (const auto& m : all) {
    std::string name = m.key.substr(m.key.rfind('/') + 1);
    if (name.ends_with(".json") && !delta::ParseLogFileName(name))
      out.Add("bad log file name " + name);
  }
  int64_t expected = listing.commits.front().name.version;
  for (const auto& c : listing.commits) {
    if (c.name.version != expected)
      out.Add(fmt::format("commit versions jump from {} to {}", expected - 1, c.name.version));
    expected = c.name.version + 1;
    ASSIGN_OR_RETURN(std::string text, store->Read(c.meta.key));
    CheckCommit(c.meta.key, text, c.name.version, out);
  }
  ASSIGN_OR_RETURN(auto handler, engine::DuckDbParquetHandler::Make());
  auto snapshot = delta::SnapshotBuilder(*store, "").Build(*handler);
  if (!snapshot.ok()) return snapshot.status().WithContext("validating " + table_path);
  const auto& s = **snapshot;
  if (!delta::ParseSchema(s.metadata().schema_string).ok()) out.Add("schemaString does not parse");
  CheckProtocol(s, out);
  ASSIGN_OR_RETURN(auto db, engine::Database::Open());
  ASSIGN_OR_RETURN(auto conn, db->Connect());
  RETURN_NOT_OK(conn->Execute("SET TimeZone = 'UTC'"));
  for (const auto& add : s.files()) CheckDataFile(*conn, s, *store, add, out);
  CheckCheckpoints(*conn, *store, listing, out);
  if (out.items.empty()) return Status::OK();
  std::string msg = table_path + ": " + std::to_string(out.items.size()) + " problem(s)";
  for (const auto& p : out.items) msg += "\n  " + p;
  return Status::Corruption(msg);
}

}  // namespace medallion::validity
