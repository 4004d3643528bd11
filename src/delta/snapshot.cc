#include "delta/snapshot.h"

#include <algorithm>
#include <cstdint>
#include <string_view>
#include <utility>
#include <vector>

#include "common/macros.h"
#include "delta/commit_reader.h"
#include "delta/file_path.h"
#include "delta/log_replay.h"

namespace medallion::delta {

std::optional<int64_t> Snapshot::TxnVersion(std::string_view app_id) const {
  auto it = txns_.find(std::string(app_id));
  if (it == txns_.end()) return std::nullopt;
  return it->second.version;
}

Result<std::string> Snapshot::ResolveFilePath(std::string_view log_path) const {
  ASSIGN_OR_RETURN(FilePath path, ParseFilePath(log_path));
  switch (path.kind) {
    case FilePath::Kind::kRelative: {
      std::string key = storage::JoinKey(table_root_, path.path);
      auto valid = storage::ValidateKey(key);
      if (!valid.ok()) {
        return Status::InvalidArgument("file path '" + std::string(log_path) +
                                       "' does not name a file inside table " +
                                       TableName(table_root_) + ": " + valid.message());
      }
      return key;
    }
    case FilePath::Kind::kLocal:
      return path.path;
    case FilePath::Kind::kRemote:
      break;
  }
  return Status::NotSupported("file path '" + std::string(log_path) +
                              "' uses a URI scheme medallion cannot read");
}

Result<std::string> Snapshot::FileLocalPath(const AddFile& file) const {
  return ResolveFilePath(file.path);
}

namespace {

// Puts the files in path order. A replay lists the commits' files first and then the
// checkpoint's, which are in path order when medallion or Spark wrote them: only the head before
// the sorted tail is sorted, then merged with the tail (std::inplace_merge buffers the shorter run,
// usually the few files of the commits since the checkpoint). An AddFile is a few hundred bytes, so
// the head's order is found on (path, index) pairs and then applied in place, each file moved
// about once.
void SortByPath(std::vector<AddFile>& files) {
  const size_t n = files.size();
  if (n < 2) return;
  size_t tail = n - 1;  // files[tail, n) is in path order
  while (tail > 0 && !(files[tail].path < files[tail - 1].path)) --tail;
  if (tail == 0) return;
  // Comparisons read the path's characters without going through the file.
  std::vector<std::pair<std::string_view, size_t>> order;
  order.reserve(tail);
  for (size_t i = 0; i < tail; ++i) order.emplace_back(files[i].path, i);
  std::sort(order.begin(), order.end());
  // Position i takes the file at order[i].second: follow each cycle of the permutation once.
  std::vector<bool> placed(tail, false);
  for (size_t start = 0; start < tail; ++start) {
    if (placed[start] || order[start].second == start) continue;
    AddFile held = std::move(files[start]);
    size_t at = start;
    while (order[at].second != start) {
      files[at] = std::move(files[order[at].second]);
      placed[at] = true;
      at = order[at].second;
    }
    files[at] = std::move(held);
    placed[at] = true;
  }
  std::inplace_merge(files.begin(), files.begin() + static_cast<ptrdiff_t>(tail), files.end(),
                     [](const AddFile& a, const AddFile& b) { return a.path < b.path; });
}

}  // namespace

Result<std::shared_ptr<Snapshot>> Snapshot::FromState(ReplayedState& state,
                                                      const std::string& table_root,
                                                      int64_t version,
                                                      const std::string& context) {
  if (!state.metadata) {
    return Status::Corruption(context + ": table has no metaData action");
  }
  if (!state.protocol) {
    return Status::Corruption(context + ": table has no protocol action");
  }
  ASSIGN_OR_RETURN_CTX(auto config, TableConfiguration::Make(*state.protocol, *state.metadata),
                       context);
  std::shared_ptr<Snapshot> snapshot(new Snapshot(std::move(config)));
  snapshot->table_root_ = table_root;
  snapshot->version_ = version;
  SortByPath(state.files);
  snapshot->files_ = std::move(state.files);
  snapshot->txns_ = std::move(state.txns);
  snapshot->domains_ = std::move(state.domains);
  snapshot->tombstones_ = std::move(state.tombstones);
  return snapshot;
}

Result<std::shared_ptr<const Snapshot>> Snapshot::FromParentAndCommit(
    const Snapshot& parent, const std::vector<Action>& commit_actions,
    const storage::ObjectMeta& commit_file) {
  const int64_t version = parent.version_ + 1;
  const std::string context = TableName(parent.table_root_) + " v" + std::to_string(version);
  LogReplayer replayer;
  RETURN_NOT_OK_CTX(replayer.AddCommit(commit_actions, commit_file.key), context);
  // The parent's state is what a checkpoint of its version holds.
  std::vector<Action> parent_state;
  parent_state.reserve(2 + parent.txns_.size() + parent.domains_.size() + parent.files_.size() +
                       parent.tombstones_.size());
  parent_state.emplace_back(parent.protocol());
  parent_state.emplace_back(parent.metadata());
  for (const auto& [app_id, txn] : parent.txns_) parent_state.emplace_back(txn);
  for (const auto& [domain, dm] : parent.domains_) parent_state.emplace_back(dm);
  for (const auto& file : parent.files_) parent_state.emplace_back(file);
  for (const auto& tombstone : parent.tombstones_) parent_state.emplace_back(tombstone);
  RETURN_NOT_OK_CTX(replayer.AddCheckpointActions(std::move(parent_state), "parent snapshot"),
                    context);
  ReplayedState state = replayer.Finish();
  ASSIGN_OR_RETURN(std::shared_ptr<Snapshot> snapshot,
                   FromState(state, parent.table_root_, version, context));
  snapshot->commit_info_ = std::move(state.commit_info);
  const auto ict_from = snapshot->config_.in_commit_timestamp_enablement_version();
  if (ict_from && version >= *ict_from) {
    if (!snapshot->commit_info_ || !snapshot->commit_info_->in_commit_timestamp) {
      return Status::Corruption(context + ": in-commit timestamps are enabled but commit " +
                                commit_file.key + " has no commitInfo.inCommitTimestamp");
    }
    snapshot->timestamp_ms_ = *snapshot->commit_info_->in_commit_timestamp;
  } else {
    snapshot->timestamp_ms_ = commit_file.modification_time;
  }
  return std::shared_ptr<const Snapshot>(std::move(snapshot));
}

SnapshotBuilder::SnapshotBuilder(storage::ObjectStore& store, std::string table_root)
    : store_(store), table_root_(std::move(table_root)) {
  while (!table_root_.empty() && table_root_.back() == '/') table_root_.pop_back();
}

SnapshotBuilder& SnapshotBuilder::AtVersion(int64_t version) {
  version_ = version;
  return *this;
}

SnapshotBuilder& SnapshotBuilder::AtTimestamp(int64_t timestamp_ms) {
  timestamp_ms_ = timestamp_ms;
  return *this;
}

Result<std::shared_ptr<const Snapshot>> SnapshotBuilder::Build(ParquetHandler& parquet) const {
  if (version_ && timestamp_ms_) {
    return Status::InvalidArgument(TableName(table_root_) +
                                   ": time travel takes a version or a timestamp, not both");
  }
  if (!timestamp_ms_) return BuildUnchecked(parquet);
  // By timestamp: the latest snapshot says whether (and since when) in-commit timestamps apply.
  SnapshotBuilder latest_builder(store_, table_root_);
  ASSIGN_OR_RETURN(auto latest, latest_builder.BuildUnchecked(parquet));
  ASSIGN_OR_RETURN(auto listing, ListLog(store_, table_root_));
  ASSIGN_OR_RETURN(int64_t version,
                   FindVersionAtTimestamp(store_, table_root_, listing, *timestamp_ms_,
                                          latest->config().in_commit_timestamp_enablement_version()));
  if (version == latest->version()) return latest;
  SnapshotBuilder at_version(store_, table_root_);
  at_version.AtVersion(version);
  return at_version.BuildUnchecked(parquet);
}

Result<std::shared_ptr<const Snapshot>> SnapshotBuilder::BuildUnchecked(
    ParquetHandler& parquet) const {
  const std::string table = TableName(table_root_);
  ASSIGN_OR_RETURN(auto segment, ListLogSegment(store_, table_root_, version_));
  const std::string context = table + " v" + std::to_string(segment.version());
  ASSIGN_OR_RETURN_CTX(auto state, ReplayLogSegment(store_, table_root_, segment, parquet),
                       context);
  ASSIGN_OR_RETURN(std::shared_ptr<Snapshot> snapshot,
                   Snapshot::FromState(state, table_root_, segment.version(), context));
  if (const auto& last = segment.version_commit()) {
    if (!segment.commits().empty() && segment.commits().back().name.version == segment.version()) {
      // Replay read this commit (newest first): its commitInfo, if any, is already here.
      snapshot->commit_info_ = std::move(state.commit_info);
    } else {
      // The version is covered by a checkpoint; its commit still carries the commitInfo.
      ASSIGN_OR_RETURN_CTX(std::string data, store_.Read(last->meta.key),
                           context + ": reading commit " + last->meta.key);
      ASSIGN_OR_RETURN_CTX(snapshot->commit_info_, ParseFirstCommitInfo(data, last->meta.key),
                           context);
    }
    const auto ict_from = snapshot->config_.in_commit_timestamp_enablement_version();
    if (ict_from && segment.version() >= *ict_from) {
      if (!snapshot->commit_info_ || !snapshot->commit_info_->in_commit_timestamp) {
        return Status::Corruption(context + ": in-commit timestamps are enabled but commit " +
                                  last->meta.key + " has no commitInfo.inCommitTimestamp");
      }
      snapshot->timestamp_ms_ = *snapshot->commit_info_->in_commit_timestamp;
    } else {
      snapshot->timestamp_ms_ = last->meta.modification_time;
    }
  } else if (segment.checkpoint()) {
    // A checkpoint-only version.
    snapshot->timestamp_ms_ = segment.checkpoint()->files.front().meta.modification_time;
  }
  return std::shared_ptr<const Snapshot>(std::move(snapshot));
}

}  // namespace medallion::delta
