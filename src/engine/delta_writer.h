// WriteDelta: writes the result of a DuckDB query into a Delta table as Parquet data files and
// commits them (PROTOCOL.md, "Add File and Remove File", "Per-file Statistics", "Partition Value
// Serialization", "Schema Serialization Format", "Requirements for Writers").
//
// One call is one commit, as a Spark DataFrame write or a SQL INSERT / CTAS is:
//   1. the table schema is derived from the query's column types (new table, or merge_schema), or
//      the query is checked against the table's schema (schema enforcement, below) and cast to it;
//   2. data files are written with DuckDB's `COPY ... (FORMAT parquet, COMPRESSION snappy,
//      RETURN_STATS true)`, named as Spark names them (`part-00000-<uuid>.c000.snappy.parquet`);
//      a partitioned table gets one folder per partition value (`col=value/`, the value escaped
//      as Hive/Spark escape it, NULL and "" as `__HIVE_DEFAULT_PARTITION__`) and the partition
//      columns are left out of the files. Usually the rows go straight from the query into the
//      files, in one COPY, so that the query is evaluated once and its rows are not copied
//      first: an unpartitioned table gets a new file every target_file_rows / 122,880 row groups
//      (files of about target_file_rows rows); a partitioned one gets one file per partition
//      value (DuckDB cannot start new files in a partitioned COPY; Spark's writers do not cap
//      rows per file by default either). With replace_where, target_file_rows under one row
//      group, or a partitioned table with CHECK constraints or invariants, the rows are first
//      evaluated once into a TEMP table and cut exactly into files of at most target_file_rows
//      rows.
//      A query that reads the table it overwrites sees the version before the write either way
//      (the old files stay until VACUUM);
//   3. statistics (numRecords, minValues, maxValues, nullCount) come from what DuckDB reports for
//      each file it wrote (engine/file_statistics.h);
//   4. a Transaction (delta/transaction.h) commits adds (and removes, for overwrite) with
//      commitInfo operation "WRITE" (or `WriteOptions::operation`) and Spark's operationParameters
//      (mode, partitionBy as JSON text, predicate) and operationMetrics (numFiles, numOutputRows,
//      numOutputBytes, and for overwrites numRemovedFiles, numRemovedBytes, numDeletedRows,
//      numCopiedRows); a classic checkpoint is written at every delta.checkpointInterval-th
//      version.
// Files written by a call whose commit fails are left behind, unreferenced (VACUUM removes them).
//
// Types (DuckDB -> Delta): BOOLEAN boolean, TINYINT byte, SMALLINT short, INTEGER integer, BIGINT
// long, FLOAT float, DOUBLE double, DECIMAL(p,s) decimal(p,s), VARCHAR string, BLOB binary, DATE
// date, TIMESTAMP WITH TIME ZONE timestamp, TIMESTAMP (and TIMESTAMP_S/MS/NS) timestamp_ntz, LIST
// and ARRAY array, STRUCT struct, MAP map, UUID and ENUM string. Widened: UTINYINT short, USMALLINT
// integer, UINTEGER long, UBIGINT decimal(20,0). HUGEINT (what DuckDB's sum() of integers returns)
// becomes long, as Spark's sum(long) is long: a value out of range fails the write. Refused
// (NotSupported, naming the column): UHUGEINT, TIME, INTERVAL, BIT, UNION and the others. DuckDB
// types an untyped NULL (`SELECT NULL AS x`) as INTEGER: a new table gets an integer column (cast
// it to choose), and into an existing column a column holding only NULLs converts to any type.
//
// Schema enforcement, for a table that exists (matching column names ignores case, as Spark):
//   - a table column the query lacks, or a query column the table lacks (without merge_schema;
//     with it the column is added, nullable, at the end): InvalidArgument naming the columns;
//   - a column whose query type does not convert safely to the table's type: InvalidArgument
//     "column 'x': cannot write string to long". Safe: integer to a wider integer, float to double,
//     integers to double or to a decimal wide enough, a decimal to a decimal with as many integer
//     and fraction digits, and these inside structs, arrays and maps. With merge_schema a table
//     column is instead widened to the query's type when that is the safe direction (integer to
//     wider integer, float to double); readers cast older files (this medallion's scan does);
//   - a NOT NULL column (top level) holding a NULL: InvalidArgument
//     "NOT NULL constraint violated for column: x".
//   - a row for which a CHECK constraint or column invariant of the table is false or NULL:
//     InvalidArgument naming the constraint and the row's values (engine/delta_constraints.h),
//     checked before the commit (on the new files for a write straight from the query, which
//     are then removed);
//   - partition_by differing from the table's partition columns: InvalidArgument.
//
// Overwrite (Mode::kOverwrite) removes every active file and adds the new ones in one commit. With
// `replace_where` only rows matching the predicate (a SQL boolean expression over the table's
// columns) are replaced: every new row must match it (else InvalidArgument "Written data does not
// conform to partial table overwrite condition or constraint '<predicate>'", Spark's message);
// only the files data skipping keeps are read; files all of whose rows match are removed; files
// with some matching rows are rewritten without them (copy-on-write: the kept rows are written
// again into new files of the same commit). A predicate on partition columns thus replaces whole
// partitions.
//
// Statistics: as Spark writes them, for the first delta.dataSkippingNumIndexedCols leaf columns
// (engine/file_statistics.h says which and how).
//
// Errors (messages start with the table): AlreadyExists for kErrorIfExists on an existing table;
// InvalidArgument as above and for bad options (an unknown or nested partition column, every column
// a partition column, a bad table property, replace_where with another mode); NotSupported for an
// unsupported type or a binary partition column, and the Transaction's (column mapping, invariants,
// ...); Conflict from the commit; IOError from the store and DuckDB; DuckDB's errors for the query
// itself.
//
// Thread-safety: one call at a time per Connection (it creates TEMP tables named __medallion_w*
// on it). Any number of writers, in any process, may write one table concurrently (commit
// conflicts are the Transaction's). Lifetimes: everything is borrowed for the call only.
// Requirement: the store must have local paths (LocalObjectStore): DuckDB writes the files.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/result.h"
#include "delta/data_skipping.h"
#include "delta/parquet_handler.h"
#include "delta/parquet_writer.h"
#include "delta/schema.h"
#include "delta/snapshot.h"
#include "engine/database.h"
#include "storage/object_store.h"

