// DELETE, UPDATE and MERGE on Delta tables, copy-on-write, as Databricks documents them (Delta Lake
// "Table deletes, updates, and merges"); PROTOCOL.md, "Add File and Remove File", "Change Data
// Files".
//
// Each call is one commit (or none, when no row changes):
//   0. data skipping (delta/data_skipping.h) chooses the candidate files: those whose partition
//      values and statistics allow a row that the WHERE's simple top-level conjuncts (col op
//      literal, IN, IS [NOT] NULL; engine/scan_predicate.h) accept. For MERGE, the ON condition's
//      conjuncts on the target with literals, and for each `target.k = source.k` the source's key
//      range (target.k BETWEEN min(source.k) AND max(source.k), when both have the same type and
//      it is not floating point); a MERGE with WHEN NOT MATCHED BY SOURCE reads every file;
//   1. the candidate files are scanned with each row's data file (kScanFileColumn,
//      engine/delta_scan.h) and the files holding affected rows are found;
//   2. only those files are rewritten: their kept and changed rows (and, for MERGE, the inserted
//      rows) are written as new data files (WriteDataFiles, engine/delta_writer.h); a file all of
//      whose rows are deleted is only removed (so a DELETE on whole partitions writes no file);
//   3. with delta.enableChangeDataFeed=true, the changed rows are also written as change data
//      files (_change_type 'delete', 'update_preimage', 'update_postimage', 'insert');
//   4. one Transaction removes the touched files, adds the new ones and the cdc files, and records
//      the touched files as read, so a concurrent DELETE / UPDATE / MERGE that removed one of them
//      makes this commit fail with Conflict (appends elsewhere do not).
// commitInfo: operation "DELETE" (operationParameters predicate: JSON array of the predicate, as
// Spark writes it), "UPDATE" (predicate: JSON string), "MERGE" (predicate, matchedPredicates,
// notMatchedPredicates, notMatchedBySourcePredicates); operationMetrics with Databricks' names
// (DELETE: numRemovedFiles, numAddedFiles, numDeletedRows, numCopiedRows, numAddedChangeFiles,
// numRemovedBytes, numAddedBytes; UPDATE: numUpdatedRows instead of numDeletedRows; MERGE:
// numSourceRows, numTargetRowsInserted/Updated/Deleted/Copied, numOutputRows,
// numTargetFilesAdded/Removed, numTargetChangeFilesAdded, numTargetBytesAdded/Removed).
//
// SQL pieces (predicates, expressions, the MERGE source) are DuckDB SQL over the table's columns;
// the table is the TEMP view __medallion_dt, aliased as DmlOptions::target_alias when set.
//
// Errors (messages start with the table): NotFound for a missing table; InvalidArgument for an
// unknown column in SET / INSERT, a NOT NULL violation, several source rows matching one target
// row in MERGE; Conflict from the commit; NotSupported from the Transaction (column mapping, ...);
// DuckDB's errors for the SQL pieces.
//
// Thread-safety: one call at a time per Connection (it creates TEMP tables __medallion_d* and the
// writer's). Lifetimes: everything is borrowed for the call. The store must have local paths.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/result.h"
#include "delta/parquet_handler.h"
#include "delta/parquet_writer.h"
#include "delta/snapshot.h"
#include "engine/database.h"
#include "storage/object_store.h"

namespace medallion::engine {

struct DmlOptions {
  // The snapshot to start from (the version read); null: the latest. Two calls given the same
  // snapshot behave as two concurrent transactions.
  std::shared_ptr<const delta::Snapshot> snapshot;
  // The alias the SQL pieces use for the table (e.g. "t" in `t.id = s.id`); empty: none.
  std::string target_alias;
  // Rows per rewritten data file at most (> 0).
  int64_t target_file_rows = 1'000'000;
  // Writes checkpoints at delta.checkpointInterval. Not owned. Null: one is made for the call.
  delta::ParquetWriter* checkpoint_writer = nullptr;
  // An idempotent write (PROTOCOL.md, "Transaction Identifiers"): the commit records (appId,
  // version), and when the table already records a version >= this for appId nothing is done
  // (DmlResult::committed is false). A call that changes no row commits nothing, txn or not.
  std::optional<std::pair<std::string, int64_t>> txn;
  // Added to (or replacing) the commitInfo operationMetrics of the commit, e.g. a caller's own
  // counts (AUTO CDC's numUpsertedRows).
  std::map<std::string, int64_t> extra_operation_metrics;
};

// A column and its new value (SQL expression), for SET and INSERT.
using Assignment = std::pair<std::string, std::string>;

struct MergeClause {
  enum class Kind {
    kMatched,             // WHEN MATCHED
    kNotMatched,          // WHEN NOT MATCHED [BY TARGET]
    kNotMatchedBySource,  // WHEN NOT MATCHED BY SOURCE
  };
  enum class Action {
    kUpdate,     // UPDATE SET col = expr, ...  (kMatched, kNotMatchedBySource)
    kUpdateAll,  // UPDATE SET *  (kMatched): every column from the source column of its name
    kDelete,     // DELETE (kMatched, kNotMatchedBySource)
    kInsert,     // INSERT (cols) VALUES (exprs) (kNotMatched); other columns are NULL
    kInsertAll,  // INSERT * (kNotMatched)
  };
  Kind kind = Kind::kMatched;
  Action action = Action::kUpdate;
  std::string condition;                // the AND <cond>; empty: always
  std::vector<Assignment> assignments;  // kUpdate and kInsert
};

struct MergeSpec {
  std::string source_sql;            // a query (DuckDB SQL), evaluated once
  std::string source_alias;          // how the condition and clauses name the source
  std::string on_condition;          // the ON condition
  std::vector<MergeClause> clauses;  // in order: the first whose condition holds applies
};

struct DmlResult {
  bool committed = false;         // false: no row changed (nothing was committed)
  int64_t version = -1;           // the committed version (or the version read)
  int64_t num_affected_rows = 0;  // deleted + updated + inserted
  int64_t num_updated_rows = 0;
  int64_t num_deleted_rows = 0;
  int64_t num_inserted_rows = 0;
  int64_t num_copied_rows = 0;  // unchanged rows rewritten
  int64_t num_removed_files = 0;
  int64_t num_added_files = 0;
  int64_t num_added_change_files = 0;
  int64_t num_files_considered = 0;  // the snapshot's active files
  int64_t num_files_scanned = 0;     // candidate files left after data skipping (step 0)
};

// DELETE FROM table [WHERE predicate_sql] (empty: every row).
Result<DmlResult> Delete(Connection& conn, storage::ObjectStore& store, std::string table_root,
                         delta::ParquetHandler& parquet, std::string_view predicate_sql,
                         const DmlOptions& options = {});

// UPDATE table SET col = expr, ... [WHERE predicate_sql]. Expressions see the old row.
Result<DmlResult> Update(Connection& conn, storage::ObjectStore& store, std::string table_root,
                         delta::ParquetHandler& parquet, const std::vector<Assignment>& assignments,
                         std::string_view predicate_sql, const DmlOptions& options = {});

// MERGE INTO table [AS target_alias] USING source ON cond WHEN ... . Several source rows matching
// one target row are an error when there are MATCHED clauses (except a single unconditional
// DELETE), as on Databricks.
Result<DmlResult> Merge(Connection& conn, storage::ObjectStore& store, std::string table_root,
                        delta::ParquetHandler& parquet, const MergeSpec& spec,
                        const DmlOptions& options = {});

}  // namespace medallion::engine
