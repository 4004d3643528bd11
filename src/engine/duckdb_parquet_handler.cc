#include "engine/duckdb_parquet_handler.h"

#include <fmt/format.h>
#include <sys/stat.h>

#include <cstdint>
#include <limits>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/macros.h"
#include "engine/duckdb_internal.h"
#include "engine/sql_text.h"

namespace medallion::engine {

struct DuckDbParquetHandler::Impl {
  std::mutex mu;
  duckdb_database db = nullptr;  // opened by the first Connect (guarded by mu)
  ~Impl() {
    if (db != nullptr) duckdb_close(&db);
  }
  // Opens the database on first use (many callers, e.g. a dry-run, never read a checkpoint), then
  // connects to it.
  Status Connect(duckdb_connection* conn) {
    {
      std::lock_guard<std::mutex> lock(mu);
      if (db == nullptr) {
        duckdb_config config = nullptr;
        if (duckdb_create_config(&config) == DuckDBError) {
          return Status::Internal("cannot create a DuckDB configuration");
        }
        // Checkpoint reads are small and run alongside query work: one thread.
        duckdb_set_config(config, "threads", "1");
        char* error = nullptr;
        duckdb_state state = duckdb_open_ext(nullptr, &db, config, &error);
        duckdb_destroy_config(&config);
        if (state == DuckDBError) {
          std::string msg = error != nullptr ? error : "unknown error";
          duckdb_free(error);
          db = nullptr;
          return Status::Internal("cannot open DuckDB for reading checkpoints: " + msg);
        }
      }
    }
    if (duckdb_connect(db, conn) == DuckDBError) return Status::Internal("cannot connect to DuckDB");
    return Status::OK();
  }
};

namespace {

// ---- RAII over the C API ----

struct ConnectionHandle {
  duckdb_connection conn = nullptr;
  ~ConnectionHandle() {
    if (conn != nullptr) duckdb_disconnect(&conn);
  }
};

struct ResultHandle {
  duckdb_result result{};
  bool valid = false;
  ~ResultHandle() {
    if (valid) duckdb_destroy_result(&result);
  }
};

struct ChunkHandle {
  duckdb_data_chunk chunk = nullptr;
  explicit ChunkHandle(duckdb_data_chunk c) : chunk(c) {}
  ChunkHandle(ChunkHandle&& other) noexcept : chunk(other.chunk) { other.chunk = nullptr; }
  ChunkHandle(const ChunkHandle&) = delete;
  ChunkHandle& operator=(const ChunkHandle&) = delete;
  ~ChunkHandle() {
    if (chunk != nullptr) duckdb_destroy_data_chunk(&chunk);
  }
};

// Calls `fn(ChunkHandle chunk, idx_t rows)` for each non-empty chunk of `result`, in order, and
// stops at its first error.
template <typename Fn>
Status ForEachChunk(duckdb_result& result, Fn&& fn) {
  while (true) {
    ChunkHandle chunk{duckdb_fetch_chunk(result)};
    if (chunk.chunk == nullptr) return Status::OK();
    const idx_t n = duckdb_data_chunk_get_size(chunk.chunk);
    if (n == 0) return Status::OK();
    RETURN_NOT_OK(fn(std::move(chunk), n));
  }
}

struct LogicalTypeHandle {
  duckdb_logical_type type = nullptr;
  explicit LogicalTypeHandle(duckdb_logical_type t) : type(t) {}
  LogicalTypeHandle(const LogicalTypeHandle&) = delete;
  LogicalTypeHandle& operator=(const LogicalTypeHandle&) = delete;
  ~LogicalTypeHandle() {
    if (type != nullptr) duckdb_destroy_logical_type(&type);
  }
};

Status NotSupported(std::string_view why) {
  return Status::NotSupported(fmt::format("typed checkpoint reading: {}", why));
}

// Runs `sql`; errors of reading the file become Corruption naming it.
Status RunQuery(duckdb_connection conn, const std::string& sql, const std::string& local_path,
                ResultHandle* out) {
  if (duckdb_query(conn, sql.c_str(), &out->result) == DuckDBError) {
    Status s = StatusFromDuckDb(duckdb_result_error_type(&out->result),
                                duckdb_result_error(&out->result));
    duckdb_destroy_result(&out->result);
    if (s.IsInvalidArgument() || s.IsIOError()) {
      return Status::Corruption(
          fmt::format("cannot read Parquet file {}: {}", local_path, s.message()));
    }
    return s;
  }
  out->valid = true;
  return Status::OK();
}

Status CheckExists(const std::string& local_path) {
  struct stat st;
  if (::stat(local_path.c_str(), &st) != 0) {
    return Status::NotFound(fmt::format("Parquet file {} does not exist", local_path));
  }
  return Status::OK();
}

bool Contains(const std::vector<std::string>& names, std::string_view name) {
  for (const auto& n : names) {
    if (n == name) return true;
  }
  return false;
}

// ---- reading cells of flat DuckDB vectors ----

bool IsValid(duckdb_vector vector, idx_t row) {
  uint64_t* validity = duckdb_vector_get_validity(vector);
  return validity == nullptr || duckdb_validity_row_is_valid(validity, row);
}

std::string_view StringAt(duckdb_vector vector, idx_t row) {
  auto& s = static_cast<duckdb_string_t*>(duckdb_vector_get_data(vector))[row];
  if (duckdb_string_is_inlined(s)) {
    return std::string_view(s.value.inlined.inlined, s.value.inlined.length);
  }
  return std::string_view(s.value.pointer.ptr, s.value.pointer.length);
}

// The kinds of value a projected field holds, and the DuckDB types each accepts.
enum class FieldKind { kString, kInt, kBool, kStringMap };

bool IsIntegerType(duckdb_type t) {
  switch (t) {
    case DUCKDB_TYPE_TINYINT:
    case DUCKDB_TYPE_SMALLINT:
    case DUCKDB_TYPE_INTEGER:
    case DUCKDB_TYPE_BIGINT:
    case DUCKDB_TYPE_UTINYINT:
    case DUCKDB_TYPE_USMALLINT:
    case DUCKDB_TYPE_UINTEGER:
    case DUCKDB_TYPE_UBIGINT:
      return true;
    default:
      return false;
  }
}

// Whether a result column of logical type `type` can be read as `kind`.
bool Accepts(FieldKind kind, duckdb_logical_type type) {
  const duckdb_type id = duckdb_get_type_id(type);
  switch (kind) {
    case FieldKind::kString:
      return id == DUCKDB_TYPE_VARCHAR;
    case FieldKind::kInt:
      return IsIntegerType(id);
    case FieldKind::kBool:
      return id == DUCKDB_TYPE_BOOLEAN;
    case FieldKind::kStringMap: {
      if (id != DUCKDB_TYPE_MAP) return false;
      LogicalTypeHandle key{duckdb_map_type_key_type(type)};
      LogicalTypeHandle value{duckdb_map_type_value_type(type)};
      return duckdb_get_type_id(key.type) == DUCKDB_TYPE_VARCHAR &&
             duckdb_get_type_id(value.type) == DUCKDB_TYPE_VARCHAR;
    }
  }
  return false;
}

// An integer cell of a column of type `id` (IsIntegerType); nullopt when NULL or beyond int64.
std::optional<int64_t> IntAt(duckdb_vector vector, duckdb_type id, idx_t row) {
  if (!IsValid(vector, row)) return std::nullopt;
  void* data = duckdb_vector_get_data(vector);
  switch (id) {
    case DUCKDB_TYPE_TINYINT:
      return static_cast<int8_t*>(data)[row];
    case DUCKDB_TYPE_SMALLINT:
      return static_cast<int16_t*>(data)[row];
    case DUCKDB_TYPE_INTEGER:
      return static_cast<int32_t*>(data)[row];
    case DUCKDB_TYPE_BIGINT:
      return static_cast<int64_t*>(data)[row];
    case DUCKDB_TYPE_UTINYINT:
      return static_cast<uint8_t*>(data)[row];
    case DUCKDB_TYPE_USMALLINT:
      return static_cast<uint16_t*>(data)[row];
    case DUCKDB_TYPE_UINTEGER:
      return static_cast<uint32_t*>(data)[row];
    case DUCKDB_TYPE_UBIGINT: {
      uint64_t v = static_cast<uint64_t*>(data)[row];
      if (v > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) return std::nullopt;
      return static_cast<int64_t>(v);
    }
    default:
      return std::nullopt;
  }
}

// ---- the projection ----

// One projected field of an action struct: its name in the action (for messages), the SQL that
// extracts it, its kind, and (once the query ran) its result column.
struct Field {
  const char* name;  // "path", "deletionVector.storageType", ...
  FieldKind kind;
  idx_t column = 0;
  bool present = false;  // the file has it
  duckdb_type type_id = DUCKDB_TYPE_INVALID;
};

// The fields of add or remove that delta::AddFile / RemoveFile hold (PROTOCOL.md, "Add File and
// Remove File", "Deletion Vector Descriptor Schema"), in a fixed order the readers index.
enum FileField : int {
  kPath,
  kPartitionValues,
  kSize,
  kModificationTime,
  kDeletionTimestamp,
  kDataChange,
  kExtendedFileMetadata,
  kStats,
  kTags,
  kDvStorageType,
  kDvPathOrInlineDv,
  kDvOffset,
  kDvSizeInBytes,
  kDvCardinality,
  kDvMaxRowIndex,
  kBaseRowId,
  kDefaultRowCommitVersion,
  kClusteringProvider,
  kNumFileFields,
};

std::vector<Field> FileFields() {
  return {
      {"path", FieldKind::kString},
      {"partitionValues", FieldKind::kStringMap},
      {"size", FieldKind::kInt},
      {"modificationTime", FieldKind::kInt},
      {"deletionTimestamp", FieldKind::kInt},
      {"dataChange", FieldKind::kBool},
      {"extendedFileMetadata", FieldKind::kBool},
      {"stats", FieldKind::kString},
      {"tags", FieldKind::kStringMap},
      {"deletionVector.storageType", FieldKind::kString},
      {"deletionVector.pathOrInlineDv", FieldKind::kString},
      {"deletionVector.offset", FieldKind::kInt},
      {"deletionVector.sizeInBytes", FieldKind::kInt},
      {"deletionVector.cardinality", FieldKind::kInt},
      {"deletionVector.maxRowIndex", FieldKind::kInt},
      {"baseRowId", FieldKind::kInt},
      {"defaultRowCommitVersion", FieldKind::kInt},
      {"clusteringProvider", FieldKind::kString},
  };
}

// The leaf columns of a Parquet file by path ("add, deletionVector, offset", as
// parquet_metadata() names them), each with whether it may hold a value: a leaf holds none when
// every row group's statistics count as many nulls as values. Checkpoints are mostly adds, so most
// of their other leaves hold nothing, and not reading them is a third of the decode.
class FileLeaves {
 public:
  void Add(std::string path, bool may_hold_value) {
    auto [it, inserted] = leaves_.emplace(std::move(path), may_hold_value);
    if (!inserted) it->second = it->second || may_hold_value;
  }

