#include "delta/checkpoint_writer.h"

#include <algorithm>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <unordered_set>

#include "common/macros.h"
#include "delta/file_path.h"
#include "delta/log_replay.h"
#include "delta/log_segment.h"
#include "delta/table_configuration.h"

namespace medallion::delta {
namespace {

DataTypePtr Str() { return DataType::Primitive(TypeKind::kString); }
DataTypePtr Long() { return DataType::Primitive(TypeKind::kLong); }
DataTypePtr Int() { return DataType::Primitive(TypeKind::kInteger); }
DataTypePtr Bool() { return DataType::Primitive(TypeKind::kBoolean); }
DataTypePtr StrMap() { return DataType::Map(Str(), Str(), true); }
DataTypePtr StrList() { return DataType::Array(Str(), true); }
StructField F(std::string name, DataTypePtr type) {
  StructField f;
  f.name = std::move(name);
  f.type = std::move(type);
  return f;
}

DataTypePtr DeletionVectorType() {
  return DataType::Struct({F("storageType", Str()), F("pathOrInlineDv", Str()), F("offset", Int()),
                           F("sizeInBytes", Int()), F("cardinality", Long()),
                           F("maxRowIndex", Long())});
}

}  // namespace

namespace {

std::string Row(const Action& action) { return SerializeAction(action); }

// The version a log file name starts with ("00000000000000000007.json" -> 7; for a compaction file
// "x.y.compacted.json", y), or -1 for other names.
int64_t LeadingVersion(std::string_view name) {
  auto digits = [](std::string_view s) {
    if (s.size() < static_cast<size_t>(kVersionDigits)) return false;
    for (int i = 0; i < kVersionDigits; ++i) {
      if (s[i] < '0' || s[i] > '9') return false;
    }
    return s.size() > static_cast<size_t>(kVersionDigits) && s[kVersionDigits] == '.';
  };
  if (!digits(name)) return -1;
  std::string_view rest = name.substr(kVersionDigits + 1);
  if (digits(rest) && rest.substr(kVersionDigits) == ".compacted.json") {
    return std::stoll(std::string(rest.substr(0, kVersionDigits)));
  }
  return std::stoll(std::string(name.substr(0, kVersionDigits)));
}

}  // namespace

const Schema& CheckpointSchema() {
  static const Schema kSchema([] {
    std::vector<StructField> fields;
    fields.push_back(F("txn", DataType::Struct({F("appId", Str()), F("version", Long()),
                                                F("lastUpdated", Long())})));
    fields.push_back(F(
        "add",
        DataType::Struct({F("path", Str()), F("partitionValues", StrMap()), F("size", Long()),
                          F("modificationTime", Long()), F("dataChange", Bool()), F("stats", Str()),
                          F("tags", StrMap()), F("deletionVector", DeletionVectorType()),
                          F("baseRowId", Long()), F("defaultRowCommitVersion", Long()),
                          F("clusteringProvider", Str())})));
    fields.push_back(
        F("remove",
          DataType::Struct({F("path", Str()), F("deletionTimestamp", Long()),
                            F("dataChange", Bool()), F("extendedFileMetadata", Bool()),
                            F("partitionValues", StrMap()), F("size", Long()), F("tags", StrMap()),
                            F("deletionVector", DeletionVectorType()), F("baseRowId", Long()),
                            F("defaultRowCommitVersion", Long())})));
    fields.push_back(
        F("metaData", DataType::Struct({F("id", Str()), F("name", Str()), F("description", Str()),
                                        F("format", DataType::Struct({F("provider", Str()),
                                                                      F("options", StrMap())})),
                                        F("schemaString", Str()), F("partitionColumns", StrList()),
                                        F("configuration", StrMap()), F("createdTime", Long())})));
    fields.push_back(
        F("protocol",
          DataType::Struct({F("minReaderVersion", Int()), F("minWriterVersion", Int()),
                            F("readerFeatures", StrList()), F("writerFeatures", StrList())})));
    fields.push_back(
        F("domainMetadata",
          DataType::Struct({F("domain", Str()), F("configuration", Str()), F("removed", Bool())})));
    return Schema(std::move(fields));
  }());
  return kSchema;
}

std::vector<std::string> CheckpointRows(const Snapshot& snapshot, int64_t now_ms) {
  std::vector<std::string> rows;
  rows.push_back(Row(snapshot.protocol()));
  rows.push_back(Row(snapshot.metadata()));
  for (const auto& [app_id, txn] : snapshot.txns()) rows.push_back(Row(txn));
  for (const auto& [domain, dm] : snapshot.domain_metadata()) rows.push_back(Row(dm));
  for (const auto& add : snapshot.files()) {
    AddFile copy = add;
    copy.data_change = false;
    rows.push_back(Row(copy));
  }
  std::vector<RemoveFile> tombstones = snapshot.tombstones();
  const int64_t cutoff = now_ms - snapshot.config().properties().deleted_file_retention_ms;
  std::sort(tombstones.begin(), tombstones.end(),
            [](const RemoveFile& a, const RemoveFile& b) { return a.path < b.path; });
  for (auto& r : tombstones) {
    if (r.deletion_timestamp.value_or(0) <= cutoff) continue;
    r.data_change = false;
    r.stats.reset();
    rows.push_back(Row(r));
  }
  return rows;
}

Result<CheckpointInfo> WriteCheckpoint(storage::ObjectStore& store, const Snapshot& snapshot,
                                       ParquetWriter& writer, int64_t now_ms) {
  const std::string& root = snapshot.table_root();
  const std::string context =
      TableName(root) + " checkpoint v" + std::to_string(snapshot.version());
  if (snapshot.config().properties().checkpoint_policy == CheckpointPolicy::kV2) {
    return Status::NotSupported(context +
                                ": delta.checkpointPolicy=v2 (V2 checkpoints are not written yet)");
  }
  std::vector<std::string> rows = CheckpointRows(snapshot, now_ms);
  ASSIGN_OR_RETURN_CTX(std::string bytes, writer.WriteRowsAsParquet(rows, CheckpointSchema()),
                       context);
  const std::string key = LogPrefix(root) + ClassicCheckpointFileName(snapshot.version());
  RETURN_NOT_OK_CTX(store.Write(key, bytes), context);

  CheckpointInfo info;
  info.version = snapshot.version();
  info.num_actions = static_cast<int64_t>(rows.size());
  info.num_add_files = static_cast<int64_t>(snapshot.files().size());
  info.size_in_bytes = static_cast<int64_t>(bytes.size());

  // PROTOCOL.md, "Last Checkpoint File Schema". Never move the hint backwards.
  ASSIGN_OR_RETURN_CTX(auto hint, ReadLastCheckpointHint(store, root), context);
  if (!hint || hint->version <= info.version) {
    nlohmann::ordered_json last = {{"version", info.version},
                                   {"size", info.num_actions},
                                   {"sizeInBytes", info.size_in_bytes},
                                   {"numOfAddFiles", info.num_add_files}};
    RETURN_NOT_OK_CTX(store.Write(LogPrefix(root) + std::string(kLastCheckpointFile), last.dump()),
                      context);
  }
  return info;
}

Result<LogCleanupResult> CleanUpExpiredLog(storage::ObjectStore& store, std::string_view table_root,
                                           int64_t log_retention_ms, int64_t now_ms) {
  const std::string context = TableName(table_root) + ": log cleanup";
  LogCleanupResult result;
  const int64_t cutoff = now_ms - log_retention_ms;
  const std::string prefix = LogPrefix(table_root);

  // Usually nothing has expired yet, and commit 0 is still there: the first retained version is
  // then 0, so nothing may be deleted. Tell so from the listing of versions 0-9 alone (names
  // starting with 19 zeros), without listing (on a local store: stat-ing) the whole log.
  {
    const std::string first_commit = prefix + CommitFileName(0);
    ASSIGN_OR_RETURN_CTX(auto oldest,
                         store.List(prefix + std::string(kVersionDigits - 1, '0')), context);
    for (const auto& o : oldest) {
      if (o.key == first_commit && o.modification_time > cutoff) {
        result.earliest_version = 0;
        return result;
      }
    }
  }

  ASSIGN_OR_RETURN_CTX(auto listing, ListLog(store, table_root), context);
  result.earliest_version = listing.earliest_reconstructable_version();
  auto latest = listing.latest_version();
  if (!latest || listing.checkpoints.empty()) return result;

  // R: the first retained version (the first commit not expired; the latest version at most).
  int64_t first_retained = *latest;
  for (const auto& c : listing.commits) {
    if (c.meta.modification_time > cutoff) {
      first_retained = std::min(first_retained, c.name.version);
      break;
    }
  }
  // C: the newest complete checkpoint at or below R.
  std::optional<int64_t> keep_from;
  for (const auto& cp : listing.checkpoints) {
    if (cp.version <= first_retained) keep_from = cp.version;
  }
  if (!keep_from) return result;

  ASSIGN_OR_RETURN_CTX(auto objects, store.List(prefix), context);
  struct Doomed {
    int64_t version;
    std::string key;
  };
  std::vector<Doomed> doomed;
  for (const auto& o : objects) {
    std::string_view name = std::string_view(o.key).substr(prefix.size());
    if (name.find('/') != std::string_view::npos) continue;  // _sidecars/ and other folders
    const int64_t v = LeadingVersion(name);
    if (v < 0 || v >= *keep_from) continue;
    if (o.modification_time > cutoff) continue;  // e.g. a late checkpoint of an old version
    doomed.push_back({v, o.key});
  }
  // Oldest first, so that an interrupted cleanup leaves a gapless log.
  std::stable_sort(doomed.begin(), doomed.end(),
                   [](const Doomed& a, const Doomed& b) { return a.version < b.version; });
  for (const auto& d : doomed) {
    Status st = store.Delete(d.key);
    if (!st.ok() && !st.IsNotFound()) return st.WithContext(context + ": deleting " + d.key);
    ++result.files_deleted;
  }
  if (!doomed.empty()) {
    ASSIGN_OR_RETURN_CTX(auto after, ListLog(store, table_root), context);
    result.earliest_version = after.earliest_reconstructable_version();
  }
  return result;
}

}  // namespace medallion::delta
