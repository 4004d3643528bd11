#include "common/clock.h"
#include "common/text.h"
#include "engine/delta_writer.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>

#include "common/macros.h"
#include "delta/actions.h"
#include "delta/schema.h"
#include "delta/snapshot.h"
#include "delta/table_configuration.h"
#include "delta/transaction.h"
#include "engine/delta_constraints.h"
#include "engine/delta_scan.h"
#include "engine/delta_types.h"
#include "engine/duckdb_parquet_writer.h"
#include "engine/file_statistics.h"
#include "engine/scan_predicate.h"
#include "engine/sql_text.h"

namespace medallion::engine {
namespace {

using delta::DataType;
using delta::DataTypePtr;
using delta::StructField;
using delta::TypeKind;

// Names on the caller's connection: the query's alias, and the TEMP table and view this file
// creates (Cleanup drops them).
constexpr std::string_view kQueryAlias = "__medallion_wq";   // the query, as it came
constexpr std::string_view kRowsTable = "__medallion_wr";     // cast to the table schema
constexpr std::string_view kTableView = "__medallion_wt";     // the current table (replaceWhere)
// Spark's folder name for a NULL (or empty string) partition value.
constexpr std::string_view kNullPartition = "__HIVE_DEFAULT_PARTITION__";

// ---- Types ----------------------------------------------------------------------------------

// The Delta type a query column of DuckDB type `t` is stored as (see the header comment).
Result<DataTypePtr> DeltaTypeOf(const ColumnType& t, const std::string& column) {
  auto P = [](TypeKind k) -> Result<DataTypePtr> { return DataType::Primitive(k); };
  switch (t.id) {
    case TypeId::kBoolean:
      return P(TypeKind::kBoolean);
    case TypeId::kTinyInt:
      return P(TypeKind::kByte);
    case TypeId::kSmallInt:
    case TypeId::kUTinyInt:
      return P(TypeKind::kShort);
    case TypeId::kInteger:
    case TypeId::kUSmallInt:
      return P(TypeKind::kInteger);
    case TypeId::kBigInt:
    case TypeId::kUInteger:
    case TypeId::kHugeInt:
      return P(TypeKind::kLong);
    case TypeId::kUBigInt:
      return DataType::MakeDecimal(20, 0);
    case TypeId::kFloat:
      return P(TypeKind::kFloat);
    case TypeId::kDouble:
      return P(TypeKind::kDouble);
    case TypeId::kDecimal:
      return DataType::MakeDecimal(t.decimal_width, t.decimal_scale);
    case TypeId::kVarchar:
    case TypeId::kUuid:
    case TypeId::kEnum:
      return P(TypeKind::kString);
    case TypeId::kBlob:
      return P(TypeKind::kBinary);
    case TypeId::kDate:
      return P(TypeKind::kDate);
    case TypeId::kTimestampTz:
      return P(TypeKind::kTimestamp);
    case TypeId::kTimestamp:
    case TypeId::kTimestampMs:
    case TypeId::kTimestampNs:
    case TypeId::kTimestampS:
      return P(TypeKind::kTimestampNtz);
    case TypeId::kList:
    case TypeId::kArray: {
      if (t.children.size() != 1) break;
      ASSIGN_OR_RETURN(auto element, DeltaTypeOf(t.children[0].second, column + ".element"));
      return DataType::Array(std::move(element), true);
    }
    case TypeId::kMap: {
      if (t.children.size() != 2) break;
      ASSIGN_OR_RETURN(auto key, DeltaTypeOf(t.children[0].second, column + ".key"));
      ASSIGN_OR_RETURN(auto value, DeltaTypeOf(t.children[1].second, column + ".value"));
      return DataType::Map(std::move(key), std::move(value), true);
    }
    case TypeId::kStruct: {
      std::vector<StructField> fields;
      std::set<std::string> seen;
      for (const auto& [name, child] : t.children) {
        if (!seen.insert(AsciiLower(name)).second) {
          return Status::InvalidArgument(
              fmt::format("column '{}': duplicate struct field name '{}'", column, name));
        }
        StructField f;
        f.name = name;
        ASSIGN_OR_RETURN(f.type, DeltaTypeOf(child, column + "." + name));
        fields.push_back(std::move(f));
      }
      return DataType::Struct(std::move(fields));
    }
    case TypeId::kSqlNull:
      return Status::NotSupported(fmt::format(
          "column '{}' has type NULL; cast it to the type the table should store", column));
    default:
      break;
  }
  return Status::NotSupported(fmt::format(
      "column '{}': DuckDB type {} cannot be stored in a Delta table", column, t.ToString()));
}

int IntegerRank(TypeKind k) {
  switch (k) {
    case TypeKind::kByte:
      return 1;
    case TypeKind::kShort:
      return 2;
    case TypeKind::kInteger:
      return 3;
    case TypeKind::kLong:
      return 4;
    default:
      return 0;
  }
}

int IntegerDigits(TypeKind k) {
  switch (k) {
    case TypeKind::kByte:
      return 3;
    case TypeKind::kShort:
      return 5;
    case TypeKind::kInteger:
      return 10;
    default:
      return 19;
  }
}

// The table type that a query value of type `query` is written as, given the table's `table`
// type: `table` itself when `query` converts safely to it, a widened type when merge allows it.
// InvalidArgument "column 'x': cannot write <query> to <table>" otherwise.
Result<DataTypePtr> Reconcile(const DataTypePtr& query, const DataTypePtr& table,
                              const std::string& path, bool merge) {
  if (*query == *table) return table;
  auto refuse = [&]() {
    return Status::InvalidArgument(fmt::format("column '{}': cannot write {} to {}{}", path,
                                               query->ToString(), table->ToString(),
                                               merge ? "" : " (without merge_schema)"));
  };
  TypeKind q = query->kind(), t = table->kind();
  int qr = IntegerRank(q), tr = IntegerRank(t);
  if (qr > 0 && tr > 0) {
    if (qr <= tr) return table;
    if (merge) return query;
    return refuse();
  }
  if (q == TypeKind::kFloat && t == TypeKind::kDouble) return table;
  if (q == TypeKind::kDouble && t == TypeKind::kFloat) {
    if (merge) return query;
    return refuse();
  }
  if (qr > 0 && (t == TypeKind::kDouble || (t == TypeKind::kFloat && qr <= 2))) return table;
  if (qr > 0 && t == TypeKind::kDecimal &&
      IntegerDigits(q) <= table->precision() - table->scale()) {
    return table;
  }
  if (q == TypeKind::kDecimal && t == TypeKind::kDecimal && query->scale() <= table->scale() &&
      query->precision() - query->scale() <= table->precision() - table->scale()) {
    return table;
  }
  if (q == TypeKind::kStruct && t == TypeKind::kStruct) {
    std::vector<StructField> fields;
    std::vector<bool> used(query->fields().size(), false);
    bool changed = false;
    for (const StructField& tf : table->fields()) {
      size_t i = 0;
      while (i < query->fields().size() && !EqualsIgnoreCase(query->fields()[i].name, tf.name)) ++i;
      if (i == query->fields().size()) {
        return Status::InvalidArgument(
            fmt::format("column '{}.{}' of the table is missing from the query", path, tf.name));
      }
      used[i] = true;
      StructField f = tf;
      ASSIGN_OR_RETURN(f.type,
                       Reconcile(query->fields()[i].type, tf.type, path + "." + tf.name, merge));
      changed = changed || !(*f.type == *tf.type);
      fields.push_back(std::move(f));
    }
    for (size_t i = 0; i < used.size(); ++i) {
      if (used[i]) continue;
      if (!merge) {
        return Status::InvalidArgument(
            fmt::format("column '{}.{}' is not in the table (use merge_schema to add it)", path,
                        query->fields()[i].name));
      }
      fields.push_back(query->fields()[i]);
      changed = true;
    }
    return changed ? DataType::Struct(std::move(fields)) : table;
  }
  if (q == TypeKind::kArray && t == TypeKind::kArray) {
    ASSIGN_OR_RETURN(
        auto e, Reconcile(query->element_type(), table->element_type(), path + ".element", merge));
    return *e == *table->element_type() ? table : DataType::Array(e, table->contains_null());
  }
  if (q == TypeKind::kMap && t == TypeKind::kMap) {
    ASSIGN_OR_RETURN(auto k, Reconcile(query->key_type(), table->key_type(), path + ".key", merge));
    ASSIGN_OR_RETURN(auto v,
                     Reconcile(query->value_type(), table->value_type(), path + ".value", merge));
    if (*k == *table->key_type() && *v == *table->value_type()) return table;
    return DataType::Map(k, v, table->value_contains_null());
  }
  return refuse();
}

// ---- Partition values -----------------------------------------------------------------------

// SQL giving a partition column's value in PROTOCOL.md's "Partition Value Serialization" (VARCHAR).
std::string PartitionValueSql(const std::string& col, const DataType& type) {
  switch (type.kind()) {
    case TypeKind::kString:
      return col;
    case TypeKind::kBoolean:
      return fmt::format("CASE WHEN {0} THEN 'true' WHEN NOT {0} THEN 'false' END", col);
    case TypeKind::kDate:
      return fmt::format("strftime({}, '%Y-%m-%d')", col);
    case TypeKind::kTimestamp:
      return fmt::format("strftime({} AT TIME ZONE 'UTC', '%Y-%m-%dT%H:%M:%S.%fZ')", col);
    case TypeKind::kTimestampNtz:
      return fmt::format("strftime({}, '%Y-%m-%d %H:%M:%S.%f')", col);
    case TypeKind::kFloat:
    case TypeKind::kDouble:
      return fmt::format(
          "CASE WHEN isnan({0}) THEN 'NaN' WHEN {0} = 'infinity' THEN 'Infinity' WHEN {0} = "
          "'-infinity' THEN '-Infinity' ELSE CAST({0} AS VARCHAR) END",
          col);
    default:
      return fmt::format("CAST({} AS VARCHAR)", col);
  }
}

// URI path encoding of a relative data file path for `add.path`: every byte but unreserved
// characters, '/' and '=' is percent-encoded (so `a=b%3Ac` is logged as `a=b%253Ac`).
std::string EncodeLogPath(std::string_view path) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : path) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~' || c == '/' || c == '=') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

std::string JsonArray(const std::vector<std::string>& items) {
  nlohmann::json a = nlohmann::json::array();
  for (const auto& i : items) a.push_back(i);
  return a.dump();
}

std::string_view ModeName(WriteOptions::Mode mode) {
  switch (mode) {
    case WriteOptions::Mode::kAppend:
      return "Append";
    case WriteOptions::Mode::kOverwrite:
      return "Overwrite";
    case WriteOptions::Mode::kErrorIfExists:
      return "ErrorIfExists";
    case WriteOptions::Mode::kIgnore:
      return "Ignore";
  }
  return "Append";
}

// The local path DuckDB sees for a file of the table (as delta_scan.cc resolves it).
Result<std::string> LocalFilePath(const delta::Snapshot& snapshot, storage::ObjectStore& store,
                                  const delta::AddFile& add) {
  ASSIGN_OR_RETURN(std::string location, snapshot.FileLocalPath(add));
  if (location.empty() || location[0] != '/') {
    ASSIGN_OR_RETURN(location, store.LocalPath(location));
  }
  return location;
}

// "a", "b", ... for SQL.
std::string ColumnList(const std::vector<StructField>& fields) {
  std::string cols;
  for (const auto& f : fields) cols += (cols.empty() ? "" : ", ") + QuoteIdentifier(f.name);
  return cols;
}

std::string QuotedList(const std::vector<std::string>& items) {
  std::string list;
  for (const auto& i : items) list += (list.empty() ? "" : ", ") + QuoteString(i);
  return list;
}

// DuckDB's rows per Parquet row group (its COPY's ROW_GROUP_SIZE default).
constexpr int64_t kRowGroupRows = 122'880;

// The rows WriteFilesOf writes.
struct RowSource {
  std::string relation;  // what follows FROM: a quoted TEMP table or view, or "(SELECT ...)"
  // SQL over the relation (aliased __r) numbering its rows distinctly and non-negatively (a
  // table's rowid): files are cut exactly where row_id // target_file_rows changes. Empty: one
  // COPY that starts a new file every target_file_rows / kRowGroupRows row groups (files of about
  // target_file_rows rows, in whole row groups), or for a partitioned layout one file per
  // partition value.
  std::string row_id;
  // The relation's row count when known (-1: unknown): at most target_file_rows rows make one
  // file without asking which chunks of row ids hold rows.
  int64_t rows = -1;
};

// The row count a CREATE TABLE AS or INSERT reports (its one "Count" row); -1 for another shape.
int64_t ReportedCount(const QueryResult& result) {
  if (result.row_count() != 1 || result.column_count() != 1 ||
      !result.column_type(0).IsInteger() || result.column_name(0) != "Count") {
    return -1;
  }
  return result.GetInt64(0, 0).ValueOr(-1);
}

struct WrittenFiles {
  std::vector<delta::AddFile> adds;  // with statistics, unless change data
  std::vector<std::string> local_paths;  // of adds (data files only)
  int64_t num_rows = 0;
  // NULLs in the files per top-level primitive data column (data files only).
  std::map<std::string, int64_t> null_counts;
};

Result<WrittenFiles> WriteFilesOf(Connection& conn_, storage::ObjectStore& store_,
                                  const std::string& root_, const RowSource& source,
                                  const DataFileLayout& layout, bool change_data);

class Writer {
 public:
  Writer(Connection& conn, storage::ObjectStore& store, std::string table_root,
         delta::ParquetHandler& parquet, const WriteOptions& options)
      : conn_(conn),
        store_(store),
        root_(std::move(table_root)),
        parquet_(parquet),
        options_(options) {}

