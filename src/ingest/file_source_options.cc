#include "common/text.h"
#include "ingest/file_source_options.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <charconv>

#include "common/macros.h"
#include "engine/sql_lexer.h"
#include "ingest/spark_type.h"

namespace medallion::ingest {

const std::vector<std::string_view> kIgnoredOptions = {
    "schemaLocation",   "useNotifications", "useIncrementalListing", "maxBytesPerTrigger",
    "validateOptions",  "backfillInterval", "allowOverwrites",       "useStrictGlobber",
    "maxFileAge",       "mergeSchema",
};

namespace {

// Options medallion reads, in their documented spelling (matched case-insensitively).
const std::vector<std::string_view> kSupportedOptions = {
    "format",
    "schema",
    "schemaHints",
    "inferColumnTypes",
    "inferSchema",
    "schemaEvolutionMode",
    "rescuedDataColumn",
    "readerCaseSensitive",
    "pathGlobFilter",
    "fileNamePattern",
    "recursiveFileLookup",
    "mode",
    "header",
    "sep",
    "delimiter",
    "quote",
    "escape",
    "nullValue",
    "comment",
    "skipRows",
    "ignoreLeadingWhiteSpace",
    "ignoreTrailingWhiteSpace",
    "encoding",
    "charset",
    "multiLine",
    "wholeText",
    "includeExistingFiles",
    "maxFilesPerTrigger",
};

// "cloudFiles.header" -> "header"; lower case.
std::string NormalizeOptionName(std::string_view name) {
  std::string lower = AsciiLower(name);
  constexpr std::string_view kPrefix = "cloudfiles.";
  if (lower.rfind(kPrefix, 0) == 0) lower.erase(0, kPrefix.size());
  return lower;
}

std::string SupportedList() {
  std::string out;
  for (std::string_view name : kSupportedOptions) {
    if (!out.empty()) out += ", ";
    out += name;
  }
  out += "; accepted without effect: ";
  for (size_t i = 0; i < kIgnoredOptions.size(); ++i) {
    if (i > 0) out += ", ";
    out += kIgnoredOptions[i];
  }
  return out;
}

Result<bool> ParseBool(std::string_view name, std::string_view value) {
  std::string lower = AsciiLower(value);
  if (lower == "true") return true;
  if (lower == "false") return false;
  return Status::InvalidArgument(
      fmt::format("option {}: expected true or false, got '{}'", name, value));
}

Result<int64_t> ParseInt(std::string_view name, std::string_view value) {
  int64_t out = 0;
  auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), out);
  if (ec != std::errc() || end != value.data() + value.size() || out < 0) {
    return Status::InvalidArgument(
        fmt::format("option {}: expected a non-negative integer, got '{}'", name, value));
  }
  return out;
}

Result<FileFormat> ParseFormat(std::string_view value) {
  std::string lower = AsciiLower(value);
  if (lower == "csv") return FileFormat::kCsv;
  if (lower == "json") return FileFormat::kJson;
  if (lower == "parquet") return FileFormat::kParquet;
  if (lower == "text") return FileFormat::kText;
  if (lower == "avro" || lower == "orc" || lower == "xml" || lower == "binaryfile") {
    return Status::NotSupported(fmt::format(
        "format '{}' is not supported (supported: csv, json, parquet, text)", value));
  }
  return Status::InvalidArgument(
      fmt::format("unknown format '{}' (supported: csv, json, parquet, text)", value));
}

// The format a path's extension implies, as read_files detects it when `format` is not given.
std::optional<FileFormat> FormatFromExtension(std::string_view path) {
  std::string lower = AsciiLower(path);
  auto ends_with = [&](std::string_view suffix) {
    return lower.size() >= suffix.size() &&
           lower.compare(lower.size() - suffix.size(), suffix.size(), suffix) == 0;
  };
  if (ends_with(".csv") || ends_with(".tsv")) return FileFormat::kCsv;
  if (ends_with(".json") || ends_with(".jsonl") || ends_with(".ndjson")) return FileFormat::kJson;
  if (ends_with(".parquet")) return FileFormat::kParquet;
  if (ends_with(".txt")) return FileFormat::kText;
  return std::nullopt;
}

Result<SchemaEvolutionMode> ParseEvolutionMode(std::string_view value) {
  std::string lower = AsciiLower(value);
  if (lower == "addnewcolumns") return SchemaEvolutionMode::kAddNewColumns;
  if (lower == "rescue") return SchemaEvolutionMode::kRescue;
  if (lower == "failonnewcolumns") return SchemaEvolutionMode::kFailOnNewColumns;
  if (lower == "none") return SchemaEvolutionMode::kNone;
  return Status::InvalidArgument(fmt::format(
      "option schemaEvolutionMode: unknown mode '{}' (addNewColumns, rescue, failOnNewColumns, "
      "none)",
      value));
}

