// FileSourceOptions: the options of a file source, parsed from the arguments of Databricks'
// `read_files(...)` table-valued function or the legacy `cloud_files(...)` of Delta Live Tables SQL,
// as they appear in `CREATE STREAMING TABLE t AS SELECT * FROM STREAM read_files(...)`.
//
// Sources of the semantics (Databricks documentation):
//   - "read_files table-valued function": the call form `read_files(path, key => value, ...)`,
//     option names, `inferColumnTypes` default true, `schema`, `schemaHints`,
//     `rescuedDataColumn`, `pathGlobFilter` / `fileNamePattern`;
//   - "Auto Loader options" (cloudFiles.*): `cloudFiles.format`, `cloudFiles.inferColumnTypes`
//     (default false), `cloudFiles.schemaHints`, `cloudFiles.schemaEvolutionMode`, and the
//     operational options listed in kIgnoredOptions, which have no effect on one machine;
//   - "Configure schema inference and evolution in Auto Loader": the evolution modes and their
//     defaults (addNewColumns without a schema, none with one; addNewColumns is not allowed with a
//     given schema), and the rescued data column being added automatically when the schema is
//     inferred;
//   - "CSV file" / "JSON file" format options (header, sep, quote, escape, nullValue, comment,
//     multiLine, mode, ...).
//
// Option names are case-insensitive, as in Spark; a `cloudFiles.` prefix is accepted on every
// option in both call forms (read_files accepts Auto Loader options without it). Values are text:
// booleans are `true`/`false` in any case, numbers are decimal digits.
//
// Errors of the parsers: InvalidArgument naming the option or argument for an unknown option (the
// message lists the supported ones), a bad value, a missing path, or a syntax error;
// NotSupported for a known Databricks format medallion does not read (avro, orc, xml, binaryFile).
//
// Thread-safety: plain values and pure functions.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "ingest/source_schema.h"

namespace medallion::ingest {

enum class FileFormat {
  kCsv,
  kJson,
  kParquet,
  kText,  // one row per line (or per file with wholeText), one STRING column `value`
};
std::string_view FileFormatName(FileFormat format);  // "csv", "json", "parquet", "text"

// cloudFiles.schemaEvolutionMode (Auto Loader, "How does Auto Loader schema evolution work?").
enum class SchemaEvolutionMode {
  kAddNewColumns,     // new columns are appended to the schema (see InferSchema)
  kRescue,            // the schema never changes; new columns' values go to the rescued column
  kFailOnNewColumns,  // a file with new columns fails the read
  kNone,              // the schema never changes; new columns are ignored (rescued only when
                      // rescuedDataColumn is set)
};
std::string_view SchemaEvolutionModeName(SchemaEvolutionMode mode);  // "addNewColumns", ...

// Spark's parser `mode` for CSV and JSON. It applies to malformed records only (a CSV line with
// too many or too few fields or an unterminated quote, a JSON line that is not an object); with a
// rescued data column, type mismatches are rescued in every mode (Auto Loader docs, "What is the
// rescued data column?").
enum class ParseMode {
  kPermissive,     // keep: the record becomes a row (rescued) or is reported
  kDropMalformed,  // drop the record, and report it
  kFailFast,       // fail the read, naming the file and line
};

struct CsvOptions {
  bool header = false;           // `header`: first line holds the column names (Spark: false)
  std::string delimiter = ",";   // `sep` / `delimiter`
  std::string quote = "\"";      // `quote`; empty: no quoting
  // `escape`. Spark's default is a backslash; medallion defaults to the quote character
  // (RFC 4180 doubled quotes, DuckDB's default), the form most CSV writers produce.
  std::string escape = "\"";
  std::string null_value;        // `nullValue`: this text reads as NULL
  std::string comment;           // `comment`: lines starting with it are skipped; empty: none
  int64_t skip_rows = 0;         // `skipRows`: lines skipped before the header/data
  bool ignore_leading_white_space = false;   // `ignoreLeadingWhiteSpace`
  bool ignore_trailing_white_space = false;  // `ignoreTrailingWhiteSpace`
  std::string encoding = "utf-8";            // `encoding` / `charset`: utf-8, latin-1
  // `multiLine`. Accepted for compatibility: the CSV parser always reads quoted values that span
  // lines (Spark does so only with multiLine = true).
  bool multi_line = false;
};

struct JsonOptions {
  // `multiLine`: each file is one JSON document (an object is one record, an array holds one
  // record per element); otherwise JSON Lines, one object per line.
  bool multi_line = false;
};

struct TextOptions {
  bool whole_text = false;  // `wholeText`: one row per file instead of one per line
};

struct FileSourceOptions {
  // The location: a folder (read recursively), a single file, or a glob ("/landing/*/2024/*.csv").
  // A `file:` scheme prefix is removed. Relative paths are taken as given (relative to the
  // process's working directory); the pipeline engine resolves them first.
  std::string path;
  FileFormat format = FileFormat::kCsv;
  // true for cloud_files(...) (Delta Live Tables' legacy Auto Loader call), false for read_files.
  bool legacy_cloud_files = false;