  Result<WriteResult> Run(std::string_view select_sql);
  Status Cleanup();  // drops what the write created on the connection

 private:
  Status LoadSnapshot();
  Status BuildSchema(const std::vector<std::pair<std::string, ColumnType>>& columns);
  Status CheckWrittenNotNull(const WrittenFiles& written);
  Status CheckRows(std::string_view rows);
  Status PlanReplaceWhere();
  Result<std::vector<delta::AddFile>> WriteFiles();
  void RemoveWrittenFiles();  // the data files WriteFiles wrote (not committed)

  Connection& conn_;
  storage::ObjectStore& store_;
  std::string root_;
  delta::ParquetHandler& parquet_;
  const WriteOptions& options_;

  std::shared_ptr<const delta::Snapshot> snapshot_;  // null: a new table
  bool replace_metadata_ = false;                    // new table or overwrite_schema
  bool schema_changed_ = false;
  std::vector<StructField> fields_;  // the table schema to write with
  std::vector<std::string> partition_columns_;
  std::map<std::string, std::string> configuration_;
  std::vector<delta::RowConstraint> constraints_;  // of the table as committed
  std::string query_;                    // the query as a FROM item, aliased kQueryAlias
  std::vector<std::string> projection_;  // per field: SQL over query_
  std::vector<delta::RemoveFile> removes_;
  WriteResult result_;
  bool direct_ = false;  // the rows go from the query to the files (see Run)
  RowSource source_;     // the rows to write
  std::vector<std::string> written_paths_;  // local paths of the data files written
};

Status Writer::LoadSnapshot() {
  auto snapshot = delta::SnapshotBuilder(store_, root_).Build(parquet_);
  if (snapshot.ok()) {
    snapshot_ = std::move(*snapshot);
    return Status::OK();
  }
  if (snapshot.status().code() == StatusCode::kNotFound) return Status::OK();
  return snapshot.status();
}

Status Writer::BuildSchema(const std::vector<std::pair<std::string, ColumnType>>& columns) {
  std::vector<StructField> query_fields;
  std::set<std::string> seen;
  for (const auto& [name, type] : columns) {
    if (!seen.insert(AsciiLower(name)).second) {
      return Status::InvalidArgument(fmt::format("the query has two columns named '{}'", name));
    }
    StructField f;
    f.name = name;
    ASSIGN_OR_RETURN(f.type, DeltaTypeOf(type, name));
    query_fields.push_back(std::move(f));
  }
  auto find_query = [&](std::string_view name) -> int {
    for (size_t i = 0; i < query_fields.size(); ++i) {
      if (EqualsIgnoreCase(query_fields[i].name, name)) return static_cast<int>(i);
    }
    return -1;
  };

  if (replace_metadata_) {
    fields_ = query_fields;
    partition_columns_.clear();
    for (const auto& p : options_.partition_by) {
      int i = find_query(p);
      if (i < 0)
        return Status::InvalidArgument(
            fmt::format("partition column '{}' is not a column of the query", p));
      partition_columns_.push_back(query_fields[i].name);
    }
    configuration_ = {options_.table_properties.begin(), options_.table_properties.end()};
    for (const auto& f : fields_) projection_.push_back(QuoteIdentifier(f.name));
  } else {
    const delta::Schema& schema = snapshot_->schema();
    partition_columns_ = snapshot_->metadata().partition_columns;
    configuration_ = {snapshot_->metadata().configuration.begin(),
                      snapshot_->metadata().configuration.end()};
    if (!options_.partition_by.empty()) {
      bool same = options_.partition_by.size() == partition_columns_.size();
      for (size_t i = 0; same && i < partition_columns_.size(); ++i) {
        same = EqualsIgnoreCase(options_.partition_by[i], partition_columns_[i]);
      }
      if (!same) {
        return Status::InvalidArgument(
            fmt::format("partition columns {} do not match the table's partition columns {}",
                        JsonArray(options_.partition_by), JsonArray(partition_columns_)));
      }
    }
    std::vector<std::string> missing;
    std::vector<bool> used(query_fields.size(), false);
    for (const StructField& tf : schema.fields()) {
      int i = find_query(tf.name);
      if (i < 0) {
        missing.push_back(tf.name);
        continue;
      }
      used[i] = true;
      StructField f = tf;
      auto reconciled = Reconcile(query_fields[i].type, tf.type, tf.name, options_.merge_schema);
      if (!reconciled.ok()) {
        // A column of NULLs converts to any type (DuckDB types `SELECT NULL AS x` as INTEGER).
        ASSIGN_OR_RETURN(auto non_null,
                         conn_.Query(fmt::format("SELECT count({}) FROM {}",
                                                 QuoteIdentifier(query_fields[i].name), query_)));
        ASSIGN_OR_RETURN(int64_t n, non_null.GetInt64(0, 0));
        if (n != 0) return reconciled.status();
        reconciled = tf.type;
      }
      f.type = *reconciled;
      if (!(*f.type == *tf.type)) schema_changed_ = true;
      projection_.push_back(fmt::format("CAST({} AS {})", QuoteIdentifier(query_fields[i].name),
                                        DuckDbTypeOf(*f.type)));
      fields_.push_back(std::move(f));
    }
    if (!missing.empty()) {
      std::string names;
      for (const auto& m : missing) names += (names.empty() ? "'" : ", '") + m + "'";
      return Status::InvalidArgument(
          fmt::format("the query lacks the table's column(s) {}", names));
    }
    std::vector<std::string> extra;
    for (size_t i = 0; i < query_fields.size(); ++i) {
      if (used[i]) continue;
      if (!options_.merge_schema) {
        extra.push_back(query_fields[i].name);
        continue;
      }
      fields_.push_back(query_fields[i]);
      projection_.push_back(QuoteIdentifier(query_fields[i].name));
      schema_changed_ = true;
    }
    if (!extra.empty()) {
      std::string names;
      for (const auto& m : extra) names += (names.empty() ? "'" : ", '") + m + "'";
      return Status::InvalidArgument(fmt::format(
          "the query has column(s) {} that the table does not have (use merge_schema to add them)",
          names));
    }
  }

  // Partition columns: top-level primitives, not binary, not every column.
  for (const auto& p : partition_columns_) {
    const StructField* f = nullptr;
    for (const auto& field : fields_) {
      if (field.name == p) f = &field;
    }
    if (f == nullptr)
      return Status::InvalidArgument(fmt::format("partition column '{}' is not in the schema", p));
    if (!f->type->is_primitive()) {
      return Status::InvalidArgument(
          fmt::format("partition column '{}' has the nested type {}", p, f->type->ToString()));
    }
    if (f->type->kind() == TypeKind::kBinary) {
      return Status::NotSupported(fmt::format("partition column '{}' is binary", p));
    }
  }
  if (!fields_.empty() && partition_columns_.size() == fields_.size()) {
    return Status::InvalidArgument("cannot use all columns as partition columns");
  }
  return Status::OK();
}

// For replace_where: checks the new rows, finds the files with matching rows, and adds the rows to
// keep from partially matching files to kRowsTable.
Status Writer::PlanReplaceWhere() {
  const std::string& pred = *options_.replace_where;
  if (options_.replace_where_constraint_check) {
    ASSIGN_OR_RETURN(auto bad, conn_.Query(fmt::format(
                                   "SELECT count(*) FROM {} WHERE NOT coalesce(({}), false)",
                                   QuoteIdentifier(kRowsTable), pred)));
    ASSIGN_OR_RETURN(int64_t n_bad, bad.GetInt64(0, 0));
    if (n_bad > 0) {
      return Status::InvalidArgument(fmt::format(
          "Written data does not conform to partial table overwrite condition or constraint '{}'",
          pred));
    }
  }
  // Only the files that data skipping keeps (partition values and statistics against the
  // predicate's simple conjuncts) can hold matching rows; a predicate it cannot use keeps all.
  delta::SkippingPredicate skipping;
  if (auto extracted = ExtractScanPredicate(
          conn_, fmt::format("SELECT * FROM {} WHERE {}", QuoteIdentifier(kTableView), pred),
          kTableView);
      extracted.ok()) {
    skipping = std::move(*extracted);
  }
  auto candidates = delta::SelectFiles(*snapshot_, skipping);
  if (!candidates.ok()) candidates = delta::SelectFiles(*snapshot_, delta::SkippingPredicate{});
  RETURN_NOT_OK(candidates.status());
  result_.num_files_scanned = candidates->kept;
  ASSIGN_OR_RETURN(std::vector<FileMatch> matches,
                   MatchFiles(conn_, *snapshot_, store_, *candidates, kTableView, pred));
  std::vector<std::string> partial;
  int64_t now = NowMs();
  for (const FileMatch& m : matches) {
    result_.num_deleted_rows += m.matched_rows;
    if (m.matched_rows < m.total_rows) {
      partial.push_back(m.local_path);
      result_.num_copied_rows += m.total_rows - m.matched_rows;
    }
    removes_.push_back(RemoveFileFor(*m.file, now));
  }
  if (!partial.empty()) {
    ASSIGN_OR_RETURN(auto inserted, conn_.Query(fmt::format(
        "INSERT INTO {} BY NAME SELECT {} FROM {} WHERE {} IN ({}) AND NOT coalesce(({}), false)",
        QuoteIdentifier(kRowsTable), ColumnList(snapshot_->schema().fields()),
        QuoteIdentifier(kTableView), QuoteIdentifier(kScanFileColumn), QuotedList(partial), pred)));
    const int64_t copied = ReportedCount(inserted);
    source_.rows = source_.rows >= 0 && copied >= 0 ? source_.rows + copied : -1;
  }
  return Status::OK();
}

Result<std::vector<delta::AddFile>> Writer::WriteFiles() {
  ASSIGN_OR_RETURN(WrittenFiles written,
                   WriteFilesOf(conn_, store_, root_, source_,
                                {fields_, partition_columns_, configuration_,
                                 options_.target_file_rows},
                                /*change_data=*/false));
  result_.num_inserted_rows = written.num_rows - result_.num_copied_rows;
  Status valid = Status::OK();
  if (direct_) {
    valid = CheckWrittenNotNull(written);
    if (valid.ok() && !written.local_paths.empty()) {
      valid = CheckRowConstraints(
          conn_, fmt::format("read_parquet([{}])", QuotedList(written.local_paths)), constraints_,
          fields_);
    }
  }
  written_paths_ = std::move(written.local_paths);
  if (!valid.ok()) {
    RemoveWrittenFiles();
    return valid;
  }
  for (const auto& add : written.adds) result_.num_bytes += add.size;
  result_.null_counts = std::move(written.null_counts);
  return std::move(written.adds);
}

void Writer::RemoveWrittenFiles() {
  std::error_code ec;
  for (const auto& path : written_paths_) std::filesystem::remove(path, ec);
  written_paths_.clear();
}

// NOT NULL columns of a direct write, from the files' null counts (or a query over the files for
// a column DuckDB did not count, a nested one).
Status Writer::CheckWrittenNotNull(const WrittenFiles& written) {
  for (const StructField& f : fields_) {
    if (f.nullable || written.adds.empty()) continue;
    int64_t nulls = 0;
    if (std::find(partition_columns_.begin(), partition_columns_.end(), f.name) !=
        partition_columns_.end()) {
      for (const delta::AddFile& add : written.adds) {
        auto it = add.partition_values.find(f.name);
        nulls += it == add.partition_values.end() || !it->second.has_value();
      }
    } else if (auto it = written.null_counts.find(f.name); it != written.null_counts.end()) {
      nulls = it->second;
    } else {
      ASSIGN_OR_RETURN(auto r, conn_.Query(fmt::format(
                                   "SELECT count(*) FROM read_parquet([{}]) WHERE {} IS NULL",
                                   QuotedList(written.local_paths), QuoteIdentifier(f.name))));
      ASSIGN_OR_RETURN(nulls, r.GetInt64(0, 0));
    }
    if (nulls > 0) {
      return Status::InvalidArgument(
          fmt::format("NOT NULL constraint violated for column: {}", f.name));
    }
  }
  return Status::OK();
}

// NOT NULL columns and row constraints over the rows about to be written (a TEMP table or view).
Status Writer::CheckRows(std::string_view rows) {
  RETURN_NOT_OK(engine::CheckNotNull(conn_, rows, fields_));
  return CheckRowConstraints(conn_, QuoteIdentifier(rows), constraints_, fields_);
}

Status Writer::Cleanup() {
  return conn_.Execute(fmt::format("DROP TABLE IF EXISTS {}; DROP VIEW IF EXISTS {};",
                                   QuoteIdentifier(kRowsTable), QuoteIdentifier(kTableView)));
}

Result<WriteResult> Writer::Run(std::string_view select_sql) {
  using Mode = WriteOptions::Mode;
  RETURN_NOT_OK(LoadSnapshot());
  if (options_.replace_where && options_.mode != Mode::kOverwrite) {
    return Status::InvalidArgument("replace_where needs the overwrite mode");
  }
  if (snapshot_) {
    result_.version = snapshot_->version();
    if (options_.mode == Mode::kErrorIfExists) {
      return Status::AlreadyExists(
          fmt::format("table {} already exists", store_.Describe() + "/" + root_));
    }
    if (options_.mode == Mode::kIgnore) return result_;
    if (options_.txn &&
        snapshot_->TxnVersion(options_.txn->first).value_or(-1) >= options_.txn->second) {
      return result_;
    }
  }
  replace_metadata_ =
      !snapshot_ || (options_.mode == Mode::kOverwrite && options_.overwrite_schema);

  // The query's types (binding it reads nothing), then its rows, evaluated once, cast to the
  // table's types.
  query_ = fmt::format("({}\n) AS {}", select_sql, QuoteIdentifier(kQueryAlias));
  ASSIGN_OR_RETURN(auto columns, conn_.Describe("SELECT * FROM " + query_));
  RETURN_NOT_OK(BuildSchema(columns));
  {
    delta::Metadata committed;
    if (replace_metadata_) {
      committed.configuration = {configuration_.begin(), configuration_.end()};
      committed.schema_string = delta::SerializeSchema(delta::Schema(fields_));
    } else {
      committed = snapshot_->metadata();
    }
    ASSIGN_OR_RETURN(constraints_, delta::TableConstraints(committed));
  }
  std::string projection;
  for (size_t i = 0; i < fields_.size(); ++i) {
    projection += (i ? ", " : "") + projection_[i] + " AS " + QuoteIdentifier(fields_[i].name);
  }
  // How the rows reach the files (header comment, step 2): straight from the query, in one COPY
  // (NOT NULL and the row constraints are then checked on the written files, which a partitioned
  // table's constraints cannot be: its files lack the partition columns), or from a copy of the
  // rows in kRowsTable.
  direct_ = !options_.replace_where && options_.target_file_rows >= kRowGroupRows &&
            (partition_columns_.empty() || constraints_.empty());
  if (direct_) {
    source_ = {fmt::format("(SELECT {} FROM {})", projection, query_), ""};
  } else {
    ASSIGN_OR_RETURN(auto created,
                     conn_.Query(fmt::format("CREATE OR REPLACE TEMP TABLE {} AS SELECT {} FROM {}",
                                             QuoteIdentifier(kRowsTable), projection, query_)));
    source_ = {QuoteIdentifier(kRowsTable), "__r.rowid", ReportedCount(created)};
    RETURN_NOT_OK(CheckRows(kRowsTable));
  }

  // Files to remove.
  if (snapshot_ && options_.mode == Mode::kOverwrite) {
    if (options_.replace_where) {
      RETURN_NOT_OK(PlanReplaceWhere());
    } else {
      int64_t now = NowMs();
      for (const delta::AddFile& add : snapshot_->files()) {
        removes_.push_back(RemoveFileFor(add, now));
      }
    }
  }

  ASSIGN_OR_RETURN(std::vector<delta::AddFile> adds, WriteFiles());
  RETURN_NOT_OK(Cleanup());
  result_.num_files = static_cast<int64_t>(adds.size());
  result_.num_rows = result_.num_inserted_rows + result_.num_copied_rows;
  result_.num_removed_files = static_cast<int64_t>(removes_.size());
  if (options_.before_commit) {
    Status accepted = options_.before_commit(result_);
    if (!accepted.ok()) {
      RemoveWrittenFiles();
      return accepted;
    }
  }
  int64_t removed_bytes = 0;
  for (const auto& r : removes_) removed_bytes += r.size.value_or(0);

  // The commit.
  std::unique_ptr<DuckDbParquetWriter> own_writer;
  delta::TransactionOptions txn_options;
  txn_options.checkpoint_writer = options_.checkpoint_writer;
  if (txn_options.checkpoint_writer == nullptr) {
    ASSIGN_OR_RETURN(own_writer, DuckDbParquetWriter::Make());
    txn_options.checkpoint_writer = own_writer.get();
  }
  ASSIGN_OR_RETURN(auto txn, delta::Transaction::ForTable(store_, root_, snapshot_, txn_options));
  if (replace_metadata_ || schema_changed_) {
    delta::Metadata m;
    if (snapshot_) m = snapshot_->metadata();
    if (!snapshot_) m.id = delta::GenerateUuid();
    if (replace_metadata_) {
      m.partition_columns = partition_columns_;
      m.configuration = {configuration_.begin(), configuration_.end()};
      m.created_time = NowMs();
    }
    m.schema_string = delta::SerializeSchema(delta::Schema(fields_));
    RETURN_NOT_OK(delta::ParseTableProperties(m.configuration).status());
    txn->UpdateMetadata(std::move(m));
  }
  std::string operation = options_.operation.empty() ? "WRITE" : options_.operation;
  delta::StringMap params;
  if (operation == "WRITE") {
    params["mode"] = std::string(ModeName(options_.mode));
  } else {
    params["isManaged"] = "false";
    nlohmann::json props = nlohmann::json::object();
    for (const auto& [k, v] : options_.table_properties) props[k] = v;
    params["properties"] = props.dump();
  }
  params["partitionBy"] = JsonArray(partition_columns_);
  if (options_.replace_where) params["predicate"] = JsonArray({*options_.replace_where});
  txn->SetOperation(operation, std::move(params));
  std::map<std::string, int64_t> metrics = {{"numFiles", result_.num_files},
                                            {"numOutputRows", result_.num_rows},
                                            {"numOutputBytes", result_.num_bytes}};
  if (options_.mode == Mode::kOverwrite && snapshot_) {
    metrics["numRemovedFiles"] = result_.num_removed_files;
    metrics["numRemovedBytes"] = removed_bytes;
    if (options_.replace_where) {
      metrics["numDeletedRows"] = result_.num_deleted_rows;
      metrics["numCopiedRows"] = result_.num_copied_rows;
    }
  }
  txn->SetOperationMetrics(std::move(metrics));
  if (options_.replace_where) txn->RecordReadWholeTable();
  if (options_.txn) txn->SetTxn(options_.txn->first, options_.txn->second);
  txn->AddFiles(std::move(adds));
  txn->RemoveFiles(std::move(removes_));
  ASSIGN_OR_RETURN(delta::CommitResult committed, txn->Commit(parquet_));
  result_.committed = true;
  result_.version = committed.version;
  result_.checkpoint_written = committed.checkpoint_written;
  return result_;
}

}  // namespace

