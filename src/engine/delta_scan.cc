#include "engine/delta_scan.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <unordered_map>
#include <utility>

#include "common/logging.h"
#include "common/macros.h"
#include "common/text.h"
#include "delta/deletion_vector.h"
#include "delta/file_path.h"
#include "delta/partition_value.h"
#include "engine/delta_types.h"
#include "engine/sql_text.h"

namespace medallion::engine {
namespace {

using delta::DataType;
using delta::StructField;
using delta::TypeKind;


std::string CivilFromMicros(int64_t micros, bool with_zone) {
  // Days/seconds split with floor division, then the civil date (Howard Hinnant's algorithm).
  int64_t seconds = micros >= 0 ? micros / 1000000 : -((-micros + 999999) / 1000000);
  int64_t frac = micros - seconds * 1000000;
  int64_t days = seconds >= 0 ? seconds / 86400 : -((-seconds + 86399) / 86400);
  int64_t sod = seconds - days * 86400;
  int64_t z = days + 719468;
  int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  int64_t doe = z - era * 146097;
  int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t y = yoe + era * 400;
  int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  int64_t mp = (5 * doy + 2) / 153;
  int64_t d = doy - (153 * mp + 2) / 5 + 1;
  int64_t m = mp < 10 ? mp + 3 : mp - 9;
  if (m <= 2) ++y;
  return fmt::format("{:04}-{:02}-{:02} {:02}:{:02}:{:02}.{:06}{}", y, m, d, sod / 3600,
                     sod / 60 % 60, sod % 60, frac, with_zone ? "+00" : "");
}

std::string HexOf(std::string_view bytes) {
  static const char* kDigits = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : bytes) {
    out += kDigits[c >> 4];
    out += kDigits[c & 15];
  }
  return out;
}

// A partition value as text that `PartitionCast` turns back into the typed value exactly.
std::string PartitionText(const delta::Scalar& v) {
  using K = delta::Scalar::Kind;
  switch (v.kind()) {
    case K::kBoolean: return v.bool_value() ? "true" : "false";
    case K::kInt64: return std::to_string(v.int64_value());
    case K::kDouble: {
      char buf[64];
      auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), v.double_value());
      return ec == std::errc() ? std::string(buf, end) : "NaN";
    }
    case K::kDate: return CivilFromMicros(v.int64_value() * 86400LL * 1000000LL, false).substr(0, 10);
    case K::kTimestamp: return CivilFromMicros(v.int64_value(), true);
    case K::kTimestampNtz: return CivilFromMicros(v.int64_value(), false);
    case K::kBinary: return HexOf(v.string_value());
    default: return v.string_value();  // string, decimal
  }
}

std::string PartitionCast(const std::string& column_sql, const DataType& type) {
  if (type.kind() == TypeKind::kBinary) return fmt::format("unhex({})", column_sql);
  if (type.kind() == TypeKind::kString) return column_sql;
  return fmt::format("CAST({} AS {})", column_sql, DuckDbTypeOf(type));
}

// SQL that turns `src` (a value read from a data file, with physical names when `mapping`) into
// the table's logical type: a cast, and under column mapping a rebuild of nested values.
std::string Conform(const std::string& src, const DataType& type, bool mapping) {
  switch (type.kind()) {
    case TypeKind::kStruct: {
      if (!mapping) return fmt::format("CAST({} AS {})", src, DuckDbTypeOf(type));
      std::string fields;
      for (const StructField& f : type.fields()) {
        if (!fields.empty()) fields += ", ";
        fields += QuoteIdentifier(f.name) + " := " +
                  Conform(fmt::format("({}).{}", src, QuoteIdentifier(f.PhysicalName(true))),
                          *f.type, mapping);
      }
      return fmt::format("CASE WHEN ({0}) IS NULL THEN NULL ELSE struct_pack({1}) END", src, fields);
    }
    case TypeKind::kArray:
      if (!mapping) return fmt::format("CAST({} AS {})", src, DuckDbTypeOf(type));
      return fmt::format("list_transform({}, __e -> {})", src,
                         Conform("__e", *type.element_type(), mapping));
    case TypeKind::kMap:
      if (!mapping) return fmt::format("CAST({} AS {})", src, DuckDbTypeOf(type));
      return fmt::format(
          "CASE WHEN ({0}) IS NULL THEN NULL ELSE map_from_entries(list_transform(map_entries({0}), "
          "__kv -> {{'key': {1}, 'value': {2}}})) END",
          src, Conform("__kv.key", *type.key_type(), mapping),
          Conform("__kv.value", *type.value_type(), mapping));
    default:
      return fmt::format("CAST({} AS {})", src, DuckDbTypeOf(type));
  }
}