namespace medallion::engine {

struct WriteResult;

struct WriteOptions {
  // What to do when the table exists (a missing table is created by every mode).
  enum class Mode {
    kAppend,         // add the rows
    kOverwrite,      // replace the rows (all, or those matching replace_where)
    kErrorIfExists,  // AlreadyExists
    kIgnore,         // write nothing; WriteResult::committed is false
  };
  Mode mode = Mode::kAppend;
  // Partition columns of a new table, in order (top-level, primitive, not binary). For an existing
  // table, empty or equal to its partition columns (unless overwrite_schema).
  std::vector<std::string> partition_by;
  // Table properties (metaData.configuration) of a new table, e.g. delta.checkpointInterval.
  // Ignored for an existing table unless overwrite_schema.
  std::map<std::string, std::string> table_properties;
  // kOverwrite only: replace just the rows matching this SQL predicate (see the header comment).
  std::optional<std::string> replace_where;
  // Check that every new row matches replace_where (Databricks'
  // spark.databricks.delta.replaceWhere.constraintCheck.enabled, default on). Off for a writer
  // whose rows match by construction: it saves a pass over them.
  bool replace_where_constraint_check = true;
  // Add query columns the table lacks, and widen int/float columns (see the header comment).
  bool merge_schema = false;
  // kOverwrite only: replace the schema, partitioning and properties with the query's,
  // partition_by and table_properties (CREATE OR REPLACE TABLE, Spark's overwriteSchema).
  bool overwrite_schema = false;
  // An idempotent write (PROTOCOL.md, "Transaction Identifiers"): (appId, version). When the table
  // already records a version >= this for appId, nothing is written (committed = false).
  std::optional<std::pair<std::string, int64_t>> txn;
  // Rows per data file (> 0): at most this many when the rows are cut exactly, about this many
  // in whole row groups when they go straight from the query (see the header comment).
  int64_t target_file_rows = 1'000'000;
  // commitInfo.operation; empty for "WRITE". Session sets "CREATE TABLE AS SELECT" and
  // "CREATE OR REPLACE TABLE AS SELECT".
  std::string operation;
  // Writes checkpoints (at delta.checkpointInterval). Not owned. Null: a DuckDbParquetWriter is
  // made for the call.
  delta::ParquetWriter* checkpoint_writer = nullptr;
  // Called once the files are written and checked, before the commit, with what the commit would
  // record (WriteResult: rows, files, bytes, null_counts; not yet version or committed). An error
  // it returns is the write's: nothing is committed and the files written are removed. It may
  // run queries on the writer's Connection, and other writes (the writer's TEMP tables are gone).
  // Not called when nothing is to be written (kIgnore, or txn already applied).
  std::function<Status(const WriteResult&)> before_commit;
};

struct WriteResult {
  bool committed = false;         // false: kIgnore on an existing table, or txn already applied
  int64_t version = -1;           // the committed version (or the version read when not committed)
  int64_t num_files = 0;          // data files added
  int64_t num_rows = 0;           // rows in the added files (inserted + copied)
  int64_t num_inserted_rows = 0;  // rows of the query
  int64_t num_bytes = 0;          // bytes of the added files
  int64_t num_removed_files = 0;
  int64_t num_deleted_rows = 0;  // overwrite with replace_where: rows removed (-1: unknown)
  int64_t num_copied_rows = 0;   // replace_where: rows rewritten from partially matching files
  // replace_where: the files read to find matching rows, after data skipping (partition values
  // and statistics against the predicate's simple conjuncts, delta/data_skipping.h).
  int64_t num_files_scanned = 0;
  bool checkpoint_written = false;
  // NULLs in the added files per top-level column of a primitive type (partition columns and
  // nested columns are not counted), from the files' statistics.
  std::map<std::string, int64_t> null_counts;
};

// Writes the rows of `select_sql` (one SELECT/VALUES/WITH query; DuckDB SQL) into the Delta table
// at `table_root` (a key prefix, "" for the store root) of `store`, as the header comment
// describes. `parquet` reads the table's checkpoints.
Result<WriteResult> WriteDelta(Connection& conn, std::string_view select_sql,
                               storage::ObjectStore& store, std::string table_root,
                               delta::ParquetHandler& parquet, const WriteOptions& options = {});

// Spark's escaping of a partition value in a folder name (ExternalCatalogUtils.escapePathName):
// '"', '#', '%', '\'', '*', '/', ':', '=', '?', '\\', 0x7F, '{', '[', ']', '^' and control
// characters become %XX (uppercase hex); everything else, including non-ASCII, is kept.
std::string EscapePartitionValue(std::string_view value);

// ---- Pieces shared with the copy-on-write DML (engine/delta_dml.h) ---------------------------

// The folder of change data files (PROTOCOL.md, "Change Data Files") and their change type column.
inline constexpr std::string_view kChangeDataFolder = "_change_data";
inline constexpr std::string_view kChangeTypeColumn = "_change_type";

// How a table lays out the files written into it.
struct DataFileLayout {
  std::vector<delta::StructField> fields;            // the table schema (logical names)
  std::vector<std::string> partition_columns;        // in order; left out of the files
  std::map<std::string, std::string> configuration;  // table properties (statistics columns)
  int64_t target_file_rows = 1'000'000;              // rows per file at most (> 0)
};

// Writes the rows of the TEMP table `rows_table` (columns named as `layout.fields`, of their
// DuckDB types) as data files of the table at `table_root`, split by partition and into files of
// at most target_file_rows rows, with statistics, as WriteDelta does (the header comment); their
// add actions (dataChange true), nothing for an empty table.
Result<std::vector<delta::AddFile>> WriteDataFiles(Connection& conn, storage::ObjectStore& store,
                                                   const std::string& table_root,
                                                   std::string_view rows_table,
                                                   const DataFileLayout& layout);

// The same for change data files (PROTOCOL.md, "Change Data Files"): `rows_table` also has the
// column _change_type; files go under _change_data/ (in partition folders), named
// cdc-NNNNN-<uuid>.c000.snappy.parquet, without statistics; their cdc actions (dataChange false).
Result<std::vector<delta::AddCdcFile>> WriteChangeDataFiles(Connection& conn,
                                                            storage::ObjectStore& store,
                                                            const std::string& table_root,
                                                            std::string_view rows_table,
                                                            const DataFileLayout& layout);

// InvalidArgument "NOT NULL constraint violated for column: x" when a non-nullable top-level
// column of `fields` holds a NULL in `rows_table`.
Status CheckNotNull(Connection& conn, std::string_view rows_table,
                    const std::vector<delta::StructField>& fields);

// The local path the scan's kScanFileColumn holds for an active file of the snapshot.
Result<std::string> DataFileLocalPath(const delta::Snapshot& snapshot, storage::ObjectStore& store,
                                      const delta::AddFile& add);

// The remove action (dataChange true, extended file metadata) for an active file.
delta::RemoveFile RemoveFileFor(const delta::AddFile& add, int64_t deletion_timestamp);

// An active file of a snapshot holding rows that match a predicate.
struct FileMatch {
  const delta::AddFile* file = nullptr;  // points into the snapshot
  std::string local_path;                // as the scan's kScanFileColumn names it
  int64_t matched_rows = 0;              // > 0
  int64_t total_rows = 0;
};

// Registers `view_name` over the `candidates` among the snapshot's active files (a data-skipping
// selection, delta/data_skipping.h; all files for delta::SelectFiles with an empty predicate)
// with the file column (kScanFileColumn, engine/delta_scan.h) and returns the candidates with rows
// matching `predicate` (SQL over the table's columns, the view aliased `alias` when not empty;
// empty: every row), with counts; a NULL predicate value does not match. The view stays
// registered for the caller.
Result<std::vector<FileMatch>> MatchFiles(Connection& conn, const delta::Snapshot& snapshot,
                                          storage::ObjectStore& store,
                                          const delta::FileSelection& candidates,
                                          std::string_view view_name, std::string_view predicate,
                                          std::string_view alias = "");

}  // namespace medallion::engine