namespace {

// Writes the rows of `source` as data files (or, with `change_data`, as change data files under
// _change_data/, with their _change_type column and without statistics).
Result<WrittenFiles> WriteFilesOf(Connection& conn_, storage::ObjectStore& store_,
                                  const std::string& root_, const RowSource& source,
                                  const DataFileLayout& layout, bool change_data) {
  const std::vector<StructField>& fields_ = layout.fields;
  const std::vector<std::string>& partition_columns_ = layout.partition_columns;
  WrittenFiles written;
  if (layout.target_file_rows <= 0)
    return Status::InvalidArgument("target_file_rows must be > 0");
  const std::string& row_id = source.row_id;
  const std::string from_rows = source.relation + " AS __r";
  std::set<std::string> partition_set(partition_columns_.begin(), partition_columns_.end());
  std::vector<const StructField*> partition_fields;
  for (const auto& p : partition_columns_) {
    for (const auto& f : fields_) {
      if (f.name == p) partition_fields.push_back(&f);
    }
  }
  std::vector<StructField> data_fields;
  for (const auto& f : fields_) {
    if (!partition_set.count(f.name)) data_fields.push_back(f);
  }
  std::string columns;
  for (const auto& f : data_fields) columns += (columns.empty() ? "" : ", ") + QuoteIdentifier(f.name);
  if (change_data) columns += (columns.empty() ? "" : ", ") + QuoteIdentifier(kChangeTypeColumn);
  if (columns.empty()) columns = "*";

  // Partition values: one hive column per partition column, holding its serialized value marked
  // 'V' (or 'N' for NULL, which DuckDB's folder names could not tell from the string "NULL");
  // RETURN_STATS gives each file's values back.
  std::string partition_texts, partition_keys;
  for (size_t i = 0; i < partition_fields.size(); ++i) {
    std::string c = "__r." + QuoteIdentifier(partition_fields[i]->name);
    partition_texts += fmt::format(", CASE WHEN {0} IS NULL THEN 'N' ELSE 'V' || {1} END AS __p{2}",
                                   c, PartitionValueSql(c, *partition_fields[i]->type), i);
    partition_keys += fmt::format("__p{}, ", i);
  }

  // Unpartitioned rows with row ids: the file-sized chunks of row ids that hold rows.
  std::vector<int64_t> chunks;
  if (partition_fields.empty() && !row_id.empty() && source.rows >= 0 &&
      source.rows <= layout.target_file_rows) {
    if (source.rows == 0) return written;
    chunks = {0};  // one COPY, unfiltered
  } else if (partition_fields.empty() && !row_id.empty()) {
    ASSIGN_OR_RETURN(auto listed,
                     conn_.Query(fmt::format("SELECT DISTINCT {} // {} FROM {} ORDER BY 1", row_id,
                                             layout.target_file_rows, from_rows)));
    for (size_t r = 0; r < listed.row_count(); ++r) {
      ASSIGN_OR_RETURN(int64_t chunk, listed.GetInt64(0, r));
      chunks.push_back(chunk);
    }
    if (chunks.empty()) return written;
  }

  // COPYs into a staging folder, each reporting what it wrote (RETURN_STATS); then the files are
  // moved to their final names.
  const std::string staging_key =
      storage::JoinKey(root_, "_medallion_staging_" + delta::GenerateUuid());
  ASSIGN_OR_RETURN(std::string staging, store_.LocalPath(staging_key));
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(staging).parent_path(), ec);
  std::vector<CopiedFile> copied;
  auto copy = [&](const std::string& sql) -> Status {
    ASSIGN_OR_RETURN(auto result, conn_.Query(sql));
    ASSIGN_OR_RETURN(auto files, CopiedFilesOf(result));
    for (auto& f : files) copied.push_back(std::move(f));
    return Status::OK();
  };
  constexpr std::string_view kOptions = "FORMAT parquet, COMPRESSION snappy, RETURN_STATS true";
  Status status;
  if (!partition_fields.empty() && row_id.empty()) {
    // One COPY PARTITION_BY the partition values: a file per value.
    partition_keys.resize(partition_keys.size() - 2);  // the last ", "
    status = copy(fmt::format("COPY (SELECT {}{} FROM {}) TO {} ({}, PARTITION_BY ({}))", columns,
                              partition_texts, from_rows, QuoteString(staging), kOptions,
                              partition_keys));
  } else if (!partition_fields.empty()) {
    // One COPY PARTITION_BY the partition values and the chunk of row ids.
    status = copy(fmt::format(
        "COPY (SELECT {}{}, {} // {} AS __chunk FROM {}) TO {} ({}, PARTITION_BY ({}__chunk))",
        columns, partition_texts, row_id, layout.target_file_rows, from_rows, QuoteString(staging),
        kOptions, partition_keys));
  } else if (row_id.empty()) {
    // One COPY, starting a new file every so many row groups.
    std::string folder = staging + "/rows";
    std::filesystem::create_directories(staging, ec);
    int64_t row_groups = std::max<int64_t>(1, layout.target_file_rows / kRowGroupRows);
    status = copy(fmt::format("COPY (SELECT {} FROM {}) TO {} ({}, ROW_GROUPS_PER_FILE {})",
                              columns, from_rows, QuoteString(folder), kOptions, row_groups));
  } else {
    // One plain COPY per chunk, a filter on the row ids (1.3-1.5x faster than splitting by the
    // chunk with PARTITION_BY).
    for (int64_t chunk : chunks) {
      std::string folder = fmt::format("{}/chunk={}", staging, chunk);
      std::filesystem::create_directories(folder, ec);
      std::string where;
      if (chunks.size() > 1) {
        where = fmt::format(" WHERE {0} >= {1} AND {0} < {2}", row_id,
                            chunk * layout.target_file_rows,
                            (chunk + 1) * layout.target_file_rows);
      }
      status = copy(fmt::format("COPY (SELECT {} FROM {}{}) TO {} ({})", columns, from_rows, where,
                                QuoteString(folder + "/data_0.parquet"), kOptions));
      if (!status.ok()) break;
    }
  }
  if (!status.ok()) {
    std::filesystem::remove_all(staging, ec);
    return status;
  }

