#include "engine/session.h"

#include <fmt/format.h>

#include <filesystem>
#include <optional>

#include "common/macros.h"
#include "delta/commit_reader.h"
#include "delta/data_skipping.h"
#include "delta/optimize_plan.h"
#include "delta/partition_value.h"
#include "delta/snapshot.h"
#include "engine/delta_dml.h"
#include "engine/delta_constraints.h"
#include "engine/delta_maintenance.h"
#include "engine/delta_scan.h"
#include "engine/scan_predicate.h"
#include "engine/delta_writer.h"
#include "engine/spark_sql.h"
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

// A table at `path` opens as a store rooted at its parent folder, with the folder's name as the
// table root, so that messages from delta/ name the table.
struct OpenedTable {
  std::unique_ptr<storage::ObjectStore> store;
  std::string root;
};

Result<OpenedTable> OpenTableStore(const std::string& path) {
  std::string local = path;
  if (local.starts_with("file://")) {
    local = local.substr(7);
  } else if (local.starts_with("file:")) {
    local = local.substr(5);
  }
  std::filesystem::path folder = std::filesystem::absolute(local).lexically_normal();
  if (!folder.has_filename()) folder = folder.parent_path();  // a trailing '/'
  if (!std::filesystem::is_directory(folder)) {
    return Status::NotFound(fmt::format("no Delta table at {} (no such folder)", path));
  }
  if (folder == folder.root_path()) {
    return Status::InvalidArgument("a Delta table cannot be the file system root");
  }
  ASSIGN_OR_RETURN(auto store, storage::LocalObjectStore::Make(folder.parent_path().string()));
  return OpenedTable{std::move(store), folder.filename().string()};
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

// The head shared by CREATE TABLE ... AS and ... CLONE:
// CREATE [OR REPLACE] TABLE [IF NOT EXISTS] delta.`path`. nullopt when the statement at `first`
// does not start so (another CREATE, or a DuckDB table).
struct CreateTableHead {
  bool replace = false;
  bool if_not_exists = false;
  Session::TableRef target;
};

Result<std::optional<CreateTableHead>> ParseCreateTableHead(const std::vector<Token>& tokens,
                                                            size_t first) {
  CreateTableHead head;
  size_t k = Next(tokens, first + 1);
  if (IsWord(tokens, k, "OR")) {
    k = Next(tokens, k + 1);
    if (!IsWord(tokens, k, "REPLACE")) return std::optional<CreateTableHead>();
    head.replace = true;
    k = Next(tokens, k + 1);
  }
  if (!IsWord(tokens, k, "TABLE")) return std::optional<CreateTableHead>();
  k = Next(tokens, k + 1);
  if (IsWord(tokens, k, "IF")) {
    size_t n = Next(tokens, k + 1), e = Next(tokens, n + 1);
    if (!IsWord(tokens, n, "NOT") || !IsWord(tokens, e, "EXISTS")) {
      return std::optional<CreateTableHead>();
    }
    head.if_not_exists = true;
    k = Next(tokens, e + 1);
  }
  ASSIGN_OR_RETURN(auto target, ParseTableRef(tokens, k));
  if (!target) return std::optional<CreateTableHead>();
  head.target = std::move(*target);
  return std::optional<CreateTableHead>(std::move(head));
}

}  // namespace

Result<std::unique_ptr<Session>> Session::Open(const SessionOptions& options) {
  ASSIGN_OR_RETURN(auto db, Database::Open(options.database));
  ASSIGN_OR_RETURN(auto conn, db->Connect());
  if (!options.time_zone.empty()) {
    RETURN_NOT_OK(conn->Execute("SET TimeZone = " + QuoteString(options.time_zone)));
  }
  if (options.dialect == SessionOptions::Dialect::kSpark) {
    RETURN_NOT_OK(RegisterSparkFunctions(*conn));
  }
  ASSIGN_OR_RETURN(auto parquet, DuckDbParquetHandler::Make());
  return std::unique_ptr<Session>(
      new Session(options, std::move(db), std::move(conn), std::move(parquet)));
}

Result<std::string> Session::RegisterTable(const TableRef& ref,
                                           const delta::SkippingPredicate* skip) {
  ASSIGN_OR_RETURN(OpenedTable table, OpenTableStore(ref.path));
  delta::SnapshotBuilder builder(*table.store, table.root);
  if (ref.version) builder.AtVersion(*ref.version);
  if (ref.timestamp_ms) builder.AtTimestamp(*ref.timestamp_ms);
  ASSIGN_OR_RETURN(auto snapshot, builder.Build(*parquet_));
  std::string view = fmt::format("__delta_{}", next_view_++);
  DeltaScanOptions scan_options;
  if (skip != nullptr) scan_options.predicate = *skip;
  RETURN_NOT_OK(RegisterDeltaScan(*conn_, *snapshot, *table.store, view, scan_options));
  return view;
}

