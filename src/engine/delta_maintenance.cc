#include "common/clock.h"
#include "engine/delta_maintenance.h"

#include <fmt/format.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <set>

#include <charconv>
#include <nlohmann/json.hpp>

#include "common/macros.h"
#include "common/text.h"
#include "delta/checkpoint_writer.h"
#include "delta/commit_reader.h"
#include "delta/file_path.h"
#include "delta/log_segment.h"
#include "delta/optimize_plan.h"
#include "delta/partition_value.h"
#include "delta/protocol_requirements.h"
#include "delta/scalar.h"
#include "delta/snapshot.h"
#include "delta/transaction.h"
#include "delta/vacuum_plan.h"
#include "engine/delta_scan.h"
#include "engine/delta_types.h"
#include "engine/delta_writer.h"
#include "engine/duckdb_parquet_writer.h"
#include "engine/sql_text.h"

namespace medallion::engine {
namespace {

constexpr int64_t kMsPerHour = 3600LL * 1000;

int64_t NowMs(int64_t override_ms) {
  return override_ms != 0 ? override_ms : medallion::NowMs();
}

std::string TableName(const storage::ObjectStore& store, std::string_view root) {
  return root.empty() ? store.Describe() : store.Describe() + "/" + std::string(root);
}

std::string FormatHours(int64_t ms) {
  double hours = static_cast<double>(ms) / kMsPerHour;
  return hours == std::floor(hours) ? fmt::format("{}", static_cast<int64_t>(hours))
                                    : fmt::format("{:.3f}", hours);
}

std::string FormatMs(int64_t ms) {
  return delta::FormatTimestampMicros(ms * 1000).substr(0, 23) + "Z";
}

// The store key of a relative log path, or the absolute local path of an absolute one.
Result<std::string> FileLocation(std::string_view root, std::string_view log_path,
                                 bool* is_local) {
  ASSIGN_OR_RETURN(delta::FilePath path, delta::ParseFilePath(log_path));
  switch (path.kind) {
    case delta::FilePath::Kind::kRelative:
      *is_local = false;
      return storage::JoinKey(root, path.path);
    case delta::FilePath::Kind::kLocal:
      *is_local = true;
      return path.path;
    case delta::FilePath::Kind::kRemote:
      break;
  }
  return Status::NotSupported(
      fmt::format("file path '{}' uses a URI scheme medallion cannot read", log_path));
}

Result<bool> FileExists(storage::ObjectStore& store, std::string_view root,
                        std::string_view log_path) {
  bool local = false;
  ASSIGN_OR_RETURN(std::string location, FileLocation(root, log_path, &local));
  if (local) return std::filesystem::exists(location);
  auto head = store.Head(location);
  if (head.ok()) return true;
  if (head.status().IsNotFound()) return false;
  return head.status();
}

Result<std::shared_ptr<const delta::Snapshot>> LoadSnapshot(
    storage::ObjectStore& store, std::string_view root, delta::ParquetHandler& parquet,
    std::optional<int64_t> version = std::nullopt,
    std::optional<int64_t> timestamp_ms = std::nullopt) {
  delta::SnapshotBuilder builder(store, std::string(root));
  if (version) builder.AtVersion(*version);
  if (timestamp_ms) builder.AtTimestamp(*timestamp_ms);
  return builder.Build(parquet);
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// VACUUM

Result<VacuumResult> Vacuum(storage::ObjectStore& store, std::string_view table_root,
                            delta::ParquetHandler& parquet, const VacuumOptions& options) {
  const std::string name = TableName(store, table_root);
  const int64_t now = NowMs(options.now_ms);
  ASSIGN_OR_RETURN(auto snapshot, LoadSnapshot(store, table_root, parquet));
  // PROTOCOL.md, "VACUUM Protocol Check": check the write protocol of every table.
  RETURN_NOT_OK(delta::CheckWriteSupported(snapshot->protocol(), snapshot->metadata())
                    .WithContext(name + ": VACUUM"));
  const int64_t minimum_ms = snapshot->config().properties().deleted_file_retention_ms;
  int64_t retention_ms = minimum_ms;
  if (options.retention_hours) {
    if (!(*options.retention_hours >= 0)) {
      return Status::InvalidArgument(
          fmt::format("{}: VACUUM retention must not be negative", name));
    }
    retention_ms = static_cast<int64_t>(std::llround(*options.retention_hours * kMsPerHour));
  }
  if (options.retention_check && retention_ms < minimum_ms) {
    return Status::InvalidArgument(fmt::format(
        "{}: VACUUM with a retention of {} hours is refused: the table keeps deleted files for {} "
        "hours (delta.deletedFileRetentionDuration), and deleting them sooner can break readers "
        "of older versions (time travel) and writes still in progress. If nothing reads or writes "
        "this table with an older snapshot, turn the check off (SET "
        "spark.databricks.delta.retentionDurationCheck.enabled = false) or raise the retention "
        "to at least {} hours",
        name, FormatHours(retention_ms), FormatHours(minimum_ms), FormatHours(minimum_ms)));
  }

  delta::VacuumPlanInput input;
  input.horizon_ms = now - retention_ms;
  input.partition_columns = snapshot->metadata().partition_columns;
  input.active = snapshot->files();
  input.tombstones = snapshot->tombstones();
  const std::string prefix = table_root.empty() ? std::string() : std::string(table_root) + "/";
  ASSIGN_OR_RETURN_CTX(auto listed, store.List(prefix), name);
  for (auto& meta : listed) meta.key = meta.key.substr(prefix.size());
  input.listed = std::move(listed);
  ASSIGN_OR_RETURN_CTX(auto doomed, delta::PlanVacuum(input), name);

  VacuumResult result;
  std::vector<std::string> keys;
  for (const auto& meta : doomed) {
    std::string key = storage::JoinKey(table_root, meta.key);
    auto local = store.LocalPath(key);
    result.files.push_back(local.ok() ? *local : key);
    result.bytes += meta.size;
    keys.push_back(std::move(key));
  }
  if (options.dry_run) return result;

  auto log_commit = [&](std::string operation, delta::StringMap parameters,
                        std::map<std::string, int64_t> metrics) -> Status {
    if (!options.log_commits) return Status::OK();
    ASSIGN_OR_RETURN(auto latest, LoadSnapshot(store, table_root, parquet));
    delta::TransactionOptions txn_options;
    txn_options.now_ms = options.now_ms;
    ASSIGN_OR_RETURN(auto txn, delta::Transaction::ForTable(store, std::string(table_root),
                                                            latest, txn_options));
    txn->SetOperation(std::move(operation), std::move(parameters));
    txn->SetOperationMetrics(std::move(metrics));
    return txn->Commit(parquet).status();
  };
  RETURN_NOT_OK_CTX(
      log_commit("VACUUM START",
                 {{"retentionCheckEnabled", options.retention_check ? "true" : "false"},
                  {"specifiedRetentionMillis", std::to_string(retention_ms)},
                  {"defaultRetentionMillis", std::to_string(minimum_ms)}},
                 {{"numFilesToDelete", static_cast<int64_t>(keys.size())},
                  {"sizeOfDataToDelete", result.bytes}}),
      name + ": VACUUM START commit");
  int64_t deleted = 0;
  for (const auto& key : keys) {
    Status s = store.Delete(key);
    if (!s.ok() && !s.IsNotFound()) return s.WithContext(name + ": VACUUM deleting " + key);
    if (s.ok()) ++deleted;
  }
  RETURN_NOT_OK_CTX(log_commit("VACUUM END", {{"status", "COMPLETED"}},
                               {{"numDeletedFiles", deleted}, {"numVacuumedDirectories", 0}}),
                    name + ": VACUUM END commit");
  return result;
}

// ---------------------------------------------------------------------------------------------
// RESTORE

Result<RestoreResult> Restore(storage::ObjectStore& store, std::string_view table_root,
                              delta::ParquetHandler& parquet, const RestoreOptions& options) {
  const std::string name = TableName(store, table_root);
  if (options.version.has_value() == options.timestamp_ms.has_value()) {
    return Status::InvalidArgument(name + ": RESTORE takes a version or a timestamp");
  }
  const int64_t now = NowMs(options.now_ms);
  ASSIGN_OR_RETURN(auto latest, LoadSnapshot(store, table_root, parquet));
  ASSIGN_OR_RETURN(auto target, LoadSnapshot(store, table_root, parquet, options.version,
                                             options.timestamp_ms));
  ASSIGN_OR_RETURN_CTX(delta::RestorePlan plan,
                       delta::PlanRestore(latest->files(), target->files(), now), name);
  for (const delta::AddFile& add : plan.adds) {
    std::vector<std::string> needed = {add.path};
    if (add.deletion_vector && add.deletion_vector->storage_type == "u") {
      ASSIGN_OR_RETURN(std::string dv, delta::DeletionVectorRelativePath(*add.deletion_vector));
      needed.push_back(delta::PercentEncodePath(dv));
    }
    for (const auto& path : needed) {
      ASSIGN_OR_RETURN(bool exists, FileExists(store, table_root, path));
      if (!exists) {
        return Status::NotFound(fmt::format(
            "{}: cannot restore version {}: its file {} no longer exists (VACUUM probably "
            "deleted it after the retention period); restore a newer version",
            name, target->version(), path));
      }
    }
  }
  delta::TransactionOptions txn_options;
  txn_options.now_ms = options.now_ms;
  ASSIGN_OR_RETURN(auto txn, delta::Transaction::ForTable(store, std::string(table_root), latest,
                                                          txn_options));
  txn->RecordReadWholeTable();
  if (target->metadata() != latest->metadata()) txn->UpdateMetadata(target->metadata());
  delta::Protocol protocol = delta::MergeProtocols(latest->protocol(), target->protocol());
  if (protocol != latest->protocol()) txn->UpdateProtocol(protocol);
  txn->SetOperation("RESTORE", options.version
                                   ? delta::StringMap{{"version", std::to_string(*options.version)}}
                                   : delta::StringMap{{"timestamp", FormatMs(*options.timestamp_ms)}});
  txn->SetOperationMetrics(plan.OperationMetrics());
  txn->RemoveFiles(plan.removes);
  txn->AddFiles(plan.adds);
  ASSIGN_OR_RETURN(delta::CommitResult committed, txn->Commit(parquet));
  RestoreResult result;
  result.plan = std::move(plan);
  result.restored_version = target->version();
  result.commit_version = committed.version;
  return result;
}

// ---------------------------------------------------------------------------------------------
// CLONE

Result<CloneResult> Clone(storage::ObjectStore& source_store, std::string_view source_root,
                          storage::ObjectStore& target_store, std::string_view target_root,
                          delta::ParquetHandler& parquet, const CloneOptions& options) {
  const std::string source_name = TableName(source_store, source_root);
  const std::string target_name = TableName(target_store, target_root);
  const int64_t now = NowMs(options.now_ms);
  ASSIGN_OR_RETURN(auto source, LoadSnapshot(source_store, source_root, parquet, options.version,
                                             options.timestamp_ms));
  ASSIGN_OR_RETURN(auto target_log, delta::ListLog(target_store, target_root));
  std::shared_ptr<const delta::Snapshot> existing;
  if (target_log.latest_version()) {
    if (!options.replace) {
      return Status::AlreadyExists(fmt::format(
          "{}: the clone target is already a Delta table (use CREATE OR REPLACE TABLE)",
          target_name));
    }
    ASSIGN_OR_RETURN(existing, LoadSnapshot(target_store, target_root, parquet));
  }

  CloneResult result;
  result.source_version = source->version();
  std::vector<delta::AddFile> adds;
  for (const delta::AddFile& f : source->files()) {
    result.source_table_size += f.size;
    ++result.source_num_of_files;
    delta::AddFile add = f;
    add.data_change = true;
    bool local = false;
    ASSIGN_OR_RETURN(std::string location, FileLocation(source_root, f.path, &local));
    if (!options.deep) {
      if (f.deletion_vector && f.deletion_vector->storage_type == "u") {
        return Status::NotSupported(fmt::format(
            "{}: SHALLOW CLONE of a table with deletion vectors stored in the table folder is "
            "not supported yet (use DEEP CLONE)",
            source_name));
      }
      if (!local) {
        auto path = source_store.LocalPath(location);
        if (!path.ok()) {
          return Status::NotSupported(fmt::format(
              "{}: SHALLOW CLONE needs a source on the local file system: {}", source_name,
              path.status().message()));
        }
        location = *path;
      }
      add.path = "file://" + delta::PercentEncodePath(location);
    } else {
      // Copy the data file (and a 'u' deletion vector file) to the same relative path; a file the
      // source refers to by absolute path lands in the target folder under its name.
      std::string data;
      if (local) {
        auto bytes = [&]() -> Result<std::string> {
          std::FILE* in = std::fopen(location.c_str(), "rb");
          if (in == nullptr) return Status::NotFound("cannot open " + location);
          std::string out;
          char buf[1 << 16];
          size_t n;
          while ((n = std::fread(buf, 1, sizeof(buf), in)) > 0) out.append(buf, n);
          std::fclose(in);
          return out;
        }();
        ASSIGN_OR_RETURN_CTX(data, std::move(bytes), source_name);
        std::string base = std::filesystem::path(location).filename().string();
        add.path = delta::PercentEncodePath(base);
        RETURN_NOT_OK_CTX(target_store.Write(storage::JoinKey(target_root, base), data),
                          target_name);
      } else {
        ASSIGN_OR_RETURN_CTX(data, source_store.Read(location), source_name + ": reading " + f.path);
        ASSIGN_OR_RETURN(delta::FilePath parsed, delta::ParseFilePath(f.path));
        RETURN_NOT_OK_CTX(target_store.Write(storage::JoinKey(target_root, parsed.path), data),
                          target_name);
      }
      if (f.deletion_vector && f.deletion_vector->storage_type == "u") {
        ASSIGN_OR_RETURN(std::string dv, delta::DeletionVectorRelativePath(*f.deletion_vector));
        ASSIGN_OR_RETURN_CTX(std::string dv_data,
                             source_store.Read(storage::JoinKey(source_root, dv)), source_name);
        RETURN_NOT_OK_CTX(target_store.Write(storage::JoinKey(target_root, dv), dv_data),
                          target_name);
      }
      ++result.num_copied_files;
      result.copied_files_size += f.size;
    }
    adds.push_back(std::move(add));
  }

  delta::Metadata metadata = source->metadata();
  metadata.id = existing ? existing->metadata().id : delta::GenerateUuid();
  metadata.created_time = now;
  delta::TransactionOptions txn_options;
  txn_options.now_ms = options.now_ms;
  ASSIGN_OR_RETURN(auto txn, delta::Transaction::ForTable(target_store, std::string(target_root),
                                                          existing, txn_options));
  if (existing) {
    txn->RecordReadWholeTable();
    std::vector<delta::RemoveFile> removes;
    for (const delta::AddFile& f : existing->files()) {
      delta::RemoveFile r;
      r.path = f.path;
      r.deletion_timestamp = now;
      r.data_change = true;
      r.extended_file_metadata = true;
      r.partition_values = f.partition_values;
      r.size = f.size;
      r.deletion_vector = f.deletion_vector;
      result.removed_files_size += f.size;
      removes.push_back(std::move(r));
    }
    result.num_removed_files = static_cast<int64_t>(removes.size());
    txn->RemoveFiles(std::move(removes));
  }
  txn->UpdateMetadata(std::move(metadata));
  txn->UpdateProtocol(existing ? delta::MergeProtocols(existing->protocol(), source->protocol())
                               : source->protocol());
  txn->SetOperation("CLONE", {{"source", options.source_name.empty() ? source_name
                                                                     : options.source_name},
                              {"sourceVersion", std::to_string(source->version())},
                              {"isShallow", options.deep ? "false" : "true"}});
  txn->SetOperationMetrics({{"sourceTableSize", result.source_table_size},
                            {"sourceNumOfFiles", result.source_num_of_files},
                            {"numRemovedFiles", result.num_removed_files},
                            {"numCopiedFiles", result.num_copied_files},
                            {"removedFilesSize", result.removed_files_size},
                            {"copiedFilesSize", result.copied_files_size}});
  txn->AddFiles(std::move(adds));
  ASSIGN_OR_RETURN(delta::CommitResult committed, txn->Commit(parquet));
  result.commit_version = committed.version;
  return result;
}

// ---------------------------------------------------------------------------------------------
// OPTIMIZE

namespace {

// TEMP objects Optimize creates on the caller's connection.
constexpr std::string_view kOptimizeParts = "__medallion_op";  // distinct partition values
constexpr std::string_view kOptimizeScan = "__medallion_os";   // a round's files, scanned
constexpr std::string_view kOptimizeRows = "__medallion_or";   // a round's rows

// A typed SQL literal of a partition value (PROTOCOL.md, "Partition Value Serialization").
Result<std::string> PartitionLiteral(const std::optional<std::string>& raw,
                                     const delta::DataType& type, const std::string& column) {
  ASSIGN_OR_RETURN(delta::Scalar v, delta::ParsePartitionValue(raw, type, column));
  const std::string duck = DuckDbTypeOf(type);
  using K = delta::Scalar::Kind;
  std::string text;
  switch (v.kind()) {
    case K::kNull:
      return "NULL::" + duck;
    case K::kBoolean:
      text = v.bool_value() ? "true" : "false";
      break;
    case K::kInt64:
      text = std::to_string(v.int64_value());
      break;
    case K::kDouble: {
      double d = v.double_value();
      if (std::isnan(d)) {
        text = "NaN";
      } else if (std::isinf(d)) {
        text = d > 0 ? "Infinity" : "-Infinity";
      } else {
        char buf[64];
        auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), d);
        text = std::string(buf, end);
      }
      break;
    }
    case K::kString:
      return QuoteString(v.string_value());
    case K::kBinary: {
      static const char* kHex = "0123456789ABCDEF";
      for (unsigned char c : v.string_value()) {
        text += kHex[c >> 4];
        text += kHex[c & 15];
      }
      return "unhex(" + QuoteString(text) + ")";
    }
    case K::kDecimal:
      text = v.string_value();
      break;
    case K::kDate:
      text = delta::FormatDate(v.int64_value());
      break;
    case K::kTimestamp:
      text = delta::FormatTimestampMicros(v.int64_value()) + "+00";
      break;
    case K::kTimestampNtz:
      text = delta::FormatTimestampMicros(v.int64_value());
      break;
  }
  return fmt::format("CAST({} AS {})", QuoteString(text), duck);
}

// The column names of every COLUMN_REF in a json_serialize_sql tree.
void CollectColumnRefs(const nlohmann::json& node, std::vector<std::vector<std::string>>* out) {
  if (node.is_object()) {
    auto cls = node.find("class");
    auto names = node.find("column_names");
    if (cls != node.end() && cls->is_string() && *cls == "COLUMN_REF" && names != node.end() &&
        names->is_array()) {
      std::vector<std::string> parts;
      for (const auto& n : *names) {
        if (n.is_string()) parts.push_back(n.get<std::string>());
      }
      out->push_back(std::move(parts));
    }
    for (const auto& [key, child] : node.items()) CollectColumnRefs(child, out);
  } else if (node.is_array()) {
    for (const auto& child : node) CollectColumnRefs(child, out);
  }
}

// Delta Lake's rule for OPTIMIZE ... WHERE: only partition columns may be referenced.
Status CheckPartitionPredicate(Connection& conn, const delta::Snapshot& snapshot,
                               const std::string& predicate) {
  ASSIGN_OR_RETURN(auto parsed,
                   conn.Query(fmt::format("SELECT json_serialize_sql({})",
                                          QuoteString("SELECT 1 WHERE " + predicate))));
  ASSIGN_OR_RETURN(std::string text, parsed.GetString(0, 0));
  nlohmann::json doc = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return Status::Internal("json_serialize_sql returned malformed JSON");
  if (doc.value("error", false)) {
    return Status::InvalidArgument(
        fmt::format("OPTIMIZE predicate '{}': {}", predicate,
                    doc.value("error_message", std::string("syntax error"))));
  }
  if (!doc["statements"].is_array() || doc["statements"].size() != 1) {
    return Status::InvalidArgument(
        fmt::format("OPTIMIZE predicate '{}' is not one boolean expression", predicate));
  }
  const auto& partition_columns = snapshot.metadata().partition_columns;
  auto is_partition = [&](const std::string& name) {
    for (const auto& p : partition_columns) {
      if (EqualsIgnoreCase(p, name)) return true;
    }
    return false;
  };
  std::vector<std::vector<std::string>> refs;
  CollectColumnRefs(doc["statements"], &refs);
  for (const auto& names : refs) {
    if (names.empty()) continue;
    // `part` or `t.part` (a qualified name) are partition columns.
    if (is_partition(names.front()) || (names.size() == 2 && is_partition(names.back()))) continue;
    const delta::StructField* column = snapshot.schema().FindFieldIgnoreCase(names.front());
    if (column == nullptr && names.size() == 2) {
      column = snapshot.schema().FindFieldIgnoreCase(names.back());
    }
    if (column == nullptr) continue;  // not a column of the table: DuckDB's binder names it
    std::string list;
    for (const auto& p : partition_columns) list += (list.empty() ? "" : ", ") + p;
    return Status::InvalidArgument(fmt::format(
        "Predicate references non-partition column '{}'. Only the partition columns may be "
        "referenced: [{}]",
        column->name, list));
  }
  return Status::OK();
}

// The partitions (as in the files' partitionValues) whose values satisfy `predicate`.
Result<std::set<delta::PartitionValues>> SelectPartitions(Connection& conn,
                                                          const delta::Snapshot& snapshot,
                                                          const std::string& predicate) {
  RETURN_NOT_OK(CheckPartitionPredicate(conn, snapshot, predicate));
  const auto& partition_columns = snapshot.metadata().partition_columns;
  std::vector<const delta::StructField*> fields;
  std::string columns = "__pid BIGINT";
  for (const auto& c : partition_columns) {
    const delta::StructField* f = snapshot.schema().FindField(c);
    if (f == nullptr) {
      return Status::Corruption("partition column '" + c + "' is not in the schema");
    }
    fields.push_back(f);
    columns += ", " + QuoteIdentifier(c) + " " + DuckDbTypeOf(*f->type);
  }
  std::vector<delta::PartitionValues> distinct;
  {
    std::set<delta::PartitionValues> seen;
    for (const delta::AddFile& f : snapshot.files()) {
      if (seen.insert(f.partition_values).second) distinct.push_back(f.partition_values);
    }
  }
  const std::string table = QuoteIdentifier(kOptimizeParts);
  RETURN_NOT_OK(conn.Execute(fmt::format("CREATE OR REPLACE TEMP TABLE {} ({})", table, columns)));
  constexpr size_t kRowsPerInsert = 1000;
  for (size_t begin = 0; begin < distinct.size(); begin += kRowsPerInsert) {
    std::string values;
    for (size_t i = begin; i < std::min(distinct.size(), begin + kRowsPerInsert); ++i) {
      std::string row = std::to_string(i);
      for (size_t c = 0; c < fields.size(); ++c) {
        auto it = distinct[i].find(partition_columns[c]);
        std::optional<std::string> raw = it == distinct[i].end() ? std::nullopt : it->second;
        ASSIGN_OR_RETURN(std::string literal,
                         PartitionLiteral(raw, *fields[c]->type, partition_columns[c]));
        row += ", " + literal;
      }
      values += (values.empty() ? "(" : ", (") + row + ")";
    }
    RETURN_NOT_OK(conn.Execute(fmt::format("INSERT INTO {} VALUES {}", table, values)));
  }
  ASSIGN_OR_RETURN(auto selected,
                   conn.Query(fmt::format("SELECT __pid FROM {} WHERE coalesce(({}), false)", table,
                                          predicate)));
  std::set<delta::PartitionValues> out;
  for (size_t r = 0; r < selected.row_count(); ++r) {
    ASSIGN_OR_RETURN(int64_t pid, selected.GetInt64(0, r));
    out.insert(distinct[static_cast<size_t>(pid)]);
  }
  return out;
}

FileSizeMetrics SizeMetricsOf(const std::vector<int64_t>& sizes) {
  FileSizeMetrics m;
  for (int64_t size : sizes) {
    m.min = m.min ? std::min(*m.min, size) : size;
    m.max = m.max ? std::max(*m.max, size) : size;
    m.total_size += size;
  }
  m.total_files = static_cast<int64_t>(sizes.size());
  if (m.total_files > 0) m.avg = static_cast<double>(m.total_size) / m.total_files;
  return m;
}

Result<OptimizeResult> RunOptimize(Connection& conn, storage::ObjectStore& store,
                                   const std::string& root, delta::ParquetHandler& parquet,
                                   const OptimizeOptions& options) {
  OptimizeResult result;
  result.start_time_ms = NowMs(options.now_ms);
  std::shared_ptr<const delta::Snapshot> snapshot = options.snapshot;
  if (!snapshot) {
    ASSIGN_OR_RETURN(snapshot, LoadSnapshot(store, root, parquet));
  }
  result.version = snapshot->version();
  // Refuse what medallion cannot commit (e.g. column mapping) before writing any file.
  RETURN_NOT_OK(delta::CheckWriteSupported(snapshot->protocol(), snapshot->metadata()));

  delta::OptimizePlanInput input;
  input.files = snapshot->files();
  ASSIGN_OR_RETURN(
      input.max_file_size,
      delta::OptimizeTargetFileSize(snapshot->metadata().configuration, options.max_file_size));
  if (!options.predicate.empty()) {
    ASSIGN_OR_RETURN(input.partitions, SelectPartitions(conn, *snapshot, options.predicate));
  }
  ASSIGN_OR_RETURN(delta::OptimizePlan plan, delta::PlanOptimize(input));
  result.partitions_optimized = plan.partitions_optimized;
  result.num_bins = static_cast<int64_t>(plan.bins.size());
  result.total_considered_files = plan.total_considered_files;
  result.total_files_skipped = plan.total_files_skipped;
  if (plan.bins.empty()) {
    result.end_time_ms = NowMs(options.now_ms);
    return result;
  }

  // Rounds: the i-th bin of every partition is written in round i, so one WriteDataFiles call
  // writes one file per partition, each exactly one bin's rows.
  std::map<delta::PartitionValues, std::vector<const delta::OptimizeBin*>> by_partition;
  size_t rounds = 0;
  for (const delta::OptimizeBin& bin : plan.bins) {
    auto& bins = by_partition[bin.partition_values];
    bins.push_back(&bin);
    rounds = std::max(rounds, bins.size());
  }
  DataFileLayout layout;
  layout.fields = snapshot->schema().fields();
  layout.partition_columns = snapshot->metadata().partition_columns;
  layout.configuration = {snapshot->metadata().configuration.begin(),
                          snapshot->metadata().configuration.end()};
  std::string columns;
  for (const auto& f : layout.fields) {
    columns += (columns.empty() ? "" : ", ") + QuoteIdentifier(f.name);
  }
  std::vector<delta::AddFile> adds;
  for (size_t round = 0; round < rounds; ++round) {
    std::vector<delta::AddFile> files;
    for (const auto& [partition, bins] : by_partition) {
      if (round < bins.size()) {
        files.insert(files.end(), bins[round]->files.begin(), bins[round]->files.end());
      }
    }
    RETURN_NOT_OK(
        RegisterDeltaFileScan(conn, snapshot->config(), root, files, store, kOptimizeScan));
    RETURN_NOT_OK(conn.Execute(fmt::format("CREATE OR REPLACE TEMP TABLE {} AS SELECT {} FROM {}",
                                           QuoteIdentifier(kOptimizeRows), columns,
                                           QuoteIdentifier(kOptimizeScan))));
    ASSIGN_OR_RETURN(auto count,
                     conn.Query("SELECT count(*) FROM " + QuoteIdentifier(kOptimizeRows)));
    ASSIGN_OR_RETURN(int64_t rows, count.GetInt64(0, 0));
    layout.target_file_rows = std::max<int64_t>(rows, 1);
    ASSIGN_OR_RETURN(auto written, WriteDataFiles(conn, store, root, kOptimizeRows, layout));
    for (auto& add : written) {
      add.data_change = false;
      adds.push_back(std::move(add));
    }
  }

  const int64_t now = NowMs(options.now_ms);
  std::vector<delta::RemoveFile> removes;
  std::vector<std::string> read;
  std::vector<int64_t> removed_sizes, added_sizes;
  for (const delta::OptimizeBin& bin : plan.bins) {
    for (const delta::AddFile& f : bin.files) {
      delta::RemoveFile r = RemoveFileFor(f, now);
      r.data_change = false;
      removes.push_back(std::move(r));
      read.push_back(f.path);
      removed_sizes.push_back(f.size);
    }
  }
  for (const auto& a : adds) added_sizes.push_back(a.size);
  result.files_added = SizeMetricsOf(added_sizes);
  result.files_removed = SizeMetricsOf(removed_sizes);
  result.num_files_added = result.files_added.total_files;
  result.num_files_removed = result.files_removed.total_files;
  result.num_deletion_vectors_removed = plan.num_deletion_vectors_removed;
  result.num_deletion_vector_rows_removed = plan.num_deletion_vector_rows_removed;
  const delta::FileSizeHistogram histogram = delta::HistogramOf(added_sizes);

  nlohmann::json predicate = nlohmann::json::array();
  if (!options.predicate.empty()) predicate.push_back(options.predicate);
  std::unique_ptr<DuckDbParquetWriter> own_writer;
  delta::TransactionOptions txn_options;
  txn_options.now_ms = options.now_ms;
  txn_options.checkpoint_writer = options.checkpoint_writer;
  if (txn_options.checkpoint_writer == nullptr) {
    ASSIGN_OR_RETURN(own_writer, DuckDbParquetWriter::Make());
    txn_options.checkpoint_writer = own_writer.get();
  }
  ASSIGN_OR_RETURN(auto txn, delta::Transaction::ForTable(store, root, snapshot, txn_options));
  txn->SetOperation("OPTIMIZE", {{"predicate", predicate.dump()},
                                 {"zOrderBy", "[]"},
                                 {"clusterBy", "[]"},
                                 {"auto", "false"}});
  txn->SetOperationMetrics({{"numRemovedFiles", result.num_files_removed},
                            {"numAddedFiles", result.num_files_added},
                            {"numRemovedBytes", result.files_removed.total_size},
                            {"numAddedBytes", result.files_added.total_size},
                            {"numDeletionVectorsRemoved", result.num_deletion_vectors_removed},
                            {"minFileSize", histogram.min},
                            {"p25FileSize", histogram.p25},
                            {"p50FileSize", histogram.p50},
                            {"p75FileSize", histogram.p75},
                            {"maxFileSize", histogram.max}});
  txn->RecordReadFiles(read);
  txn->RemoveFiles(std::move(removes));
  txn->AddFiles(std::move(adds));
  ASSIGN_OR_RETURN(delta::CommitResult committed, txn->Commit(parquet));
  result.committed = true;
  result.version = committed.version;
  result.num_batches = 1;
  result.end_time_ms = NowMs(options.now_ms);
  return result;
}

}  // namespace

Result<OptimizeResult> Optimize(Connection& conn, storage::ObjectStore& store,
                                std::string_view table_root, delta::ParquetHandler& parquet,
                                const OptimizeOptions& options) {
  const std::string name = TableName(store, table_root);
  auto result = RunOptimize(conn, store, std::string(table_root), parquet, options);
  std::string cleanup;
  for (std::string_view t : {kOptimizeParts, kOptimizeRows}) {
    cleanup += "DROP TABLE IF EXISTS " + QuoteIdentifier(t) + "; ";
  }
  cleanup += "DROP VIEW IF EXISTS " + QuoteIdentifier(kOptimizeScan) + "; ";
  for (std::string_view suffix : {"__partitions", "__deleted"}) {
    cleanup += "DROP TABLE IF EXISTS " +
               QuoteIdentifier(std::string(kOptimizeScan) + std::string(suffix)) + "; ";
  }
  (void)conn.Execute(cleanup);
  if (!result.ok()) return result.status().WithContext(name + ": OPTIMIZE");
  return result;
}

// ---------------------------------------------------------------------------------------------
// table_changes

Result<ChangeFeedVersions> RegisterTableChanges(Connection& conn, storage::ObjectStore& store,
                                                std::string_view table_root,
                                                delta::ParquetHandler& parquet,
                                                const ChangeFeedRange& range,
                                                std::string_view view_name) {
  const std::string name = TableName(store, table_root);
  if (range.start_version.has_value() == range.start_timestamp_ms.has_value()) {
    return Status::InvalidArgument(name + ": table_changes needs a start version or timestamp");
  }
  ASSIGN_OR_RETURN(auto latest, LoadSnapshot(store, table_root, parquet));
  ASSIGN_OR_RETURN(auto listing, delta::ListLog(store, table_root));
  const auto ict = latest->config().in_commit_timestamp_enablement_version();
  const int64_t latest_version = latest->version();

  int64_t start = 0;
  if (range.start_version) {
    start = *range.start_version;
    if (start < 0) {
      return Status::InvalidArgument(fmt::format("{}: start version {} is negative", name, start));
    }
  } else {
    std::optional<int64_t> found;
    for (const auto& commit : listing.commits) {
      ASSIGN_OR_RETURN(int64_t ts, delta::ReadCommitTimestamp(store, commit, ict));
      if (ts >= *range.start_timestamp_ms) {
        found = commit.name.version;
        break;
      }
    }
    if (!found) {
      return Status::InvalidArgument(fmt::format(
          "{}: start timestamp {} is after the latest commit (version {})", name,
          FormatMs(*range.start_timestamp_ms), latest_version));
    }
    start = *found;
  }
  if (start > latest_version) {
    return Status::InvalidArgument(fmt::format(
        "{}: start version {} is after the latest version {}", name, start, latest_version));
  }
  int64_t end = latest_version;
  if (range.end_version) {
    end = std::min(*range.end_version, latest_version);
  } else if (range.end_timestamp_ms) {
    ASSIGN_OR_RETURN(end, delta::FindVersionAtTimestamp(store, table_root, listing,
                                                        *range.end_timestamp_ms, ict));
  }
  if (end < start) {
    return Status::InvalidArgument(fmt::format(
        "{}: the end of the range (version {}) is before its start (version {})", name, end,
        start));
  }

  ASSIGN_OR_RETURN(auto end_snapshot, LoadSnapshot(store, table_root, parquet, end));
  const delta::TableConfiguration& config = end_snapshot->config();
  // Whether change data feed was on at each version: the metadata at `start`, then each commit's.
  ASSIGN_OR_RETURN(auto start_snapshot, LoadSnapshot(store, table_root, parquet, start));
  bool cdf_enabled = start_snapshot->config().change_data_feed_enabled();

  const std::string base(view_name);
  std::vector<std::string> selects;
  for (int64_t v = start; v <= end; ++v) {
    const delta::LogFile* commit = listing.FindCommit(v);
    if (commit == nullptr) {
      return Status::NotFound(fmt::format(
          "{}: commit {} is no longer in the log, so its changes cannot be read", name, v));
    }
    ASSIGN_OR_RETURN(int64_t ts, delta::ReadCommitTimestamp(store, *commit, ict));
    ASSIGN_OR_RETURN(auto actions, delta::ReadCommitActions(store, table_root, v));
    std::vector<delta::AddFile> adds, removes, cdcs;
    for (const auto& action : actions) {
      if (const auto* m = std::get_if<delta::Metadata>(&action)) {
        ASSIGN_OR_RETURN(auto props, delta::ParseTableProperties(m->configuration));
        cdf_enabled = props.enable_change_data_feed;
      } else if (const auto* a = std::get_if<delta::AddFile>(&action)) {
        if (a->data_change) adds.push_back(*a);
      } else if (const auto* r = std::get_if<delta::RemoveFile>(&action)) {
        if (!r->data_change) continue;
        delta::AddFile f;
        f.path = r->path;
        f.partition_values = r->partition_values.value_or(delta::PartitionValues{});
        f.size = r->size.value_or(0);
        f.deletion_vector = r->deletion_vector;
        removes.push_back(std::move(f));
      } else if (const auto* c = std::get_if<delta::AddCdcFile>(&action)) {
        delta::AddFile f;
        f.path = c->path;
        f.partition_values = c->partition_values;
        f.size = c->size;
        cdcs.push_back(std::move(f));
      }
    }
    const std::string extra = fmt::format(
        "{}::BIGINT AS _commit_version, TIMESTAMPTZ '1970-01-01 00:00:00+00' + to_milliseconds({}) "
        "AS _commit_timestamp",
        v, ts);
    if (!cdcs.empty()) {
      std::string view = fmt::format("{}__v{}_cdc", base, v);
      RETURN_NOT_OK(RegisterDeltaFileScan(conn, config, table_root, cdcs, store, view,
                                          {"_change_type"}));
      selects.push_back(fmt::format("SELECT *, {} FROM {}", extra, QuoteIdentifier(view)));
      continue;
    }
    if (!removes.empty() && !cdf_enabled) {
      bool ambiguous = !adds.empty();
      for (const auto& r : removes) ambiguous = ambiguous || r.deletion_vector.has_value();
      if (ambiguous) {
        return Status::InvalidArgument(fmt::format(
            "{}: change data was not recorded for version {}: it rewrote files while "
            "delta.enableChangeDataFeed was off, so which rows changed is unknown. Read a range "
            "that starts after it, or enable the change data feed "
            "(delta.enableChangeDataFeed = true) for future changes",
            name, v));
      }
    }
    if (!adds.empty()) {
      std::string view = fmt::format("{}__v{}_insert", base, v);
      RETURN_NOT_OK(RegisterDeltaFileScan(conn, config, table_root, adds, store, view));
      selects.push_back(fmt::format("SELECT *, 'insert' AS _change_type, {} FROM {}", extra,
                                    QuoteIdentifier(view)));
    }
    if (!removes.empty()) {
      std::string view = fmt::format("{}__v{}_delete", base, v);
      RETURN_NOT_OK(RegisterDeltaFileScan(conn, config, table_root, removes, store, view));
      selects.push_back(fmt::format("SELECT *, 'delete' AS _change_type, {} FROM {}", extra,
                                    QuoteIdentifier(view)));
    }
  }
  if (selects.empty()) {
    std::string view = base + "__empty";
    RETURN_NOT_OK(RegisterDeltaFileScan(conn, config, table_root, {}, store, view,
                                        {"_change_type"}));
    selects.push_back(fmt::format(
        "SELECT *, NULL::BIGINT AS _commit_version, NULL::TIMESTAMPTZ AS _commit_timestamp FROM {}",
        QuoteIdentifier(view)));
  }
  std::string sql;
  for (const auto& s : selects) sql += (sql.empty() ? "" : " UNION ALL ") + s;
  RETURN_NOT_OK(conn.Execute(fmt::format("CREATE OR REPLACE TEMP VIEW {} AS {}",
                                         QuoteIdentifier(view_name), sql))
                    .WithContext(name + ": table_changes"));
  return ChangeFeedVersions{start, end};
}

}  // namespace medallion::engine