Result<ParseMode> ParseParseMode(std::string_view value) {
  std::string lower = AsciiLower(value);
  if (lower == "permissive") return ParseMode::kPermissive;
  if (lower == "dropmalformed") return ParseMode::kDropMalformed;
  if (lower == "failfast") return ParseMode::kFailFast;
  return Status::InvalidArgument(fmt::format(
      "option mode: unknown mode '{}' (PERMISSIVE, DROPMALFORMED, FAILFAST)", value));
}

Result<std::string> SingleByte(std::string_view name, std::string_view value, bool allow_empty) {
  if (value.size() > 1 || (value.empty() && !allow_empty)) {
    return Status::InvalidArgument(
        fmt::format("option {}: expected a single character, got '{}'", name, value));
  }
  return std::string(value);
}

// Spark string literal escapes: \n \t \r \b \0 \\ \' \" \uXXXX; any other escaped character
// stands for itself.
std::string UnescapeSparkString(std::string_view quoted) {
  char quote = quoted.front();
  std::string_view body = quoted.substr(1, quoted.size() - 2);
  std::string out;
  for (size_t i = 0; i < body.size(); ++i) {
    char c = body[i];
    if (c == quote && i + 1 < body.size() && body[i + 1] == quote) {
      out += quote;
      ++i;
    } else if (c == '\\' && i + 1 < body.size()) {
      char e = body[++i];
      switch (e) {
        case 'n': out += '\n'; break;
        case 't': out += '\t'; break;
        case 'r': out += '\r'; break;
        case 'b': out += '\b'; break;
        case '0': out += '\0'; break;
        case 'u':
          if (i + 4 < body.size()) {
            unsigned code = 0;
            auto [end, ec] = std::from_chars(body.data() + i + 1, body.data() + i + 5, code, 16);
            if (ec == std::errc() && end == body.data() + i + 5) {
              i += 4;
              // UTF-8 encode (BMP only, as Spark's \uXXXX).
              if (code < 0x80) {
                out += static_cast<char>(code);
              } else if (code < 0x800) {
                out += static_cast<char>(0xC0 | (code >> 6));
                out += static_cast<char>(0x80 | (code & 0x3F));
              } else {
                out += static_cast<char>(0xE0 | (code >> 12));
                out += static_cast<char>(0x80 | ((code >> 6) & 0x3F));
                out += static_cast<char>(0x80 | (code & 0x3F));
              }
              break;
            }
          }
          out += 'u';
          break;
        default: out += e; break;
      }
    } else {
      out += c;
    }
  }
  return out;
}

// The tokens of the argument text without spaces and comments.
Result<std::vector<engine::Token>> SignificantTokens(std::string_view args_sql) {
  ASSIGN_OR_RETURN(std::vector<engine::Token> all, engine::LexSql(args_sql));
  std::vector<engine::Token> tokens;
  for (const engine::Token& token : all) {
    if (token.kind != engine::TokenKind::kSpace && token.kind != engine::TokenKind::kComment) {
      tokens.push_back(token);
    }
  }
  return tokens;
}

bool IsSymbol(const engine::Token& token, char symbol) {
  return token.kind == engine::TokenKind::kSymbol && token.text.size() == 1 &&
         token.text[0] == symbol;
}

// A literal at tokens[i]: 'string', "string", [-]number, true/false. Advances i.
Result<std::string> ParseLiteral(const std::vector<engine::Token>& tokens, size_t& i,
                                 std::string_view what) {
  if (i >= tokens.size()) {
    return Status::InvalidArgument(fmt::format("{}: expected a value at the end", what));
  }
  const engine::Token& token = tokens[i];
  if (token.kind == engine::TokenKind::kString || token.kind == engine::TokenKind::kDoubleQuoted) {
    ++i;
    return UnescapeSparkString(token.text);
  }
  if (IsSymbol(token, '-') && i + 1 < tokens.size() &&
      tokens[i + 1].kind == engine::TokenKind::kNumber) {
    i += 2;
    return "-" + std::string(tokens[i - 1].text);
  }
  if (token.kind == engine::TokenKind::kNumber) {
    ++i;
    return std::string(token.text);
  }
  if (engine::IsKeyword(token, "true") || engine::IsKeyword(token, "false")) {
    ++i;
    return AsciiLower(token.text);
  }
  return Status::InvalidArgument(fmt::format(
      "{}: expected a string, number or boolean literal, got '{}'", what, token.text));
}

