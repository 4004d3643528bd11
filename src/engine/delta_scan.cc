#include "engine/delta_scan.h"

#include <fmt/format.h>

#include <charconv>
#include <filesystem>
#include <map>
#include <set>

#include "common/macros.h"
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

Status RegisterFiles(Connection& conn, const delta::TableConfiguration& config,
                     std::string_view table_root, const std::vector<delta::AddFile>& files,
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
  for (const delta::AddFile& add : files) {
    ASSIGN_OR_RETURN_CTX(std::string location, ResolveFileKey(table_root, add.path), ctx);
    if (location.empty() || location[0] != '/') {
      ASSIGN_OR_RETURN_CTX(location, store.LocalPath(location), ctx);
    }
    paths.push_back(std::move(location));
    any_dv = any_dv || add.deletion_vector.has_value();
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

  std::string file_list;
  for (const auto& p : paths) file_list += (file_list.empty() ? "" : ", ") + QuoteString(p);
  std::string read = fmt::format("read_parquet([{}], union_by_name = true, filename = {}{})", file_list,
                                 QuoteString(kScanFileColumn), any_dv ? ", file_row_number = true" : "");

  // Which physical columns the files have, with their types (a bind, no data read).
  std::map<std::string, std::string> file_columns;
  {
    auto described = conn.Query("DESCRIBE SELECT * FROM " + read);
    if (!described.ok()) {
      // Name a missing data file plainly (DuckDB reports a glob that matched nothing).
      for (size_t i = 0; i < paths.size(); ++i) {
        if (!std::filesystem::exists(paths[i])) {
          return Status::NotFound(fmt::format(
              "{}: data file {} is missing (removed by VACUUM, or by hand?)", ctx,
              files[i].path));
        }
      }
      return described.status().WithContext(ctx);
    }
    for (size_t r = 0; r < described->row_count(); ++r) {
      file_columns[described->GetText(0, r)] = described->GetText(1, r);
    }
  }

  // Partition values table.
  bool partitioned = !partition_columns.empty();
  if (partitioned) {
    std::string cols = "__file VARCHAR";
    for (const auto& c : partition_columns) cols += ", " + QuoteIdentifier(c) + " VARCHAR";
    RETURN_NOT_OK_CTX(conn.Execute(fmt::format("CREATE OR REPLACE TEMP TABLE {} ({})", parts_table, cols)), ctx);
    ASSIGN_OR_RETURN_CTX(auto appender, conn.MakeAppender("", std::string(view_name) + "__partitions"), ctx);
    for (size_t i = 0; i < files.size(); ++i) {
      const delta::AddFile& add = files[i];
      RETURN_NOT_OK(appender->Append(paths[i]));
      for (const auto& c : partition_columns) {
        const StructField* field = schema.FindField(c);
        if (field == nullptr) return Status::Corruption(ctx + ": partition column '" + c + "' is not in the schema");
        // partitionValues keys are physical names under column mapping.
        auto it = add.partition_values.find(field->PhysicalName(mapping));
        if (it == add.partition_values.end()) it = add.partition_values.find(c);
        std::optional<std::string> raw = it == add.partition_values.end() ? std::nullopt : it->second;
        ASSIGN_OR_RETURN_CTX(delta::Scalar value, delta::ParsePartitionValue(raw, *field->type, c),
                             ctx + ": file " + add.path);
        RETURN_NOT_OK(value.is_null() ? appender->AppendNull() : appender->Append(PartitionText(value)));
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
      const delta::AddFile& add = files[i];
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

  // The projection, in schema order.
  std::string select;
  for (const StructField& f : schema.fields()) {
    std::string expr;
    if (partition_set.count(f.name)) {
      expr = PartitionCast("__p." + QuoteIdentifier(f.name), *f.type);
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
  std::string from = read + " AS __f";
  if (partitioned) {
    from += fmt::format(" JOIN {} AS __p ON __p.__file = __f.{}", parts_table, QuoteIdentifier(kScanFileColumn));
  }
  if (any_dv) {
    from += fmt::format(" ANTI JOIN {} AS __d ON __d.__file = __f.{} AND __d.__row = __f.file_row_number",
                        deleted_table, QuoteIdentifier(kScanFileColumn));
  }
  return conn.Execute(fmt::format("CREATE OR REPLACE TEMP VIEW {} AS SELECT {} FROM {}", view, select, from))
      .WithContext(ctx);
}

}  // namespace

Status RegisterDeltaScan(Connection& conn, const delta::Snapshot& snapshot,
                         storage::ObjectStore& store, std::string_view view_name) {
  const std::string ctx = fmt::format("table {} v{}", store.Describe() + "/" + snapshot.table_root(),
                                      snapshot.version());
  return RegisterFiles(conn, snapshot.config(), snapshot.table_root(), snapshot.files(), store,
                       view_name, {}, ctx);
}

Status RegisterDeltaFileScan(Connection& conn, const delta::TableConfiguration& config,
                             std::string_view table_root, const std::vector<delta::AddFile>& files,
                             storage::ObjectStore& store, std::string_view view_name,
                             const std::vector<std::string>& extra_columns) {
  const std::string ctx = fmt::format("table {}", store.Describe() + "/" + std::string(table_root));
  return RegisterFiles(conn, config, table_root, files, store, view_name, extra_columns, ctx);
}

}  // namespace medallion::engine
