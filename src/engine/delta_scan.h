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
// Partition values and deleted row indexes are appended into TEMP tables named after the view
// ("<name>__partitions", "<name>__deleted"), so the SQL stays small for 100,000 files.
//
// Errors: InvalidArgument for a bad view name or an unparsable partition value (naming the file and
// column); the store's and DuckDB's errors with the table root as context (IOError for a missing
// data file surfaces when the view is queried, from DuckDB).
//
// Thread-safety: as for Connection (one thread at a time per connection). The view refers to files,
// not to the snapshot or store, which need not outlive the call.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "delta/snapshot.h"
#include "engine/database.h"
#include "storage/object_store.h"

namespace medallion::engine {

// The column that holds each row's data file path inside a Delta scan (DuckDB's read_parquet
// `filename` option); writers that rewrite files (replaceWhere, DML) select it as an extra column.
inline constexpr std::string_view kScanFileColumn = "__medallion_file";

Status RegisterDeltaScan(Connection& conn, const delta::Snapshot& snapshot,
                         storage::ObjectStore& store, std::string_view view_name);

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

}  // namespace medallion::engine