  // Whether `path` is a leaf or a group of leaves.
  bool Has(std::string_view path) const { return Find(path, /*any_value=*/false); }
  // Whether `path` is a leaf, or a group with a leaf, that may hold a value.
  bool MayHoldValue(std::string_view path) const { return Find(path, /*any_value=*/true); }
  // Whether `path` is a leaf (not a group).
  bool IsLeaf(std::string_view path) const { return leaves_.contains(path); }

  // The top-level columns, in name order.
  std::vector<std::string> TopLevel() const {
    std::vector<std::string> names;
    for (const auto& [path, _] : leaves_) {
      std::string_view top = std::string_view(path).substr(0, path.find(kSeparator));
      if (names.empty() || names.back() != top) names.emplace_back(top);
    }
    return names;
  }

  static constexpr std::string_view kSeparator = ", ";

 private:
  bool Find(std::string_view path, bool any_value) const {
    for (auto it = leaves_.lower_bound(path); it != leaves_.end(); ++it) {
      std::string_view leaf = it->first;
      if (!leaf.starts_with(path)) break;
      const std::string_view rest = leaf.substr(path.size());
      if (!rest.empty() && !rest.starts_with(kSeparator)) continue;
      if (!any_value || it->second) return true;
    }
    return false;
  }

  std::map<std::string, bool, std::less<>> leaves_;
};

// A file action column (add or remove) as projected: its fields.
struct FileColumn {
  bool present = false;
  std::vector<Field> fields = FileFields();
};

// Adds the SQL for the fields of `action` that may hold a value to `select`, numbering result
// columns from *next. Maps are read even when empty everywhere: an empty map is not an absent one.
void ProjectFileColumn(std::string_view action, const FileLeaves& leaves, FileColumn* out,
                       std::vector<std::string>* select, idx_t* next) {
  const std::string quoted = QuoteIdentifier(std::string(action));
  for (Field& f : out->fields) {
    std::string path(action);
    std::string sql = quoted;
    for (std::string_view rest = f.name; !rest.empty();) {
      const size_t dot = rest.find('.');
      const std::string_view part = rest.substr(0, dot);
      path += FileLeaves::kSeparator;
      path += part;
      sql = fmt::format("struct_extract({}, {})", sql, QuoteString(std::string(part)));
      rest = dot == std::string_view::npos ? std::string_view() : rest.substr(dot + 1);
    }
    if (f.kind == FieldKind::kStringMap ? !leaves.Has(path) : !leaves.MayHoldValue(path)) continue;
    out->present = true;
    f.present = true;
    f.column = (*next)++;
    select->push_back(std::move(sql));
  }
}

// Reads the file action of one row from a chunk's vectors (indexed by result column).
class FileRowReader {
 public:
  FileRowReader(const FileColumn& column, const std::vector<duckdb_vector>& vectors,
                delta::ActionSource source, std::string_view action)
      : column_(column), vectors_(vectors), source_(source), action_(action) {}

