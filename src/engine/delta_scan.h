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

#include "common/status.h"
#include "delta/snapshot.h"
#include "engine/database.h"
#include "storage/object_store.h"

namespace medallion::engine {

Status RegisterDeltaScan(Connection& conn, const delta::Snapshot& snapshot,
                         storage::ObjectStore& store, std::string_view view_name);

}  // namespace medallion::engine