  const std::string uuid = delta::GenerateUuid();
  int file_index = 0;
  std::vector<CopiedFile> kept;
  for (CopiedFile& file : copied) {
    if (file.num_records == 0) continue;  // an empty result still makes a file
    std::filesystem::path path(file.path);
    std::vector<std::optional<std::string>> values;
    for (size_t i = 0; i < partition_fields.size(); ++i) {
      auto it = file.partition_keys.find(fmt::format("__p{}", i));
      if (it == file.partition_keys.end() || it->second.empty()) {
        std::filesystem::remove_all(staging, ec);
        return Status::Internal("no partition value reported for " + file.path);
      }
      // Spark writes an empty string partition value as NULL.
      values.push_back(it->second.size() > 1 ? std::optional<std::string>(it->second.substr(1))
                                             : std::nullopt);
    }
    delta::AddFile add;
    std::string relative = change_data ? std::string(kChangeDataFolder) + "/" : "";
    for (size_t i = 0; i < partition_fields.size(); ++i) {
      relative += EscapePartitionValue(partition_fields[i]->name) + "=" +
                  (values[i] ? EscapePartitionValue(*values[i]) : std::string(kNullPartition)) +
                  "/";
      add.partition_values[partition_fields[i]->name] = values[i];
    }
    relative += fmt::format("{}-{:05}-{}.c000.snappy.parquet", change_data ? "cdc" : "part",
                            file_index++, uuid);
    const std::string key = storage::JoinKey(root_, relative);
    ASSIGN_OR_RETURN(std::string local, store_.LocalPath(key));
    std::filesystem::create_directories(std::filesystem::path(local).parent_path(), ec);
    std::filesystem::rename(path, local, ec);
    if (ec) {
      std::filesystem::remove_all(staging, ec);
      return Status::IOError(
          fmt::format("moving {} to {}: {}", path.string(), local, ec.message()));
    }
    ASSIGN_OR_RETURN(storage::ObjectMeta meta, store_.Head(key));
    add.path = EncodeLogPath(relative);
    add.size = meta.size;
    add.modification_time = meta.modification_time;
    add.data_change = !change_data;
    written.adds.push_back(std::move(add));
    written.num_rows += file.num_records;
    file.path = local;
    kept.push_back(std::move(file));
  }
  std::filesystem::remove_all(staging, ec);
  if (change_data) return written;

