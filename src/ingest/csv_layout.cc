#include "common/text.h"
#include "ingest/csv_layout.h"

#include <fmt/format.h>

#include <cctype>
#include <cerrno>
#include <cstdio>
#include <map>
#include <memory>

#include "common/macros.h"
#include "engine/sql_text.h"
#include "ingest/source_schema.h"

namespace medallion::ingest {
namespace {

constexpr size_t kFirstChunk = 64 * 1024;
constexpr size_t kMaxHeaderBytes = 64 * 1024 * 1024;

enum class ParseOutcome { kRecord, kNoRecord, kNeedMore };

bool IsBlank(std::string_view text) {
  for (char c : text) {
    if (!std::isspace(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

// Parses the first record of `buf` (the file's first bytes; `eof` when that is all of it).
ParseOutcome ParseFirstRecord(std::string_view buf, bool eof, const CsvOptions& options,
                              std::vector<std::string>& fields) {
  size_t pos = 0;
  if (buf.substr(0, 3) == "\xEF\xBB\xBF") pos = 3;
  auto skip_line = [&]() -> bool {
    size_t nl = buf.find('\n', pos);
    if (nl == std::string_view::npos) return false;
    pos = nl + 1;
    return true;
  };
  for (int64_t i = 0; i < options.skip_rows; ++i) {
    if (!skip_line()) return eof ? ParseOutcome::kNoRecord : ParseOutcome::kNeedMore;
  }
  const std::string& delim = options.delimiter;
  const char quote = options.quote.empty() ? '\0' : options.quote[0];
  const bool has_quote = !options.quote.empty();
  const bool has_escape = !options.escape.empty();
  const char escape = has_escape ? options.escape[0] : '\0';
  while (true) {
    if (pos >= buf.size()) return eof ? ParseOutcome::kNoRecord : ParseOutcome::kNeedMore;
    size_t line_end = buf.find('\n', pos);
    std::string_view line = buf.substr(
        pos, line_end == std::string_view::npos ? std::string_view::npos : line_end - pos);
    if (line_end == std::string_view::npos && !eof) return ParseOutcome::kNeedMore;
    bool comment = !options.comment.empty() && !line.empty() && line[0] == options.comment[0];
    if (comment || IsBlank(line)) {
      if (line_end == std::string_view::npos) return ParseOutcome::kNoRecord;
      pos = line_end + 1;
      continue;
    }
    break;
  }
  fields.clear();
  std::string field;
  bool in_quotes = false;
  bool field_started = false;  // a quote only opens a quoted value at the field's start
  while (pos < buf.size()) {
    char c = buf[pos];
    if (in_quotes) {
      if (has_escape && escape != quote && c == escape) {
        if (pos + 1 >= buf.size()) break;
        field += buf[pos + 1];
        pos += 2;
      } else if (c == quote) {
        if (has_escape && escape == quote && pos + 1 < buf.size() && buf[pos + 1] == quote) {
          field += quote;
          pos += 2;
        } else if (pos + 1 >= buf.size() && !eof) {
          break;  // cannot tell a doubled quote yet
        } else {
          in_quotes = false;
          ++pos;
        }
      } else {
        field += c;
        ++pos;
      }
      continue;
    }
    if (has_quote && c == quote && !field_started) {
      in_quotes = true;
      field_started = true;
      ++pos;
    } else if (buf.compare(pos, delim.size(), delim) == 0) {
      fields.push_back(std::move(field));
      field.clear();
      field_started = false;
      pos += delim.size();
    } else if (c == '\n' || c == '\r') {
      fields.push_back(std::move(field));
      return ParseOutcome::kRecord;
    } else {
      field += c;
      field_started = true;
      ++pos;
    }
  }
  if (!eof) return ParseOutcome::kNeedMore;
  fields.push_back(std::move(field));
  return ParseOutcome::kRecord;
}

std::string Latin1ToUtf8(std::string_view text) {
  std::string out;
  for (char ch : text) {
    unsigned char c = static_cast<unsigned char>(ch);
    if (c < 0x80) {
      out += ch;
    } else {
      out += static_cast<char>(0xC0 | (c >> 6));
      out += static_cast<char>(0x80 | (c & 0x3F));
    }
  }
  return out;
}

// Spark's naming of header columns: empty -> _c<i>; repeated (ignoring case) -> name + position.
std::vector<std::string> HeaderNames(const std::vector<std::string>& fields) {
  std::map<std::string, int> counts;
  for (const std::string& field : fields) ++counts[AsciiLower(field)];
  std::vector<std::string> names;
  for (size_t i = 0; i < fields.size(); ++i) {
    if (fields[i].empty()) {
      names.push_back("_c" + std::to_string(i));
    } else if (counts[AsciiLower(fields[i])] > 1) {
      names.push_back(fields[i] + std::to_string(i));
    } else {
      names.push_back(fields[i]);
    }
  }
  return names;
}

}  // namespace

Result<std::vector<std::string>> ReadCsvFirstRecord(const std::string& path,
                                                    const CsvOptions& options) {
  std::unique_ptr<FILE, int (*)(FILE*)> file(std::fopen(path.c_str(), "rb"), &std::fclose);
  if (!file) return Status::FromErrno(errno, "open " + path);
  std::string buf;
  size_t want = kFirstChunk;
  bool eof = false;
  std::vector<std::string> fields;
  while (true) {
    size_t old = buf.size();
    buf.resize(want);
    size_t got = std::fread(buf.data() + old, 1, want - old, file.get());
    buf.resize(old + got);
    if (got < want - old) {
      if (std::ferror(file.get())) return Status::FromErrno(errno, "read " + path);
      eof = true;
    }
    ParseOutcome outcome = ParseFirstRecord(buf, eof, options, fields);
    if (outcome == ParseOutcome::kRecord) break;
    if (outcome == ParseOutcome::kNoRecord) return std::vector<std::string>{};
    if (want >= kMaxHeaderBytes) {
      return Status::IOError(fmt::format("{}: no complete first record in the first {} bytes",
                                         path, kMaxHeaderBytes));
    }
    want *= 2;
  }
  if (options.encoding == "latin-1") {
    for (std::string& field : fields) field = Latin1ToUtf8(field);
  }
  return fields;
}

Result<std::vector<CsvFileGroup>> GroupCsvFilesByLayout(const std::vector<SourceFile>& files,
                                                        const CsvOptions& options) {
  std::vector<CsvFileGroup> groups;
  std::map<std::vector<std::string>, size_t> index;
  for (const SourceFile& file : files) {
    ASSIGN_OR_RETURN(std::vector<std::string> fields, ReadCsvFirstRecord(file.path, options));
    if (fields.empty()) continue;
    std::vector<std::string> names;
    if (options.header) {
      names = HeaderNames(fields);
    } else {
      for (size_t i = 0; i < fields.size(); ++i) names.push_back("_c" + std::to_string(i));
    }
    auto [it, inserted] = index.emplace(names, groups.size());
    if (inserted) groups.push_back({names, {}});
    groups[it->second].files.push_back(file.path);
  }
  return groups;
}

std::string CsvInternalColumn(size_t i) { return "__mdl_c" + std::to_string(i); }

std::string CsvReadFunctionSql(const CsvFileGroup& group, const CsvOptions& options,
                               const CsvRejectTables* rejects) {
  std::string files;
  for (const std::string& path : group.files) {
    if (!files.empty()) files += ", ";
    files += engine::QuoteString(path);
  }
  std::string columns;
  for (size_t i = 0; i < group.names.size(); ++i) {
    if (i > 0) columns += ", ";
    columns += engine::QuoteString(CsvInternalColumn(i)) + ": 'VARCHAR'";
  }
  std::string sql = fmt::format(
      "read_csv([{}], columns = {{{}}}, auto_detect = false, header = {}, skip = {}, "
      "delim = {}, quote = {}, escape = {}, nullstr = {}, encoding = {}, strict_mode = true, "
      "null_padding = false, filename = {}",
      files, columns, options.header ? "true" : "false", options.skip_rows,
      engine::QuoteString(options.delimiter), engine::QuoteString(options.quote),
      engine::QuoteString(options.quote.empty() ? "" : options.escape),
      engine::QuoteString(options.null_value),
      engine::QuoteString(options.encoding), engine::QuoteString(kCsvFileColumn));
  if (!options.comment.empty()) sql += ", comment = " + engine::QuoteString(options.comment);
  if (rejects != nullptr) {
    sql += fmt::format(", store_rejects = true, rejects_table = {}, rejects_scan = {}",
                       engine::QuoteString(rejects->errors), engine::QuoteString(rejects->scans));
  } else {
    sql += ", ignore_errors = true";
  }
  return sql + ")";
}

}  // namespace medallion::ingest
