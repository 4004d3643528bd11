// Snapshot: the state of a Delta table at one version (PROTOCOL.md, "Delta Table Specification",
// "Action Reconciliation").
//
// A snapshot holds the table's protocol and metadata (checked into a TableConfiguration), its
// schema, the active files (add actions after reconciliation), application transaction versions,
// domain metadata and the commit timestamp. It is built once by SnapshotBuilder, which lists the
// log (log_segment.h), replays it (log_replay.h) and validates the result:
//
//   auto snapshot = SnapshotBuilder(store, "sales/orders").AtVersion(42).Build(parquet);
//
// Timestamps (PROTOCOL.md, "In-Commit Timestamps"): when in-commit timestamps are enabled for the
// version, a commit's timestamp is its commitInfo.inCommitTimestamp; otherwise the commit file's
// modification time (a checkpoint-only version uses the checkpoint file's).
//
// Errors of Build:
//   NotFound: not a Delta table, a version past the latest or cleaned up, a timestamp before the
//     first commit (log_segment.h has the messages);
//   Corruption: a gap in the versions, a malformed action, "table has no metaData action",
//     "table has no protocol action";
//   NotSupported: a reader version or feature medallion does not implement (table_configuration.h);
//   InvalidArgument: a bad table property, or both AtVersion and AtTimestamp given;
//   IOError from the store, and the ParquetHandler's errors.
// Every error message starts with the table root.
//
// Thread-safety and lifetimes: a Snapshot is immutable and safe to share across threads; it does not
// refer to the store or the handler. A SnapshotBuilder refers to the store it was given, which must
// outlive Build; Build is const and may be called concurrently.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "delta/actions.h"
#include "delta/log_segment.h"
#include "delta/parquet_handler.h"
#include "delta/schema.h"
#include "delta/table_configuration.h"
#include "storage/object_store.h"

namespace medallion::delta {

struct ReplayedState;  // log_replay.h

class Snapshot {
 public:
  int64_t version() const { return version_; }
  // The commit timestamp of version(), ms since the Unix epoch (see the header comment).
  int64_t timestamp_ms() const { return timestamp_ms_; }

  const Protocol& protocol() const { return config_.protocol(); }
  const Metadata& metadata() const { return config_.metadata(); }
  const Schema& schema() const { return config_.schema(); }
  const TableConfiguration& config() const { return config_; }

  // Active files, sorted by `path` as written in the log.
  const std::vector<AddFile>& files() const { return files_; }
  // The latest transaction version recorded for `app_id`, or nullopt (PROTOCOL.md, "Transaction
  // Identifiers").
  std::optional<int64_t> TxnVersion(std::string_view app_id) const;
  const std::map<std::string, Txn>& txns() const { return txns_; }
  // Live domain metadata by domain name (tombstones excluded).
  const std::map<std::string, DomainMetadata>& domain_metadata() const { return domains_; }
  // The commitInfo of version()'s commit, when it has one (absent for checkpoint-only versions).
  const std::optional<CommitInfo>& commit_info() const { return commit_info_; }
  // Remove actions kept as tombstones at this version, newest first (checkpoints carry them
  // forward; VACUUM keeps their files until they expire).
  const std::vector<RemoveFile>& tombstones() const { return tombstones_; }
  int64_t num_tombstones() const { return static_cast<int64_t>(tombstones_.size()); }

  // The table's key in the store ("" for a table at the store root).
  const std::string& table_root() const { return table_root_; }
  // Where a file of this table is: for a relative `path`, its store key (table root + decoded
  // path; never starts with '/'); for a "file:" URI or absolute path, the absolute local path
  // (starts with '/'). InvalidArgument for a path that escapes the table ("../x") or cannot be
  // decoded; NotSupported for other URI schemes ("s3://...").
  Result<std::string> FileLocalPath(const AddFile& file) const;
  Result<std::string> ResolveFilePath(std::string_view log_path) const;

  // The snapshot of the version after `parent`, whose commit holds `commit_actions` and is the file
  // `commit_file` (key and modification time): the commit is reconciled in memory with `parent`'s
  // state as log replay would with a checkpoint of `parent`'s version (PROTOCOL.md, "Action
  // Reconciliation"), without reading the log. A Transaction that committed the version right
  // after the one it read writes its checkpoint from this. Errors as Build's validation
  // (Corruption, NotSupported, InvalidArgument).
  static Result<std::shared_ptr<const Snapshot>> FromParentAndCommit(
      const Snapshot& parent, const std::vector<Action>& commit_actions,
      const storage::ObjectMeta& commit_file);

 private:
  friend class SnapshotBuilder;
  Snapshot(TableConfiguration config) : config_(std::move(config)) {}
  // Validates a replayed state (metaData and protocol present, a supported configuration) into a
  // snapshot of `version` with its files sorted; the state's files and maps are moved out. The
  // timestamp and commitInfo are left to the caller.
  static Result<std::shared_ptr<Snapshot>> FromState(ReplayedState& state,
                                                     const std::string& table_root,
                                                     int64_t version, const std::string& context);

  std::string table_root_;
  int64_t version_ = 0;
  int64_t timestamp_ms_ = 0;
  TableConfiguration config_;
  std::vector<AddFile> files_;
  std::map<std::string, Txn> txns_;
  std::map<std::string, DomainMetadata> domains_;
  std::optional<CommitInfo> commit_info_;
  std::vector<RemoveFile> tombstones_;
};

class SnapshotBuilder {
 public:
  // `store` must outlive every Build call. `table_root` is the table's key prefix in the store
  // ("" for a store rooted at the table).
  SnapshotBuilder(storage::ObjectStore& store, std::string table_root);

  // Time travel to a version (NotFound when it does not exist or cannot be reconstructed).
  SnapshotBuilder& AtVersion(int64_t version);
  // Time travel to the latest version whose commit timestamp is <= `timestamp_ms` (ms since the
  // epoch). NotFound when the timestamp is before the earliest available commit.
  SnapshotBuilder& AtTimestamp(int64_t timestamp_ms);

  // Lists, replays and validates. Errors as in the header comment.
  Result<std::shared_ptr<const Snapshot>> Build(ParquetHandler& parquet) const;

 private:
  Result<std::shared_ptr<const Snapshot>> BuildUnchecked(ParquetHandler& parquet) const;

  storage::ObjectStore& store_;
  std::string table_root_;
  std::optional<int64_t> version_;
  std::optional<int64_t> timestamp_ms_;
};

}  // namespace medallion::delta
