// CsvLayout: the column layout of CSV source files (their header names, or _c0, _c1, ... without a
// header), and the DuckDB read_csv call that reads a set of files sharing one layout.
//
// Why not DuckDB's sniffer: it guesses the dialect per scan and fails outright on a file whose
// first lines are malformed, while a file source must read every file with the dialect the options
// give (Spark does) and keep the malformed lines. So the header is read here, files are grouped by
// identical header, and each group is read with read_csv(auto_detect = false, all columns VARCHAR
// under internal names, strict_mode = true, store_rejects = true): well-formed records come out as
// rows, the others land in DuckDB's reject tables with their raw text, file and line
// (ingest/file_source.h turns them into rows or reports).
//
// Header names follow Spark's CSV reader: an empty name becomes _c<i>; names that repeat
// (ignoring case) get their 0-based position appended ("a0", "a3").
//
// Errors: IOError when a file cannot be read. Thread-safety: pure functions of the files.
#pragma once

#include <string>
#include <vector>

#include "common/result.h"
#include "ingest/file_source_options.h"
#include "ingest/source_file.h"

namespace medallion::ingest {

// Files that share one layout.
struct CsvFileGroup {
  std::vector<std::string> names;  // column names, in file order
  std::vector<std::string> files;  // paths, in the given order
};

// The fields of a file's first record (after skipRows lines, comment lines and blank lines), per
// the options' delimiter, quote, escape and encoding; empty when the file holds no record.
Result<std::vector<std::string>> ReadCsvFirstRecord(const std::string& path,
                                                    const CsvOptions& options);

// The files grouped by layout, groups in order of their first file. Files without any record are
// left out (they hold no rows).
Result<std::vector<CsvFileGroup>> GroupCsvFilesByLayout(const std::vector<SourceFile>& files,
                                                        const CsvOptions& options);

// The internal name of a group's i-th column in the read_csv call ("__mdl_c<i>").
std::string CsvInternalColumn(size_t i);
// The name of the file-name column the read_csv call adds.
inline constexpr const char* kCsvFileColumn = "__mdl_file";

// `read_csv([...], columns = {...}, auto_detect = false, ...)` for one group; every column
// VARCHAR under CsvInternalColumn names, plus kCsvFileColumn. With reject tables named, malformed
// records are stored there (store_rejects); otherwise they are skipped (ignore_errors), which only
// schema inference does.
struct CsvRejectTables {
  std::string errors;  // DuckDB's rejects_table
  std::string scans;   // DuckDB's rejects_scan
};
std::string CsvReadFunctionSql(const CsvFileGroup& group, const CsvOptions& options,
                               const CsvRejectTables* rejects);

}  // namespace medallion::ingest