Status CheckViewName(std::string_view name) {
  if (name.empty() || name.size() > 200) return Status::InvalidArgument("bad view name");
  for (char c : name) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_')) {
      return Status::InvalidArgument(fmt::format("view name '{}' must be letters, digits and _", name));
    }
  }
  return Status::OK();
}

}  // namespace

namespace {

Result<std::string> ResolveFileKey(std::string_view table_root, std::string_view log_path) {
  ASSIGN_OR_RETURN(delta::FilePath path, delta::ParseFilePath(log_path));
  switch (path.kind) {
    case delta::FilePath::Kind::kRelative: {
      std::string key = storage::JoinKey(table_root, path.path);
      RETURN_NOT_OK(storage::ValidateKey(key).WithContext(
          fmt::format("file path '{}' does not name a file inside the table", log_path)));
      return key;
    }
    case delta::FilePath::Kind::kLocal:
      return path.path;
    case delta::FilePath::Kind::kRemote:
      break;
  }
  return Status::NotSupported(
      fmt::format("file path '{}' uses a URI scheme medallion cannot read", log_path));
}

// Whether DuckDB's own Hive partitioning reads the partition values of `files` exactly from their
// `paths` (absolute, local): the path's only `key=value` segments are the directories right above
// the file, one per partition column in order, each the column's name and its raw partitionValues
// string (Spark's layout, PROTOCOL.md "Add File and Remove File" leaves paths to the writer). Values
// must be plain text that Hive paths do not escape and DuckDB reads back unchanged: letters, digits,
// '-', '_', '.'; not NULL (`__HIVE_DEFAULT_PARTITION__`), not empty, not "null"; columns of types
// whose cast from such text is Delta's own parse of it. Column mapping is excluded: Spark names the
// folders by the physical or a random prefix there.
bool HivePathsMatch(const std::vector<std::string>& paths, const std::vector<const delta::AddFile*>& files,
                    const std::vector<const StructField*>& partition_fields, bool mapping) {
  if (mapping || partition_fields.empty()) return false;
  for (const StructField* field : partition_fields) {
    switch (field->type->kind()) {
      case TypeKind::kString: case TypeKind::kLong: case TypeKind::kInteger: case TypeKind::kShort:
      case TypeKind::kByte: case TypeKind::kDecimal: case TypeKind::kBoolean: case TypeKind::kDate:
        break;
      default:
        return false;
    }
  }
  auto plain = [](std::string_view v) {
    if (v.empty() || v.size() > 256) return false;
    if (v.size() == 4 && (v[0] | 0x20) == 'n' && (v[1] | 0x20) == 'u' && (v[2] | 0x20) == 'l' &&
        (v[3] | 0x20) == 'l') {
      return false;
    }
    return std::all_of(v.begin(), v.end(), [](char c) {
      return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
    });
  };
  for (size_t i = 0; i < files.size(); ++i) {
    const std::string& path = paths[i];
    if (std::count(path.begin(), path.end(), '=') != static_cast<std::ptrdiff_t>(partition_fields.size())) {
      return false;
    }
    // Walk the directories above the file from the innermost outwards.
    size_t end = path.rfind('/');
    for (size_t c = partition_fields.size(); c-- > 0;) {
      if (end == std::string::npos || end == 0) return false;
      const size_t begin = path.rfind('/', end - 1);
      if (begin == std::string::npos) return false;
      const std::string_view segment(path.data() + begin + 1, end - begin - 1);
      const std::string& name = partition_fields[c]->name;
      auto it = files[i]->partition_values.find(name);
      if (it == files[i]->partition_values.end() || !it->second || !plain(*it->second) ||
          segment != name + "=" + *it->second) {
        return false;
      }
      end = begin;
    }
  }
  return true;
}

// Views with at most this many distinct partition-value tuples are a UNION ALL of one read_parquet
// per tuple, the values as constants (docs/benchmarks.md, "Proposal for engine/delta_scan.cc");
// above it, one read_parquet joined to the "__partitions" table.
constexpr size_t kMaxPartitionBranches = 64;

// The top-level columns of one data file, in file order, from its Parquet footer.
struct FileColumn {
  std::string name;
  std::string type;       // DuckDB's type of a primitive column; empty for a nested one
  std::string signature;  // every schema element of the column, to compare two files exactly
};
using FileSchema = std::vector<FileColumn>;

// What one read_parquet over some files yields: each column's DuckDB type, or "" when it is not
// known to be the same in every file (the view then casts it, which DuckDB drops when the type
// already matches).
struct ReadColumns {
  std::map<std::string, std::string> types;
  bool same_schema = false;  // every file has the same columns: no union_by_name needed
};

// The query that gives the top-level columns of every file in `paths` in one go (footers only, no
// data): parquet_schema's rows are each file's schema elements in depth-first order, the root
// first with the number of top-level columns. FileSchemasOf reads its answer.
std::string FileSchemasQuery(const std::vector<std::string>& paths) {
  std::string list;
  for (const auto& path : paths) list += (list.empty() ? "" : ", ") + QuoteString(path);
  return fmt::format(
      "SELECT file_name, name, num_children, duckdb_type, to_json([type, type_length::VARCHAR, "
      "repetition_type, converted_type, scale::VARCHAR, precision::VARCHAR, logical_type, "
      "duckdb_type])::VARCHAR FROM parquet_schema([{}])",
      list);
}

// Each file's columns from FileSchemasQuery's answer, in `paths` order; nullopt when the answer
// does not have the shape described there (the caller then asks DuckDB per read instead).
std::optional<std::vector<FileSchema>> FileSchemasOf(const QueryResult& rows,
                                                     const std::vector<std::string>& paths) {
  std::unordered_map<std::string_view, size_t> index_of;
  for (size_t i = 0; i < paths.size(); ++i) index_of.emplace(paths[i], i);
  // Each file's rows, in the order DuckDB gave them (file by file, each in schema order).
  std::vector<std::vector<size_t>> rows_of(paths.size());
  for (size_t r = 0; r < rows.row_count(); ++r) {
    auto file = rows.GetString(0, r);
    if (!file.ok()) return std::nullopt;
    auto it = index_of.find(*file);
    if (it == index_of.end()) return std::nullopt;  // DuckDB spelled the path differently
    rows_of[it->second].push_back(r);
  }
  std::vector<FileSchema> schemas(paths.size());
  for (size_t f = 0; f < paths.size(); ++f) {
    const std::vector<size_t>& elements = rows_of[f];
    if (elements.empty()) return std::nullopt;
    // Children left to visit at each depth; the root's children are the top-level columns.
    std::vector<int64_t> open{rows.IsNull(2, elements[0]) ? 0 : rows.GetInt64(2, elements[0]).ValueOr(-1)};
    if (open[0] < 0) return std::nullopt;
    for (size_t e = 1; e < elements.size(); ++e) {
      const size_t r = elements[e];
      while (!open.empty() && open.back() == 0) open.pop_back();
      if (open.empty()) return std::nullopt;
      const bool top_level = open.size() == 1;
      --open.back();
      const int64_t children = rows.IsNull(2, r) ? 0 : rows.GetInt64(2, r).ValueOr(-1);
      auto name = rows.GetString(1, r);
      if (children < 0 || !name.ok()) return std::nullopt;
      if (top_level) {
        FileColumn column;
        column.name = std::move(*name);
        if (children == 0 && !rows.IsNull(3, r)) column.type = rows.GetString(3, r).ValueOr("");
        schemas[f].push_back(std::move(column));
      }
      FileColumn& column = schemas[f].back();
      column.signature += rows.GetText(1, r) + '\x1f' + rows.GetText(4, r) + '\x1e';
      if (children > 0) open.push_back(children);
    }
    while (!open.empty() && open.back() == 0) open.pop_back();
    if (!open.empty()) return std::nullopt;
  }
  return schemas;
}

// The columns a read of `indexes` yields: union_by_name semantics (a column any file has).
ReadColumns ColumnsOfRead(const std::vector<FileSchema>& schemas, const std::vector<size_t>& indexes) {
  ReadColumns out;
  out.same_schema = true;
  std::set<std::string> mixed;
  for (size_t i : indexes) {
    const FileSchema& schema = schemas[i];
    if (i != indexes.front()) {
      const FileSchema& first = schemas[indexes.front()];
      out.same_schema = out.same_schema && schema.size() == first.size() &&
                        std::equal(schema.begin(), schema.end(), first.begin(),
                                   [](const FileColumn& a, const FileColumn& b) {
                                     return a.name == b.name && a.signature == b.signature;
                                   });
    }
    for (const FileColumn& c : schema) {
      auto [it, inserted] = out.types.emplace(c.name, c.type);
      if (!inserted && it->second != c.type) mixed.insert(c.name);
    }
  }
  for (const auto& name : mixed) out.types[name].clear();
  return out;
}

Status RegisterFiles(Connection& conn, const delta::TableConfiguration& config,
                     std::string_view table_root, const std::vector<const delta::AddFile*>& files,
                     storage::ObjectStore& store, std::string_view view_name,
                     const std::vector<std::string>& extra_columns, const std::string& ctx) {
  RETURN_NOT_OK(CheckViewName(view_name));
  const delta::Schema& schema = config.schema();
  const auto& partition_columns = config.partition_columns();
  const bool mapping = config.column_mapping_mode() != delta::ColumnMappingMode::kNone;
  std::set<std::string> partition_set(partition_columns.begin(), partition_columns.end());
  const std::string view = QuoteIdentifier(view_name);
  const std::string parts_table = QuoteIdentifier(std::string(view_name) + "__partitions");
  const std::string deleted_table = QuoteIdentifier(std::string(view_name) + "__deleted");

  // Files, their partition values and deletion vectors.
  std::vector<std::string> paths;
  bool any_dv = false;
  for (const delta::AddFile* add : files) {
    ASSIGN_OR_RETURN_CTX(std::string location, ResolveFileKey(table_root, add->path), ctx);
    if (location.empty() || location[0] != '/') {
      ASSIGN_OR_RETURN_CTX(location, store.LocalPath(location), ctx);
    }
    paths.push_back(std::move(location));
    any_dv = any_dv || add->deletion_vector.has_value();
  }

  if (paths.empty()) {
    std::string cols;
    for (const StructField& f : schema.fields()) {
      cols += (cols.empty() ? "" : ", ") +
              fmt::format("NULL::{} AS {}", DuckDbTypeOf(*f.type), QuoteIdentifier(f.name));
    }
    for (const auto& c : extra_columns) {
      cols += (cols.empty() ? "" : ", ") + fmt::format("NULL::VARCHAR AS {}", QuoteIdentifier(c));
    }
    return conn.Execute(fmt::format("CREATE OR REPLACE TEMP VIEW {} AS SELECT {} WHERE false", view, cols))
        .WithContext(ctx);
  }

  // Typed partition values of each file, as text PartitionCast reads back (nullopt: NULL), and the
  // distinct tuples.
  const bool partitioned = !partition_columns.empty();
  std::vector<const StructField*> partition_fields;
  for (const auto& c : partition_columns) {
    const StructField* field = schema.FindField(c);
    if (field == nullptr) return Status::Corruption(ctx + ": partition column '" + c + "' is not in the schema");
    partition_fields.push_back(field);
  }
  using Tuple = std::vector<std::optional<std::string>>;
  std::vector<Tuple> file_tuples(files.size());
  std::map<Tuple, std::vector<size_t>> groups;  // tuple -> file indexes
  for (size_t i = 0; i < files.size() && partitioned; ++i) {
    const delta::AddFile& add = *files[i];
    for (size_t c = 0; c < partition_fields.size(); ++c) {
      const StructField* field = partition_fields[c];
      // partitionValues keys are physical names under column mapping.
      auto it = add.partition_values.find(field->PhysicalName(mapping));
      if (it == add.partition_values.end()) it = add.partition_values.find(field->name);
      std::optional<std::string> raw = it == add.partition_values.end() ? std::nullopt : it->second;
      ASSIGN_OR_RETURN_CTX(delta::Scalar value,
                           delta::ParsePartitionValue(raw, *field->type, partition_columns[c]),
                           ctx + ": file " + add.path);
      file_tuples[i].push_back(value.is_null() ? std::nullopt
                                               : std::optional<std::string>(PartitionText(value)));
    }
    groups[file_tuples[i]].push_back(i);
  }

  // Every file's columns, from one query over all the footers; each read's column list is built
  // from them. A read whose files all have the same columns goes without union_by_name, so that
  // binding the view (at CREATE and at every query) opens only its first file.
  std::optional<std::vector<FileSchema>> schemas;
  {
    auto read = conn.Query(FileSchemasQuery(paths));
    if (!read.ok()) {
      // Name a missing data file plainly (DuckDB reports a glob that matched nothing).
      for (size_t i = 0; i < paths.size(); ++i) {
        if (!std::filesystem::exists(paths[i])) {
          return Status::NotFound(fmt::format(
              "{}: data file {} is missing (removed by VACUUM, or by hand?)", ctx, files[i]->path));
        }
      }
      return read.status().WithContext(ctx);
    }
    schemas = FileSchemasOf(*read, paths);
    if (!schemas) MLOG_DEBUG("{}: parquet_schema answer not understood; DESCRIBE per read", ctx);
  }
  // Partition values from the paths by DuckDB when they spell them and no data file stores a
  // partition column itself (it would clash with DuckDB's Hive column); else a UNION ALL with the
  // values as constants, or a join.
  auto stores_partition_column = [&](const FileSchema& file) {
    return std::any_of(file.begin(), file.end(), [&](const FileColumn& column) {
      return std::any_of(partition_columns.begin(), partition_columns.end(),
                         [&](const std::string& c) { return EqualsIgnoreCase(c, column.name); });
    });
  };
  const bool use_hive = schemas && HivePathsMatch(paths, files, partition_fields, mapping) &&
                        std::none_of(schemas->begin(), schemas->end(), stores_partition_column);
  const bool use_union = partitioned && !use_hive && groups.size() <= kMaxPartitionBranches;
  auto read_of = [&](const std::vector<size_t>& indexes, bool with_row_number, bool union_by_name) {
    std::string list;
    for (size_t i : indexes) list += (list.empty() ? "" : ", ") + QuoteString(paths[i]);
    std::string hive = "hive_partitioning = false";
    if (use_hive) {
      hive = "hive_partitioning = true, hive_types = {";
      for (size_t c = 0; c < partition_fields.size(); ++c) {
        hive += fmt::format("{}{}: '{}'", c ? ", " : "", QuoteString(partition_fields[c]->name),
                            DuckDbTypeOf(*partition_fields[c]->type));
      }
      hive += "}";
    }
    return fmt::format("read_parquet([{}], {}{}, filename = {}{})", list, hive,
                       union_by_name ? ", union_by_name = true" : "", QuoteString(kScanFileColumn),
                       with_row_number ? ", file_row_number = true" : "");
  };
  // The read of `indexes` and its columns. Without the schemas (a parquet_schema of another
  // shape), DuckDB describes the read: one more statement per read.
  auto plan_read = [&](const std::vector<size_t>& indexes,
                       bool with_row_number) -> Result<std::pair<std::string, ReadColumns>> {
    if (schemas) {
      ReadColumns columns = ColumnsOfRead(*schemas, indexes);
      // The columns read_parquet adds itself, which DESCRIBE shows and footers do not.
      columns.types.emplace(std::string(kScanFileColumn), "VARCHAR");
      if (with_row_number) columns.types.emplace("file_row_number", "BIGINT");
      return std::pair{read_of(indexes, with_row_number, !columns.same_schema), std::move(columns)};
    }
    std::string read = read_of(indexes, with_row_number, true);
    ASSIGN_OR_RETURN_CTX(QueryResult described, conn.Query("DESCRIBE SELECT * FROM " + read), ctx);
    ReadColumns columns;
    for (size_t r = 0; r < described.row_count(); ++r) {
      columns.types[described.GetText(0, r)] = described.GetText(1, r);
    }
    return std::pair{std::move(read), std::move(columns)};
  };

  // Partition values table (the join form only).
  if (partitioned && !use_union && !use_hive) {
    std::string cols = "__file VARCHAR";
    for (const auto& c : partition_columns) cols += ", " + QuoteIdentifier(c) + " VARCHAR";
    RETURN_NOT_OK_CTX(conn.Execute(fmt::format("CREATE OR REPLACE TEMP TABLE {} ({})", parts_table, cols)), ctx);
    ASSIGN_OR_RETURN_CTX(auto appender, conn.MakeAppender("", std::string(view_name) + "__partitions"), ctx);
    for (size_t i = 0; i < files.size(); ++i) {
      RETURN_NOT_OK(appender->Append(paths[i]));
      for (const auto& value : file_tuples[i]) {
        RETURN_NOT_OK(value ? appender->Append(*value) : appender->AppendNull());
      }
      RETURN_NOT_OK(appender->EndRow());
    }
    RETURN_NOT_OK_CTX(appender->Close(), ctx);
  }

  // Deleted rows table.
  if (any_dv) {
    RETURN_NOT_OK_CTX(conn.Execute(fmt::format(
                          "CREATE OR REPLACE TEMP TABLE {} (__file VARCHAR, __row BIGINT)", deleted_table)),
                      ctx);
    ASSIGN_OR_RETURN_CTX(auto appender, conn.MakeAppender("", std::string(view_name) + "__deleted"), ctx);
    for (size_t i = 0; i < files.size(); ++i) {
      const delta::AddFile& add = *files[i];
      if (!add.deletion_vector) continue;
      ASSIGN_OR_RETURN_CTX(auto rows,
                           delta::ReadDeletionVector(store, table_root, *add.deletion_vector),
                           ctx + ": file " + add.path);
      for (uint64_t row : rows) {
        RETURN_NOT_OK(appender->Append(paths[i]));
        RETURN_NOT_OK(appender->Append(static_cast<int64_t>(row)));
        RETURN_NOT_OK(appender->EndRow());
      }
    }
    RETURN_NOT_OK_CTX(appender->Close(), ctx);
  }

  // The projection of one read, in schema order; `partition_value(i)` is the SQL of the i-th
  // partition column.
  auto project = [&](const ReadColumns& read_columns,
                     const std::function<std::string(size_t)>& partition_value) {
    const std::map<std::string, std::string>& file_columns = read_columns.types;
    std::string select;
    for (const StructField& f : schema.fields()) {
      std::string expr;
      if (partition_set.count(f.name)) {
        size_t index = 0;
        while (partition_columns[index] != f.name) ++index;
        expr = partition_value(index);
      } else {
        const std::string& physical = f.PhysicalName(mapping);
        auto it = file_columns.find(physical);
        if (it == file_columns.end()) {
          expr = fmt::format("NULL::{}", DuckDbTypeOf(*f.type));
        } else if (!mapping && it->second == DuckDbTypeOf(*f.type)) {
          expr = "__f." + QuoteIdentifier(physical);
        } else {
          expr = Conform("__f." + QuoteIdentifier(physical), *f.type, mapping);
        }
      }
      select += (select.empty() ? "" : ", ") + expr + " AS " + QuoteIdentifier(f.name);
    }
    for (const auto& c : extra_columns) {
      std::string expr = file_columns.count(c) ? "CAST(__f." + QuoteIdentifier(c) + " AS VARCHAR)"
                                               : std::string("NULL::VARCHAR");
      select += (select.empty() ? "" : ", ") + expr + " AS " + QuoteIdentifier(c);
    }
    return select;
  };
  const std::string anti_join = fmt::format(
      " ANTI JOIN {} AS __d ON __d.__file = __f.{} AND __d.__row = __f.file_row_number",
      deleted_table, QuoteIdentifier(kScanFileColumn));

  std::string body;
  if (use_union) {
    // One branch per partition tuple: DuckDB drops the branches a filter on a partition column
    // excludes, and no row is joined.
    for (const auto& [tuple, indexes] : groups) {
      bool group_dv = false;
      for (size_t i : indexes) group_dv = group_dv || files[i]->deletion_vector.has_value();
      ASSIGN_OR_RETURN(auto planned, plan_read(indexes, group_dv));
      const auto& [read, file_columns] = planned;
      const Tuple& values = tuple;
      std::string select = project(file_columns, [&](size_t c) {
        const DataType& type = *partition_fields[c]->type;
        if (!values[c]) return fmt::format("NULL::{}", DuckDbTypeOf(type));
        return PartitionCast(QuoteString(*values[c]), type);
      });
      body += (body.empty() ? "" : " UNION ALL ") +
              fmt::format("SELECT {} FROM {} AS __f{}", select, read, group_dv ? anti_join : "");
    }
  } else {
    std::vector<size_t> all(files.size());
    for (size_t i = 0; i < all.size(); ++i) all[i] = i;
    ASSIGN_OR_RETURN(auto planned, plan_read(all, any_dv));
    const auto& [read, file_columns] = planned;
    std::string select = project(file_columns, [&](size_t c) {
      if (use_hive) return "__f." + QuoteIdentifier(partition_columns[c]);
      return PartitionCast("__p." + QuoteIdentifier(partition_columns[c]),
                           *partition_fields[c]->type);
    });
    std::string from = read + " AS __f";
    if (partitioned && !use_hive) {
      from += fmt::format(" JOIN {} AS __p ON __p.__file = __f.{}", parts_table,
                          QuoteIdentifier(kScanFileColumn));
    }
    if (any_dv) from += anti_join;
    body = fmt::format("SELECT {} FROM {}", select, from);
  }
  return conn.Execute(fmt::format("CREATE OR REPLACE TEMP VIEW {} AS {}", view, body)).WithContext(ctx);
}

}  // namespace