// map('k1', 'v1', 'k2', 'v2', ...) at tokens[i]; advances i past the closing parenthesis.
Status ParseMapCall(const std::vector<engine::Token>& tokens, size_t& i,
                    std::vector<std::pair<std::string, std::string>>& out) {
  if (!engine::IsKeyword(tokens[i], "map") || i + 1 >= tokens.size() ||
      !IsSymbol(tokens[i + 1], '(')) {
    return Status::InvalidArgument(fmt::format(
        "cloud_files: the third argument must be map('key', 'value', ...), got '{}'",
        tokens[i].text));
  }
  i += 2;
  while (i < tokens.size() && !IsSymbol(tokens[i], ')')) {
    ASSIGN_OR_RETURN(std::string key, ParseLiteral(tokens, i, "cloud_files map key"));
    if (i >= tokens.size() || !IsSymbol(tokens[i], ',')) {
      return Status::InvalidArgument(
          fmt::format("cloud_files map: key '{}' has no value", key));
    }
    ++i;
    ASSIGN_OR_RETURN(std::string value, ParseLiteral(tokens, i, "cloud_files map value"));
    out.emplace_back(std::move(key), std::move(value));
    if (i < tokens.size() && IsSymbol(tokens[i], ',')) ++i;
  }
  if (i >= tokens.size()) {
    return Status::InvalidArgument("cloud_files: map(...) is not closed");
  }
  ++i;  // ')'
  return Status::OK();
}

}  // namespace

std::string_view FileFormatName(FileFormat format) {
  switch (format) {
    case FileFormat::kCsv: return "csv";
    case FileFormat::kJson: return "json";
    case FileFormat::kParquet: return "parquet";
    case FileFormat::kText: return "text";
  }
  return "?";
}

std::string_view SchemaEvolutionModeName(SchemaEvolutionMode mode) {
  switch (mode) {
    case SchemaEvolutionMode::kAddNewColumns: return "addNewColumns";
    case SchemaEvolutionMode::kRescue: return "rescue";
    case SchemaEvolutionMode::kFailOnNewColumns: return "failOnNewColumns";
    case SchemaEvolutionMode::kNone: return "none";
  }
  return "?";
}

