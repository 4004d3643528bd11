// A protocol validator for Delta tables that medallion writes, for tests: checks a table folder
// against delta-io/delta PROTOCOL.md independently of the code that wrote it (it re-derives what
// it checks from the files, with DuckDB).
//
// ValidateDeltaTable checks:
//   - the log: commit files named %020d.json, versions contiguous, every line one JSON object with
//     one known action and the spec's required fields ("Actions"), version 0 with protocol and
//     metaData, every commit with commitInfo (timestamp, operation); ParseActions accepts it;
//   - the latest snapshot: schemaString parses ("Schema Serialization Format"); the protocol
//     matches the features used (timestamp_ntz needs reader 3 / writer 7 with `timestampNtz`;
//     feature lists exactly with versions 3 / 7; change data feed needs writer 4+);
//   - every active data file: named part-NNNNN-<uuid>.cNNN.snappy.parquet; its folders are
//     `col=value` for the partition columns in order, value escaped as Spark escapes it, NULL as
//     __HIVE_DEFAULT_PARTITION__ ("Partition Value Serialization"); partitionValues has exactly the
//     partition columns and each parses as its type; `size` is the file's size; the file has no
//     partition column; `stats` ("Per-file Statistics"): numRecords equals the rows, nullCount of
//     each leaf equals the NULLs, minValues/maxValues equal DuckDB's min/max (strings: 32-character
//     prefix for the min, the value or a prefix-extended bound >= it for the max; timestamps
//     truncated to milliseconds), present for every stats-eligible leaf among the first
//     delta.dataSkippingNumIndexedCols with a non-NULL value;
//   - checkpoints ("Checkpoint Schema"): columns txn, add, remove, metaData, protocol with the add
//     fields path, partitionValues, size, modificationTime, dataChange, stats; one row per action
//     of the snapshot at that version; `_last_checkpoint` names the newest checkpoint and its rows.
//
// Returns OK, or Corruption listing every problem found (one per line). Test-only.
// Thread-safety: independent calls may run concurrently.
#pragma once

#include <string>

#include "common/status.h"

namespace medallion::validity {

// `table_path`: the table's local folder (absolute).
Status ValidateDeltaTable(const std::string& table_path);

// Spark's escaping of a partition value for a folder name, written independently of the writer's.
std::string SparkEscapePathName(const std::string& value);

}  // namespace medallion::validity
