// LogSegment: the log files that reconstruct one version of a table.
//
// PROTOCOL.md, "Delta Log Entries", "Checkpoints", "Checkpoint Naming Scheme", "Last Checkpoint
// File", "Metadata Cleanup". A table's log lives in `<table>/_delta_log/`:
//   commits                `%020d.json`
//   classic checkpoints    `%020d.checkpoint.parquet`
//   multi-part checkpoints `%020d.checkpoint.%010d.%010d.parquet` (part, parts); usable only when
//                          every part of the same (version, parts) is present
//   V2 (UUID) checkpoints  `%020d.checkpoint.<uuid>.json` or `.parquet` (sidecars, if any, live in
//                          `_delta_log/_sidecars/`)
// Everything else is ignored: `.crc` files, log compaction files (`x.y.compacted.json`, an
// optional optimization), `_last_checkpoint` (only a hint, read by ReadLastCheckpointHint),
// temporary and hidden files (`._00000000000000000002.json`, `.00000000000000000002.json.crc`),
// and subfolders.
//
// A segment for version v is the newest complete checkpoint at or below v (if any) plus the
// commits after it up to v, which must be contiguous. `ListLogSegment` lists the log once through
// ObjectStore::List (sorted), from the version `_last_checkpoint` names when it can, and selects.
//
// Errors of ListLogSegment:
//   NotFound "<table> is not a Delta table (no _delta_log)": no commit and no checkpoint listed;
//   NotFound "... version 7 does not exist (latest is 5)": time travel past the end;
//   NotFound "... cannot reconstruct version 2: the earliest available version is 10": commits
//     before the earliest checkpoint were cleaned up;
//   Corruption "versions not contiguous: missing version 1 (found 2)": a gap among the commits the
//     segment needs;
//   IOError from the store.
//
// Thread-safety: LogSegment is an immutable value; the functions may be called from any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "storage/object_store.h"

namespace medallion::delta {

inline constexpr std::string_view kDeltaLogFolder = "_delta_log";
inline constexpr std::string_view kSidecarFolder = "_sidecars";
inline constexpr std::string_view kLastCheckpointFile = "_last_checkpoint";
inline constexpr int kVersionDigits = 20;
inline constexpr int kPartDigits = 10;

enum class LogFileKind {
  kCommit,               // %020d.json
  kClassicCheckpoint,    // %020d.checkpoint.parquet
  kMultiPartCheckpoint,  // %020d.checkpoint.%010d.%010d.parquet
  kV2Checkpoint,         // %020d.checkpoint.<uuid>.json|parquet
};

// A file name in _delta_log/ that takes part in the log.
struct ParsedLogName {
  LogFileKind kind = LogFileKind::kCommit;
  int64_t version = 0;
  int32_t part = 0;       // multi-part: 1-based part number
  int32_t num_parts = 0;  // multi-part: total parts
  std::string uuid;       // V2 checkpoints
  bool is_json = false;   // V2 checkpoints: .json (true) or .parquet (false); commits: true

  bool is_checkpoint() const { return kind != LogFileKind::kCommit; }
};

// Parses a bare file name (no folder). std::nullopt for names that are not log files.
std::optional<ParsedLogName> ParseLogFileName(std::string_view name);

// "00000000000000000042.json".
std::string CommitFileName(int64_t version);
// "00000000000000000042.checkpoint.parquet" (a classic single-file checkpoint).
std::string ClassicCheckpointFileName(int64_t version);
// "<table_root>/_delta_log/" (or "_delta_log/" for an empty root).
std::string LogPrefix(std::string_view table_root);

// How messages name a table: its root key, or "<store root>" for a table at the store's root.
std::string TableName(std::string_view table_root);

struct LogFile {
  storage::ObjectMeta meta;  // key, size, modification time
  ParsedLogName name;
};

// A complete checkpoint: one file (classic, V2) or all parts in part order (multi-part).
struct CheckpointFiles {
  int64_t version = 0;
  LogFileKind kind = LogFileKind::kClassicCheckpoint;
  std::vector<LogFile> files;
};

// Everything `_delta_log/` holds that takes part in the log, as listed.
struct LogListing {
  std::vector<LogFile> commits;               // ascending version (may have gaps)
  std::vector<CheckpointFiles> checkpoints;   // complete ones only, ascending version

