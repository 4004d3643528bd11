// Delta Lake maintenance commands and the change data feed: VACUUM, RESTORE, CLONE, OPTIMIZE and
// table_changes, as Databricks documents them (docs/compatibility.md lists what is supported).
//
// - Vacuum deletes the files under a table folder that no version within the retention period
//   needs (the decision is delta/vacuum_plan.h; PROTOCOL.md, "VACUUM Protocol Check": the table's
//   write protocol is checked first). It refuses a retention shorter than the table's
//   delta.deletedFileRetentionDuration (default 7 days) unless the check is turned off, because
//   readers of older versions and writers still in progress may need those files. Unless it is a
//   dry run it records two commits without data change, "VACUUM START" and "VACUUM END", as
//   Delta Lake does.
// - Restore makes the latest version equal to an older one in one "RESTORE" commit
//   (delta/restore_plan.h); the files it adds back must still exist.
// - Clone creates a table from a version of another: SHALLOW refers to the source's data files by
//   absolute file:// URIs (PROTOCOL.md, "Add File and Remove File": paths may be absolute URIs);
//   DEEP copies them into the target. One "CLONE" commit.
// - Optimize compacts small data files (bin-packing; the plan is delta/optimize_plan.h): each
//   bin's files are read through the Delta scan (so deletion vectors apply and their deleted rows
//   are purged) and written as one new file (engine/delta_writer.h: Spark's names, partition
//   folders, statistics); one "OPTIMIZE" commit removes the old files and adds the new ones, all
//   with dataChange=false (PROTOCOL.md, "Add File and Remove File"), so the table's rows are
//   unchanged and streaming readers and the change data feed skip the commit. The compacted files
//   are recorded as read: a concurrent commit that removed one of them (a DELETE, UPDATE, MERGE or
//   another OPTIMIZE) makes it fail with Conflict; concurrent appends do not conflict. Nothing to
//   compact: no commit.
// - RegisterTableChanges registers the change data feed of a version range as a DuckDB view
//   (PROTOCOL.md, "Change Data Files", "Reader Requirements for AddCDCFile").
//
// Stores and roots: each command takes the store holding the table and the table's key in it (""
// for a store rooted at the table). Shallow clones need a store with local paths.
//
// Errors (messages start with the table):
//   InvalidArgument: a retention below the table's minimum while the check is on, a negative
//     retention, an OPTIMIZE predicate that references a non-partition column ("Predicate
//     references non-partition column 'x'. Only the partition columns may be referenced: [p]", as
//     Delta Lake words it) or a bad delta.targetFileSize, a version range that is empty or past
//     the latest version, change data that was not recorded for a version (see
//     RegisterTableChanges), both or neither of version and timestamp given;
//   NotFound: no table, a version or timestamp that does not exist, a restored file that is gone;
//   AlreadyExists: a clone target that is already a table (without replace);
//   NotSupported: a table medallion cannot write (protocol_requirements.h; e.g. OPTIMIZE of a
//     column-mapped table), a shallow clone from a store without local paths or of a table whose
//     deletion vectors are stored relative to it;
//   Conflict: a concurrent commit conflicted (delta/transaction.h);
//   IOError from the stores, DuckDB's errors from the connection (also for an OPTIMIZE predicate
//     that does not parse or bind).
//
// Thread-safety: free functions; each call uses its stores and connection from one thread (the
// stores may be shared, the connection may not). Optimize creates TEMP tables and views named
// __medallion_o* (and the writer's __medallion_w*) on the connection and drops them.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "delta/parquet_handler.h"
#include "delta/parquet_writer.h"
#include "delta/restore_plan.h"
#include "delta/snapshot.h"
#include "engine/database.h"
#include "storage/object_store.h"