Result<FileSourceOptions> MakeFileSourceOptions(std::string_view path,
                                                const std::map<std::string, std::string>& options,
                                                bool legacy_cloud_files) {
  FileSourceOptions out;
  out.legacy_cloud_files = legacy_cloud_files;
  out.path = std::string(path);
  if (out.path.rfind("file://", 0) == 0) {
    out.path.erase(0, 7);
  } else if (out.path.rfind("file:", 0) == 0) {
    out.path.erase(0, 5);
  }
  if (out.path.empty()) return Status::InvalidArgument("the path argument is empty");

  // Normalized name -> (name as written, value); duplicates are an error.
  std::map<std::string, std::pair<std::string, std::string>> given;
  for (const auto& [name, value] : options) {
    std::string key = NormalizeOptionName(name);
    auto [it, inserted] = given.emplace(key, std::make_pair(name, value));
    if (!inserted) {
      return Status::InvalidArgument(
          fmt::format("option {} is given twice (as {} and {})", key, it->second.first, name));
    }
  }

  auto take = [&](std::string_view key) -> std::optional<std::pair<std::string, std::string>> {
    auto it = given.find(std::string(key));
    if (it == given.end()) return std::nullopt;
    auto value = it->second;
    given.erase(it);
    return value;
  };

  // Ignored options first, then everything left must be supported.
  for (std::string_view ignored : kIgnoredOptions) {
    if (auto v = take(AsciiLower(ignored))) out.ignored_options.push_back(v->first);
  }

  bool infer_given = false;
  std::optional<SchemaEvolutionMode> mode;
  std::optional<std::string> rescued;
  for (const auto& [key, entry] : given) {
    const std::string& name = entry.first;
    const std::string& value = entry.second;
    if (key == "format") {
      ASSIGN_OR_RETURN(out.format, ParseFormat(value));
    } else if (key == "schema") {
      ASSIGN_OR_RETURN_CTX(out.schema, ParseSparkColumnList(value), "option " + name);
      out.has_schema = true;
    } else if (key == "schemahints") {
      ASSIGN_OR_RETURN_CTX(out.schema_hints, ParseSparkColumnList(value), "option " + name);
    } else if (key == "infercolumntypes" || key == "inferschema") {
      ASSIGN_OR_RETURN(out.infer_column_types, ParseBool(name, value));
      infer_given = true;
    } else if (key == "schemaevolutionmode") {
      ASSIGN_OR_RETURN(mode, ParseEvolutionMode(value));
    } else if (key == "rescueddatacolumn") {
      rescued = value;
    } else if (key == "readercasesensitive") {
      ASSIGN_OR_RETURN(out.reader_case_sensitive, ParseBool(name, value));
    } else if (key == "pathglobfilter" || key == "filenamepattern") {
      if (!out.path_glob_filter.empty()) {
        return Status::InvalidArgument("give only one of pathGlobFilter and fileNamePattern");
      }
      out.path_glob_filter = value;
    } else if (key == "recursivefilelookup") {
      ASSIGN_OR_RETURN(out.recursive, ParseBool(name, value));
    } else if (key == "mode") {
      ASSIGN_OR_RETURN(out.parse_mode, ParseParseMode(value));
    } else if (key == "header") {
      ASSIGN_OR_RETURN(out.csv.header, ParseBool(name, value));
    } else if (key == "sep" || key == "delimiter") {
      if (value.empty() || value.size() > 4) {
        return Status::InvalidArgument(
            fmt::format("option {}: expected 1 to 4 characters, got '{}'", name, value));
      }
      out.csv.delimiter = value;
    } else if (key == "quote") {
      // Spark disables quoting with "\u0000".
      std::string quote = value == std::string(1, '\0') ? "" : value;
      ASSIGN_OR_RETURN(out.csv.quote, SingleByte(name, quote, /*allow_empty=*/true));
    } else if (key == "escape") {
      ASSIGN_OR_RETURN(out.csv.escape, SingleByte(name, value, /*allow_empty=*/true));
    } else if (key == "nullvalue") {
      out.csv.null_value = value;
    } else if (key == "comment") {
      ASSIGN_OR_RETURN(out.csv.comment, SingleByte(name, value, /*allow_empty=*/true));
    } else if (key == "skiprows") {
      ASSIGN_OR_RETURN(out.csv.skip_rows, ParseInt(name, value));
    } else if (key == "ignoreleadingwhitespace") {
      ASSIGN_OR_RETURN(out.csv.ignore_leading_white_space, ParseBool(name, value));
    } else if (key == "ignoretrailingwhitespace") {
      ASSIGN_OR_RETURN(out.csv.ignore_trailing_white_space, ParseBool(name, value));
    } else if (key == "encoding" || key == "charset") {
      std::string lower = AsciiLower(value);
      if (lower == "utf8") lower = "utf-8";
      if (lower == "latin1" || lower == "iso-8859-1") lower = "latin-1";
      if (lower != "utf-8" && lower != "latin-1") {
        return Status::NotSupported(fmt::format(
            "option {}: encoding '{}' is not supported (utf-8, latin-1)", name, value));
      }
      out.csv.encoding = lower;
    } else if (key == "multiline") {
      ASSIGN_OR_RETURN(bool multi_line, ParseBool(name, value));
      out.csv.multi_line = multi_line;
      out.json.multi_line = multi_line;
    } else if (key == "wholetext") {
      ASSIGN_OR_RETURN(out.text.whole_text, ParseBool(name, value));
    } else if (key == "includeexistingfiles") {
      ASSIGN_OR_RETURN(out.include_existing_files, ParseBool(name, value));
    } else if (key == "maxfilespertrigger") {
      ASSIGN_OR_RETURN(int64_t n, ParseInt(name, value));
      out.max_files_per_trigger = n;
    } else {
      return Status::InvalidArgument(
          fmt::format("unknown option {} (supported: {})", name, SupportedList()));
    }
  }

  if (given.find("format") == given.end()) {
    // Not given: read_files detects the format; medallion takes it from the path's extension.
    std::optional<FileFormat> detected = FormatFromExtension(out.path);
    if (!detected) {
      return Status::InvalidArgument(fmt::format(
          "cannot tell the format of '{}' from its name; give format => 'csv' | 'json' | "
          "'parquet' | 'text'",
          out.path));
    }
    out.format = *detected;
  }
  if (!infer_given) out.infer_column_types = !legacy_cloud_files;

  if (out.has_schema && mode == SchemaEvolutionMode::kAddNewColumns) {
    return Status::InvalidArgument(
        "schemaEvolutionMode addNewColumns is not allowed with a given schema; use schemaHints "
        "instead, or another mode");
  }
  out.schema_evolution_mode =
      mode.value_or(out.has_schema ? SchemaEvolutionMode::kNone
                                   : SchemaEvolutionMode::kAddNewColumns);

  if (out.format == FileFormat::kText) {
    // A fixed schema (`value STRING`): nothing can be rescued.
    out.rescued_data_column.clear();
  } else if (rescued.has_value()) {
    out.rescued_data_column = *rescued;
  } else if ((!out.has_schema && out.schema_evolution_mode != SchemaEvolutionMode::kNone) ||
             out.schema_evolution_mode == SchemaEvolutionMode::kRescue) {
    // Auto Loader adds it when it infers the schema; mode none rescues nothing unless asked.
    out.rescued_data_column = "_rescued_data";
  }
  if (!out.rescued_data_column.empty() &&
      (out.rescued_data_column == "_metadata" ||
       (out.has_schema && SourceSchema{out.schema}.Find(out.rescued_data_column) != nullptr))) {
    return Status::InvalidArgument(fmt::format(
        "rescuedDataColumn '{}' collides with a column of the schema", out.rescued_data_column));
  }
  return out;
}