  // Highest version a commit or complete checkpoint names; nullopt for an empty log.
  std::optional<int64_t> latest_version() const;
  // Lowest version that can be reconstructed: 0 if commit 0 is listed, else the oldest complete
  // checkpoint's version; nullopt if none.
  std::optional<int64_t> earliest_reconstructable_version() const;
  // The commit file of `version`, or nullptr.
  const LogFile* FindCommit(int64_t version) const;
};

// Lists and classifies `<table_root>/_delta_log/`. An empty listing is OK (empty LogListing).
// With `from_version`, only the log files of that version and later are listed (through
// ObjectStore::ListAfter, so a store skips the cost of the older ones); the listing then says
// nothing about earlier versions (earliest_reconstructable_version() describes only what it holds).
Result<LogListing> ListLog(storage::ObjectStore& store, std::string_view table_root,
                           std::optional<int64_t> from_version = std::nullopt);

class LogSegment {
 public:
  // Selects the segment for `version` (latest when nullopt) from a listing. Errors as in the header
  // (`table_root` only names the table in messages).
  static Result<LogSegment> FromListing(const LogListing& listing, std::string_view table_root,
                                        std::optional<int64_t> version);

  int64_t version() const { return version_; }
  // The checkpoint replay starts from, if any.
  const std::optional<CheckpointFiles>& checkpoint() const { return checkpoint_; }
  // Commits after the checkpoint (all from 0 when none), ascending, ending at version().
  const std::vector<LogFile>& commits() const { return commits_; }
  // The commit file of version() when it is listed (even when a checkpoint of that version makes
  // reading it unnecessary); absent for a checkpoint-only version.
  const std::optional<LogFile>& version_commit() const { return version_commit_; }

 private:
  int64_t version_ = 0;
  std::optional<CheckpointFiles> checkpoint_;
  std::vector<LogFile> commits_;
  std::optional<LogFile> version_commit_;
};

// Lists the log and selects the segment for `version` (latest when nullopt). Errors as in the
// header comment.
// When `_last_checkpoint` names a checkpoint at or below `version`, the log is listed only from that
// checkpoint's version on (PROTOCOL.md, "Last Checkpoint File": the hint lets readers skip listing
// the whole log); if the listing does not hold a complete checkpoint of that version (a stale or
// wrong hint), the whole log is listed, so the hint never changes the result, only its cost.
// Time travel to a version below the hint (or without one) first lists only from
// kTimeTravelWindow versions before it, and uses that listing when it holds a complete checkpoint
// at or below the version (a table checkpointed every 10 or 100 commits has one there).
inline constexpr int64_t kTimeTravelWindow = 100;
Result<LogSegment> ListLogSegment(storage::ObjectStore& store, std::string_view table_root,
                                  std::optional<int64_t> version = std::nullopt);

// The `_last_checkpoint` hint (PROTOCOL.md, "Last Checkpoint File Schema"): the fields readers use.
struct LastCheckpointHint {
  int64_t version = 0;
  std::optional<int64_t> size;   // actions in the checkpoint
  std::optional<int32_t> parts;  // multi-part checkpoints
  std::optional<std::string> v2_checkpoint_path;
};

// Reads `_delta_log/_last_checkpoint`. A hint only: std::nullopt when absent, empty, malformed or
// otherwise unusable (never an error for a corrupt file); IOError only when the store fails.
Result<std::optional<LastCheckpointHint>> ReadLastCheckpointHint(storage::ObjectStore& store,
                                                                 std::string_view table_root);

}  // namespace medallion::delta
