#include "ingest/source_file.h"

#include <fmt/format.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <set>
#include <system_error>

#include "common/macros.h"

namespace medallion::ingest {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kGlobChars = "*?[{";
constexpr size_t kMaxBraceExpansions = 1024;

bool HasGlob(std::string_view text) {
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\\') {
      ++i;
    } else if (kGlobChars.find(text[i]) != std::string_view::npos) {
      return true;
    }
  }
  return false;
}

// Expands the first top-level {a,b,...} of `pattern` and recurses; patterns without braces are
// returned as they are. Unbalanced braces are taken literally.
void ExpandBraces(const std::string& pattern, std::vector<std::string>& out) {
  if (out.size() >= kMaxBraceExpansions) return;
  size_t open = std::string::npos;
  for (size_t i = 0; i < pattern.size(); ++i) {
    if (pattern[i] == '\\') {
      ++i;
    } else if (pattern[i] == '{') {
      open = i;
      break;
    }
  }
  if (open == std::string::npos) {
    out.push_back(pattern);
    return;
  }
  int depth = 0;
  size_t close = std::string::npos;
  std::vector<size_t> commas;
  for (size_t i = open; i < pattern.size(); ++i) {
    char c = pattern[i];
    if (c == '\\') {
      ++i;
    } else if (c == '{') {
      ++depth;
    } else if (c == '}') {
      if (--depth == 0) {
        close = i;
        break;
      }
    } else if (c == ',' && depth == 1) {
      commas.push_back(i);
    }
  }
  if (close == std::string::npos) {
    out.push_back(pattern);
    return;
  }
  std::string prefix = pattern.substr(0, open);
  std::string suffix = pattern.substr(close + 1);
  size_t start = open + 1;
  commas.push_back(close);
  for (size_t comma : commas) {
    ExpandBraces(prefix + pattern.substr(start, comma - start) + suffix, out);
    start = comma + 1;
  }
}

// Matches ?, *, [set], \x against one component (no braces left).
bool MatchSimple(std::string_view p, std::string_view t) {
  size_t pi = 0, ti = 0;
  size_t star_p = std::string_view::npos, star_t = 0;
  while (ti < t.size()) {
    if (pi < p.size()) {
      char c = p[pi];
      if (c == '*') {
        star_p = pi++;
        star_t = ti;
        continue;
      }
      if (c == '?' && t[ti] != '/') {
        ++pi;
        ++ti;
        continue;
      }
      if (c == '[') {
        size_t j = pi + 1;
        bool negate = j < p.size() && (p[j] == '^' || p[j] == '!');
        if (negate) ++j;
        bool matched = false;
        bool first = true;
        while (j < p.size() && (first || p[j] != ']')) {
          first = false;
          char lo = p[j];
          if (lo == '\\' && j + 1 < p.size()) lo = p[++j];
          char hi = lo;
          if (j + 2 < p.size() && p[j + 1] == '-' && p[j + 2] != ']') {
            hi = p[j + 2];
            j += 2;
          }
          if (t[ti] >= lo && t[ti] <= hi) matched = true;
          ++j;
        }
        if (j < p.size() && matched != negate && t[ti] != '/') {
          pi = j + 1;
          ++ti;
          continue;
        }
      } else if (c == '\\' && pi + 1 < p.size()) {
        if (p[pi + 1] == t[ti]) {
          pi += 2;
          ++ti;
          continue;
        }
      } else if (c == t[ti]) {
        ++pi;
        ++ti;
        continue;
      }
    }
    // Mismatch: let the last `*` take one more character (never a '/').
    if (star_p == std::string_view::npos || t[star_t] == '/') return false;
    pi = star_p + 1;
    ti = ++star_t;
  }
  while (pi < p.size() && p[pi] == '*') ++pi;
  return pi == p.size();
}

bool IsHidden(std::string_view name) {
  if (name.empty()) return true;
  if (name[0] == '.') return true;
  if (name[0] == '_' && name.find('=') == std::string_view::npos) return true;
  constexpr std::string_view kCopying = "._COPYING_";
  return name.size() >= kCopying.size() &&
         name.compare(name.size() - kCopying.size(), kCopying.size(), kCopying) == 0;
}

Result<SourceFile> StatFile(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return Status::FromErrno(errno, "stat " + path);
  SourceFile file;
  file.path = path;
  file.size = static_cast<int64_t>(st.st_size);
  file.modification_time = static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000 +
                           static_cast<int64_t>(st.st_mtim.tv_nsec) / 1000;
  return file;
}

class Lister {
 public:
  explicit Lister(const FileSourceOptions& options) : options_(options) {}

  // Adds a file when its name passes pathGlobFilter.
  Status AddFile(const fs::path& path) {
    if (!options_.path_glob_filter.empty() &&
        !GlobMatch(options_.path_glob_filter, path.filename().string())) {
      return Status::OK();
    }
    std::string text = path.string();
    if (!seen_.insert(text).second) return Status::OK();
    ASSIGN_OR_RETURN(SourceFile file, StatFile(text));
    files_.push_back(std::move(file));
    return Status::OK();
  }

