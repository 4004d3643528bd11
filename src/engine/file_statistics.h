// Per-file statistics of the data files medallion writes (PROTOCOL.md, "Per-file Statistics"), as
// Spark writes them, taken from what DuckDB reports while it writes the files
// (`COPY ... (FORMAT parquet, RETURN_STATS true)`): no second pass over the data in the common case.
//
// Which columns: the first delta.dataSkippingNumIndexedCols (default 32; -1 all) leaf columns of the
// data schema, or those delta.dataSkippingStatsColumns names (partition columns are not in the
// files; struct fields count one by one and nest in the JSON; an array or map is one leaf). For
// each: nullCount; and minValues/maxValues for numbers, decimals, strings, dates and timestamps
// (not booleans, binary, arrays, maps). Strings are cut to 32 characters (Spark's
// DATA_SKIPPING_STRING_PREFIX_LENGTH): the min is the prefix; the max is the prefix followed by
// U+10FFFF (so it stays >= every value it stands for), or the value itself when short enough.
// Timestamps are truncated to milliseconds and written as "2021-01-01T00:00:00.000Z" (timestamp,
// UTC) or "2021-01-01T00:00:00.000" (timestamp_ntz); dates as "2021-01-01"; decimals with every
// digit. Left out (a reader then cannot skip on them, which is always correct): NaN and infinite
// bounds (a float column holding NaN has no max), bounds of a column whose values are all NULL,
// and dates or timestamps outside years 0001-9999.
//
// DuckDB's report has no null count for an array or map column, and no bounds for very long
// strings (tens of KB); those leaves are computed by one aggregate query over the written files.
//
// Thread-safety: the functions are pure, except StatsJson's use of the connection (one call at a
// time per Connection).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "delta/schema.h"
#include "engine/database.h"
#include "engine/query_result.h"

namespace medallion::engine {

// One Parquet file DuckDB wrote, as `COPY ... RETURN_STATS true` reports it.
struct CopiedFile {
  std::string path;         // the file's local path (the caller updates it when it moves the file)
  int64_t num_records = 0;  // rows in the file
  // Per column path, as DuckDB names it ("a" for a top-level column, "s"."f" for a struct field,
  // "l"."element" inside a list): min, max, null_count, has_nan (as text; each may be absent).
  std::map<std::string, std::map<std::string, std::string>> column_statistics;
  // COPY ... PARTITION_BY: the file's value of each partitioning column, as text ("NULL" for
  // NULL: mark values where that matters).
  std::map<std::string, std::string> partition_keys;
};

// The files of a `COPY ... RETURN_STATS true` result (columns filename, count, column_statistics,
// partition_keys).
// InvalidArgument when the result has another shape.
Result<std::vector<CopiedFile>> CopiedFilesOf(const QueryResult& result);

// The key DuckDB's report uses for a column path: each name quoted, joined by '.'.
std::string ColumnStatisticsKey(const std::vector<std::string>& path);

// The null count DuckDB reported for the column at `path` of `file`; nullopt when it did not.
std::optional<int64_t> ReportedNullCount(const CopiedFile& file,
                                         const std::vector<std::string>& path);

// The stats JSON of each file (in the order of `files`) for a table whose data columns (partition
// columns left out) are `data_fields` and whose properties are `configuration`. Uses `conn` only
// for leaves DuckDB did not report (see above).
Result<std::vector<std::string>> StatsJsonOf(Connection& conn,
                                             const std::vector<CopiedFile>& files,
                                             const std::vector<delta::StructField>& data_fields,
                                             const std::map<std::string, std::string>& configuration);

}  // namespace medallion::engine