  // NULLs per top-level primitive column, as DuckDB counted them.
  for (const auto& f : data_fields) {
    if (!f.type->is_primitive()) continue;
    int64_t nulls = 0;
    bool known = true;
    for (const CopiedFile& file : kept) {
      std::optional<int64_t> count = ReportedNullCount(file, {f.name});
      known = known && count.has_value();
      if (!known) break;
      nulls += *count;
    }
    if (known) written.null_counts[f.name] = nulls;
  }
  ASSIGN_OR_RETURN(auto stats, StatsJsonOf(conn_, kept, data_fields, layout.configuration));
  for (size_t i = 0; i < written.adds.size(); ++i) {
    written.adds[i].stats = std::move(stats[i]);
    written.local_paths.push_back(kept[i].path);
  }
  return written;
}

}  // namespace

Result<std::vector<delta::AddFile>> WriteDataFiles(Connection& conn, storage::ObjectStore& store,
                                                   const std::string& table_root,
                                                   std::string_view rows_table,
                                                   const DataFileLayout& layout) {
  ASSIGN_OR_RETURN(WrittenFiles written,
                   WriteFilesOf(conn, store, table_root, {QuoteIdentifier(rows_table), "__r.rowid"},
                                layout, /*change_data=*/false));
  return std::move(written.adds);
}

