#include "engine/session.h"

#include <fmt/format.h>

#include <filesystem>
#include <optional>

#include "common/macros.h"
#include "delta/commit_reader.h"
#include "delta/partition_value.h"
#include "delta/snapshot.h"
#include "engine/delta_scan.h"
#include "engine/sql_lexer.h"
#include "engine/sql_text.h"
#include "storage/local_object_store.h"

namespace medallion::engine {
namespace {

bool IsTrivia(const Token& t) { return t.kind == TokenKind::kSpace || t.kind == TokenKind::kComment; }

// Index of the next non-space, non-comment token at or after i (tokens.size() if none).
size_t Next(const std::vector<Token>& tokens, size_t i) {
  while (i < tokens.size() && IsTrivia(tokens[i])) ++i;
  return i;
}

bool IsSymbol(const std::vector<Token>& tokens, size_t i, char c) {
  return i < tokens.size() && tokens[i].kind == TokenKind::kSymbol && tokens[i].text[0] == c;
}

bool IsWord(const std::vector<Token>& tokens, size_t i, std::string_view word) {
  return i < tokens.size() && IsKeyword(tokens[i], word);
}

Result<std::unique_ptr<storage::ObjectStore>> OpenTableStore(const std::string& path) {
  std::string local = path.starts_with("file:") ? path : std::filesystem::absolute(path).string();
  if (!path.starts_with("file:") && !std::filesystem::is_directory(local)) {
    return Status::NotFound(fmt::format("no Delta table at {} (no such folder)", path));
  }
  ASSIGN_OR_RETURN(auto store, storage::LocalObjectStore::Make(local));
  return std::unique_ptr<storage::ObjectStore>(std::move(store));
}

}  // namespace

struct Session::TableRef {
  std::string path;
  std::optional<int64_t> version;
  std::optional<int64_t> timestamp_ms;
  size_t end = 0;  // index of the token after the reference

