// Checkpoint writing and metadata cleanup: the write side of PROTOCOL.md, "Checkpoints" (classic
// single-file checkpoints), "Checkpoint Schema", "Last Checkpoint File Schema" and "Metadata
// Cleanup".
//
// A classic checkpoint `_delta_log/<version %020d>.checkpoint.parquet` holds the reconciled state
// of one version, one action per row in the columns of `CheckpointSchema()` (txn, add, remove,
// metaData, protocol, domainMetadata; all columns but one null in each row): the protocol, the
// metadata, the application transaction versions, live domain metadata, the active files (add, with
// `stats` as JSON text and `partitionValues` as a map) and the remove tombstones that have not yet
// expired (deletionTimestamp newer than now - delta.deletedFileRetentionDuration). As Delta Lake
// does, file actions carry dataChange=false in a checkpoint. Then `_delta_log/_last_checkpoint` is
// written: {"version", "size" (rows), "sizeInBytes", "numOfAddFiles"}. Both are written with
// ObjectStore::Write (atomic replace): a checkpoint of a version is deterministic in content, so
// two writers racing to write it are harmless; the checkpoint is written before the hint, so the
// hint never names a missing file.
//
// Metadata cleanup (`CleanUpExpiredLog`) deletes commit and checkpoint files older than the log
// retention, but only below a checkpoint that keeps every retained version reconstructable: with R
// the first version whose commit is not expired, the newest complete checkpoint at or below R is
// kept with everything after it, and files are deleted oldest first so that an interrupted cleanup
// leaves a log without gaps. `.crc` and compaction files of deleted versions go too. While commit
// 0 is still there and not expired, nothing can be deleted: cleanup tells so from a listing of
// versions 0-9 alone, without listing the whole log.
//
// Thread-safety: free functions; the store and the handlers are thread-safe by their contracts.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "delta/parquet_handler.h"
#include "delta/parquet_writer.h"
#include "delta/schema.h"
#include "delta/snapshot.h"
#include "storage/object_store.h"

namespace medallion::delta {

// The classic checkpoint's columns (PROTOCOL.md, "Checkpoint Schema"), as Delta Lake writes them.
const Schema& CheckpointSchema();

// What a written checkpoint holds (also the content of `_last_checkpoint`).
struct CheckpointInfo {
  int64_t version = 0;
  int64_t num_actions = 0;    // rows: "size" in _last_checkpoint
  int64_t num_add_files = 0;  // "numOfAddFiles"
  int64_t size_in_bytes = 0;  // the Parquet file's size: "sizeInBytes"
};

// The checkpoint rows of `snapshot`'s version as JSON objects (one action each, in the order
// protocol, metaData, txn, domainMetadata, add, remove): the snapshot's tombstones whose
// deletionTimestamp is at or before `now_ms` - delta.deletedFileRetentionDuration are dropped.
std::vector<std::string> CheckpointRows(const Snapshot& snapshot, int64_t now_ms);

// Writes the classic checkpoint of `snapshot`'s version and then `_last_checkpoint` (see the header
// comment). NotSupported when the table's checkpoint policy is "v2" (V2 checkpoints are not written
// yet); the ParquetWriter's errors; IOError from the store. Messages start with the table root.
Result<CheckpointInfo> WriteCheckpoint(storage::ObjectStore& store, const Snapshot& snapshot,
                                       ParquetWriter& writer, int64_t now_ms);

struct LogCleanupResult {
  int64_t files_deleted = 0;
  // The oldest version that can still be reconstructed afterwards (nullopt: empty log).
  std::optional<int64_t> earliest_version;
};

// Deletes expired log files (see the header comment): files whose modification time is at or before
// `now_ms` - `log_retention_ms`. Does nothing without a checkpoint. IOError from the store (files
// already deleted stay deleted; the log is still consistent).
Result<LogCleanupResult> CleanUpExpiredLog(storage::ObjectStore& store, std::string_view table_root,
                                           int64_t log_retention_ms, int64_t now_ms);

}  // namespace medallion::delta
