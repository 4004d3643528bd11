#include "delta/commit_reader.h"

#include <algorithm>
#include <string>

#include "common/macros.h"
#include "delta/scalar.h"

namespace medallion::delta {
namespace {

std::string FormatMs(int64_t ms) {
  return FormatTimestampMicros(ms * 1000).substr(0, 23) + "Z";
}

}  // namespace

Result<std::vector<Action>> ReadCommitActions(storage::ObjectStore& store,
                                              std::string_view table_root, int64_t version) {
  const std::string key = LogPrefix(table_root) + CommitFileName(version);
  auto data = store.Read(key);
  if (!data.ok()) {
    if (data.status().IsNotFound()) {
      return Status::NotFound(TableName(table_root) + ": commit " + std::to_string(version) +
                              " does not exist");
    }
    return data.status().WithContext("reading commit " + key);
  }
  return ParseActions(*data, key);
}

Result<int64_t> ReadCommitTimestamp(storage::ObjectStore& store, const LogFile& commit,
                                    std::optional<int64_t> ict_enablement_version) {
  if (!ict_enablement_version || commit.name.version < *ict_enablement_version) {
    return commit.meta.modification_time;
  }
  ASSIGN_OR_RETURN_CTX(std::string data, store.Read(commit.meta.key),
                       "reading commit " + commit.meta.key);
  ASSIGN_OR_RETURN(auto ci, ParseFirstCommitInfo(data, commit.meta.key));
  if (!ci || !ci->in_commit_timestamp) {
    return Status::Corruption(commit.meta.key +
                              ": in-commit timestamps are enabled but the commit has no "
                              "commitInfo.inCommitTimestamp");
  }
  return *ci->in_commit_timestamp;
}

Result<int64_t> FindVersionAtTimestamp(storage::ObjectStore& store, std::string_view table_root,
                                       const LogListing& listing, int64_t timestamp_ms,
                                       std::optional<int64_t> ict_enablement_version) {
  const auto earliest = listing.earliest_reconstructable_version();
  if (!earliest) {
    return Status::NotFound(TableName(table_root) + " is not a Delta table (no _delta_log)");
  }
  // Commits that can be time travelled to, oldest first.
  auto first = std::lower_bound(
      listing.commits.begin(), listing.commits.end(), *earliest,
      [](const LogFile& f, int64_t v) { return f.name.version < v; });
  if (first == listing.commits.end()) {
    return Status::NotFound(TableName(table_root) + ": no commit to time travel to");
  }
  // Newest first; timestamps are non-decreasing with versions in a valid log, so the first commit
  // at or before the timestamp is the answer.
  for (auto it = listing.commits.end(); it != first;) {
    --it;
    ASSIGN_OR_RETURN(int64_t ts, ReadCommitTimestamp(store, *it, ict_enablement_version));
    if (ts <= timestamp_ms) return it->name.version;
  }
  ASSIGN_OR_RETURN(int64_t earliest_ts, ReadCommitTimestamp(store, *first, ict_enablement_version));
  return Status::NotFound(TableName(table_root) + ": timestamp " + FormatMs(timestamp_ms) +
                          " is before the earliest available commit (version " +
                          std::to_string(first->name.version) + " at " + FormatMs(earliest_ts) +
                          ")");
}

Result<std::vector<CommitInfoEntry>> ReadHistory(storage::ObjectStore& store,
                                                 std::string_view table_root, size_t limit) {
  ASSIGN_OR_RETURN(auto listing, ListLog(store, table_root));
  if (!listing.latest_version()) {
    return Status::NotFound(TableName(table_root) + " is not a Delta table (no _delta_log)");
  }
  std::vector<CommitInfoEntry> out;
  for (auto it = listing.commits.rbegin(); it != listing.commits.rend(); ++it) {
    if (limit != 0 && out.size() >= limit) break;
    ASSIGN_OR_RETURN_CTX(std::string data, store.Read(it->meta.key),
                         "reading commit " + it->meta.key);
    CommitInfoEntry entry;
    entry.version = it->name.version;
    ASSIGN_OR_RETURN(entry.commit_info, ParseFirstCommitInfo(data, it->meta.key));
    entry.timestamp_ms = entry.commit_info && entry.commit_info->in_commit_timestamp
                             ? *entry.commit_info->in_commit_timestamp
                             : it->meta.modification_time;
    out.push_back(std::move(entry));
  }
  return out;
}

}  // namespace medallion::delta