Result<QueryResult> Session::DescribeHistory(const TableRef& ref, int64_t limit) {
  ASSIGN_OR_RETURN(OpenedTable table, OpenTableStore(ref.path));
  ASSIGN_OR_RETURN(auto history,
                   delta::ReadHistory(*table.store, table.root, static_cast<size_t>(limit)));
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
  ASSIGN_OR_RETURN(OpenedTable table, OpenTableStore(ref.path));
  ASSIGN_OR_RETURN(auto snapshot, delta::SnapshotBuilder(*table.store, table.root).Build(*parquet_));
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

// ================================================================================================
// Maintenance commands and the change data feed (engine/delta_maintenance.h): VACUUM, RESTORE,
// CREATE [OR REPLACE] TABLE ... [SHALLOW|DEEP] CLONE, OPTIMIZE, the retention check and OPTIMIZE
// file size settings and table_changes('path', start[, end]). Kept in one block, apart from the
// rest of the session.
// ================================================================================================

namespace {

constexpr std::string_view kRetentionCheckSetting =
    "spark.databricks.delta.retentiondurationcheck.enabled";
constexpr std::string_view kOptimizeMaxFileSizeSetting =
    "spark.databricks.delta.optimize.maxfilesize";

// A version (a number) or a time (a quoted timestamp or date) written in SQL.
struct VersionOrTime {
  std::optional<int64_t> version;
  std::optional<int64_t> timestamp_ms;
};

Result<VersionOrTime> ParseVersionOrTime(const Token& t, std::string_view what) {
  VersionOrTime out;
  if (t.kind == TokenKind::kNumber) {
    char* end = nullptr;
    std::string text(t.text);
    long long v = std::strtoll(text.c_str(), &end, 10);
    if (end == nullptr || *end != '\0' || v < 0) {
      return Status::InvalidArgument(
          fmt::format("line {}: {} must be a version number or a quoted timestamp, got '{}'",
                      t.line, what, t.text));
    }
    out.version = v;
    return out;
  }
  if (t.kind == TokenKind::kString) {
    std::string text = Unquote(t);
    auto micros = delta::ParseTimestampMicros(text, /*allow_zone=*/true);
    if (!micros.ok()) {
      auto days = delta::ParseDateDays(text);
      if (!days.ok()) {
        return Status::InvalidArgument(fmt::format(
            "line {}: {}: '{}' is not a timestamp (use 'YYYY-MM-DD[ HH:MM:SS]')", t.line, what,
            text));
      }
      micros = *days * 86400LL * 1000000LL;
    }
    out.timestamp_ms = *micros / 1000;
    return out;
  }
  return Status::InvalidArgument(fmt::format(
      "line {}: {} must be a version number or a quoted timestamp, got '{}'", t.line, what, t.text));
}

// `[TO] VERSION AS OF n | [TO] TIMESTAMP AS OF 'ts'` at k; the index after it.
Result<size_t> ParseAsOf(const std::vector<Token>& tokens, size_t k, VersionOrTime* out) {
  if (IsWord(tokens, k, "TO")) k = Next(tokens, k + 1);
  bool by_version = IsWord(tokens, k, "VERSION"), by_time = IsWord(tokens, k, "TIMESTAMP");
  size_t as = Next(tokens, k + 1), of = Next(tokens, as + 1), value = Next(tokens, of + 1);
  if ((!by_version && !by_time) || !IsWord(tokens, as, "AS") || !IsWord(tokens, of, "OF") ||
      value >= tokens.size()) {
    return Status::InvalidArgument("expected VERSION AS OF <n> or TIMESTAMP AS OF '<timestamp>'");
  }
  ASSIGN_OR_RETURN(*out, ParseVersionOrTime(tokens[value], by_version ? "VERSION AS OF"
                                                                        : "TIMESTAMP AS OF"));
  if (by_version != out->version.has_value()) {
    return Status::InvalidArgument(by_version ? "VERSION AS OF needs a version number"
                                              : "TIMESTAMP AS OF needs a quoted timestamp");
  }
  return value + 1;
}

Status ExpectEnd(const std::vector<Token>& tokens, size_t k, std::string_view statement) {
  if (k >= tokens.size()) return Status::OK();
  return Status::InvalidArgument(
      fmt::format("line {}: unexpected '{}' in {}", tokens[k].line, tokens[k].text, statement));
}

// The statement's non-space tokens from `from`, concatenated and lowercased.
std::string Collapsed(const std::vector<Token>& tokens, size_t from) {
  std::string out;
  for (size_t i = from; i < tokens.size(); ++i) {
    if (IsTrivia(tokens[i])) continue;
    for (char c : tokens[i].text) out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return out;
}

}  // namespace

struct Session::ChangesRef {
  std::string path;
  VersionOrTime start;
  std::optional<VersionOrTime> end;
  size_t end_token = 0;  // index of the token after the call
};

namespace {

// table_changes('path', start[, end]) at token i; nullopt when the tokens there are not a call.
Result<std::optional<Session::ChangesRef>> ParseTableChanges(const std::vector<Token>& tokens,
                                                             size_t i) {
  if (!IsWord(tokens, i, "table_changes")) return std::optional<Session::ChangesRef>();
  size_t open = Next(tokens, i + 1);
  if (!IsSymbol(tokens, open, '(')) return std::optional<Session::ChangesRef>();
  auto usage = [&] {
    return Status::InvalidArgument(fmt::format(
        "line {}: table_changes takes ('<table path>', <start version or timestamp>[, <end>])",
        tokens[i].line));
  };
  Session::ChangesRef ref;
  size_t path = Next(tokens, open + 1);
  if (path >= tokens.size() || tokens[path].kind != TokenKind::kString) return usage();
  ref.path = Unquote(tokens[path]);
  size_t comma = Next(tokens, path + 1);
  if (!IsSymbol(tokens, comma, ',')) return usage();
  size_t start = Next(tokens, comma + 1);
  if (start >= tokens.size()) return usage();
  ASSIGN_OR_RETURN(ref.start, ParseVersionOrTime(tokens[start], "table_changes start"));
  size_t k = Next(tokens, start + 1);
  if (IsSymbol(tokens, k, ',')) {
    size_t end = Next(tokens, k + 1);
    if (end >= tokens.size()) return usage();
    ASSIGN_OR_RETURN(ref.end, ParseVersionOrTime(tokens[end], "table_changes end"));
    k = Next(tokens, end + 1);
  }
  if (!IsSymbol(tokens, k, ')')) return usage();
  ref.end_token = k + 1;
  return std::optional<Session::ChangesRef>(std::move(ref));
}

}  // namespace

Result<std::string> Session::RegisterChanges(const ChangesRef& ref) {
  ASSIGN_OR_RETURN(OpenedTable table, OpenTableStore(ref.path));
  ChangeFeedRange range;
  range.start_version = ref.start.version;
  range.start_timestamp_ms = ref.start.timestamp_ms;
  if (ref.end) {
    range.end_version = ref.end->version;
    range.end_timestamp_ms = ref.end->timestamp_ms;
  }
  std::string view = fmt::format("__changes_{}", next_view_++);
  RETURN_NOT_OK(
      RegisterTableChanges(*conn_, *table.store, table.root, *parquet_, range, view).status());
  return view;
}

Result<std::optional<QueryResult>> Session::RunMaintenanceStatement(std::string_view text,
                                                                   size_t first_line) {
  using Handled = std::optional<QueryResult>;
  ASSIGN_OR_RETURN(std::vector<Token> tokens, LexSql(text));
  size_t first = Next(tokens, 0);
  auto line_ctx = [&](Status s) { return s.WithContext(fmt::format("line {}", first_line)); };

  // SET spark.databricks.delta.retentionDurationCheck.enabled = true|false
  if (IsWord(tokens, first, "SET")) {
    std::string rest = Collapsed(tokens, first + 1);
    // SET spark.databricks.delta.optimize.maxFileSize = <bytes>
    if (rest.starts_with(kOptimizeMaxFileSizeSetting)) {
      std::string value = rest.substr(kOptimizeMaxFileSizeSetting.size());
      if (value.starts_with("=")) value = value.substr(1);
      if (value.size() >= 2 && value.front() == '\'' && value.back() == '\'') {
        value = value.substr(1, value.size() - 2);
      }
      auto bytes = delta::ParseByteSize(value);
      if (!bytes.ok() || *bytes < 1) {
        return line_ctx(Status::InvalidArgument(
            "spark.databricks.delta.optimize.maxFileSize takes a positive number of bytes, not '" +
            value + "'"));
      }
      optimize_max_file_size_ = *bytes;
      ASSIGN_OR_RETURN(
          QueryResult r,
          conn_->Query("SELECT 'spark.databricks.delta.optimize.maxFileSize' AS key, " +
                       QuoteString(std::to_string(*bytes)) + " AS value"));
      return Handled(std::move(r));
    }
    if (!rest.starts_with(kRetentionCheckSetting)) return Handled();
    std::string value = rest.substr(kRetentionCheckSetting.size());
    if (value.starts_with("=")) value = value.substr(1);
    if (value != "true" && value != "false") {
      return Status::InvalidArgument(
          "spark.databricks.delta.retentionDurationCheck.enabled takes true or false");
    }
    retention_check_ = value == "true";
    ASSIGN_OR_RETURN(QueryResult r,
                     conn_->Query("SELECT 'spark.databricks.delta.retentionDurationCheck.enabled' "
                                  "AS key, " + QuoteString(value) + " AS value"));
    return Handled(std::move(r));
  }

  // ALTER TABLE <table> ADD CONSTRAINT <name> CHECK (<expr>)
  // ALTER TABLE <table> DROP CONSTRAINT [IF EXISTS] <name>
  if (IsWord(tokens, first, "ALTER") && IsWord(tokens, Next(tokens, first + 1), "TABLE")) {
    ASSIGN_OR_RETURN(auto ref, ParseTableRef(tokens, Next(tokens, Next(tokens, first + 1) + 1)));
    if (!ref) return Handled();  // not a Delta table: DuckDB's ALTER TABLE
    size_t k = Next(tokens, ref->end);
    const bool add = IsWord(tokens, k, "ADD");
    if (ref->version || ref->timestamp_ms || !(add || IsWord(tokens, k, "DROP")) ||
        !IsWord(tokens, Next(tokens, k + 1), "CONSTRAINT")) {
      return line_ctx(Status::NotSupported(
          "ALTER TABLE on a Delta table supports ADD CONSTRAINT <name> CHECK (<expr>) and DROP "
          "CONSTRAINT [IF EXISTS] <name>"));
    }
    k = Next(tokens, Next(tokens, k + 1) + 1);
    bool if_exists = false;
    if (!add && IsWord(tokens, k, "IF") && IsWord(tokens, Next(tokens, k + 1), "EXISTS")) {
      if_exists = true;
      k = Next(tokens, Next(tokens, k + 1) + 1);
    }
    if (k >= tokens.size() ||
        (tokens[k].kind != TokenKind::kWord && tokens[k].kind != TokenKind::kBacktick)) {
      return line_ctx(Status::InvalidArgument("ALTER TABLE: expected a constraint name"));
    }
    const std::string name = tokens[k].kind == TokenKind::kBacktick ? Unquote(tokens[k])
                                                                    : std::string(tokens[k].text);
    k = Next(tokens, k + 1);
    ASSIGN_OR_RETURN(OpenedTable table, OpenTableStore(ref->path));
    if (!add) {
      RETURN_NOT_OK(line_ctx(ExpectEnd(tokens, k, "ALTER TABLE ... DROP CONSTRAINT")));
      RETURN_NOT_OK(line_ctx(
          DropCheckConstraint(*table.store, table.root, *parquet_, name, if_exists).status()));
      ASSIGN_OR_RETURN(QueryResult r, conn_->Query("SELECT 1 AS ok LIMIT 0"));
      return Handled(std::move(r));
    }
    // CHECK ( <expr> ): the expression is kept as written (Spark SQL), as Delta Lake stores it.
    size_t open = Next(tokens, k + 1);
    if (!IsWord(tokens, k, "CHECK") || !IsSymbol(tokens, open, '(')) {
      return line_ctx(Status::InvalidArgument("ALTER TABLE ... ADD CONSTRAINT: expected CHECK (<expr>)"));
    }
    size_t close = open;
    for (int depth = 0; close < tokens.size(); ++close) {
      if (IsSymbol(tokens, close, '(')) ++depth;
      if (IsSymbol(tokens, close, ')') && --depth == 0) break;
    }
    if (close >= tokens.size()) {
      return line_ctx(Status::InvalidArgument("ALTER TABLE ... ADD CONSTRAINT: unbalanced parentheses"));
    }
    RETURN_NOT_OK(line_ctx(ExpectEnd(tokens, Next(tokens, close + 1), "ALTER TABLE ... ADD CONSTRAINT")));
    std::string_view expression = text.substr(tokens[open].offset + 1,
                                              tokens[close].offset - tokens[open].offset - 1);
    while (!expression.empty() && std::isspace(static_cast<unsigned char>(expression.front()))) {
      expression.remove_prefix(1);
    }
    while (!expression.empty() && std::isspace(static_cast<unsigned char>(expression.back()))) {
      expression.remove_suffix(1);
    }
    if (expression.empty()) {
      return line_ctx(Status::InvalidArgument("ALTER TABLE ... ADD CONSTRAINT: empty CHECK expression"));
    }
    RETURN_NOT_OK(line_ctx(
        AddCheckConstraint(*conn_, *table.store, table.root, *parquet_, name, expression).status()));
    ASSIGN_OR_RETURN(QueryResult r, conn_->Query("SELECT 1 AS ok LIMIT 0"));
    return Handled(std::move(r));
  }

  // VACUUM <table> [RETAIN n HOURS] [DRY RUN]
  if (IsWord(tokens, first, "VACUUM")) {
    size_t at = Next(tokens, first + 1);
    ASSIGN_OR_RETURN(auto ref, ParseTableRef(tokens, at));
    if (!ref || ref->version || ref->timestamp_ms) {
      return line_ctx(Status::NotSupported("VACUUM takes a Delta table as delta.`/path/to/table`"));
    }
    VacuumOptions options;
    options.retention_check = retention_check_;
    size_t k = Next(tokens, ref->end);
    if (IsWord(tokens, k, "RETAIN")) {
      size_t n = Next(tokens, k + 1), unit = Next(tokens, n + 1);
      if (n >= tokens.size() || tokens[n].kind != TokenKind::kNumber ||
          !IsWord(tokens, unit, "HOURS")) {
        return line_ctx(Status::InvalidArgument("expected RETAIN <number> HOURS"));
      }
      options.retention_hours = std::strtod(std::string(tokens[n].text).c_str(), nullptr);
      k = Next(tokens, unit + 1);
    }
    if (IsWord(tokens, k, "DRY")) {
      size_t run = Next(tokens, k + 1);
      if (!IsWord(tokens, run, "RUN")) return line_ctx(Status::InvalidArgument("expected DRY RUN"));
      options.dry_run = true;
      k = Next(tokens, run + 1);
    }
    RETURN_NOT_OK(line_ctx(ExpectEnd(tokens, k, "VACUUM")));
    ASSIGN_OR_RETURN(OpenedTable table, OpenTableStore(ref->path));
    ASSIGN_OR_RETURN(VacuumResult vacuumed, Vacuum(*table.store, table.root, *parquet_, options));
    RETURN_NOT_OK(conn_->Execute("CREATE OR REPLACE TEMP TABLE __vacuum (path VARCHAR)"));
    {
      ASSIGN_OR_RETURN(auto appender, conn_->MakeAppender("", "__vacuum"));
      for (const auto& f : vacuumed.files) {
        RETURN_NOT_OK(appender->Append(f));
        RETURN_NOT_OK(appender->EndRow());
      }
      RETURN_NOT_OK(appender->Close());
    }
    ASSIGN_OR_RETURN(QueryResult r, conn_->Query("SELECT path FROM __vacuum ORDER BY path"));
    return Handled(std::move(r));
  }

  // OPTIMIZE <table> [WHERE <partition predicate>] [ZORDER BY (cols)]
  if (IsWord(tokens, first, "OPTIMIZE")) {
    size_t at = Next(tokens, first + 1);
    ASSIGN_OR_RETURN(auto ref, ParseTableRef(tokens, at));
    if (!ref || ref->version || ref->timestamp_ms) {
      return line_ctx(
          Status::NotSupported("OPTIMIZE takes a Delta table as delta.`/path/to/table`"));
    }
    size_t k = Next(tokens, ref->end);
    size_t zorder = k;
    for (int depth = 0; zorder < tokens.size(); ++zorder) {
      if (IsSymbol(tokens, zorder, '(')) ++depth;
      if (IsSymbol(tokens, zorder, ')')) --depth;
      if (depth == 0 && IsWord(tokens, zorder, "ZORDER")) break;
    }
    OptimizeOptions options;
    options.max_file_size = optimize_max_file_size_;
    if (IsWord(tokens, k, "WHERE")) {
      size_t from = Next(tokens, k + 1);
      if (from >= zorder) {
        return line_ctx(Status::InvalidArgument("OPTIMIZE: WHERE needs a predicate"));
      }
      size_t end = zorder < tokens.size() ? tokens[zorder].offset : text.size();
      ASSIGN_OR_RETURN(options.predicate,
                       RewriteSql(text.substr(tokens[from].offset, end - tokens[from].offset)));
      std::string& predicate = options.predicate;
      while (!predicate.empty() && std::isspace(static_cast<unsigned char>(predicate.back()))) {
        predicate.pop_back();
      }
      k = zorder;
    }
    if (IsWord(tokens, k, "ZORDER")) {
      return line_ctx(Status::NotSupported(
          "OPTIMIZE ... ZORDER BY is not supported: medallion compacts small files (bin-packing) "
          "but does not Z-order them; run OPTIMIZE without ZORDER BY"));
    }
    RETURN_NOT_OK(line_ctx(ExpectEnd(tokens, k, "OPTIMIZE")));
    ASSIGN_OR_RETURN(OpenedTable table, OpenTableStore(ref->path));
    ASSIGN_OR_RETURN(OptimizeResult o,
                     Optimize(*conn_, *table.store, table.root, *parquet_, options));
    auto sizes = [](const FileSizeMetrics& m) {
      auto opt = [](const std::optional<int64_t>& v) {
        return v ? std::to_string(*v) + "::BIGINT" : std::string("NULL::BIGINT");
      };
      return fmt::format(
          "{{'min': {}, 'max': {}, 'avg': {}::DOUBLE, 'totalFiles': {}::BIGINT, "
          "'totalSize': {}::BIGINT}}",
          opt(m.min), opt(m.max), m.avg, m.total_files, m.total_size);
    };
    std::string location = std::filesystem::absolute(ref->path).lexically_normal().string();
    if (location.size() > 1 && location.back() == '/') location.pop_back();
    ASSIGN_OR_RETURN(
        QueryResult r,
        conn_->Query(fmt::format(
            "SELECT {} AS path, {{'numFilesAdded': {}::BIGINT, 'numFilesRemoved': {}::BIGINT, "
            "'filesAdded': {}, 'filesRemoved': {}, 'partitionsOptimized': {}::BIGINT, "
            "'numBins': {}::BIGINT, 'numBatches': {}::BIGINT, 'totalConsideredFiles': {}::BIGINT, "
            "'totalFilesSkipped': {}::BIGINT, 'preserveInsertionOrder': true, "
            "'startTimeMs': {}::BIGINT, 'endTimeMs': {}::BIGINT, 'deletionVectorStats': "
            "{{'numDeletionVectorsRemoved': {}::BIGINT, 'numDeletionVectorRowsRemoved': "
            "{}::BIGINT}}}} AS metrics",
            QuoteString(location), o.num_files_added, o.num_files_removed, sizes(o.files_added),
            sizes(o.files_removed), o.partitions_optimized, o.num_bins, o.num_batches,
            o.total_considered_files, o.total_files_skipped, o.start_time_ms, o.end_time_ms,
            o.num_deletion_vectors_removed, o.num_deletion_vector_rows_removed)));
    return Handled(std::move(r));
  }

  // RESTORE [TABLE] <table> [TO] VERSION|TIMESTAMP AS OF ...
  if (IsWord(tokens, first, "RESTORE")) {
    size_t at = Next(tokens, first + 1);
    if (IsWord(tokens, at, "TABLE")) at = Next(tokens, at + 1);
    ASSIGN_OR_RETURN(auto ref, ParseTableRef(tokens, at));
    if (!ref) {
      return line_ctx(Status::NotSupported("RESTORE takes a Delta table as delta.`/path/to/table`"));
    }
    RestoreOptions options;
    size_t k = Next(tokens, ref->end);
    if (ref->version || ref->timestamp_ms) {
      options.version = ref->version;
      options.timestamp_ms = ref->timestamp_ms;
    } else {
      VersionOrTime when;
      auto after = ParseAsOf(tokens, k, &when);
      if (!after.ok()) return line_ctx(after.status());
      k = Next(tokens, *after);
      options.version = when.version;
      options.timestamp_ms = when.timestamp_ms;
    }
    RETURN_NOT_OK(line_ctx(ExpectEnd(tokens, k, "RESTORE")));
    ASSIGN_OR_RETURN(OpenedTable table, OpenTableStore(ref->path));
    ASSIGN_OR_RETURN(RestoreResult restored, Restore(*table.store, table.root, *parquet_, options));
    const delta::RestorePlan& p = restored.plan;
    ASSIGN_OR_RETURN(QueryResult r,
                     conn_->Query(fmt::format(
                         "SELECT {}::BIGINT AS table_size_after_restore, "
                         "{}::BIGINT AS num_of_files_after_restore, {}::BIGINT AS num_removed_files, "
                         "{}::BIGINT AS num_restored_files, {}::BIGINT AS removed_files_size, "
                         "{}::BIGINT AS restored_files_size",
                         p.table_size_after_restore, p.num_of_files_after_restore,
                         p.num_removed_files, p.num_restored_files, p.removed_files_size,
                         p.restored_files_size)));
    return Handled(std::move(r));
  }

  // CREATE [OR REPLACE] TABLE [IF NOT EXISTS] <target> [SHALLOW|DEEP] CLONE <source> [time travel]
  if (IsWord(tokens, first, "CREATE")) {
    ASSIGN_OR_RETURN(auto head, ParseCreateTableHead(tokens, first));
    if (!head) return Handled();
    const bool replace = head->replace, if_not_exists = head->if_not_exists;
    const std::optional<TableRef> target = head->target;
    size_t c = Next(tokens, target->end);
    CloneOptions options;
    options.replace = replace;
    if (IsWord(tokens, c, "SHALLOW") || IsWord(tokens, c, "DEEP")) {
      options.deep = IsWord(tokens, c, "DEEP");
      c = Next(tokens, c + 1);
      if (!IsWord(tokens, c, "CLONE")) return line_ctx(Status::InvalidArgument("expected CLONE"));
    }
    if (!IsWord(tokens, c, "CLONE")) return Handled();  // not a clone: CREATE TABLE handles it
    size_t s = Next(tokens, c + 1);
    ASSIGN_OR_RETURN(auto source, ParseTableRef(tokens, s));
    if (!source) {
      return line_ctx(Status::NotSupported("CLONE takes a Delta table as delta.`/path/to/table`"));
    }
    RETURN_NOT_OK(line_ctx(ExpectEnd(tokens, Next(tokens, source->end), "CLONE")));
    options.version = source->version;
    options.timestamp_ms = source->timestamp_ms;
    options.source_name = "delta.`" + source->path + "`";
    ASSIGN_OR_RETURN(OpenedTable source_table, OpenTableStore(source->path));
    std::error_code ec;
    std::filesystem::path target_folder = std::filesystem::absolute(target->path).lexically_normal();
    bool created = !std::filesystem::exists(target_folder, ec);
    if (if_not_exists && !created && std::filesystem::exists(target_folder / "_delta_log", ec)) {
      ASSIGN_OR_RETURN(QueryResult r, conn_->Query("SELECT 'skipped: the target exists' AS status"));
      return Handled(std::move(r));
    }
    std::filesystem::create_directories(target_folder, ec);
    auto cloned = [&]() -> Result<CloneResult> {
      ASSIGN_OR_RETURN(OpenedTable target_table, OpenTableStore(target->path));
      return Clone(*source_table.store, source_table.root, *target_table.store, target_table.root,
                   *parquet_, options);
    }();
    if (!cloned.ok()) {
      if (created) std::filesystem::remove_all(target_folder, ec);
      return cloned.status();
    }
    ASSIGN_OR_RETURN(QueryResult r,
                     conn_->Query(fmt::format(
                         "SELECT {}::BIGINT AS source_table_size, {}::BIGINT AS source_num_of_files, "
                         "{}::BIGINT AS num_removed_files, {}::BIGINT AS num_copied_files, "
                         "{}::BIGINT AS removed_files_size, {}::BIGINT AS copied_files_size",
                         cloned->source_table_size, cloned->source_num_of_files,
                         cloned->num_removed_files, cloned->num_copied_files,
                         cloned->removed_files_size, cloned->copied_files_size)));
    return Handled(std::move(r));
  }
  return Handled();
}

// ==== end of the maintenance block ===============================================================

// ================================================================================================
// Writing (engine/delta_writer.h): CREATE [OR REPLACE] TABLE ... AS <query>, INSERT INTO,
// INSERT OVERWRITE and INSERT INTO ... REPLACE WHERE on delta.`path` tables. Kept in one block,
// apart from the rest of the session.
// ================================================================================================

namespace {

bool StartsQuery(const std::vector<Token>& tokens, size_t k) {
  return IsWord(tokens, k, "SELECT") || IsWord(tokens, k, "WITH") || IsWord(tokens, k, "VALUES") ||
         IsWord(tokens, k, "FROM") || IsWord(tokens, k, "TABLE");
}

// The first token at or after k, outside parentheses, that starts a query (tokens.size() if none).
size_t FindQueryStart(const std::vector<Token>& tokens, size_t k) {
  int depth = 0;
  for (; k < tokens.size(); ++k) {
    if (IsSymbol(tokens, k, '(')) {
      ++depth;
    } else if (IsSymbol(tokens, k, ')')) {
      --depth;
    } else if (depth == 0 && StartsQuery(tokens, k)) {
      return k;
    }
  }
  return tokens.size();
}

std::optional<std::string> IdentifierAt(const std::vector<Token>& tokens, size_t k) {
  if (k >= tokens.size()) return std::nullopt;
  const Token& t = tokens[k];
  if (t.kind == TokenKind::kWord) return std::string(t.text);
  if (t.kind == TokenKind::kBacktick || t.kind == TokenKind::kDoubleQuoted) return Unquote(t);
  return std::nullopt;
}

// `(a, b, ...)` at k (PARTITIONED BY); the index after ')'.
Result<size_t> ParseNameList(const std::vector<Token>& tokens, size_t k, std::vector<std::string>* names) {
  if (!IsSymbol(tokens, k, '(')) return Status::InvalidArgument("PARTITIONED BY needs (column, ...)");
  for (k = Next(tokens, k + 1);; k = Next(tokens, k + 1)) {
    auto name = IdentifierAt(tokens, k);
    if (!name) return Status::InvalidArgument("PARTITIONED BY needs column names");
    names->push_back(*name);
    k = Next(tokens, k + 1);
    if (IsSymbol(tokens, k, ')')) return Next(tokens, k + 1);
    if (!IsSymbol(tokens, k, ',')) return Status::InvalidArgument("PARTITIONED BY: expected ',' or ')'");
  }
}

// `('k' = 'v', delta.x = true, ...)` at k (TBLPROPERTIES); the index after ')'.
Result<size_t> ParseProperties(const std::vector<Token>& tokens, size_t k,
                               std::map<std::string, std::string>* props) {
  if (!IsSymbol(tokens, k, '(')) return Status::InvalidArgument("TBLPROPERTIES needs ('key' = 'value', ...)");
  for (k = Next(tokens, k + 1);; k = Next(tokens, k + 1)) {
    std::string key;
    if (k < tokens.size() && tokens[k].kind == TokenKind::kString) {
      key = Unquote(tokens[k]);
      k = Next(tokens, k + 1);
    } else {
      while (auto part = IdentifierAt(tokens, k)) {  // delta.appendOnly
        key += *part;
        k = Next(tokens, k + 1);
        if (!IsSymbol(tokens, k, '.')) break;
        key += '.';
        k = Next(tokens, k + 1);
      }
    }
    if (key.empty()) return Status::InvalidArgument("TBLPROPERTIES: expected a property name");
    if (IsSymbol(tokens, k, '=')) k = Next(tokens, k + 1);
    if (k >= tokens.size()) return Status::InvalidArgument("TBLPROPERTIES: expected a value for " + key);
    const Token& v = tokens[k];
    if (v.kind == TokenKind::kString) {
      (*props)[key] = Unquote(v);
    } else if (v.kind == TokenKind::kNumber || v.kind == TokenKind::kWord) {
      (*props)[key] = std::string(v.text);
    } else {
      return Status::InvalidArgument(fmt::format("TBLPROPERTIES: bad value '{}' for {}", v.text, key));
    }
    k = Next(tokens, k + 1);
    if (IsSymbol(tokens, k, ')')) return Next(tokens, k + 1);
    if (!IsSymbol(tokens, k, ',')) return Status::InvalidArgument("TBLPROPERTIES: expected ',' or ')'");
  }
}

}  // namespace

Result<std::string> Session::RewriteSql(std::string_view sql,
                                        const delta::SkippingPredicate* skip) {
  ASSIGN_OR_RETURN(std::vector<Token> tokens, LexSql(sql));
  std::string out;
  std::map<std::string, std::string> views;
  const bool spark = options_.dialect == SessionOptions::Dialect::kSpark;
  for (size_t i = 0; i < tokens.size();) {
    // event_log('<pipeline or folder>')
    if (IsWord(tokens, i, "event_log") && IsSymbol(tokens, Next(tokens, i + 1), '(')) {
      size_t arg = Next(tokens, Next(tokens, i + 1) + 1), close = Next(tokens, arg + 1);
      if (arg >= tokens.size() || tokens[arg].kind != TokenKind::kString ||
          !IsSymbol(tokens, close, ')')) {
        return Status::InvalidArgument(fmt::format(
            "line {}: event_log takes one string: event_log('<pipeline name>')", tokens[i].line));
      }
      TableRef ref;
      ref.path = Unquote(tokens[arg]);
      if (options_.resolve_event_log) {
        ASSIGN_OR_RETURN(ref.path, options_.resolve_event_log(ref.path));
      }
      ASSIGN_OR_RETURN(std::string view, RegisterTable(ref));
      out += view;
      i = close + 1;
      continue;
    }
    ASSIGN_OR_RETURN(auto changes, ParseTableChanges(tokens, i));
    if (changes) {
      ASSIGN_OR_RETURN(std::string view, RegisterChanges(*changes));
      out += view;
      i = changes->end_token;
      continue;
    }
    ASSIGN_OR_RETURN(auto ref, ParseTableRef(tokens, i));
    if (ref) {
      auto it = views.find(ref->Key());
      if (it == views.end()) {
        ASSIGN_OR_RETURN(std::string view, RegisterTable(*ref, skip));
        it = views.emplace(ref->Key(), view).first;
      }
      out += it->second;
      i = ref->end;
      continue;
    }
    // Spark's translation turns backticks into DuckDB identifiers itself.
    out += tokens[i].kind == TokenKind::kBacktick && !spark ? QuoteIdentifier(Unquote(tokens[i]))
                                                            : std::string(tokens[i].text);
    ++i;
  }
  if (spark) return TranslateSparkSql(out);
  return out;
}

Result<std::optional<QueryResult>> Session::RunWriteStatement(std::string_view text, size_t first_line) {
  using Handled = std::optional<QueryResult>;
  ASSIGN_OR_RETURN(std::vector<Token> tokens, LexSql(text));
  auto fail = [&](Status s) { return s.WithContext(fmt::format("line {}", first_line)); };
  size_t first = Next(tokens, 0);
  WriteOptions options;
  std::optional<TableRef> ref;
  size_t query = tokens.size();
  bool positional = false, create = false;
  if (IsWord(tokens, first, "CREATE")) {
    // CREATE [OR REPLACE] TABLE [IF NOT EXISTS] delta.`path` [clauses] AS <query>
    ASSIGN_OR_RETURN(auto head, ParseCreateTableHead(tokens, first));
    if (!head) return Handled();  // e.g. a DuckDB table
    const bool replace = head->replace, if_not_exists = head->if_not_exists;
    ref = head->target;
    size_t k = Next(tokens, ref->end);
    while (k < tokens.size() && !IsWord(tokens, k, "AS")) {
      if (IsWord(tokens, k, "USING")) {
        size_t f = Next(tokens, k + 1);
        if (!IsWord(tokens, f, "DELTA")) {
          return fail(Status::NotSupported("a delta.`path` table is written USING DELTA"));
        }
        k = Next(tokens, f + 1);
      } else if (IsWord(tokens, k, "PARTITIONED") && IsWord(tokens, Next(tokens, k + 1), "BY")) {
        ASSIGN_OR_RETURN(k, ParseNameList(tokens, Next(tokens, Next(tokens, k + 1) + 1), &options.partition_by));
      } else if (IsWord(tokens, k, "TBLPROPERTIES")) {
        ASSIGN_OR_RETURN(k, ParseProperties(tokens, Next(tokens, k + 1), &options.table_properties));
      } else if (IsSymbol(tokens, k, '(')) {
        return fail(Status::NotSupported(
            "CREATE TABLE with a column list is not supported yet; use CREATE TABLE ... AS <query>"));
      } else {
        return fail(Status::InvalidArgument(fmt::format("unexpected '{}' in CREATE TABLE", tokens[k].text)));
      }
    }
    if (k >= tokens.size()) {
      return fail(Status::NotSupported("CREATE TABLE on a Delta path needs AS <query>"));
    }
    query = Next(tokens, k + 1);
    create = true;
    options.mode = replace ? WriteOptions::Mode::kOverwrite
                           : (if_not_exists ? WriteOptions::Mode::kIgnore : WriteOptions::Mode::kErrorIfExists);
    options.overwrite_schema = replace;
    options.operation = replace ? "CREATE OR REPLACE TABLE AS SELECT" : "CREATE TABLE AS SELECT";
  } else if (IsWord(tokens, first, "INSERT")) {
    // INSERT INTO|OVERWRITE [TABLE] delta.`path` [BY NAME] [REPLACE WHERE <predicate>] <query>
    size_t k = Next(tokens, first + 1);
    bool overwrite = IsWord(tokens, k, "OVERWRITE");
    if (!overwrite && !IsWord(tokens, k, "INTO")) return Handled();
    k = Next(tokens, k + 1);
    if (IsWord(tokens, k, "TABLE")) k = Next(tokens, k + 1);
    ASSIGN_OR_RETURN(ref, ParseTableRef(tokens, k));
    if (!ref) return Handled();
    if (ref->version || ref->timestamp_ms) {
      return fail(Status::InvalidArgument("cannot write to a past version of a table (VERSION/TIMESTAMP AS OF)"));
    }
    k = Next(tokens, ref->end);
    positional = true;
    if (IsWord(tokens, k, "BY") && IsWord(tokens, Next(tokens, k + 1), "NAME")) {
      positional = false;
      k = Next(tokens, Next(tokens, k + 1) + 1);
    }
    if (IsSymbol(tokens, k, '(')) {
      return fail(Status::NotSupported("INSERT with a column list is not supported yet; use BY NAME"));
    }
    options.mode = overwrite ? WriteOptions::Mode::kOverwrite : WriteOptions::Mode::kAppend;
    if (!overwrite && IsWord(tokens, k, "REPLACE") && IsWord(tokens, Next(tokens, k + 1), "WHERE")) {
      size_t pred = Next(tokens, Next(tokens, k + 1) + 1);
      k = FindQueryStart(tokens, pred);
      if (pred >= k || k >= tokens.size()) {
        return fail(Status::InvalidArgument("REPLACE WHERE needs a predicate and then a query"));
      }
      ASSIGN_OR_RETURN(std::string predicate,
                       RewriteSql(text.substr(tokens[pred].offset, tokens[k].offset - tokens[pred].offset)));
      options.replace_where = predicate;
      options.mode = WriteOptions::Mode::kOverwrite;
    }
    if (!StartsQuery(tokens, k) && !IsSymbol(tokens, k, '(')) {
      return fail(Status::InvalidArgument("INSERT needs a query (SELECT, WITH, VALUES, FROM or TABLE)"));
    }
    query = k;
  } else {
    return Handled();
  }
  if (query >= tokens.size()) return fail(Status::InvalidArgument("the statement has no query"));

  const std::string table_name = "delta.`" + ref->path + "`";
  if (create) {  // the folder of a new table
    std::string local = ref->path;
    if (local.starts_with("file://")) {
      local = local.substr(7);
    } else if (local.starts_with("file:")) {
      local = local.substr(5);
    }
    std::error_code ec;
    std::filesystem::create_directories(local, ec);
    if (ec) return fail(Status::IOError(fmt::format("cannot create {}: {}", local, ec.message())));
  }
  ASSIGN_OR_RETURN(OpenedTable table, OpenTableStore(ref->path));
  ASSIGN_OR_RETURN(std::string sql, RewriteSql(text.substr(tokens[query].offset)));
  if (positional) {
    // Spark's INSERT matches columns by position: rename the query's columns to the table's.
    ASSIGN_OR_RETURN(auto snapshot, delta::SnapshotBuilder(*table.store, table.root).Build(*parquet_));
    ASSIGN_OR_RETURN(auto shape, conn_->Query(fmt::format("SELECT * FROM ({}) LIMIT 0", sql)));
    const auto& fields = snapshot->schema().fields();
    if (shape.column_count() != fields.size()) {
      std::string names;
      for (const auto& f : fields) names += (names.empty() ? "" : ", ") + f.name;
      return fail(Status::InvalidArgument(fmt::format(
          "cannot write to {}: the query has {} columns, the table has {} ({})", table_name,
          shape.column_count(), fields.size(), names)));
    }
    std::string aliases;
    for (const auto& f : fields) aliases += (aliases.empty() ? "" : ", ") + QuoteIdentifier(f.name);
    sql = fmt::format("SELECT * FROM ({}) AS __insert({})", sql, aliases);
  }
  if (!checkpoint_writer_) {
    ASSIGN_OR_RETURN(checkpoint_writer_, DuckDbParquetWriter::Make());
  }
  options.checkpoint_writer = checkpoint_writer_.get();
  ASSIGN_OR_RETURN(WriteResult written,
                   WriteDelta(*conn_, sql, *table.store, table.root, *parquet_, options));
  int64_t n = written.committed ? written.num_inserted_rows : 0;
  ASSIGN_OR_RETURN(QueryResult r, conn_->Query(fmt::format(
                                      "SELECT {0}::BIGINT AS num_affected_rows, {0}::BIGINT AS num_inserted_rows", n)));
  return Handled(std::move(r));
}

// ==== end of the write block =====================================================================

// ================================================================================================
// DML (engine/delta_dml.h): DELETE FROM, UPDATE and MERGE INTO on delta.`path` tables. Kept in one
// block, apart from the rest of the session.
// ================================================================================================

namespace {

// The index of the first token at or after k, outside parentheses and CASE ... END, for which
// `stop` holds (tokens.size() if none).
template <typename Stop>
size_t FindTopLevel(const std::vector<Token>& tokens, size_t k, Stop stop) {
  int depth = 0;
  for (; k < tokens.size(); ++k) {
    if (depth == 0 && stop(k)) return k;
    if (IsSymbol(tokens, k, '(') || IsWord(tokens, k, "CASE")) {
      ++depth;
    } else if (IsSymbol(tokens, k, ')') || IsWord(tokens, k, "END")) {
      --depth;
    }
  }
  return tokens.size();
}

size_t FindWord(const std::vector<Token>& tokens, size_t k, std::string_view word) {
  return FindTopLevel(tokens, k, [&](size_t i) { return IsWord(tokens, i, word); });
}

// The statement text of tokens [from, to).
std::string_view Span(std::string_view text, const std::vector<Token>& tokens, size_t from, size_t to) {
  if (from >= tokens.size()) return {};
  size_t end = to < tokens.size() ? tokens[to].offset : text.size();
  std::string_view out = text.substr(tokens[from].offset, end - tokens[from].offset);
  while (!out.empty() && std::isspace(static_cast<unsigned char>(out.back()))) out.remove_suffix(1);
  return out;
}

// An optional `[AS] alias` at k (not one of `stops`); the index after it.
size_t ParseAlias(const std::vector<Token>& tokens, size_t k, std::initializer_list<std::string_view> stops,
                  std::string* alias) {
  if (IsWord(tokens, k, "AS")) k = Next(tokens, k + 1);
  for (auto stop : stops) {
    if (IsWord(tokens, k, stop)) return k;
  }
  if (auto name = IdentifierAt(tokens, k)) {
    *alias = *name;
    return Next(tokens, k + 1);
  }
  return k;
}

}  // namespace

Result<std::optional<QueryResult>> Session::RunDmlStatement(std::string_view text, size_t first_line) {
  using Handled = std::optional<QueryResult>;
  ASSIGN_OR_RETURN(std::vector<Token> tokens, LexSql(text));
  auto fail = [&](Status s) { return s.WithContext(fmt::format("line {}", first_line)); };
  size_t first = Next(tokens, 0);
  bool is_delete = IsWord(tokens, first, "DELETE"), is_update = IsWord(tokens, first, "UPDATE"),
       is_merge = IsWord(tokens, first, "MERGE");
  if (!is_delete && !is_update && !is_merge) return Handled();
  size_t k = Next(tokens, first + 1);
  if (is_delete || is_merge) {
    if (!IsWord(tokens, k, is_delete ? "FROM" : "INTO")) return Handled();
    k = Next(tokens, k + 1);
  }
  ASSIGN_OR_RETURN(auto ref, ParseTableRef(tokens, k));
  if (!ref) return Handled();  // a DuckDB table
  if (ref->version || ref->timestamp_ms) {
    return fail(Status::InvalidArgument("cannot change a past version of a table (VERSION/TIMESTAMP AS OF)"));
  }
  DmlOptions options;
  k = ParseAlias(tokens, Next(tokens, ref->end), {"WHERE", "SET", "USING"}, &options.target_alias);
  if (!checkpoint_writer_) {
    ASSIGN_OR_RETURN(checkpoint_writer_, DuckDbParquetWriter::Make());
  }
  options.checkpoint_writer = checkpoint_writer_.get();
  ASSIGN_OR_RETURN(OpenedTable table, OpenTableStore(ref->path));

  // `col = expr, ...` in tokens [from, to).
  auto parse_assignments = [&](size_t from, size_t to) -> Result<std::vector<Assignment>> {
    std::vector<Assignment> out;
    while (from < to) {
      size_t comma = std::min(to, FindTopLevel(tokens, from, [&](size_t i) { return IsSymbol(tokens, i, ','); }));
      size_t eq = FindTopLevel(tokens, from, [&](size_t i) {
        return tokens[i].kind == TokenKind::kSymbol && tokens[i].text == "=";
      });
      if (eq >= comma) return Status::InvalidArgument("SET needs column = value");
      std::optional<std::string> column;
      for (size_t i = from; i < eq; i = Next(tokens, i + 1)) {
        if (auto name = IdentifierAt(tokens, i)) column = name;
      }
      if (!column) return Status::InvalidArgument("SET needs column = value");
      ASSIGN_OR_RETURN(std::string value, RewriteSql(Span(text, tokens, Next(tokens, eq + 1), comma)));
      out.emplace_back(*column, std::move(value));
      from = Next(tokens, comma + 1);
    }
    return out;
  };

  DmlResult result;
  if (is_delete || is_update) {
    std::vector<Assignment> assignments;
    size_t where = FindWord(tokens, k, "WHERE");
    if (is_update) {
      if (!IsWord(tokens, k, "SET")) return fail(Status::InvalidArgument("UPDATE needs SET column = value"));
      ASSIGN_OR_RETURN(assignments, parse_assignments(Next(tokens, k + 1), where));
    } else if (where != k && k < tokens.size()) {
      return fail(Status::InvalidArgument(fmt::format("unexpected '{}' in DELETE", tokens[k].text)));
    }
    std::string predicate;
    if (where < tokens.size()) {
      ASSIGN_OR_RETURN(predicate, RewriteSql(Span(text, tokens, Next(tokens, where + 1), tokens.size())));
    }
    if (is_delete) {
      ASSIGN_OR_RETURN(result, Delete(*conn_, *table.store, table.root, *parquet_, predicate, options));
    } else {
      ASSIGN_OR_RETURN(result, Update(*conn_, *table.store, table.root, *parquet_, assignments, predicate, options));
    }
    ASSIGN_OR_RETURN(QueryResult r, conn_->Query(fmt::format("SELECT {}::BIGINT AS num_affected_rows",
                                                             result.num_affected_rows)));
    return Handled(std::move(r));
  }

  // MERGE INTO ... USING <source> [[AS] s] ON <cond> WHEN ...
  if (!IsWord(tokens, k, "USING")) return fail(Status::InvalidArgument("MERGE INTO needs USING <source>"));
  MergeSpec spec;
  k = Next(tokens, k + 1);
  if (IsSymbol(tokens, k, '(')) {
    size_t close = FindTopLevel(tokens, Next(tokens, k + 1), [&](size_t i) { return IsSymbol(tokens, i, ')'); });
    if (close >= tokens.size()) return fail(Status::InvalidArgument("MERGE: unbalanced ( in USING"));
    ASSIGN_OR_RETURN(spec.source_sql, RewriteSql(Span(text, tokens, Next(tokens, k + 1), close)));
    k = Next(tokens, close + 1);
  } else {
    ASSIGN_OR_RETURN(auto source, ParseTableRef(tokens, k));
    size_t end = source ? source->end : k + 1;
    if (!source) {  // a DuckDB table, possibly qualified
      while (IsSymbol(tokens, Next(tokens, end), '.')) end = Next(tokens, Next(tokens, end) + 1) + 1;
    }
    ASSIGN_OR_RETURN(std::string from, RewriteSql(Span(text, tokens, k, end)));
    spec.source_sql = "SELECT * FROM " + from;
    k = Next(tokens, end);
  }
  k = ParseAlias(tokens, k, {"ON"}, &spec.source_alias);
  if (!IsWord(tokens, k, "ON")) return fail(Status::InvalidArgument("MERGE needs ON <condition>"));
  size_t when = FindWord(tokens, k + 1, "WHEN");
  ASSIGN_OR_RETURN(spec.on_condition, RewriteSql(Span(text, tokens, Next(tokens, k + 1), when)));
  if (when >= tokens.size()) return fail(Status::InvalidArgument("MERGE needs WHEN clauses"));
  while (when < tokens.size()) {
    size_t next = FindWord(tokens, when + 1, "WHEN");
    MergeClause clause;
    size_t c = Next(tokens, when + 1);
    bool negated = IsWord(tokens, c, "NOT");
    if (negated) c = Next(tokens, c + 1);
    if (!IsWord(tokens, c, "MATCHED")) return fail(Status::InvalidArgument("MERGE: expected WHEN [NOT] MATCHED"));
    c = Next(tokens, c + 1);
    clause.kind = negated ? MergeClause::Kind::kNotMatched : MergeClause::Kind::kMatched;
    if (negated && IsWord(tokens, c, "BY")) {
      size_t by = Next(tokens, c + 1);
      if (IsWord(tokens, by, "SOURCE")) {
        clause.kind = MergeClause::Kind::kNotMatchedBySource;
      } else if (!IsWord(tokens, by, "TARGET")) {
        return fail(Status::InvalidArgument("MERGE: expected BY SOURCE or BY TARGET"));
      }
      c = Next(tokens, by + 1);
    }
    size_t then = FindWord(tokens, c, "THEN");
    if (then >= next) return fail(Status::InvalidArgument("MERGE: a WHEN clause needs THEN"));
    if (IsWord(tokens, c, "AND")) {
      ASSIGN_OR_RETURN(clause.condition, RewriteSql(Span(text, tokens, Next(tokens, c + 1), then)));
    }
    size_t a = Next(tokens, then + 1);
    bool insert_kind = clause.kind == MergeClause::Kind::kNotMatched;
    if (!insert_kind && IsWord(tokens, a, "DELETE")) {
      clause.action = MergeClause::Action::kDelete;
    } else if (!insert_kind && IsWord(tokens, a, "UPDATE") && IsWord(tokens, Next(tokens, a + 1), "SET")) {
      size_t set = Next(tokens, Next(tokens, a + 1) + 1);
      if (IsSymbol(tokens, set, '*') && clause.kind == MergeClause::Kind::kMatched) {
        clause.action = MergeClause::Action::kUpdateAll;
      } else {
        clause.action = MergeClause::Action::kUpdate;
        ASSIGN_OR_RETURN(clause.assignments, parse_assignments(set, next));
      }
    } else if (insert_kind && IsWord(tokens, a, "INSERT")) {
      size_t i = Next(tokens, a + 1);
      if (IsSymbol(tokens, i, '*')) {
        clause.action = MergeClause::Action::kInsertAll;
      } else {
        clause.action = MergeClause::Action::kInsert;
        std::vector<std::string> columns;
        ASSIGN_OR_RETURN(size_t v, ParseNameList(tokens, i, &columns));
        if (!IsWord(tokens, v, "VALUES") || !IsSymbol(tokens, Next(tokens, v + 1), '(')) {
          return fail(Status::InvalidArgument("MERGE: INSERT needs (columns) VALUES (values)"));
        }
        size_t from = Next(tokens, Next(tokens, v + 1) + 1);
        size_t close = FindTopLevel(tokens, from, [&](size_t j) { return IsSymbol(tokens, j, ')'); });
        for (size_t col = 0; from < close; ++col) {
          size_t comma = std::min(close, FindTopLevel(tokens, from, [&](size_t j) { return IsSymbol(tokens, j, ','); }));
          if (col >= columns.size()) return fail(Status::InvalidArgument("MERGE: INSERT has more values than columns"));
          ASSIGN_OR_RETURN(std::string value, RewriteSql(Span(text, tokens, from, comma)));
          clause.assignments.emplace_back(columns[col], std::move(value));
          from = Next(tokens, comma + 1);
        }
        if (clause.assignments.size() != columns.size()) {
          return fail(Status::InvalidArgument("MERGE: INSERT has fewer values than columns"));
        }
      }
    } else {
      return fail(Status::InvalidArgument(fmt::format("MERGE: unexpected '{}' after THEN",
                                                      a < tokens.size() ? tokens[a].text : "")));
    }
    spec.clauses.push_back(std::move(clause));
    when = next;
  }
  ASSIGN_OR_RETURN(result, Merge(*conn_, *table.store, table.root, *parquet_, spec, options));
  ASSIGN_OR_RETURN(QueryResult r,
                   conn_->Query(fmt::format("SELECT {}::BIGINT AS num_affected_rows, {}::BIGINT AS num_updated_rows, "
                                            "{}::BIGINT AS num_deleted_rows, {}::BIGINT AS num_inserted_rows",
                                            result.num_affected_rows, result.num_updated_rows,
                                            result.num_deleted_rows, result.num_inserted_rows)));
  return Handled(std::move(r));
}

// ==== end of the DML block =======================================================================

namespace {

// Data skipping for a query (engine/scan_predicate.h): when `tokens` read exactly one
// delta.`path` reference, exactly once, the simple conjuncts of its top-level WHERE on that table;
// otherwise (or when anything fails) an empty predicate, which reads every file.
delta::SkippingPredicate ScanPredicateOf(Connection& conn, bool spark,
                                         const std::vector<Token>& tokens) {
  constexpr std::string_view kProbe = "__medallion_probe";
  std::string probe;
  int refs = 0;
  for (size_t i = 0; i < tokens.size();) {
    auto ref = ParseTableRef(tokens, i);
    if (!ref.ok()) return {};
    if (*ref) {
      ++refs;
      probe += kProbe;
      i = (*ref)->end;
      continue;
    }
    probe += tokens[i].kind == TokenKind::kBacktick && !spark ? QuoteIdentifier(Unquote(tokens[i]))
                                                              : std::string(tokens[i].text);
    ++i;
  }
  if (refs != 1) return {};
  if (spark) {
    auto translated = TranslateSparkSql(probe);
    if (!translated.ok()) return {};
    probe = std::move(*translated);
  }
  auto predicate = ExtractScanPredicate(conn, probe, kProbe);
  return predicate.ok() ? std::move(*predicate) : delta::SkippingPredicate{};
}

}  // namespace

Result<QueryResult> Session::RunStatement(std::string_view text, size_t first_line) {
  ASSIGN_OR_RETURN(std::vector<Token> tokens, LexSql(text));
  {  // VACUUM, RESTORE, CLONE, OPTIMIZE (the maintenance block above)
    ASSIGN_OR_RETURN(std::optional<QueryResult> handled, RunMaintenanceStatement(text, first_line));
    if (handled) return std::move(*handled);
  }
  {  // CREATE TABLE AS SELECT, INSERT (the write block above)
    ASSIGN_OR_RETURN(std::optional<QueryResult> handled, RunWriteStatement(text, first_line));
    if (handled) return std::move(*handled);
  }
  {  // DELETE, UPDATE, MERGE (the DML block above)
    ASSIGN_OR_RETURN(std::optional<QueryResult> handled, RunDmlStatement(text, first_line));
    if (handled) return std::move(*handled);
  }
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
  // Rewrite table references and backticks; a query on one Delta table reads only the files its
  // WHERE may need (data skipping).
  const delta::SkippingPredicate skip =
      ScanPredicateOf(*conn_, options_.dialect == SessionOptions::Dialect::kSpark, tokens);
  ASSIGN_OR_RETURN(std::string out, RewriteSql(text, skip.empty() ? nullptr : &skip));
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
