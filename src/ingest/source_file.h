// SourceFile and ListSourceFiles: file discovery for a file source, as read_files and Auto Loader's
// directory listing mode do it (Databricks, "read_files table-valued function", "File discovery"
// and "Filtering directories or files using glob patterns"; Spark's rule for hidden files).
//
// What is listed, for FileSourceOptions::path:
//   - a file: that file alone (even when its name would count as hidden);
//   - a folder: every file under it, recursively unless options.recursive is false;
//   - a glob ("/landing/*/2024/*.csv"): the pattern is matched component by component against
//     the paths under its longest glob-free folder; a matched file is listed, and a matched folder
//     contributes every file under it (Auto Loader's strict globber: `*` never crosses `/`).
//     Syntax: `?` one character, `*` any run of characters, `[abc]`, `[a-z]`, `[^a]`, and
//     `{ab,cd}` alternatives (which may nest).
// Hidden entries are skipped below the given path, files and folders alike: names starting with
// `.`, names starting with `_` unless they contain `=` (a partition folder such as `_c=1`), and
// names ending in `._COPYING_` (Spark's InMemoryFileIndex rule, which also hides `_delta_log`,
// `_SUCCESS`, `_committed_*`). Then options.path_glob_filter, when set, must match the file's
// name (not its folders). Symbolic links are followed.
//
// Errors: NotFound when the path (or a glob's fixed folder) does not exist; IOError when listing
// or stat fails.
// Thread-safety: a pure function of the file system; safe from any thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "ingest/file_source_options.h"

namespace medallion::ingest {

struct SourceFile {
  std::string path;                 // absolute, lexically normal, '/'-separated
  int64_t size = 0;                 // bytes
  int64_t modification_time = 0;    // microseconds since the Unix epoch (UTC)

  bool operator==(const SourceFile&) const = default;
};

// Every file of the source, sorted by path (byte order). See the header comment.
Result<std::vector<SourceFile>> ListSourceFiles(const FileSourceOptions& options);

// Glob matching as described above, for one path component (`*` and `?` do not match `/`), with
// `{a,b}` alternatives. Exposed for tests and for the engine's own filters.
bool GlobMatch(std::string_view pattern, std::string_view text);

}  // namespace medallion::ingest