  bool Has(int f) const { return column_.fields[f].present; }
  duckdb_vector Vec(int f) const { return vectors_[column_.fields[f].column]; }

  bool IsNull(int f, idx_t row) const { return !Has(f) || !IsValid(Vec(f), row); }

  std::optional<std::string> Str(int f, idx_t row) const {
    if (IsNull(f, row)) return std::nullopt;
    return std::string(StringAt(Vec(f), row));
  }
  std::optional<int64_t> Int(int f, idx_t row) const {
    if (IsNull(f, row)) return std::nullopt;
    return IntAt(Vec(f), column_.fields[f].type_id, row);
  }
  std::optional<bool> Bool(int f, idx_t row) const {
    if (IsNull(f, row)) return std::nullopt;
    return static_cast<bool*>(duckdb_vector_get_data(Vec(f)))[row];
  }
  // A MAP(VARCHAR, VARCHAR) cell; NULL values kept as nullopt.
  std::optional<delta::PartitionValues> Map(int f, idx_t row) const {
    if (IsNull(f, row)) return std::nullopt;
    duckdb_vector map = Vec(f);
    const auto& entry = static_cast<duckdb_list_entry*>(duckdb_vector_get_data(map))[row];
    duckdb_vector entries = duckdb_list_vector_get_child(map);
    duckdb_vector keys = duckdb_struct_vector_get_child(entries, 0);
    duckdb_vector values = duckdb_struct_vector_get_child(entries, 1);
    delta::PartitionValues out;
    for (idx_t i = entry.offset; i < entry.offset + entry.length; ++i) {
      if (!IsValid(keys, i)) continue;
      std::optional<std::string> value;
      if (IsValid(values, i)) value.emplace(StringAt(values, i));
      out.insert_or_assign(std::string(StringAt(keys, i)), std::move(value));
    }
    return out;
  }
  delta::StringMap StringMapOrEmpty(int f, idx_t row) const {
    delta::StringMap out;
    auto map = Map(f, row);
    if (!map) return out;
    for (auto& [k, v] : *map) {
      if (v) out.emplace(k, std::move(*v));
    }
    return out;
  }