Result<std::vector<delta::AddCdcFile>> WriteChangeDataFiles(Connection& conn,
                                                            storage::ObjectStore& store,
                                                            const std::string& table_root,
                                                            std::string_view rows_table,
                                                            const DataFileLayout& layout) {
  ASSIGN_OR_RETURN(WrittenFiles written,
                   WriteFilesOf(conn, store, table_root, {QuoteIdentifier(rows_table), "__r.rowid"},
                                layout, /*change_data=*/true));
  std::vector<delta::AddCdcFile> cdcs;
  for (auto& f : written.adds) {
    delta::AddCdcFile c;
    c.path = std::move(f.path);
    c.partition_values = std::move(f.partition_values);
    c.size = f.size;
    c.data_change = false;
    cdcs.push_back(std::move(c));
  }
  return cdcs;
}

Status CheckNotNull(Connection& conn, std::string_view rows_table,
                    const std::vector<delta::StructField>& fields) {
  for (size_t i = 0; i < fields.size(); ++i) {
    if (fields[i].nullable) continue;
    ASSIGN_OR_RETURN(auto r, conn.Query(fmt::format("SELECT count(*) FROM {} WHERE {} IS NULL",
                                                     QuoteIdentifier(rows_table),
                                                     QuoteIdentifier(fields[i].name))));
    ASSIGN_OR_RETURN(int64_t n, r.GetInt64(0, 0));
    if (n > 0) {
      return Status::InvalidArgument(
          fmt::format("NOT NULL constraint violated for column: {}", fields[i].name));
    }
  }
  return Status::OK();
}


