// The file source of streaming tables: Databricks Auto Loader / `read_files` semantics over local
// files, executed by DuckDB. A pipeline engine turns
//
//   CREATE STREAMING TABLE bronze AS
//     SELECT *, _metadata.file_path AS src FROM STREAM read_files('/landing', format => 'csv', ...)
//
// into these steps, each run:
//   1. ParseReadFilesArguments (ingest/file_source_options.h) -> FileSourceOptions;
//   2. ListSourceFiles (ingest/source_file.h) -> every file; the engine keeps the exactly-once
//      bookkeeping and passes on only the files not yet processed;
//   3. InferSchema -> the schema for this batch (inferred on the first run, evolved afterwards per
//      schemaEvolutionMode), which the engine persists (SourceSchema::ToJson) for the next run;
//   4. ReadIntoTable -> the batch's rows, in a temporary table the engine substitutes for the
//      read_files(...) call, and a ReadSummary of malformed records to count in its event log.
//      Or BuildReadQuery -> the SQL the engine evaluates itself (a streaming table's write reads
//      CSV files this way), then ReadMalformed -> the ReadSummary (and whether to read again with
//      ReadIntoTable, when malformed records must be rows).
//
// The rows (Databricks: "read_files", "What is the rescued data column?", "File metadata column"):
//   - the schema's columns, in order, typed as the schema says. A value that does not fit its
//     column's type ('abc' for INT, 1.5 or "12" in a JSON INT field, 'yes' for BOOLEAN) is NULL
//     there and goes to the rescued data column;
//   - the rescued data column (FileSourceOptions::rescued_data_column, when set), VARCHAR holding a
//     JSON object, or NULL when nothing in the record was rescued. It holds, by the original
//     name: values that did not fit their type; columns present in the file but not in the schema;
//     columns whose name matches a schema column only when case is ignored (unless
//     readerCaseSensitive = false); and always "_file_path", the file's path. For example
//     {"delay":"abc","Extra":"1","_file_path":"/landing/a.csv"}. CSV and Parquet values are
//     rescued as JSON strings / their JSON form; JSON values as they were written;
//   - `_metadata` (kMetadataColumn): STRUCT(file_path VARCHAR, file_name VARCHAR, file_size
//     BIGINT, file_block_start BIGINT, file_block_length BIGINT, file_modification_time
//     TIMESTAMP WITH TIME ZONE), Databricks' file metadata column: the absolute path (no scheme),
//     the name, the size in bytes, 0 and the size (one block per file), and the modification time,
//     all from the SourceFile the caller passed. Databricks hides `_metadata` from `SELECT *`; the
//     engine does the same by expanding `*` as `* EXCLUDE (_metadata)` unless the query names
//     `_metadata`.
//
// Malformed records (never dropped silently; Spark's `mode` decides, ParseMode):
//   - CSV: a line with more or fewer fields than the file's header (or first line), or a quoted
//     value that never closes. DuckDB's CSV reader sets these aside (its reject tables) with
//     their raw text, file and line; an unterminated quote swallows the rest of the file into
//     that one record (DuckDB reads quoted values across lines, like Spark with multiLine).
//     Blank and whitespace-only lines are skipped, as Spark does;
//   - JSON: a non-blank line (a whole file with multiLine) that is not valid JSON or not an
//     object (an array element with multiLine).
//   In PERMISSIVE mode with a rescued data column each one is a row: every data column NULL, the
//   rescued column {"_corrupt_record": "<raw text>", "_file_path": "<path>"}. Without a rescued
//   column (or in DROPMALFORMED mode) it is not a row. Either way ReadSummary lists it with file
//   and line, so rows + ReadSummary::malformed_dropped = the records in the files. FAILFAST fails
//   the read (Corruption) naming the first one.
//
// Formats (CSV / JSON / Parquet / text) and where DuckDB makes medallion differ from Databricks:
//   - CSV is read with the options' dialect, never sniffed (ingest/csv_layout.h); columns are
//     matched to the schema by header name (header = true) or position (_c0, _c1, ...). Inferred
//     types (inferColumnTypes): INT, BIGINT, DECIMAL(38,0), DOUBLE, BOOLEAN (true/false), DATE,
//     TIMESTAMP, else STRING, each chosen only when every non-null value parses (a column with no
//     value is STRING). Like Spark's CSV inference this reads every record of the files it
//     infers from, but only the columns it has to type: not hinted columns (their type is the
//     hint's), and on later runs only new columns, with addNewColumns (otherwise later runs read
//     the headers alone). It reads the first kCsvInferencePrefixRows records of each header
//     group first, which settle most text columns (one value that fits no candidate makes a
//     column STRING) and narrow the candidates of the others; a second scan of all records tests
//     only the columns still open, for only their remaining candidates. The result is the same
//     as testing every value against every candidate. The header is read by medallion, so
//     compressed CSV files are not read;
//   - JSON is JSON Lines (or whole documents with multiLine), read as text and parsed with
//     DuckDB's JSON functions so every line is accounted for. Inferred types: BIGINT, DOUBLE,
//     BOOLEAN, STRING, STRUCT, ARRAY; conflicting types and all-null fields become STRING.
//     Inside STRUCT / ARRAY / MAP values DuckDB's lenient JSON conversion applies: a nested
//     field that does not fit becomes NULL within the value, and only a value of the wrong shape
//     altogether (a string for a STRUCT) is rescued. Compressed JSON is not read;
//   - Parquet keeps its own types; files are combined by column name (union_by_name);
//   - text: one column `value` (STRING), a row per line or, with wholeText, per file.
//
// Thread-safety: the functions hold no state; each uses the Connection it is given, which must not
// be used by another thread meanwhile (engine/database.h).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "engine/database.h"
#include "ingest/file_source_options.h"
#include "ingest/source_file.h"
#include "ingest/source_schema.h"