  // Whether every projected field is NULL (ParseAction: an all-null action is no action).
  bool AllNull(idx_t row) const {
    for (int f = 0; f < kNumFileFields; ++f) {
      if (!IsNull(f, row)) return false;
    }
    return true;
  }

  // As ParseAction words it: "<file> line <row>: add: missing required field 'size'".
  Status Missing(std::string_view field, idx_t row, std::string_view sub = "") const {
    return Status::Corruption(fmt::format("{} line {}: {}{}: missing required field '{}'",
                                          source_.file, source_.line + static_cast<int64_t>(row),
                                          action_, sub, field));
  }

  Result<std::optional<delta::DeletionVectorDescriptor>> Dv(idx_t row) const {
    // An all-null DV struct (as checkpoints write for files without one) is no DV.
    if (IsNull(kDvStorageType, row) && IsNull(kDvPathOrInlineDv, row)) {
      return std::optional<delta::DeletionVectorDescriptor>();
    }
    delta::DeletionVectorDescriptor dv;
    auto storage_type = Str(kDvStorageType, row);
    if (!storage_type) return Missing("storageType", row, ".deletionVector");
    dv.storage_type = std::move(*storage_type);
    auto path = Str(kDvPathOrInlineDv, row);
    if (!path) return Missing("pathOrInlineDv", row, ".deletionVector");
    dv.path_or_inline_dv = std::move(*path);
    auto offset = Int(kDvOffset, row);
    auto size = Int(kDvSizeInBytes, row);
    auto cardinality = Int(kDvCardinality, row);
    if (!size) return Missing("sizeInBytes", row, ".deletionVector");
    if (!cardinality) return Missing("cardinality", row, ".deletionVector");
    constexpr int64_t kMax32 = std::numeric_limits<int32_t>::max();
    constexpr int64_t kMin32 = std::numeric_limits<int32_t>::min();
    if ((offset && (*offset > kMax32 || *offset < kMin32)) || *size > kMax32 || *size < kMin32) {
      return Status::Corruption(fmt::format("{} line {}: {}.deletionVector: a field is out of the "
                                            "32-bit range",
                                            source_.file,
                                            source_.line + static_cast<int64_t>(row), action_));
    }
    if (offset) dv.offset = static_cast<int32_t>(*offset);
    dv.size_in_bytes = static_cast<int32_t>(*size);
    dv.cardinality = *cardinality;
    dv.max_row_index = Int(kDvMaxRowIndex, row);
    return std::optional<delta::DeletionVectorDescriptor>(std::move(dv));
  }