  std::string Key() const {
    return fmt::format("{}@{}@{}", path, version.value_or(-1), timestamp_ms.value_or(-1));
  }
};

namespace {

// Parses `delta.`path`` [[FOR] VERSION AS OF n | [FOR] TIMESTAMP AS OF 'ts'] starting at token i.
// nullopt when the tokens there are not a Delta reference; an error for a malformed time travel.
Result<std::optional<Session::TableRef>> ParseTableRef(const std::vector<Token>& tokens, size_t i) {
  if (!IsWord(tokens, i, "delta")) return std::optional<Session::TableRef>();
  size_t dot = Next(tokens, i + 1);
  if (!IsSymbol(tokens, dot, '.')) return std::optional<Session::TableRef>();
  size_t path = Next(tokens, dot + 1);
  if (path >= tokens.size() || tokens[path].kind != TokenKind::kBacktick) {
    return std::optional<Session::TableRef>();
  }
  Session::TableRef ref;
  ref.path = Unquote(tokens[path]);
  ref.end = path + 1;
  size_t k = Next(tokens, path + 1);
  if (IsWord(tokens, k, "FOR")) k = Next(tokens, k + 1);
  bool by_version = IsWord(tokens, k, "VERSION");
  bool by_time = IsWord(tokens, k, "TIMESTAMP");
  if (!by_version && !by_time) return std::optional<Session::TableRef>(ref);
  size_t as = Next(tokens, k + 1), of = Next(tokens, as + 1), value = Next(tokens, of + 1);
  if (!IsWord(tokens, as, "AS") || !IsWord(tokens, of, "OF") || value >= tokens.size()) {
    if (by_time) return std::optional<Session::TableRef>(ref);  // e.g. a column named timestamp
    return Status::InvalidArgument(fmt::format("line {}: expected VERSION AS OF <number>", tokens[k].line));
  }
  const Token& v = tokens[value];
  if (by_version) {
    int64_t version = -1;
    if (v.kind == TokenKind::kNumber) version = std::strtoll(std::string(v.text).c_str(), nullptr, 10);
    if (v.kind != TokenKind::kNumber || version < 0) {
      return Status::InvalidArgument(
          fmt::format("line {}: VERSION AS OF needs a version number, got '{}'", v.line, v.text));
    }
    ref.version = version;
  } else {
    if (v.kind != TokenKind::kString) {
      return Status::InvalidArgument(
          fmt::format("line {}: TIMESTAMP AS OF needs a quoted timestamp, got '{}'", v.line, v.text));
    }
    std::string text = Unquote(v);
    auto micros = delta::ParseTimestampMicros(text, /*allow_zone=*/true);
    if (!micros.ok()) {
      auto days = delta::ParseDateDays(text);
      if (!days.ok()) {
        return Status::InvalidArgument(
            fmt::format("line {}: '{}' is not a timestamp (use 'YYYY-MM-DD[ HH:MM:SS]')", v.line, text));
      }
      micros = *days * 86400LL * 1000000LL;
    }
    ref.timestamp_ms = *micros / 1000;
  }
  ref.end = value + 1;
  return std::optional<Session::TableRef>(ref);
}

}  // namespace

Result<std::unique_ptr<Session>> Session::Open(const SessionOptions& options) {
  ASSIGN_OR_RETURN(auto db, Database::Open(options.database));
  ASSIGN_OR_RETURN(auto conn, db->Connect());
  if (!options.time_zone.empty()) {
    RETURN_NOT_OK(conn->Execute("SET TimeZone = " + QuoteString(options.time_zone)));
  }
  ASSIGN_OR_RETURN(auto parquet, DuckDbParquetHandler::Make());
  return std::unique_ptr<Session>(new Session(std::move(db), std::move(conn), std::move(parquet)));
}

Result<std::string> Session::RegisterTable(const TableRef& ref) {
  ASSIGN_OR_RETURN(auto store, OpenTableStore(ref.path));
  delta::SnapshotBuilder builder(*store, "");
  if (ref.version) builder.AtVersion(*ref.version);
  if (ref.timestamp_ms) builder.AtTimestamp(*ref.timestamp_ms);
  ASSIGN_OR_RETURN(auto snapshot, builder.Build(*parquet_));
  std::string view = fmt::format("__delta_{}", next_view_++);
  RETURN_NOT_OK(RegisterDeltaScan(*conn_, *snapshot, *store, view));
  return view;
}

Result<QueryResult> Session::DescribeHistory(const TableRef& ref, int64_t limit) {
  ASSIGN_OR_RETURN(auto store, OpenTableStore(ref.path));
  ASSIGN_OR_RETURN(auto history, delta::ReadHistory(*store, "", static_cast<size_t>(limit)));
  RETURN_NOT_OK(conn_->Execute(
      "CREATE OR REPLACE TEMP TABLE __history (version BIGINT, ts BIGINT, info VARCHAR)"));
  {
    ASSIGN_OR_RETURN(auto appender, conn_->MakeAppender("", "__history"));
    for (const auto& entry : history) {
      RETURN_NOT_OK(appender->Append(entry.version));
      RETURN_NOT_OK(appender->Append(entry.timestamp_ms));
      RETURN_NOT_OK(entry.commit_info ? appender->Append(entry.commit_info->raw_json)
                                      : appender->AppendNull());
      RETURN_NOT_OK(appender->EndRow());
    }
    RETURN_NOT_OK(appender->Close());
  }
  return conn_->Query(
      "SELECT version, make_timestamp(ts * 1000) AS timestamp, "
      "j->>'operation' AS operation, "
      "CAST(j->'operationParameters' AS MAP(VARCHAR, VARCHAR)) AS operationParameters, "
      "CAST(j->>'readVersion' AS BIGINT) AS readVersion, j->>'isolationLevel' AS isolationLevel, "
      "CAST(j->>'isBlindAppend' AS BOOLEAN) AS isBlindAppend, "
      "CAST(j->'operationMetrics' AS MAP(VARCHAR, VARCHAR)) AS operationMetrics, "
      "j->>'userMetadata' AS userMetadata, j->>'engineInfo' AS engineInfo "
      "FROM (SELECT version, ts, info::JSON AS j FROM __history) ORDER BY version DESC");
}

Result<QueryResult> Session::DescribeDetail(const TableRef& ref) {
  ASSIGN_OR_RETURN(auto store, OpenTableStore(ref.path));
  ASSIGN_OR_RETURN(auto snapshot, delta::SnapshotBuilder(*store, "").Build(*parquet_));
  const delta::Metadata& m = snapshot->metadata();
  const delta::Protocol& p = snapshot->protocol();
  int64_t size = 0;
  for (const auto& f : snapshot->files()) size += f.size;
  auto list = [](const auto& items) {
    std::string out;
    for (const auto& item : items) out += (out.empty() ? "" : ", ") + QuoteString(item);
    return "[" + out + "]::VARCHAR[]";
  };
  std::string props;
  for (const auto& [k, v] : m.configuration) {
    props += (props.empty() ? "" : ", ") + QuoteString(k) + ": " + QuoteString(v);
  }
  std::set<std::string> features;
  if (p.reader_features) features.insert(p.reader_features->begin(), p.reader_features->end());
  if (p.writer_features) features.insert(p.writer_features->begin(), p.writer_features->end());
  auto opt = [](const std::optional<std::string>& s) { return s ? QuoteString(*s) : "NULL::VARCHAR"; };
  std::string location = std::filesystem::absolute(ref.path).lexically_normal().string();
  if (location.size() > 1 && location.back() == '/') location.pop_back();
  return conn_->Query(fmt::format(
      "SELECT 'delta' AS format, {} AS id, {} AS name, {} AS description, {} AS location, "
      "{} AS createdAt, make_timestamp({}::BIGINT * 1000) AS lastModified, {} AS partitionColumns, "
      "{}::BIGINT AS numFiles, {}::BIGINT AS sizeInBytes, MAP {{{}}}::MAP(VARCHAR, VARCHAR) AS properties, "
      "{} AS minReaderVersion, {} AS minWriterVersion, {} AS tableFeatures",
      QuoteString(m.id), opt(m.name), opt(m.description), QuoteString(location),
      m.created_time ? fmt::format("make_timestamp({}::BIGINT * 1000)", *m.created_time) : "NULL::TIMESTAMP",
      snapshot->timestamp_ms(), list(m.partition_columns), snapshot->files().size(), size, props,
      p.min_reader_version, p.min_writer_version, list(features)));
}

Result<QueryResult> Session::RunStatement(std::string_view text, size_t first_line) {
  ASSIGN_OR_RETURN(std::vector<Token> tokens, LexSql(text));
  size_t first = Next(tokens, 0);
  // DESCRIBE HISTORY / DETAIL <table>
  if (IsWord(tokens, first, "DESCRIBE")) {
    size_t what = Next(tokens, first + 1);
    bool history = IsWord(tokens, what, "HISTORY"), detail = IsWord(tokens, what, "DETAIL");
    if (history || detail) {
      size_t at = Next(tokens, what + 1);
      ASSIGN_OR_RETURN(auto ref, ParseTableRef(tokens, at));
      if (!ref) {
        return Status::NotSupported(fmt::format(
            "line {}: DESCRIBE {} takes a Delta table as delta.`/path/to/table`", first_line,
            history ? "HISTORY" : "DETAIL"));
      }
      int64_t limit = 0;
      size_t k = Next(tokens, ref->end);
      if (history && IsWord(tokens, k, "LIMIT")) {
        size_t n = Next(tokens, k + 1);
        if (n >= tokens.size() || tokens[n].kind != TokenKind::kNumber) {
          return Status::InvalidArgument(fmt::format("line {}: LIMIT needs a number", first_line));
        }
        limit = std::strtoll(std::string(tokens[n].text).c_str(), nullptr, 10);
        k = Next(tokens, n + 1);
      }
      if (k < tokens.size()) {
        return Status::InvalidArgument(
            fmt::format("line {}: unexpected '{}' after the table", tokens[k].line + first_line - 1, tokens[k].text));
      }
      return history ? DescribeHistory(*ref, limit) : DescribeDetail(*ref);
    }
  }
  // Rewrite table references and backticks.
  std::string out;
  std::map<std::string, std::string> views;
  for (size_t i = 0; i < tokens.size();) {
    ASSIGN_OR_RETURN(auto ref, ParseTableRef(tokens, i));
    if (ref) {
      auto it = views.find(ref->Key());
      if (it == views.end()) {
        ASSIGN_OR_RETURN(std::string view, RegisterTable(*ref));
        it = views.emplace(ref->Key(), view).first;
      }
      out += it->second;
      i = ref->end;
      continue;
    }
    if (tokens[i].kind == TokenKind::kBacktick) {
      out += QuoteIdentifier(Unquote(tokens[i]));
    } else {
      out += tokens[i].text;
    }
    ++i;
  }
  return conn_->Query(out);
}

Result<QueryResult> Session::Query(std::string_view sql) {
  ASSIGN_OR_RETURN(std::vector<Token> tokens, LexSql(sql));
  std::optional<Result<QueryResult>> last;
  size_t start = 0;
  for (size_t i = 0; i <= tokens.size(); ++i) {
    bool end = i == tokens.size() || (tokens[i].kind == TokenKind::kSymbol && tokens[i].text == ";");
    if (!end) continue;
    size_t first = Next(tokens, start);
    if (first < i) {
      size_t from = tokens[first].offset;
      size_t to = i < tokens.size() ? tokens[i].offset : sql.size();
      size_t line = tokens[first].line;
      last = RunStatement(sql.substr(from, to - from), line);
      if (!last->ok()) return last->status().WithContext(fmt::format("statement at line {}", line));
    }
    start = i + 1;
  }
  if (!last) return Status::InvalidArgument("no SQL statement given");
  return std::move(*last);
}

}  // namespace medallion::engine