  // Every non-hidden file under `dir` (recursively when options.recursive).
  Status AddFolder(const fs::path& dir) {
    std::error_code ec;
    fs::directory_iterator it(dir, ec);
    if (ec) return Status::IOError(fmt::format("list {}: {}", dir.string(), ec.message()));
    for (const fs::directory_entry& entry : it) {
      std::string name = entry.path().filename().string();
      if (IsHidden(name)) continue;
      std::error_code type_ec;
      if (entry.is_directory(type_ec)) {
        if (options_.recursive) RETURN_NOT_OK(AddFolder(entry.path()));
      } else if (entry.is_regular_file(type_ec)) {
        RETURN_NOT_OK(AddFile(entry.path()));
      }
    }
    return Status::OK();
  }

  // Matches components[depth...] under `dir`.
  Status AddGlob(const fs::path& dir, const std::vector<std::string>& components, size_t depth) {
    std::error_code ec;
    fs::directory_iterator it(dir, ec);
    if (ec) return Status::IOError(fmt::format("list {}: {}", dir.string(), ec.message()));
    for (const fs::directory_entry& entry : it) {
      std::string name = entry.path().filename().string();
      if (IsHidden(name) || !MatchSimple(components[depth], name)) continue;
      std::error_code type_ec;
      bool is_dir = entry.is_directory(type_ec);
      if (depth + 1 == components.size()) {
        if (is_dir) {
          RETURN_NOT_OK(AddFolder(entry.path()));
        } else if (entry.is_regular_file(type_ec)) {
          RETURN_NOT_OK(AddFile(entry.path()));
        }
      } else if (is_dir) {
        RETURN_NOT_OK(AddGlob(entry.path(), components, depth + 1));
      }
    }
    return Status::OK();
  }

  std::vector<SourceFile> Take() {
    std::sort(files_.begin(), files_.end(),
              [](const SourceFile& a, const SourceFile& b) { return a.path < b.path; });
    return std::move(files_);
  }

 private:
  const FileSourceOptions& options_;
  std::set<std::string> seen_;
  std::vector<SourceFile> files_;
};

std::vector<std::string> SplitComponents(std::string_view path) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= path.size()) {
    size_t slash = path.find('/', start);
    if (slash == std::string_view::npos) slash = path.size();
    if (slash > start) out.emplace_back(path.substr(start, slash - start));
    start = slash + 1;
  }
  return out;
}

}  // namespace

bool GlobMatch(std::string_view pattern, std::string_view text) {
  std::vector<std::string> alternatives;
  ExpandBraces(std::string(pattern), alternatives);
  for (const std::string& alternative : alternatives) {
    if (MatchSimple(alternative, text)) return true;
  }
  return false;
}

Result<std::vector<SourceFile>> ListSourceFiles(const FileSourceOptions& options) {
  Lister lister(options);
  if (!HasGlob(options.path)) {
    fs::path path = fs::absolute(fs::path(options.path)).lexically_normal();
    std::string text = path.string();
    while (text.size() > 1 && text.back() == '/') text.pop_back();
    path = text;
    std::error_code ec;
    fs::file_status status = fs::status(path, ec);
    if (ec || !fs::exists(status)) {
      return Status::NotFound(fmt::format("source path {} does not exist", options.path));
    }
    if (fs::is_directory(status)) {
      RETURN_NOT_OK(lister.AddFolder(path));
    } else {
      // A file named by the path is listed even when its name counts as hidden;
      // pathGlobFilter still applies.
      RETURN_NOT_OK(lister.AddFile(path));
    }
    return lister.Take();
  }

  std::string absolute = options.path;
  if (absolute.empty() || absolute[0] != '/') {
    absolute = fs::current_path().string() + "/" + absolute;
  }
  std::vector<std::string> patterns;
  ExpandBraces(absolute, patterns);
  bool any_base = false;
  for (const std::string& pattern : patterns) {
    std::vector<std::string> components = SplitComponents(pattern);
    fs::path base = "/";
    size_t first_glob = 0;
    while (first_glob < components.size() && !HasGlob(components[first_glob])) {
      base /= components[first_glob];
      ++first_glob;
    }
    base = base.lexically_normal();
    std::error_code ec;
    if (!fs::is_directory(base, ec)) continue;
    any_base = true;
    if (first_glob == components.size()) {
      RETURN_NOT_OK(lister.AddFolder(base));
      continue;
    }
    std::vector<std::string> rest(components.begin() + static_cast<std::ptrdiff_t>(first_glob),
                                  components.end());
    RETURN_NOT_OK(lister.AddGlob(base, rest, 0));
  }
  if (!any_base) {
    return Status::NotFound(
        fmt::format("source path {}: the folder before the glob does not exist", options.path));
  }
  return lister.Take();
}

}  // namespace medallion::ingest
