// Scanning Delta tables with DuckDB: a snapshot (delta/snapshot.h) becomes a DuckDB view with the
// table's logical schema (docs/architecture.md, "Data flow").
//
// RegisterDeltaScan creates, on one connection, `CREATE OR REPLACE TEMP VIEW <name>` over
// read_parquet of the snapshot's active files, and applies what PROTOCOL.md requires of a reader:
//   - column mapping ("Column Mapping"): data files use physical names; the view exposes logical
//     names, at every nesting level (struct fields, array elements, map keys and values);
//   - types ("Schema Serialization Format"): each column is cast to the table's type where the file
//     differs (INT96 and millisecond timestamps, narrower integers after type widening); Delta
//     `timestamp` is TIMESTAMP WITH TIME ZONE, `timestamp_ntz` is TIMESTAMP;
//   - schema evolution: a column that no data file has reads as NULL;
//   - partition columns ("Partition Value Serialization"): from each file's partitionValues, typed;
//   - deletion vectors ("Deletion Vectors"): rows they mark are not returned.
// Deleted row indexes are appended into a TEMP table named after the view ("<name>__deleted"), so
// the SQL stays small for 100,000 files. Partition values come, in order of preference:
//   - from the paths, by DuckDB's Hive partitioning (`hive_types` the Delta types), when every file
//     is in Spark's `col=value/` folders, the folders spell the log's partitionValues exactly, the
//     values are plain text (letters, digits, '-', '_', '.'; no NULL) of a string, integer,
//     decimal, boolean or date column, no data file stores a partition column, and there is no
//     column mapping: one read_parquet, no join, files pruned by DuckDB under a filter;
//   - else, with at most 64 distinct partition tuples among the files read, a UNION ALL of one
//     read_parquet per tuple, with the typed values as constants (DuckDB drops the branches a
//     filter on a partition column excludes);
//   - else one read_parquet joined to a TEMP table of partition values ("<name>__partitions").
//
// Statements: one parquet_schema query over all the files read (their footers, for each file's
// columns), the TEMP tables above when needed, and the CREATE VIEW; nothing per file or per
// partition tuple. A read_parquet whose files all have the same columns is written without
// union_by_name, so that binding the view opens only its first file.
//
// Data skipping: given a predicate (DeltaScanOptions), only the active files that may hold
// matching rows are registered (delta/data_skipping.h: partition values and per-file statistics).
// The view then holds a superset of the matching rows, not the whole table: the caller must apply
// the predicate itself (a query's WHERE does), and must not use the view for anything else.
//
// Errors: InvalidArgument for a bad view name or an unparsable partition value (naming the file and
// column); the store's and DuckDB's errors with the table root as context (IOError for a missing
// data file surfaces when the view is queried, from DuckDB).
//
// Thread-safety: as for Connection (one thread at a time per connection). The view refers to files,
// not to the snapshot or store, which need not outlive the call.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "delta/data_skipping.h"
#include "delta/snapshot.h"
#include "engine/database.h"
#include "storage/object_store.h"

namespace medallion::engine {

// The column that holds each row's data file path inside a Delta scan (DuckDB's read_parquet
// `filename` option); writers that rewrite files (replaceWhere, DML) select it as an extra column.
inline constexpr std::string_view kScanFileColumn = "__medallion_file";

struct DeltaScanOptions {
  // The conjuncts the reader will apply; only files that may match are read. Conjuncts on columns
  // the table does not have are left out (a WHERE may name select-list aliases), and a predicate
  // the table cannot bind skips nothing. Empty: every active file.
  delta::SkippingPredicate predicate;
};

// What a registration read, for logs, tests and benchmarks.
struct DeltaScanInfo {
  int64_t files_considered = 0;  // the snapshot's active files
  int64_t files_read = 0;        // those registered in the view (after data skipping)
};

// `info`, when given, receives the file counts.
Status RegisterDeltaScan(Connection& conn, const delta::Snapshot& snapshot,
                         storage::ObjectStore& store, std::string_view view_name,
                         const DeltaScanOptions& options = {}, DeltaScanInfo* info = nullptr);

// The same view over an explicit list of a table's files (not a snapshot's active files), read with
// `config`'s schema, partitioning and column mapping: the change data feed reads one commit's adds,
// removes or cdc files this way (engine/delta_maintenance.h). Paths are as in the log, relative to
// `table_root` or absolute. `extra_columns` are physical columns passed through as VARCHAR after
// the schema's columns (NULL when a file lacks them), e.g. `_change_type` of change data files
// (PROTOCOL.md, "Change Data Files"). Errors as RegisterDeltaScan.
Status RegisterDeltaFileScan(Connection& conn, const delta::TableConfiguration& config,
                             std::string_view table_root, const std::vector<delta::AddFile>& files,
                             storage::ObjectStore& store, std::string_view view_name,
                             const std::vector<std::string>& extra_columns = {});
// The same over the files data skipping selected (delta::SelectFiles); they must outlive the call.
Status RegisterDeltaSelectionScan(Connection& conn, const delta::TableConfiguration& config,
                                  std::string_view table_root, const delta::FileSelection& selection,
                                  storage::ObjectStore& store, std::string_view view_name,
                                  const std::vector<std::string>& extra_columns = {});

}  // namespace medallion::engine
