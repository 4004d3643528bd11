// Log replay: reconciling the actions of a log segment into the state of one table version
// (PROTOCOL.md, "Action Reconciliation").
//
// Actions are applied newest first: the newest commit, then older ones, then the checkpoint. So the
// first protocol, metaData, txn (per appId) and domainMetadata (per domain) seen win, and a logical
// file, keyed by (canonical path, deletion vector unique id), is active when the first action seen
// for that key is an `add`. Within one commit, an add and a remove of the same key cannot both be
// valid; the add wins (a remove of an older DV of the same path has a different key). Checkpoints
// hold no canceled actions, so their removes are only tombstones. `commitInfo`, `cdc`,
// `checkpointMetadata` and `sidecar` actions do not take part (sidecars are followed by the reader).
//
// `LogReplayer` is the pure reconciliation, fed with parsed actions (no I/O, unit-testable);
// `ReplayLogSegment` reads a segment through the store and a ParquetHandler and feeds it.
//
// Thread-safety: a LogReplayer is single-threaded; ReplayLogSegment may run concurrently on
// different segments (the store and the handler are thread-safe by their contracts).
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "common/result.h"
#include "delta/actions.h"
#include "delta/log_segment.h"
#include "delta/parquet_handler.h"
#include "storage/object_store.h"

namespace medallion::delta {

// The reconciled state of one version.
struct ReplayedState {
  std::optional<Protocol> protocol;
  std::optional<Metadata> metadata;
  std::vector<AddFile> files;                       // active files, in no particular order
  std::map<std::string, Txn> txns;                  // by appId
  std::map<std::string, DomainMetadata> domains;    // by domain, tombstones excluded
  std::optional<CommitInfo> commit_info;            // of the newest commit fed, if it had one
  // Remove actions that won reconciliation (PROTOCOL.md, "Action Reconciliation"), newest first:
  // what a checkpoint must carry forward and VACUUM must respect.
  std::vector<RemoveFile> tombstones;
};

class LogReplayer {
 public:
  // Feed commits newest first, each with all of its actions. `source` names the file for errors.
  // Corruption naming `source` when a file path cannot be decoded.
  Status AddCommit(const std::vector<Action>& actions, std::string_view source);
  // Then the checkpoint's actions (any number of calls, any order among them). A checkpoint holds
  // each logical file once, so its adds and removes are checked only against the commits' files
  // (and, when no commit touched a file, not keyed at all). The second form moves the file actions
  // out of `actions`.
  Status AddCheckpointActions(const std::vector<Action>& actions, std::string_view source);
  Status AddCheckpointActions(std::vector<Action>&& actions, std::string_view source);
  // The same, one action at a time (as a ParquetHandler reads them), after an optional hint of how
  // many are to come.
  void ExpectCheckpointActions(size_t n);
  Status AddCheckpointAction(Action&& action, std::string_view source);

  // The state; the replayer is left empty.
  ReplayedState Finish();

 private:
  Status Apply(const Action& action, bool from_checkpoint, std::string_view source,
               std::vector<std::string>* commit_keys);
  // Whether a commit fed so far acted on the logical file (path, dv).
  Result<bool> SeenInCommits(const std::string& path,
                             const std::optional<DeletionVectorDescriptor>& dv,
                             std::string_view source) const;
  static Result<std::string> FileKey(const std::string& path,
                                     const std::optional<DeletionVectorDescriptor>& dv,
                                     std::string_view source);

  // Transparent hashing, so string_views can be looked up without a copy.
  struct StringHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>()(s); }
  };

  ReplayedState state_;
  bool saw_commit_ = false;
  std::unordered_set<std::string> seen_files_;
  // The decoded file names (last path segment) of seen_files_, made on first use by
  // SeenInCommits: a checkpoint file whose name is not among them cannot be one of them, which
  // spares building its key. Mutable: a cache.
  mutable std::unordered_set<std::string, StringHash, std::equal_to<>> seen_names_;
};

// Reads and replays `segment` of the table at `table_root`: the JSON commits through the store, the
// checkpoint (classic, multi-part, V2 with sidecars in _delta_log/_sidecars/, V2 JSON) through
// `parquet` (for Parquet files, given store.LocalPath(key), or the key itself when the store has no
// local paths).
// Errors: Corruption from parsing (naming file and line/row), NotFound when a listed file or a
// sidecar has vanished, IOError from the store, the handler's errors with the file as context.
Result<ReplayedState> ReplayLogSegment(storage::ObjectStore& store, std::string_view table_root,
                                       const LogSegment& segment, ParquetHandler& parquet);

// The top-level checkpoint columns replay asks ParquetHandler for.
const std::vector<std::string>& CheckpointColumns();

}  // namespace medallion::delta