Result<std::string> DataFileLocalPath(const delta::Snapshot& snapshot, storage::ObjectStore& store,
                                      const delta::AddFile& add) {
  return LocalFilePath(snapshot, store, add);
}

delta::RemoveFile RemoveFileFor(const delta::AddFile& add, int64_t deletion_timestamp) {
  delta::RemoveFile r;
  r.path = add.path;
  r.deletion_timestamp = deletion_timestamp;
  r.data_change = true;
  r.extended_file_metadata = true;
  r.partition_values = add.partition_values;
  r.size = add.size;
  r.stats = add.stats;
  r.deletion_vector = add.deletion_vector;
  return r;
}

Result<std::vector<FileMatch>> MatchFiles(Connection& conn, const delta::Snapshot& snapshot,
                                          storage::ObjectStore& store,
                                          const delta::FileSelection& candidates,
                                          std::string_view view_name, std::string_view predicate,
                                          std::string_view alias) {
  std::vector<FileMatch> out;
  if (candidates.files.empty()) return out;
  // The file column comes through the scan's pass-through of physical columns: it reads the files
  // with read_parquet(filename = '__medallion_file').
  RETURN_NOT_OK(RegisterDeltaSelectionScan(conn, snapshot.config(), snapshot.table_root(),
                                           candidates, store, view_name,
                                           {std::string(kScanFileColumn)}));
  std::string from = QuoteIdentifier(view_name);
  if (!alias.empty()) from += " AS " + QuoteIdentifier(alias);
  ASSIGN_OR_RETURN(
      auto counts,
      conn.Query(fmt::format("SELECT {0}, count(*) FILTER (WHERE coalesce(({1}), false)), "
                             "count(*) FROM {2} GROUP BY 1",
                             QuoteIdentifier(kScanFileColumn), predicate.empty() ? "true" : predicate,
                             from)));
  std::map<std::string, std::pair<int64_t, int64_t>> matched;  // local path -> (matching, total)
  for (size_t r = 0; r < counts.row_count(); ++r) {
    if (counts.IsNull(0, r)) return Status::Internal("the scan did not name its files");
    ASSIGN_OR_RETURN(std::string file, counts.GetString(0, r));
    ASSIGN_OR_RETURN(int64_t m, counts.GetInt64(1, r));
    ASSIGN_OR_RETURN(int64_t t, counts.GetInt64(2, r));
    matched[file] = {m, t};
  }
  for (const delta::AddFile* add : candidates.files) {
    ASSIGN_OR_RETURN(std::string local, LocalFilePath(snapshot, store, *add));
    auto it = matched.find(local);
    if (it == matched.end() || it->second.first == 0) continue;
    out.push_back({add, local, it->second.first, it->second.second});
  }
  return out;
}

std::string EscapePartitionValue(std::string_view value) {
  static const char* kHex = "0123456789ABCDEF";
  static constexpr std::string_view kSpecial = "\"#%'*/:=?\\\x7f{[]^";
  std::string out;
  for (unsigned char c : value) {
    if ((c >= 0x01 && c <= 0x1F) || kSpecial.find(static_cast<char>(c)) != std::string_view::npos) {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

Result<WriteResult> WriteDelta(Connection& conn, std::string_view select_sql,
                               storage::ObjectStore& store, std::string table_root,
                               delta::ParquetHandler& parquet, const WriteOptions& options) {
  const std::string ctx = fmt::format("writing table {}", store.Describe() + "/" + table_root);
  Writer writer(conn, store, std::move(table_root), parquet, options);
  auto result = writer.Run(select_sql);
  if (!result.ok()) {
    (void)writer.Cleanup();
    return result.status().WithContext(ctx);
  }
  return result;
}

}  // namespace medallion::engine