namespace medallion::engine {

struct VacuumOptions {
  // Files deleted at least this many hours ago may go; default: delta.deletedFileRetentionDuration.
  std::optional<double> retention_hours;
  // List what would be deleted without deleting anything or committing.
  bool dry_run = false;
  // Refuse a retention below delta.deletedFileRetentionDuration (Databricks:
  // spark.databricks.delta.retentionDurationCheck.enabled).
  bool retention_check = true;
  // Record "VACUUM START" / "VACUUM END" commits (not for dry runs).
  bool log_commits = true;
  // Clock, ms since the epoch; 0 uses the system clock. For tests.
  int64_t now_ms = 0;
};

struct VacuumResult {
  // The files deleted (or, for a dry run, to delete): local paths when the store has them, else
  // store keys; sorted.
  std::vector<std::string> files;
  int64_t bytes = 0;  // their total size
};

Result<VacuumResult> Vacuum(storage::ObjectStore& store, std::string_view table_root,
                            delta::ParquetHandler& parquet, const VacuumOptions& options = {});

struct RestoreOptions {
  // Exactly one of them: the version, or a time (ms since the epoch; the latest version committed
  // at or before it).
  std::optional<int64_t> version;
  std::optional<int64_t> timestamp_ms;
  int64_t now_ms = 0;  // clock for tests; 0: the system clock
};

struct RestoreResult {
  delta::RestorePlan plan;       // what was committed, with Databricks' metrics
  int64_t restored_version = 0;  // the version restored to
  int64_t commit_version = 0;    // the RESTORE commit
};

Result<RestoreResult> Restore(storage::ObjectStore& store, std::string_view table_root,
                              delta::ParquetHandler& parquet, const RestoreOptions& options);

struct CloneOptions {
  // The source version (default: latest), or a time (ms since the epoch).
  std::optional<int64_t> version;
  std::optional<int64_t> timestamp_ms;
  // DEEP (copy the files) or SHALLOW (refer to the source's files).
  bool deep = true;
  // CREATE OR REPLACE: an existing target table gets a new version holding the clone.
  bool replace = false;
  // The operationParameters "source" value (the source as the user named it).
  std::string source_name;
  int64_t now_ms = 0;  // clock for tests; 0: the system clock
};

// Databricks' CLONE metrics.
struct CloneResult {
  int64_t source_table_size = 0;
  int64_t source_num_of_files = 0;
  int64_t num_removed_files = 0;
  int64_t num_copied_files = 0;
  int64_t removed_files_size = 0;
  int64_t copied_files_size = 0;
  int64_t source_version = 0;
  int64_t commit_version = 0;  // the target's CLONE commit
};

Result<CloneResult> Clone(storage::ObjectStore& source_store, std::string_view source_root,
                          storage::ObjectStore& target_store, std::string_view target_root,
                          delta::ParquetHandler& parquet, const CloneOptions& options);

struct OptimizeOptions {
  // OPTIMIZE ... WHERE: a predicate over partition columns only (DuckDB SQL); empty: every file.
  std::string predicate;
  // spark.databricks.delta.optimize.maxFileSize of the session (bytes): the target size when the
  // table does not set delta.targetFileSize (delta/optimize_plan.h); nullopt: 1 GB.
  std::optional<int64_t> max_file_size;
  // The snapshot to start from (the version read); null: the latest. For tests of concurrency.
  std::shared_ptr<const delta::Snapshot> snapshot;
  // Writes checkpoints at delta.checkpointInterval. Not owned. Null: one is made for the call.
  delta::ParquetWriter* checkpoint_writer = nullptr;
  int64_t now_ms = 0;  // clock for tests; 0: the system clock
};

// Sizes of a set of files (Databricks' FileSizeMetrics); min and max are absent for no files.
struct FileSizeMetrics {
  std::optional<int64_t> min;
  std::optional<int64_t> max;
  double avg = 0;
  int64_t total_files = 0;
  int64_t total_size = 0;  // bytes
};

// Databricks' OPTIMIZE metrics (the `metrics` column of the statement's result), and the commit.
struct OptimizeResult {
  bool committed = false;  // false: nothing to compact
  int64_t version = -1;    // the OPTIMIZE commit, or the version read when nothing was committed
  int64_t num_files_added = 0;
  int64_t num_files_removed = 0;
  FileSizeMetrics files_added;
  FileSizeMetrics files_removed;
  // Partitions with files compacted (1 for an unpartitioned table).
  int64_t partitions_optimized = 0;
  int64_t num_bins = 0;                // groups of files each rewritten into one file
  int64_t num_batches = 0;             // commits: 1, or 0 when nothing was compacted
  int64_t total_considered_files = 0;  // files of the partitions the predicate selects
  int64_t total_files_skipped = 0;     // of those, the files left as they are
  int64_t num_deletion_vectors_removed = 0;
  int64_t num_deletion_vector_rows_removed = 0;
  int64_t start_time_ms = 0;
  int64_t end_time_ms = 0;
};

// OPTIMIZE (bin-packing) of the table at `table_root` (see the header comment). commitInfo:
// operation "OPTIMIZE", operationParameters predicate (JSON array of the predicate text, "[]" for
// none), zOrderBy "[]", clusterBy "[]", auto "false"; operationMetrics numRemovedFiles,
// numAddedFiles, numRemovedBytes, numAddedBytes, numDeletionVectorsRemoved and the added files'
// minFileSize, p25FileSize, p50FileSize, p75FileSize, maxFileSize. isBlindAppend is false. The
// store must have local paths (DuckDB writes the files).
Result<OptimizeResult> Optimize(Connection& conn, storage::ObjectStore& store,
                                std::string_view table_root, delta::ParquetHandler& parquet,
                                const OptimizeOptions& options = {});

// A version range of the change data feed. Each end by version or by time (ms since the epoch):
// a start time means the first version committed at or after it, an end time the last version
// committed at or before it. No end: the latest version (an end version past it is clamped).
struct ChangeFeedRange {
  std::optional<int64_t> start_version;
  std::optional<int64_t> start_timestamp_ms;
  std::optional<int64_t> end_version;
  std::optional<int64_t> end_timestamp_ms;
};

struct ChangeFeedVersions {
  int64_t start_version = 0;
  int64_t end_version = 0;
};

// Registers `CREATE OR REPLACE TEMP VIEW <view_name>` with the row changes of the versions in the
// range: the table's columns (schema of the end version), then `_change_type` VARCHAR ('insert',
// 'delete', 'update_preimage', 'update_postimage'), `_commit_version` BIGINT and
// `_commit_timestamp` TIMESTAMP WITH TIME ZONE. Per commit: its cdc files when it has any; else
// rows of data-changing adds are inserts and rows of data-changing removes deletes. Without cdc
// files, a commit whose removes are not whole-file deletes (it also adds data, or a remove carries
// a deletion vector) is only readable when delta.enableChangeDataFeed was on for it: otherwise
// InvalidArgument "change data was not recorded for version N". Also creates helper views and
// tables named "<view_name>__..." on the connection.
Result<ChangeFeedVersions> RegisterTableChanges(Connection& conn, storage::ObjectStore& store,
                                                std::string_view table_root,
                                                delta::ParquetHandler& parquet,
                                                const ChangeFeedRange& range,
                                                std::string_view view_name);

}  // namespace medallion::engine