  // `schema`: a Spark DDL column list that replaces inference. Empty when not given.
  std::vector<SourceColumn> schema;
  bool has_schema = false;
  // `schemaHints`: types that override the inferred ones; hinted columns absent from the data are
  // added to the schema.
  std::vector<SourceColumn> schema_hints;
  // `inferColumnTypes` (alias `inferSchema`): infer CSV/JSON column types. Defaults: true for
  // read_files, false for cloud_files (Auto Loader then infers every CSV/JSON value as STRING,
  // nested JSON fields included). Parquet always keeps its own types.
  bool infer_column_types = true;
  // `schemaEvolutionMode`. Default: kAddNewColumns without `schema`, kNone with it.
  SchemaEvolutionMode schema_evolution_mode = SchemaEvolutionMode::kAddNewColumns;
  // The rescued data column's name; empty when there is none. Default: "_rescued_data" when the
  // schema is inferred (Auto Loader adds it automatically) and the mode is not none, or when the
  // mode is rescue; otherwise only when `rescuedDataColumn` names one (the docs: with mode none
  // "data is not rescued unless the rescuedDataColumn option is set").
  std::string rescued_data_column;
  // `readerCaseSensitive` (default true): a column whose name differs from the schema's only in
  // case is rescued rather than read. With false, names match ignoring case.
  bool reader_case_sensitive = true;
  // `pathGlobFilter` / `fileNamePattern`: a glob over file names (not folders); empty: all files.
  std::string path_glob_filter;
  // `recursiveFileLookup`: descend into sub-folders (default true: read_files and Auto Loader
  // discover files recursively).
  bool recursive = true;
  ParseMode parse_mode = ParseMode::kPermissive;  // `mode`

  CsvOptions csv;
  JsonOptions json;
  TextOptions text;

  // Operational options the engine may honor; ingest/ itself ignores them.
  bool include_existing_files = true;            // cloudFiles.includeExistingFiles
  std::optional<int64_t> max_files_per_trigger;  // cloudFiles.maxFilesPerTrigger
  // Options accepted for compatibility that have no effect here (see kIgnoredOptions), as
  // written, so the engine can say so in its event log.
  std::vector<std::string> ignored_options;
};

// Options that are accepted and have no effect on one machine: schemaLocation (the engine
// persists SourceSchema), useNotifications, useIncrementalListing, maxBytesPerTrigger,
// validateOptions, backfillInterval, allowOverwrites, useStrictGlobber (globs are always strict),
// maxFileAge, mergeSchema (Parquet files are always combined by name). Hive-style
// partitionColumns are not supported (an unknown option).
extern const std::vector<std::string_view> kIgnoredOptions;

// The arguments of read_files(...) or cloud_files(...): `args_sql` is the text between the call's
// parentheses, in Spark SQL.
//   read_files:  '<path>' [, name => <literal>]...   names plain or `backticked`
//                (`cloudFiles.format`); literals are 'strings' or "strings" (Spark escapes:
//                \t \n \\ \' ...), numbers, true/false.
//   cloud_files: '<path>', '<format>' [, map('key', 'value', ...)]   keys as in Auto Loader
//                (`cloudFiles.inferColumnTypes`, `header`, ...).
// InvalidArgument naming the argument for anything else (a function call other than map, a
// positional argument after the path in read_files, a duplicate option).
Result<FileSourceOptions> ParseReadFilesArguments(std::string_view args_sql,
                                                  bool legacy_cloud_files);

// The same from an already-split option map (names as written, values as text), for callers
// that hold the options in another form (e.g. a Python-defined flow). `path` is required.
Result<FileSourceOptions> MakeFileSourceOptions(std::string_view path,
                                                const std::map<std::string, std::string>& options,
                                                bool legacy_cloud_files);

}  // namespace medallion::ingest