Result<FileSourceOptions> ParseReadFilesArguments(std::string_view args_sql,
                                                  bool legacy_cloud_files) {
  const char* function = legacy_cloud_files ? "cloud_files" : "read_files";
  ASSIGN_OR_RETURN_CTX(std::vector<engine::Token> tokens, SignificantTokens(args_sql), function);
  size_t i = 0;
  if (tokens.empty()) {
    return Status::InvalidArgument(fmt::format("{}: the path argument is missing", function));
  }
  ASSIGN_OR_RETURN(std::string path, ParseLiteral(tokens, i, std::string(function) + " path"));
  std::map<std::string, std::string> options;
  auto add = [&](std::string name, std::string value) -> Status {
    for (const auto& [existing, v] : options) {
      if (NormalizeOptionName(existing) == NormalizeOptionName(name)) {
        return Status::InvalidArgument(
            fmt::format("{}: option {} is given twice", function, name));
      }
    }
    options.emplace(std::move(name), std::move(value));
    return Status::OK();
  };

  if (legacy_cloud_files) {
    if (i >= tokens.size() || !IsSymbol(tokens[i], ',')) {
      return Status::InvalidArgument("cloud_files: the format argument is missing");
    }
    ++i;
    ASSIGN_OR_RETURN(std::string format, ParseLiteral(tokens, i, "cloud_files format"));
    RETURN_NOT_OK(add("format", format));
    if (i < tokens.size()) {
      if (!IsSymbol(tokens[i], ',')) {
        return Status::InvalidArgument(
            fmt::format("cloud_files: unexpected '{}' after the format", tokens[i].text));
      }
      ++i;
      std::vector<std::pair<std::string, std::string>> entries;
      RETURN_NOT_OK(ParseMapCall(tokens, i, entries));
      for (auto& [k, v] : entries) RETURN_NOT_OK(add(k, v));
    }
    if (i < tokens.size()) {
      return Status::InvalidArgument(
          fmt::format("cloud_files: unexpected '{}' after the options map", tokens[i].text));
    }
  } else {
    while (i < tokens.size()) {
      if (!IsSymbol(tokens[i], ',')) {
        return Status::InvalidArgument(
            fmt::format("read_files: expected ',' but got '{}'", tokens[i].text));
      }
      ++i;
      if (i >= tokens.size()) break;  // a trailing comma
      std::string name;
      if (tokens[i].kind == engine::TokenKind::kWord) {
        name = std::string(tokens[i].text);
        ++i;
        // Dotted names without backticks (cloudFiles.format) are accepted too.
        while (i + 1 < tokens.size() && IsSymbol(tokens[i], '.') &&
               tokens[i + 1].kind == engine::TokenKind::kWord) {
          name += "." + std::string(tokens[i + 1].text);
          i += 2;
        }
      } else if (tokens[i].kind == engine::TokenKind::kBacktick) {
        name = engine::Unquote(tokens[i]);
        ++i;
      } else {
        return Status::InvalidArgument(fmt::format(
            "read_files: options are named (name => value); got '{}' after the path",
            tokens[i].text));
      }
      if (i + 1 >= tokens.size() || !IsSymbol(tokens[i], '=') || !IsSymbol(tokens[i + 1], '>')) {
        return Status::InvalidArgument(
            fmt::format("read_files: expected '=>' after option {}", name));
      }
      i += 2;
      ASSIGN_OR_RETURN(std::string value, ParseLiteral(tokens, i, "read_files option " + name));
      RETURN_NOT_OK(add(name, value));
    }
  }
  return MakeFileSourceOptions(path, options, legacy_cloud_files).WithContext(function);
}

}  // namespace medallion::ingest