Status RegisterDeltaScan(Connection& conn, const delta::Snapshot& snapshot,
                         storage::ObjectStore& store, std::string_view view_name,
                         const DeltaScanOptions& options, DeltaScanInfo* info) {
  const std::string ctx = fmt::format("table {} v{}", store.Describe() + "/" + snapshot.table_root(),
                                      snapshot.version());
  // Data skipping: conjuncts on columns the table has (a query's WHERE may name select-list
  // aliases); a predicate that cannot be bound skips nothing.
  delta::SkippingPredicate predicate;
  for (const auto& c : options.predicate.conjuncts) {
    if (!c.column.empty() && snapshot.schema().FindFieldIgnoreCase(c.column[0]) != nullptr) {
      predicate.conjuncts.push_back(c);
    }
  }
  delta::FileSelection selection;
  auto selected = delta::SelectFiles(snapshot, predicate);
  if (selected.ok()) {
    selection = std::move(*selected);
  } else {
    MLOG_DEBUG("{}: no data skipping: {}", ctx, selected.status().ToString());
    selection = *delta::SelectFiles(snapshot, delta::SkippingPredicate{});
  }
  if (!predicate.empty()) {
    MLOG_DEBUG("{}: data skipping on {}: {} of {} files", ctx, predicate.ToString(),
               selection.kept, selection.considered);
  }
  if (info != nullptr) {
    info->files_considered = selection.considered;
    info->files_read = selection.kept;
  }
  return RegisterFiles(conn, snapshot.config(), snapshot.table_root(), selection.files, store,
                       view_name, {}, ctx);
}

Status RegisterDeltaFileScan(Connection& conn, const delta::TableConfiguration& config,
                             std::string_view table_root, const std::vector<delta::AddFile>& files,
                             storage::ObjectStore& store, std::string_view view_name,
                             const std::vector<std::string>& extra_columns) {
  std::vector<const delta::AddFile*> pointers;
  for (const auto& f : files) pointers.push_back(&f);
  const std::string ctx = fmt::format("table {}", store.Describe() + "/" + std::string(table_root));
  return RegisterFiles(conn, config, table_root, pointers, store, view_name, extra_columns, ctx);
}

Status RegisterDeltaSelectionScan(Connection& conn, const delta::TableConfiguration& config,
                                  std::string_view table_root, const delta::FileSelection& selection,
                                  storage::ObjectStore& store, std::string_view view_name,
                                  const std::vector<std::string>& extra_columns) {
  const std::string ctx = fmt::format("table {}", store.Describe() + "/" + std::string(table_root));
  return RegisterFiles(conn, config, table_root, selection.files, store, view_name, extra_columns,
                       ctx);
}

}  // namespace medallion::engine