 private:
  const FileColumn& column_;
  const std::vector<duckdb_vector>& vectors_;
  delta::ActionSource source_;  // line: the 1-based row number of the chunk's first row
  std::string_view action_;
};

Result<delta::AddFile> ReadAdd(const FileRowReader& r, idx_t row) {
  delta::AddFile a;
  auto path = r.Str(kPath, row);
  if (!path) return r.Missing("path", row);
  a.path = std::move(*path);
  auto partition_values = r.Map(kPartitionValues, row);
  if (partition_values) a.partition_values = std::move(*partition_values);
  auto size = r.Int(kSize, row);
  if (!size) return r.Missing("size", row);
  a.size = *size;
  a.modification_time = r.Int(kModificationTime, row).value_or(0);
  a.data_change = r.Bool(kDataChange, row).value_or(true);
  a.stats = r.Str(kStats, row);
  a.tags = r.StringMapOrEmpty(kTags, row);
  ASSIGN_OR_RETURN(a.deletion_vector, r.Dv(row));
  a.base_row_id = r.Int(kBaseRowId, row);
  a.default_row_commit_version = r.Int(kDefaultRowCommitVersion, row);
  a.clustering_provider = r.Str(kClusteringProvider, row);
  return a;
}

Result<delta::RemoveFile> ReadRemove(const FileRowReader& r, idx_t row) {
  delta::RemoveFile a;
  auto path = r.Str(kPath, row);
  if (!path) return r.Missing("path", row);
  a.path = std::move(*path);
  a.deletion_timestamp = r.Int(kDeletionTimestamp, row);
  a.data_change = r.Bool(kDataChange, row).value_or(true);
  a.extended_file_metadata = r.Bool(kExtendedFileMetadata, row);
  a.partition_values = r.Map(kPartitionValues, row);
  a.size = r.Int(kSize, row);
  a.stats = r.Str(kStats, row);
  if (!r.IsNull(kTags, row)) a.tags = r.StringMapOrEmpty(kTags, row);
  ASSIGN_OR_RETURN(a.deletion_vector, r.Dv(row));
  a.base_row_id = r.Int(kBaseRowId, row);
  a.default_row_commit_version = r.Int(kDefaultRowCommitVersion, row);
  return a;
}

}  // namespace

DuckDbParquetHandler::DuckDbParquetHandler(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
DuckDbParquetHandler::~DuckDbParquetHandler() = default;

Result<std::unique_ptr<DuckDbParquetHandler>> DuckDbParquetHandler::Make() {
  return std::unique_ptr<DuckDbParquetHandler>(new DuckDbParquetHandler(std::make_unique<Impl>()));
}

Result<std::vector<std::string>> DuckDbParquetHandler::ReadRowsAsJson(
    const std::string& local_path, const std::vector<std::string>& columns) {
  RETURN_NOT_OK(CheckExists(local_path));
  ConnectionHandle conn;
  RETURN_NOT_OK(impl_->Connect(&conn.conn));
  std::string projection = "*";
  if (!columns.empty()) {
    // COLUMNS(lambda) keeps the requested columns the file has and skips the others.
    std::string list;
    for (const auto& c : columns) list += (list.empty() ? "" : ", ") + QuoteString(c);
    projection = fmt::format("COLUMNS(c -> list_contains([{}], c))", list);
  }
  std::string sql = fmt::format(
      "SELECT to_json(t)::VARCHAR FROM (SELECT {} FROM read_parquet({})) AS t", projection,
      QuoteString(local_path));
  ResultHandle result;
  RETURN_NOT_OK(RunQuery(conn.conn, sql, local_path, &result));
  std::vector<std::string> rows;
  RETURN_NOT_OK(ForEachChunk(result.result, [&](ChunkHandle chunk, idx_t n) {
    duckdb_vector vector = duckdb_data_chunk_get_vector(chunk.chunk, 0);
    for (idx_t r = 0; r < n; ++r) {
      if (!IsValid(vector, r)) {
        return Status::Internal("to_json gave NULL for a row of " + local_path);
      }
      rows.emplace_back(StringAt(vector, r));
    }
    return Status::OK();
  }));
  return rows;
}

Status DuckDbParquetHandler::ReadCheckpointActions(const std::string& local_path,
                                                  const std::vector<std::string>& columns,
                                                  delta::ActionSink& sink) {
  if (columns.empty()) return NotSupported("no columns named");
  RETURN_NOT_OK(CheckExists(local_path));
  ConnectionHandle conn;
  RETURN_NOT_OK(impl_->Connect(&conn.conn));
  const std::string source = QuoteString(local_path);

  // 1. The file's leaf columns and which of them hold values (from the footer alone).
  FileLeaves leaves;
  {
    ResultHandle metadata;
    RETURN_NOT_OK(RunQuery(
        conn.conn,
        fmt::format("SELECT path_in_schema, stats_null_count IS NULL OR stats_null_count < "
                    "num_values FROM parquet_metadata({})",
                    source),
        local_path, &metadata));
    RETURN_NOT_OK(ForEachChunk(metadata.result, [&](ChunkHandle chunk, idx_t n) {
      duckdb_vector paths = duckdb_data_chunk_get_vector(chunk.chunk, 0);
      duckdb_vector may_hold = duckdb_data_chunk_get_vector(chunk.chunk, 1);
      for (idx_t r = 0; r < n; ++r) {
        leaves.Add(std::string(StringAt(paths, r)),
                   static_cast<bool*>(duckdb_vector_get_data(may_hold))[r]);
      }
      return Status::OK();
    }));
  }

  // 2. The projection: the fields of add and remove that hold values one by one; the other
  // actions as one JSON object, only for rows that are neither an add nor a remove.
  std::vector<std::string> select;
  idx_t next = 0;
  FileColumn add;
  FileColumn remove;
  std::vector<std::string> others;
  for (const std::string& name : leaves.TopLevel()) {
    if (!Contains(columns, name)) continue;
    if (name == "add" || name == "remove") {
      if (leaves.IsLeaf(name)) return NotSupported("column '" + name + "' is not a struct");
      ProjectFileColumn(name, leaves, name == "add" ? &add : &remove, &select, &next);
    } else if (leaves.MayHoldValue(name)) {
      others.push_back(name);
    }
  }
  const bool has_others = !others.empty();
  idx_t others_column = 0;
  if (has_others) {
    std::string pack;
    for (const auto& o : others) {
      pack += fmt::format("{}{} := {}", pack.empty() ? "" : ", ", QuoteIdentifier(o),
                          QuoteIdentifier(o));
    }
    // A row is an add (remove) when its path is set (a required field); a writer may leave an
    // all-null struct rather than NULL in the other rows.
    std::string condition;
    for (const FileColumn* fc : {&add, &remove}) {
      if (!fc->fields[kPath].present) continue;
      condition += fmt::format("{}struct_extract({}, 'path') IS NULL",
                               condition.empty() ? "" : " AND ",
                               fc == &add ? "\"add\"" : "\"remove\"");
    }
    std::string json = fmt::format("to_json(struct_pack({}))::VARCHAR", pack);
    others_column = next++;
    select.push_back(condition.empty() ? json
                                       : fmt::format("CASE WHEN {} THEN {} END", condition, json));
  }
  if (select.empty()) return Status::OK();

  std::string sql = "SELECT ";
  for (size_t i = 0; i < select.size(); ++i) {
    if (i > 0) sql += ", ";
    sql += select[i];
  }
  sql += fmt::format(" FROM read_parquet({})", source);
  ResultHandle result;
  RETURN_NOT_OK(RunQuery(conn.conn, sql, local_path, &result));

  // 3. Check the result's types against what the readers convert.
  for (FileColumn* fc : {&add, &remove}) {
    if (!fc->present) continue;
    for (Field& f : fc->fields) {
      if (!f.present) continue;
      LogicalTypeHandle type{duckdb_column_logical_type(&result.result, f.column)};
      if (!Accepts(f.kind, type.type)) {
        return NotSupported(fmt::format("field '{}' has an unexpected type", f.name));
      }
      f.type_id = duckdb_get_type_id(type.type);
    }
  }

  // 4. Convert, chunk by chunk, into the sink (after telling it how many rows there are).
  std::vector<ChunkHandle> chunks;
  size_t total_rows = 0;
  RETURN_NOT_OK(ForEachChunk(result.result, [&](ChunkHandle chunk, idx_t n) {
    total_rows += n;
    chunks.push_back(std::move(chunk));
    return Status::OK();
  }));
  sink.Expect(total_rows);
  std::vector<duckdb_vector> vectors(next);
  int64_t first_row = 1;  // 1-based number of the chunk's first row, for messages
  for (const auto& chunk : chunks) {
    const idx_t n = duckdb_data_chunk_get_size(chunk.chunk);
    for (idx_t c = 0; c < next; ++c) vectors[c] = duckdb_data_chunk_get_vector(chunk.chunk, c);
    const delta::ActionSource where{local_path, first_row};
    FileRowReader add_reader(add, vectors, where, "add");
    FileRowReader remove_reader(remove, vectors, where, "remove");
    // A NULL struct has only NULL fields; an all-null one is no action either.
    auto holds = [](const FileColumn& fc, const FileRowReader& r, idx_t row) {
      return fc.present && !r.AllNull(row);
    };
    for (idx_t row = 0; row < n; ++row) {
      if (holds(add, add_reader, row)) {
        ASSIGN_OR_RETURN(delta::AddFile a, ReadAdd(add_reader, row));
        RETURN_NOT_OK(sink.Accept(std::move(a)));
      } else if (holds(remove, remove_reader, row)) {
        ASSIGN_OR_RETURN(delta::RemoveFile r, ReadRemove(remove_reader, row));
        RETURN_NOT_OK(sink.Accept(std::move(r)));
      } else if (has_others && IsValid(vectors[others_column], row)) {
        ASSIGN_OR_RETURN(auto action,
                         delta::ParseAction(StringAt(vectors[others_column], row),
                                            {local_path, first_row + static_cast<int64_t>(row)}));
        if (action) RETURN_NOT_OK(sink.Accept(std::move(*action)));
      }
    }
    first_row += static_cast<int64_t>(n);
  }
  return Status::OK();
}

}  // namespace medallion::engine
