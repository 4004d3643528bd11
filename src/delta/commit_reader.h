// Reading single commits: their actions, their timestamps, and the table history.
//
// PROTOCOL.md, "Delta Log Entries", "Commit Provenance Information", "In-Commit Timestamps".
// The change data feed and streaming reads consume the log commit by commit (ReadCommitActions);
// DESCRIBE HISTORY shows each commit's commitInfo (ReadHistory); time travel by timestamp maps a
// time to a version (FindVersionAtTimestamp).
//
// A commit's timestamp is its commitInfo.inCommitTimestamp when in-commit timestamps are enabled for
// it (its version is at or after `ict_enablement_version`), otherwise the commit file's modification
// time.
//
// Thread-safety: free functions; safe to call concurrently (the store is thread-safe).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "delta/actions.h"
#include "delta/log_segment.h"
#include "storage/object_store.h"

namespace medallion::delta {

// The parsed actions of commit `version`, in file order. NotFound "<table>: commit N does not
// exist" when the file is absent; Corruption naming file and line for malformed actions.
Result<std::vector<Action>> ReadCommitActions(storage::ObjectStore& store,
                                              std::string_view table_root, int64_t version);

// The timestamp of a listed commit, ms since the epoch. Reads the file only when
// `ict_enablement_version` is set and <= the commit's version; Corruption when such a commit lacks
// commitInfo.inCommitTimestamp.
Result<int64_t> ReadCommitTimestamp(storage::ObjectStore& store, const LogFile& commit,
                                    std::optional<int64_t> ict_enablement_version);

// The latest reconstructable version whose commit timestamp is <= `timestamp_ms`. NotFound when the
// timestamp is before the earliest available commit ("<table>: timestamp T is before the earliest
// available commit (version E at T')").
Result<int64_t> FindVersionAtTimestamp(storage::ObjectStore& store, std::string_view table_root,
                                       const LogListing& listing, int64_t timestamp_ms,
                                       std::optional<int64_t> ict_enablement_version);

struct CommitInfoEntry {
  int64_t version = 0;
  int64_t timestamp_ms = 0;                 // inCommitTimestamp when present, else file time
  std::optional<CommitInfo> commit_info;    // absent when the commit has none
};

// The commits still in the log, newest first, at most `limit` of them (0: all). Reads one file per
// entry. NotFound when the table has no log; Corruption for malformed commits.
Result<std::vector<CommitInfoEntry>> ReadHistory(storage::ObjectStore& store,
                                                 std::string_view table_root, size_t limit = 0);

}  // namespace medallion::delta