namespace medallion::ingest {

// The file metadata column (Databricks: "File metadata column"). See the header comment.
inline constexpr const char* kMetadataColumn = "_metadata";
// The key of a malformed record's raw text in the rescued data column.
inline constexpr const char* kCorruptRecordKey = "_corrupt_record";
// The key of the file path in the rescued data column (Databricks' name).
inline constexpr const char* kRescuedFilePathKey = "_file_path";
// Auto Loader samples at most this many files to infer a schema
// (spark.databricks.cloudFiles.schemaInference.sampleSize.numFiles); InferSchema does the same,
// taking the first ones in path order.
inline constexpr size_t kInferenceMaxFiles = 1000;
// CSV type inference's first pass reads this many records of each group of files sharing a header
// (see "Formats" above); it only saves work, the types are those of all records.
inline constexpr int64_t kCsvInferencePrefixRows = 2048;

// A column seen in the files that the schema did not have.
struct NewColumn {
  SourceColumn column;     // name as in the file, type as inferred (or hinted)
  std::string first_file;  // the first file (in the given order) that has it
};

struct InferredSchema {
  SourceSchema schema;  // the schema to read this batch with, and to persist
  // Columns of these files missing from the schema they were checked against (`previous` or the
  // `schema` option). With addNewColumns they were appended to `schema`; with rescue their values
  // are rescued; with none they are ignored (rescued if there is a rescued data column).
  std::vector<NewColumn> new_columns;
  bool changed = false;  // `schema` differs from `previous` (always true on a first run)
};

// The schema for a batch of files (Auto Loader, "How does Auto Loader schema inference work?",
// "How does Auto Loader schema evolution work?", "Override schema inference with schema hints").
//   - With the `schema` option: that schema (schema hints override its types).
//   - First run (`previous` empty): inferred from `files` (at most kInferenceMaxFiles of them):
//     CSV/JSON types per inferColumnTypes (false: every value STRING, nested JSON fields too),
//     Parquet types as stored; column order as first seen; names that differ only in case are
//     one column (the first spelling). Then schema hints override types (CSV does not read the
//     values of hinted columns at all), and hinted columns the files lack are appended.
//   - Later runs: `previous`, and new columns (compared ignoring case) are handled per
//     schemaEvolutionMode. addNewColumns appends them (hinted type, else inferred) and reports
//     them in new_columns. Databricks instead stops the stream with UnknownFieldException and the
//     restart picks up the new schema; medallion evolves within the run, which gives the same
//     table after the same files. Existing columns never change type. failOnNewColumns returns
//     InvalidArgument naming the first file with new columns and the columns; rescue and none
//     keep the schema and report them.
//   - text: always `value VARCHAR`.
// Errors: NotFound when there is nothing to infer from (no files, or only empty ones, and no
// `schema`); InvalidArgument as above or for a data column named like the rescued data column or
// `_metadata`; IOError / InvalidArgument from reading the files (DuckDB's message, naming the
// file).
Result<InferredSchema> InferSchema(engine::Connection& conn, const FileSourceOptions& options,
                                   const std::vector<SourceFile>& files,
                                   const std::optional<SourceSchema>& previous);

// A malformed record (see the header comment).
struct MalformedRecord {
  std::string file;         // path
  int64_t line = 0;         // 1-based line where the record starts (1 for a whole-file record)
  int64_t line_count = 1;   // physical lines the record covers
  std::string error;        // what is wrong, e.g. "Expected Number of Columns: 3 Found: 4"
  std::string raw;          // the record's text
};

// The SQL that reads a batch. Building it reads the CSV files' first records and the Parquet
// files' schemas (through `conn`); running it is the caller's.
struct ReadQuery {
  // One SELECT over exactly the given files: the schema's columns, the rescued data column (when
  // enabled), `_metadata`. For CSV it excludes malformed records and stores them in DuckDB
  // reject tables (temporary tables of `conn`). Row order is not specified.
  std::string sql;
  // CSV in PERMISSIVE mode with a rescued data column: a SELECT of the same shape as `sql` giving
  // the malformed records as rows, from the reject tables; run it after `sql`. Empty otherwise.
  std::string malformed_rows_sql;
  // A SELECT (file VARCHAR, line BIGINT, line_count BIGINT, error VARCHAR, raw VARCHAR) listing
  // the malformed records: for CSV from the reject tables (run after `sql`), for JSON an
  // independent scan. Empty for Parquet and text.
  std::string malformed_records_sql;
  // Statements that drop the reject tables; run after the above. Empty when there are none.
  std::string cleanup_sql;
};

// Builds the ReadQuery for `files` read with `schema` (from InferSchema). Errors: IOError from
// reading CSV headers; InvalidArgument / IOError from DuckDB for Parquet schemas; InvalidArgument
// when `files` is empty.
Result<ReadQuery> BuildReadQuery(engine::Connection& conn, const FileSourceOptions& options,
                                 const SourceSchema& schema, const std::vector<SourceFile>& files);

struct ReadSummary {
  int64_t rows = 0;  // rows in the table, malformed records kept as rows included
  // Every malformed record, whether kept as a row or not, in file and line order.
  std::vector<MalformedRecord> malformed;
  // The malformed records that are not rows (no rescued data column, or DROPMALFORMED).
  int64_t malformed_dropped = 0;
};

// For a caller that evaluates ReadQuery::sql itself (into its own write) instead of calling
// ReadIntoTable: after that evaluation, the malformed records it met (CSV: from DuckDB's reject
// tables, which are then dropped; JSON: an independent scan). `rows` is 0 (the caller counts).
// When the options keep malformed records as rows (ReadQuery::malformed_rows_sql is not empty)
// and there are some, the evaluation lacked those rows: the caller must read again with
// ReadIntoTable. Errors: Corruption in FAILFAST mode naming the first malformed record's file and
// line; DuckDB's.
Result<ReadSummary> ReadMalformed(engine::Connection& conn, const FileSourceOptions& options,
                                  const ReadQuery& query);

// Reads `files` into a new temporary table `table` of `conn` (replaced if it exists), with the
// columns of ReadQuery::sql, including malformed records per the parse mode, and returns the
// summary. On error the table does not exist. Errors: as BuildReadQuery; Corruption in FAILFAST
// mode naming the first malformed record's file and line; DuckDB's errors from reading (e.g.
// IOError for a file deleted meanwhile).
Result<ReadSummary> ReadIntoTable(engine::Connection& conn, const FileSourceOptions& options,
                                  const SourceSchema& schema, const std::vector<SourceFile>& files,
                                  std::string_view table);

}  // namespace medallion::ingest
