#include "pipeline/pipeline_spec.h"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <system_error>

#include "common/macros.h"

namespace medallion::pipeline {
namespace fs = std::filesystem;

namespace {

// The fields unpack_pipeline_spec allows, plus `definitions` (older SDP previews).
constexpr std::string_view kAllowedFields[] = {"name",      "storage",    "catalog",
                                               "database",  "schema",     "configuration",
                                               "libraries", "definitions"};

std::string AllowedFieldList() {
  std::string out;
  for (std::string_view f : kAllowedFields) {
    if (!out.empty()) out += ", ";
    out += f;
  }
  return out;
}

// "[CLASS] message (file:line)". `mark` is yaml-cpp's 0-based position, if known.
Status SpecError(StatusCode code, const fs::path& file, const YAML::Mark* mark,
                 std::string_view error_class, std::string_view message) {
  std::string where = file.string();
  if (mark != nullptr && mark->line >= 0) where += fmt::format(":{}", mark->line + 1);
  return Status(code, fmt::format("[{}] {} ({})", error_class, message, where));
}

Status SpecError(const fs::path& file, const YAML::Node& at, std::string_view error_class,
                 std::string_view message) {
  YAML::Mark mark = at.Mark();
  return SpecError(StatusCode::kInvalidArgument, file, &mark, error_class, message);
}

// The Python type PyYAML's safe_load gives a node (YAML 1.1 resolution), for SDP's type errors:
// "str", "int", "float", "bool", "NoneType", "date", "datetime", "list" or "dict".
std::string PythonTypeName(const YAML::Node& node) {
  if (!node.IsDefined() || node.IsNull()) return "NoneType";
  if (node.IsSequence()) return "list";
  if (node.IsMap()) return "dict";
  const std::string& tag = node.Tag();
  if (tag == "!") return "str";  // quoted or block scalar
  constexpr std::string_view kCore = "tag:yaml.org,2002:";
  if (tag.starts_with(kCore)) {
    std::string t = tag.substr(kCore.size());
    if (t == "null") return "NoneType";
    if (t == "timestamp") return "datetime";
    return t;  // str, int, float, bool, binary, ...
  }
  const std::string& v = node.Scalar();
  // PyYAML's implicit resolvers (YAML 1.1). Function-local statics: thread-safe initialization.
  static const std::regex kBool(
      "yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF");
  static const std::regex kInt(
      "[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+|"
      "[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+");
  static const std::regex kFloat(
      "[-+]?(?:[0-9][0-9_]*)\\.[0-9_]*(?:[eE][-+][0-9]+)?|\\.[0-9_]+(?:[eE][-+][0-9]+)?|"
      "[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\\.[0-9_]*|[-+]?\\.(?:inf|Inf|INF)|\\.(?:nan|NaN|NAN)");
  static const std::regex kDate("[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]");
  static const std::regex kDateTime(
      "[0-9][0-9][0-9][0-9]-[0-9][0-9]?-[0-9][0-9]?(?:[Tt]|[ \\t]+)[0-9][0-9]?:[0-9][0-9]:"
      "[0-9][0-9](?:\\.[0-9]*)?(?:[ \\t]*(?:Z|[-+][0-9][0-9]?(?::[0-9][0-9])?))?");
  if (std::regex_match(v, kBool)) return "bool";
  if (std::regex_match(v, kInt)) return "int";
  if (std::regex_match(v, kFloat)) return "float";
  if (std::regex_match(v, kDate)) return "date";
  if (std::regex_match(v, kDateTime)) return "datetime";
  return "str";
}

// An optional string field (name, storage, catalog, database, schema): a scalar's text; a YAML
// null counts as absent (SDP reads it as None).
Result<std::optional<std::string>> OptionalString(const fs::path& file, const YAML::Node& node,
                                                  std::string_view field) {
  if (node.IsNull()) return std::optional<std::string>();
  if (!node.IsScalar()) {
    return SpecError(file, node, "PIPELINE_SPEC_FIELD_NOT_STRING",
                     fmt::format("Pipeline spec field \"{}\" should be a string, got {}", field,
                                 PythonTypeName(node)));
  }
  return std::optional<std::string>(node.Scalar());
}

// validate_str_dict: a mapping of strings to strings.
Result<std::map<std::string, std::string>> StringDict(const fs::path& file, const YAML::Node& node,
                                                      std::string_view field) {
  if (!node.IsMap()) {
    return SpecError(file, node, "PIPELINE_SPEC_FIELD_NOT_DICT",
                     fmt::format("Pipeline spec field \"{}\" should be a dict, got {}", field,
                                 PythonTypeName(node)));
  }
  std::map<std::string, std::string> out;
  for (const auto& kv : node) {
    std::string key_type = PythonTypeName(kv.first);
    if (key_type != "str") {
      return SpecError(file, kv.first, "PIPELINE_SPEC_DICT_KEY_NOT_STRING",
                       fmt::format("For pipeline spec field \"{}\", key should be a string, got {}",
                                   field, key_type));
    }
    std::string value_type = PythonTypeName(kv.second);
    if (value_type != "str") {
      std::string hint = kv.second.IsScalar()
                             ? fmt::format(" (quote it: \"{}\")", kv.second.Scalar())
                             : std::string();
      return SpecError(
          file, kv.second, "PIPELINE_SPEC_DICT_VALUE_NOT_STRING",
          fmt::format("For pipeline spec field \"{}\", value for key \"{}\" should be a string, "
                      "got {}{}",
                      field, kv.first.Scalar(), value_type, hint));
    }
    out[kv.first.Scalar()] = kv.second.Scalar();  // a repeated key: the last wins, as in PyYAML
  }
  return out;
}

bool HasMagic(std::string_view pattern) {
  return pattern.find_first_of("*?[") != std::string_view::npos;
}

// validate_patch_glob_pattern: a path without wildcards, or a wildcard-free folder + "/**".
Status ValidateLibraryGlob(const fs::path& file, const YAML::Node& at, const std::string& glob) {
  if (!HasMagic(glob)) return Status::OK();
  if (glob.ends_with("/**") && !HasMagic(std::string_view(glob).substr(0, glob.size() - 3))) {
    return Status::OK();
  }
  return SpecError(file, at, "PIPELINE_SPEC_INVALID_GLOB_PATTERN",
                   fmt::format("Pipeline spec library glob \"{}\" is not supported: a glob is a "
                               "file path or a folder path ending in \"/**\" (e.g. "
                               "\"transformations/**\")",
                               glob));
}

// `libraries` / `definitions`: a list of `- glob: {include: "<pattern>"}`.
Result<std::vector<std::string>> LibraryGlobs(const fs::path& file, const YAML::Node& node,
                                              std::string_view field) {
  std::vector<std::string> out;
  if (node.IsNull()) return out;
  auto invalid = [&](const YAML::Node& at, std::string_view what) {
    return SpecError(file, at, "PIPELINE_SPEC_INVALID_LIBRARY",
                     fmt::format("Pipeline spec field \"{}\": {}; each entry is "
                                 "`- glob: {{include: \"folder/**\"}}`",
                                 field, what));
  };
  if (!node.IsSequence()) {
    return invalid(node, fmt::format("should be a list, got {}", PythonTypeName(node)));
  }
  for (const auto& entry : node) {
    if (!entry.IsMap() || !entry["glob"]) {
      std::string what = "an entry has no `glob`";
      if (entry.IsMap() && (entry["file"] || entry["notebook"])) {
        what = "`file` and `notebook` entries are Databricks-only; use `glob: {include: ...}`";
      }
      return invalid(entry, what);
    }
    if (entry.size() != 1) return invalid(entry, "an entry has keys besides `glob`");
    YAML::Node glob = entry["glob"];
    if (!glob.IsMap() || !glob["include"]) return invalid(glob, "a `glob` has no `include`");
    if (glob.size() != 1) return invalid(glob, "a `glob` has keys besides `include`");
    YAML::Node include = glob["include"];
    if (PythonTypeName(include) != "str" || include.Scalar().empty()) {
      return invalid(include, "`include` should be a non-empty string");
    }
    RETURN_NOT_OK(ValidateLibraryGlob(file, include, include.Scalar()));
    out.push_back(include.Scalar());
  }
  return out;
}

fs::path AbsoluteNormal(const fs::path& p) {
  std::error_code ec;
  fs::path abs = fs::absolute(p, ec);
  if (ec) abs = p;
  abs = abs.lexically_normal();
  // "/a/b/" -> "/a/b"
  if (!abs.has_filename() && abs.has_relative_path()) abs = abs.parent_path();
  return abs;
}

}  // namespace

Result<fs::path> FindPipelineSpec(const fs::path& start_dir) {
  const fs::path start = AbsoluteNormal(start_dir);
  fs::path dir = start;
  auto not_found = [&] {
    return Status::NotFound(fmt::format(
        "[PIPELINE_SPEC_FILE_NOT_FOUND] No spark-pipeline.yml or spark-pipeline.yaml file (nor "
        "pipeline.yml / pipeline.yaml) found in directory \"{}\" or its readable ancestor "
        "directories",
        start.string()));
  };
  while (true) {
    std::vector<fs::path> found;
    for (std::string_view name : kPipelineSpecFileNames) {
      fs::path candidate = dir / name;
      std::error_code ec;
      bool is_file = fs::is_regular_file(candidate, ec);
      if (ec && ec != std::errc::no_such_file_or_directory && ec != std::errc::not_a_directory) {
        return not_found();  // e.g. permission denied, as SDP's PermissionError branch
      }
      if (is_file) found.push_back(candidate);
    }
    if (found.size() == 1) return found[0];
    if (found.size() > 1) {
      std::string names;
      for (const auto& f : found) names += (names.empty() ? "" : ", ") + f.filename().string();
      return Status::InvalidArgument(fmt::format(
          "[MULTIPLE_PIPELINE_SPEC_FILES_FOUND] Multiple pipeline spec files found in the "
          "directory \"{}\" ({}); remove all but one, or choose one with --spec",
          dir.string(), names));
    }
    if (dir == dir.root_path() || !dir.has_parent_path() || dir.parent_path() == dir) {
      return not_found();
    }
    dir = dir.parent_path();
  }
}

Result<PipelineSpec> LoadPipelineSpec(const fs::path& spec_file) {
  const fs::path path = AbsoluteNormal(spec_file);
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) {
    return Status::NotFound(fmt::format(
        "[PIPELINE_SPEC_FILE_DOES_NOT_EXIST] The pipeline spec file \"{}\" does not exist",
        path.string()));
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::FromErrno(errno, fmt::format("open {}", path.string()));
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return Status::FromErrno(errno, fmt::format("read {}", path.string()));
  return ParsePipelineSpec(text.str(), path);
}

Result<PipelineSpec> ParsePipelineSpec(std::string_view yaml_text, const fs::path& spec_file) {
  PipelineSpec spec;
  spec.path = AbsoluteNormal(spec_file);
  spec.root_dir = spec.path.parent_path();
  const fs::path& file = spec.path;

  YAML::Node root;
  try {
    root = YAML::Load(std::string(yaml_text));
  } catch (const YAML::Exception& e) {
    std::string where = file.string();
    if (e.mark.line >= 0) where += fmt::format(":{}:{}", e.mark.line + 1, e.mark.column + 1);
    return Status::InvalidArgument(fmt::format(
        "[PIPELINE_SPEC_INVALID_YAML] The pipeline spec is not valid YAML: {} ({})", e.msg, where));
  }
  if (!root.IsDefined() || root.IsNull()) root = YAML::Node(YAML::NodeType::Map);
  if (!root.IsMap()) {
    return SpecError(file, root, "PIPELINE_SPEC_NOT_DICT",
                     fmt::format("The pipeline spec should be a dict (a YAML mapping of fields), "
                                 "got {}",
                                 PythonTypeName(root)));
  }

  // Unknown fields first, then required ones, as unpack_pipeline_spec.
  std::map<std::string, YAML::Node> fields;
  for (const auto& kv : root) {
    std::string key = kv.first.IsScalar() ? kv.first.Scalar() : PythonTypeName(kv.first);
    bool allowed = kv.first.IsScalar() &&
                   std::find(std::begin(kAllowedFields), std::end(kAllowedFields), key) !=
                       std::end(kAllowedFields);
    if (!allowed) {
      return SpecError(file, kv.first, "PIPELINE_SPEC_UNEXPECTED_FIELD",
                       fmt::format("Pipeline spec field \"{}\" is unexpected; the fields are {}",
                                   key, AllowedFieldList()));
    }
    fields[key] = kv.second;  // a repeated key: the last wins, as in PyYAML
  }
  auto missing = [&](std::string_view field) {
    return SpecError(StatusCode::kInvalidArgument, file, nullptr,
                     "PIPELINE_SPEC_MISSING_REQUIRED_FIELD",
                     fmt::format("Pipeline spec missing required field \"{}\"", field));
  };
  auto conflicting = [&](std::string_view a, std::string_view b) {
    return SpecError(file, fields[std::string(b)], "PIPELINE_SPEC_CONFLICTING_FIELDS",
                     fmt::format("Pipeline spec fields \"{}\" and \"{}\" mean the same thing; "
                                 "give only one",
                                 a, b));
  };

  if (!fields.contains("name")) return missing("name");
  ASSIGN_OR_RETURN(auto name, OptionalString(file, fields["name"], "name"));
  if (!name || name->empty()) return missing("name");
  spec.name = *name;

  if (fields.contains("storage")) {
    ASSIGN_OR_RETURN(spec.storage, OptionalString(file, fields["storage"], "storage"));
  }
  if (fields.contains("catalog")) {
    ASSIGN_OR_RETURN(auto catalog, OptionalString(file, fields["catalog"], "catalog"));
    spec.catalog = catalog.value_or("");
  }
  if (fields.contains("database") && fields.contains("schema")) {
    return conflicting("database", "schema");
  }
  for (const char* key : {"database", "schema"}) {
    if (!fields.contains(key)) continue;
    ASSIGN_OR_RETURN(auto schema, OptionalString(file, fields[key], key));
    spec.schema = schema.value_or("");
  }
  if (fields.contains("configuration")) {
    ASSIGN_OR_RETURN(spec.configuration,
                     StringDict(file, fields["configuration"], "configuration"));
  }
  if (fields.contains("libraries") && fields.contains("definitions")) {
    return conflicting("libraries", "definitions");
  }
  for (const char* key : {"libraries", "definitions"}) {
    if (!fields.contains(key)) continue;
    ASSIGN_OR_RETURN(spec.library_globs, LibraryGlobs(file, fields[key], key));
  }

  spec.lakehouse = spec.root_dir / kDefaultLakehouseFolder;
  if (auto it = spec.configuration.find(std::string(kLakehouseConfigurationKey));
      it != spec.configuration.end()) {
    if (it->second.empty()) {
      YAML::Node at = fields["configuration"][it->first];
      return SpecError(file, at, "PIPELINE_SPEC_INVALID_LAKEHOUSE",
                       fmt::format("configuration \"{}\" is empty; give a folder (absolute, or "
                                   "relative to the spec's folder)",
                                   kLakehouseConfigurationKey));
    }
    spec.lakehouse = spec.root_dir / fs::path(it->second);  // an absolute value replaces root_dir
  }
  spec.lakehouse = AbsoluteNormal(spec.lakehouse);
  return spec;
}

// ---- ResolveLibraries ----

namespace {

// fnmatch-style match of one path component: *, ?, [set], [!set].
bool MatchComponent(std::string_view pattern, std::string_view name) {
  size_t p = 0, n = 0;
  size_t star_p = std::string_view::npos, star_n = 0;
  while (n < name.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      star_p = p++;
      star_n = n;
      continue;
    }
    if (p < pattern.size()) {
      if (pattern[p] == '?') {
        ++p;
        ++n;
        continue;
      }
      if (pattern[p] == '[') {
        size_t close = pattern.find(']', p + 2);
        if (close != std::string_view::npos) {
          std::string_view set = pattern.substr(p + 1, close - p - 1);
          bool negate = !set.empty() && (set[0] == '!' || set[0] == '^');
          if (negate) set.remove_prefix(1);
          bool in = false;
          for (size_t i = 0; i < set.size(); ++i) {
            if (i + 2 < set.size() && set[i + 1] == '-') {
              in = in || (set[i] <= name[n] && name[n] <= set[i + 2]);
              i += 2;
            } else {
              in = in || set[i] == name[n];
            }
          }
          if (in != negate) {
            p = close + 1;
            ++n;
            continue;
          }
        } else if (name[n] == '[') {  // an unclosed '[' is literal
          ++p;
          ++n;
          continue;
        }
      } else if (pattern[p] == name[n]) {
        ++p;
        ++n;
        continue;
      }
    }
    if (star_p == std::string_view::npos) return false;
    p = star_p + 1;
    n = ++star_n;
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

// Matches path components against pattern components, where "**" is any number of components.
bool MatchComponents(const std::vector<std::string>& pattern, size_t pi,
                     const std::vector<std::string>& path, size_t ni) {
  if (pi == pattern.size()) return ni == path.size();
  if (pattern[pi] == "**") {
    for (size_t k = ni; k <= path.size(); ++k) {
      if (MatchComponents(pattern, pi + 1, path, k)) return true;
    }
    return false;
  }
  if (ni == path.size() || !MatchComponent(pattern[pi], path[ni])) return false;
  return MatchComponents(pattern, pi + 1, path, ni + 1);
}

std::vector<std::string> SplitComponents(std::string_view text) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= text.size()) {
    size_t slash = text.find('/', start);
    if (slash == std::string_view::npos) slash = text.size();
    std::string_view part = text.substr(start, slash - start);
    if (!part.empty() && part != ".") out.emplace_back(part);
    start = slash + 1;
  }
  return out;
}

bool SkippedByWildcards(const fs::path& entry) {
  std::string name = entry.filename().string();
  return name.starts_with(".") || name == "__pycache__";
}

// Every regular file under `dir` (recursively), skipping hidden entries and __pycache__.
Status ListFilesUnder(const fs::path& dir, std::vector<fs::path>* out) {
  std::error_code ec;
  fs::recursive_directory_iterator it(dir, fs::directory_options::skip_permission_denied, ec);
  if (ec) return Status::IOError(fmt::format("list {}: {}", dir.string(), ec.message()));
  for (; it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (ec) return Status::IOError(fmt::format("list {}: {}", dir.string(), ec.message()));
    if (SkippedByWildcards(it->path())) {
      if (it->is_directory(ec)) it.disable_recursion_pending();
      continue;
    }
    if (it->is_regular_file(ec)) out->push_back(it->path());
  }
  if (ec) return Status::IOError(fmt::format("list {}: {}", dir.string(), ec.message()));
  return Status::OK();
}

// The files one library pattern names.
Status ExpandPattern(const fs::path& root, const std::string& pattern, std::vector<fs::path>* out) {
  std::error_code ec;
  if (!HasMagic(pattern)) {
    fs::path p = root / fs::path(pattern);
    if (fs::is_regular_file(p, ec)) {
      out->push_back(p);
    } else if (fs::is_directory(p, ec)) {
      RETURN_NOT_OK(ListFilesUnder(p, out));
    }
    return Status::OK();
  }
  // The wildcard-free leading folders are the base; the rest is matched under it.
  bool absolute = fs::path(pattern).is_absolute();
  std::vector<std::string> parts = SplitComponents(pattern);
  fs::path base = absolute ? fs::path("/") : root;
  size_t first_magic = 0;
  while (first_magic < parts.size() && !HasMagic(parts[first_magic])) {
    base /= parts[first_magic++];
  }
  std::vector<std::string> rest(parts.begin() + static_cast<std::ptrdiff_t>(first_magic),
                                parts.end());
  if (!fs::is_directory(base, ec)) return Status::OK();
  std::vector<fs::path> candidates;
  RETURN_NOT_OK(ListFilesUnder(base, &candidates));
  for (const auto& file : candidates) {
    std::vector<std::string> rel = SplitComponents(file.lexically_relative(base).generic_string());
    if (MatchComponents(rest, 0, rel, 0)) out->push_back(file);
  }
  return Status::OK();
}

std::string LowerExtension(const fs::path& p) {
  std::string ext = p.extension().string();
  for (char& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return ext;
}

}  // namespace

Result<std::vector<fs::path>> ResolveLibraries(const PipelineSpec& spec) {
  std::set<fs::path> files;
  for (const std::string& pattern : spec.library_globs) {
    std::vector<fs::path> matched;
    RETURN_NOT_OK(ExpandPattern(spec.root_dir, pattern, &matched)
                      .WithContext(fmt::format("library glob \"{}\"", pattern)));
    size_t sources = 0;
    for (const auto& m : matched) {
      std::string ext = LowerExtension(m);
      if (ext != ".sql" && ext != ".py") continue;
      files.insert(fs::absolute(m).lexically_normal());
      ++sources;
    }
    if (sources == 0) {
      return Status::NotFound(
          fmt::format("library glob \"{}\" matches no .sql or .py file under {} (pipeline spec {})",
                      pattern, spec.root_dir.string(), spec.path.string()));
    }
  }
  for (const auto& f : files) {
    if (LowerExtension(f) == ".py") {
      return Status::NotSupported(fmt::format(
          "Python pipeline sources are not supported (file {}): write the datasets in SQL",
          f.string()));
    }
  }
  return std::vector<fs::path>(files.begin(), files.end());
}

}  // namespace medallion::pipeline
