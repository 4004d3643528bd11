#include "common/text.h"
#include "pipeline/sql_parser.h"

#include <fmt/format.h>

#include <cctype>
#include <set>
#include <string_view>
#include <utility>

#include "common/macros.h"
#include "engine/sql_lexer.h"

namespace medallion::pipeline {
namespace {

using engine::IsKeyword;
using engine::Token;
using engine::TokenKind;

constexpr std::string_view kStatementList =
    "a pipeline source file holds CREATE STREAMING TABLE, CREATE MATERIALIZED VIEW, "
    "CREATE [TEMPORARY] VIEW, CREATE FLOW, APPLY CHANGES INTO, SET and USE statements";

constexpr std::string_view kTableClauses = "PARTITIONED BY, CLUSTER BY, COMMENT, TBLPROPERTIES";
constexpr std::string_view kViewClauses = "COMMENT, TBLPROPERTIES";
constexpr std::string_view kAutoCdcClauses =
    "KEYS, IGNORE NULL UPDATES, APPLY AS DELETE WHEN, APPLY AS TRUNCATE WHEN, SEQUENCE BY, "
    "COLUMNS, STORED AS SCD TYPE or TRACK HISTORY ON";

bool Significant(const Token& t) {
  return t.kind != TokenKind::kSpace && t.kind != TokenKind::kComment;
}

bool IsNameToken(const Token& t) {
  return t.kind == TokenKind::kWord || t.kind == TokenKind::kBacktick;
}

bool IsStringToken(const Token& t) {
  // Spark reads "..." as a string literal in its default (non-ANSI-quote) mode.
  return t.kind == TokenKind::kString || t.kind == TokenKind::kDoubleQuoted;
}

std::string JoinName(const std::vector<std::string>& parts) {
  std::string out;
  for (const auto& p : parts) {
    if (!out.empty()) out += '.';
    out += p;
  }
  return out;
}

// LIVE.x -> x: the virtual schema of DLT's legacy publishing mode.
std::vector<std::string> DropLive(std::vector<std::string> parts) {
  if (parts.size() == 2 && EqualsIgnoreCase(parts[0], "live")) parts.erase(parts.begin());
  return parts;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

// Spark's VariableSubstitution: ${key}, ${spark:key}, ${sparkconf:key}, ${hiveconf:key}. A key
// holds no '}', '$' or space; an unknown key is left as written.
std::string Substitute(std::string_view text, const std::map<std::string, std::string>& config,
                       const std::map<std::string, std::string>& sets) {
  std::string out;
  size_t i = 0;
  while (i < text.size()) {
    size_t start = text.find("${", i);
    if (start == std::string_view::npos) break;
    size_t end = text.find('}', start + 2);
    if (end == std::string_view::npos) break;
    std::string_view key = text.substr(start + 2, end - start - 2);
    if (key.empty() || key.find_first_of("$ ") != std::string_view::npos) {
      out.append(text.substr(i, start + 2 - i));
      i = start + 2;
      continue;
    }
    for (std::string_view prefix : {"spark:", "sparkconf:", "hiveconf:"}) {
      if (key.starts_with(prefix)) {
        key.remove_prefix(prefix.size());
        break;
      }
    }
    out.append(text.substr(i, start - i));
    if (auto it = config.find(std::string(key)); it != config.end()) {
      out += it->second;
    } else if (auto jt = sets.find(std::string(key)); jt != sets.end()) {
      out += jt->second;
    } else {
      out.append(text.substr(start, end + 1 - start));
    }
    i = end + 1;
  }
  if (i < text.size()) out.append(text.substr(i));
  return out;
}

// The lexer says "line N: unterminated ..."; make it "<file>:<line>: unterminated ...".
Status LexError(const std::string& file, const Status& status, size_t first_line) {
  std::string_view msg = status.message();
  if (msg.starts_with("line ")) {
    size_t n = 5, line = 0;
    while (n < msg.size() && std::isdigit(static_cast<unsigned char>(msg[n]))) {
      line = line * 10 + static_cast<size_t>(msg[n] - '0');
      ++n;
    }
    if (n > 5 && msg.substr(n).starts_with(": ")) {
      return Status::InvalidArgument(
          fmt::format("{}:{}: {}", file, first_line + line - 1, msg.substr(n + 2)));
    }
  }
  return status.WithContext(file);
}

// The state one file's statements share (SDP's SqlGraphRegistrationContext is per file).
struct FileState {
  std::string file;
  std::string catalog;
  std::string schema;
  std::map<std::string, std::string> sets;  // this file's SETs so far
};

// One statement, lexed without spaces and comments, parsed into `out`.
class StatementParser {
 public:
  StatementParser(FileState* state, PipelineDefinitions* out, std::string text, size_t first_line)
      : state_(state), out_(out), text_(std::move(text)), first_line_(first_line) {}
  StatementParser(const StatementParser&) = delete;
  StatementParser& operator=(const StatementParser&) = delete;

  Status Run() {
    auto lexed = engine::LexSql(text_);
    if (!lexed.ok()) return LexError(state_->file, lexed.status(), first_line_);
    for (const Token& t : *lexed) {
      if (Significant(t)) toks_.push_back(t);
    }
    if (toks_.empty()) return Status::OK();  // e.g. a ${key} that substituted to nothing
    if (PeekKw("SET")) return ParseSet();
    if (PeekKw("USE")) return ParseUse();
    if (PeekKw("CREATE")) return ParseCreate();
    if (PeekKw("APPLY") && PeekKw("CHANGES", 1)) return ParseApplyChanges();
    return Unsupported();
  }

 private:
  // ---- tokens ----
  const Token* Peek(size_t k = 0) const {
    return pos_ + k < toks_.size() ? &toks_[pos_ + k] : nullptr;
  }
  bool AtEnd() const { return pos_ >= toks_.size(); }
  bool KwAt(size_t i, std::string_view kw) const {
    return i < toks_.size() && IsKeyword(toks_[i], kw);
  }
  bool SymAt(size_t i, char c) const {
    return i < toks_.size() && toks_[i].kind == TokenKind::kSymbol && toks_[i].text.size() == 1 &&
           toks_[i].text[0] == c;
  }
  bool NameAt(size_t i) const { return i < toks_.size() && IsNameToken(toks_[i]); }
  bool PeekKw(std::string_view kw, size_t k = 0) const { return KwAt(pos_ + k, kw); }
  bool PeekSym(char c, size_t k = 0) const { return SymAt(pos_ + k, c); }
  bool AcceptKw(std::string_view kw) {
    if (!PeekKw(kw)) return false;
    ++pos_;
    return true;
  }
  bool AcceptSym(char c) {
    if (!PeekSym(c)) return false;
    ++pos_;
    return true;
  }

  // "'X'" or "end of statement".
  std::string Found() const {
    return AtEnd() ? std::string("end of statement") : fmt::format("'{}'", Peek()->text);
  }
  size_t LineOf(const Token* t) const {
    if (t == nullptr && !toks_.empty()) t = &toks_.back();
    return t == nullptr ? first_line_ : first_line_ + t->line - 1;
  }
  Status Error(const Token* at, std::string_view msg) const {
    return Status::InvalidArgument(fmt::format("{}:{}: {}", state_->file, LineOf(at), msg));
  }
  Status ErrorHere(std::string_view msg) const { return Error(Peek(), msg); }
  Status NotSupportedHere(std::string_view msg) const {
    return Status::NotSupported(fmt::format("{}:{}: {}", state_->file, LineOf(Peek()), msg));
  }
  Status ExpectKw(std::string_view kw, std::string_view context) {
    if (AcceptKw(kw)) return Status::OK();
    return ErrorHere(fmt::format("expected {} {}, found {}", kw, context, Found()));
  }
  Status ExpectSym(char c, std::string_view context) {
    if (AcceptSym(c)) return Status::OK();
    return ErrorHere(fmt::format("expected '{}' {}, found {}", c, context, Found()));
  }

  // The source text of tokens [from, to).
  std::string Slice(size_t from, size_t to) const {
    if (from >= to) return std::string();
    size_t begin = toks_[from].offset;
    size_t end = toks_[to - 1].offset + toks_[to - 1].text.size();
    return text_.substr(begin, end - begin);
  }

  // The index of the ')' that closes the '(' at `open`, or toks_.size().
  size_t MatchingParen(size_t open) const {
    int depth = 0;
    for (size_t i = open; i < toks_.size(); ++i) {
      if (SymAt(i, '(')) ++depth;
      if (SymAt(i, ')') && --depth == 0) return i;
    }
    return toks_.size();
  }

  // ---- names and literals ----

  // a.b.c, each part a word or a `quoted` identifier, unquoted.
  Result<std::vector<std::string>> ParseNameParts(std::string_view what) {
    if (!NameAt(pos_)) return ErrorHere(fmt::format("expected {}, found {}", what, Found()));
    std::vector<std::string> parts;
    while (true) {
      parts.push_back(engine::Unquote(toks_[pos_++]));
      if (!(PeekSym('.') && NameAt(pos_ + 1))) break;
      ++pos_;
    }
    return parts;
  }
  Result<std::string> ParseName(std::string_view what) {
    ASSIGN_OR_RETURN(auto parts, ParseNameParts(what));
    return JoinName(DropLive(std::move(parts)));
  }

  Result<std::string> ParseString(std::string_view after) {
    if (AtEnd() || !IsStringToken(*Peek())) {
      return ErrorHere(fmt::format("expected a string literal after {}, found {}", after, Found()));
    }
    return engine::Unquote(toks_[pos_++]);
  }

  // (a, b.c, ...): at least one name.
  Result<std::vector<std::string>> ParseParenNameList(std::string_view what) {
    RETURN_NOT_OK(ExpectSym('(', fmt::format("after {}", what)));
    std::vector<std::string> names;
    while (true) {
      ASSIGN_OR_RETURN(auto parts, ParseNameParts(fmt::format("a column name in {}", what)));
      names.push_back(JoinName(parts));
      if (AcceptSym(',')) continue;
      RETURN_NOT_OK(ExpectSym(')', fmt::format("or ',' in the column list of {}", what)));
      return names;
    }
  }

  // (cols) | * EXCEPT (cols) | * | cols (when `bare_list`).
  Result<ColumnSelection> ParseColumnSelection(std::string_view what, bool bare_list) {
    ColumnSelection sel;
    if (AcceptSym('*')) {
      sel.all_except = true;
      if (AcceptKw("EXCEPT")) {
        ASSIGN_OR_RETURN(sel.columns, ParseParenNameList(fmt::format("{} * EXCEPT", what)));
      }
      return sel;
    }
    if (PeekSym('(')) {
      ASSIGN_OR_RETURN(sel.columns, ParseParenNameList(what));
      return sel;
    }
    if (bare_list && NameAt(pos_)) {
      while (true) {
        ASSIGN_OR_RETURN(auto parts, ParseNameParts("a column name"));
        sel.columns.push_back(JoinName(parts));
        if (!AcceptSym(',')) return sel;
      }
    }
    return ErrorHere(
        fmt::format("expected (columns) or * EXCEPT (columns) after {}, found {}", what, Found()));
  }

  // Records a clause, rejecting a second one of the same name.
  Status Once(std::set<std::string>* seen, const std::string& clause, const Token* at) const {
    if (!seen->insert(clause).second) return Error(at, fmt::format("duplicate {} clause", clause));
    return Status::OK();
  }

  Status Unsupported() const {
    std::string words;
    for (size_t i = 0; i < toks_.size() && i < 3; ++i) {
      if (!words.empty()) words += ' ';
      words += toks_[i].text;
    }
    return Error(&toks_[0], fmt::format("unsupported statement: {} ({})", words, kStatementList));
  }

  // ---- SET / USE ----

  Status ParseSet() {
    const Token* set = Peek();
    ++pos_;
    if ((PeekKw("VAR") || PeekKw("VARIABLE")) && NameAt(pos_ + 1)) {
      return ErrorHere(
          "SET VARIABLE (session variables) is not supported in a pipeline; use SET key = value");
    }
    size_t eq = pos_;
    while (eq < toks_.size() && !SymAt(eq, '=')) ++eq;
    if (AtEnd() || eq == toks_.size()) {
      return Error(set, "SET needs a key and a value: SET key = value");
    }
    if (eq == pos_) return ErrorHere("SET needs a key before '='");
    std::string key;
    if (eq == pos_ + 1 && toks_[pos_].kind != TokenKind::kWord) {
      key = engine::Unquote(toks_[pos_]);
    } else {
      key = Slice(pos_, eq);
    }
    if (key.empty() || key.find_first_of(" \t\r\n") != std::string::npos) {
      return ErrorHere(
          fmt::format("invalid SET key '{}': a key is a name such as "
                      "spark.sql.session.timeZone",
                      key));
    }
    std::string value;
    if (eq + 2 == toks_.size() && toks_[eq + 1].kind != TokenKind::kWord &&
        toks_[eq + 1].kind != TokenKind::kNumber && toks_[eq + 1].kind != TokenKind::kSymbol) {
      value = engine::Unquote(toks_[eq + 1]);
    } else {
      value = std::string(Trim(Slice(eq + 1, toks_.size())));
    }
    state_->sets[key] = value;
    out_->sql_conf[key] = value;
    return Status::OK();
  }

  Result<std::vector<std::string>> ParseUseName(std::string_view what) {
    if (!AtEnd() && IsStringToken(*Peek())) {
      return std::vector<std::string>{engine::Unquote(toks_[pos_++])};
    }
    return ParseNameParts(what);
  }

  Status ParseUse() {
    ++pos_;
    if (AcceptKw("CATALOG")) {
      ASSIGN_OR_RETURN(auto parts, ParseUseName("a catalog name after USE CATALOG"));
      if (parts.size() != 1) return Error(&toks_[1], "USE CATALOG takes a one-part name");
      state_->catalog = parts[0];
      state_->schema.clear();  // SDP: the schema is cleared when the catalog is set
    } else {
      bool keyword = AcceptKw("SCHEMA") || AcceptKw("DATABASE") || AcceptKw("NAMESPACE");
      ASSIGN_OR_RETURN(auto parts,
                       ParseUseName(keyword ? "a schema name" : "a schema name after USE"));
      if (parts.size() == 2) {
        state_->catalog = parts[0];
        state_->schema = parts[1];
      } else if (parts.size() == 1) {
        state_->schema = parts[0];
      } else {
        return Error(&toks_[0], fmt::format("USE takes a schema or catalog.schema, got '{}'",
                                            JoinName(parts)));
      }
    }
    if (!AtEnd()) return ErrorHere(fmt::format("unexpected {} after the USE name", Found()));
    return Status::OK();
  }

  // ---- CREATE ----

  Status ParseCreate() {
    ++pos_;
    const Token* or_token = Peek();
    bool or_refresh = false;
    if (AcceptKw("OR")) {
      if (!AcceptKw("REFRESH") && !AcceptKw("REPLACE")) {
        return ErrorHere(
            fmt::format("expected REFRESH or REPLACE after CREATE OR, found {}", Found()));
      }
      or_refresh = true;
    }
    const Token* modifier = Peek();
    bool is_private = AcceptKw("PRIVATE");
    bool temporary = !is_private && (AcceptKw("TEMPORARY") || AcceptKw("TEMP"));

    if (PeekKw("FLOW")) {
      if (or_refresh) return Error(or_token, "CREATE FLOW takes no OR REFRESH / OR REPLACE");
      if (is_private || temporary) {
        return Error(modifier, fmt::format("CREATE FLOW takes no {}", modifier->text));
      }
      ++pos_;
      return ParseCreateFlow();
    }

    std::optional<DatasetKind> kind;
    if (PeekKw("STREAMING") && PeekKw("TABLE", 1)) {
      pos_ += 2;
      kind = DatasetKind::kStreamingTable;
    } else if (PeekKw("STREAMING") && PeekKw("LIVE", 1) && PeekKw("TABLE", 2)) {
      pos_ += 3;
      kind = DatasetKind::kStreamingTable;
    } else if (PeekKw("STREAMING") && PeekKw("LIVE", 1) && PeekKw("VIEW", 2)) {
      pos_ += 3;
      kind = DatasetKind::kTemporaryView;
    } else if (PeekKw("MATERIALIZED") && PeekKw("VIEW", 1)) {
      pos_ += 2;
      kind = DatasetKind::kMaterializedView;
    } else if (PeekKw("LIVE") && PeekKw("TABLE", 1)) {
      pos_ += 2;
      kind = DatasetKind::kMaterializedView;
    } else if (PeekKw("LIVE") && PeekKw("VIEW", 1)) {
      pos_ += 2;
      kind = DatasetKind::kTemporaryView;
    } else if (PeekKw("VIEW")) {
      ++pos_;
      kind = temporary ? DatasetKind::kTemporaryView : DatasetKind::kView;
    }
    if (!kind) return Unsupported();
    bool is_view = *kind == DatasetKind::kTemporaryView || *kind == DatasetKind::kView;
    if (is_view && is_private) {
      return Error(modifier,
                   "PRIVATE applies to streaming tables and materialized views; a view "
                   "that is not published is CREATE TEMPORARY VIEW");
    }
    return ParseDataset(*kind, is_private || (temporary && !is_view));
  }

  static std::string_view KindName(DatasetKind kind) {
    switch (kind) {
      case DatasetKind::kStreamingTable:
        return "streaming table";
      case DatasetKind::kMaterializedView:
        return "materialized view";
      case DatasetKind::kTemporaryView:
        return "temporary view";
      case DatasetKind::kView:
        return "view";
    }
    return "dataset";
  }

  DatasetDefinition NewDataset(DatasetKind kind) const {
    DatasetDefinition ds;
    ds.kind = kind;
    ds.catalog = state_->catalog;
    ds.schema = state_->schema;
    ds.sql_conf = state_->sets;
    ds.location = {state_->file, first_line_};
    return ds;
  }

  FlowDefinition NewFlow(FlowDefinition::Kind kind) const {
    FlowDefinition flow;
    flow.kind = kind;
    flow.catalog = state_->catalog;
    flow.schema = state_->schema;
    flow.sql_conf = state_->sets;
    flow.location = {state_->file, first_line_};
    return flow;
  }

  Status ParseDataset(DatasetKind kind, bool is_private) {
    const bool is_view = kind == DatasetKind::kTemporaryView || kind == DatasetKind::kView;
    const std::string kind_name(KindName(kind));
    DatasetDefinition ds = NewDataset(kind);
    ds.is_private = is_private;
    const Token* name_token = Peek();
    ASSIGN_OR_RETURN(auto parts, ParseNameParts(fmt::format("a {} name", kind_name)));
    parts = DropLive(std::move(parts));
    if (kind == DatasetKind::kTemporaryView && parts.size() > 1) {
      return Error(name_token,
                   fmt::format("a temporary view name cannot be qualified: '{}'", JoinName(parts)));
    }
    ds.name = JoinName(parts);
    if (PeekSym('(')) RETURN_NOT_OK(ParseTableSpec(&ds, is_view));

    std::set<std::string> seen;
    std::optional<FlowDefinition> cdc_flow;
    while (!AtEnd()) {
      const Token* at = Peek();
      if (AcceptKw("AS")) {
        if (AtEnd()) return Error(at, "expected a query after AS");
        ds.query = Slice(pos_, toks_.size());
        pos_ = toks_.size();
        break;
      }
      if (PeekKw("FLOW")) {
        if (kind != DatasetKind::kStreamingTable) {
          return ErrorHere(
              fmt::format("FLOW AUTO CDC applies to streaming tables, not to a {}", kind_name));
        }
        ++pos_;
        RETURN_NOT_OK(ExpectKw("AUTO", "after FLOW (FLOW AUTO CDC FROM ...)"));
        RETURN_NOT_OK(ExpectKw("CDC", "after FLOW AUTO"));
        FlowDefinition flow = NewFlow(FlowDefinition::Kind::kAutoCdc);
        flow.name = ds.name;
        flow.target = ds.name;
        flow.once = AcceptKw("ONCE");
        ASSIGN_OR_RETURN(flow.auto_cdc, ParseAutoCdc(flow.target));
        cdc_flow = std::move(flow);
        break;
      }
      if (PeekKw("PARTITIONED") && PeekKw("BY", 1)) {
        if (is_view)
          return ErrorHere(fmt::format("PARTITIONED BY does not apply to a {}", kind_name));
        RETURN_NOT_OK(Once(&seen, "PARTITIONED BY", at));
        pos_ += 2;
        ASSIGN_OR_RETURN(ds.partition_by, ParsePartitionColumns());
        continue;
      }
      if (PeekKw("CLUSTER") && PeekKw("BY", 1)) {
        if (is_view) return ErrorHere(fmt::format("CLUSTER BY does not apply to a {}", kind_name));
        RETURN_NOT_OK(Once(&seen, "CLUSTER BY", at));
        pos_ += 2;
        if (AcceptKw("AUTO")) {
          ds.cluster_by_auto = true;
        } else if (!AcceptKw("NONE")) {
          ASSIGN_OR_RETURN(ds.cluster_by, ParseParenNameList("CLUSTER BY"));
        }
        continue;
      }
      if (PeekKw("COMMENT")) {
        RETURN_NOT_OK(Once(&seen, "COMMENT", at));
        ++pos_;
        ASSIGN_OR_RETURN(ds.comment, ParseString("COMMENT"));
        continue;
      }
      if (PeekKw("TBLPROPERTIES")) {
        RETURN_NOT_OK(Once(&seen, "TBLPROPERTIES", at));
        ++pos_;
        ASSIGN_OR_RETURN(ds.table_properties, ParseTableProperties());
        continue;
      }
      if (PeekKw("USING")) {
        if (is_view) return ErrorHere(fmt::format("USING does not apply to a {}", kind_name));
        RETURN_NOT_OK(Once(&seen, "USING", at));
        ++pos_;
        if (!NameAt(pos_))
          return ErrorHere(fmt::format("expected a format after USING, found {}", Found()));
        if (!PeekKw("DELTA")) {
          return NotSupportedHere(
              fmt::format("USING {}: pipeline tables are Delta tables", Peek()->text));
        }
        ++pos_;
        continue;
      }
      if (PeekKw("LOCATION") || (PeekKw("WITH") && PeekKw("ROW", 1)) || PeekKw("OPTIONS") ||
          PeekKw("SCHEDULE") || PeekKw("TRIGGER")) {
        return NotSupportedHere(
            fmt::format("the {} clause is not supported in a pipeline", Peek()->text));
      }
      if (PeekSym('(')) {
        return ErrorHere(
            fmt::format("the column list of a {} comes right after its name", kind_name));
      }
      return ErrorHere(
          fmt::format("expected AS <query> or a clause ({}) after the {} name, "
                      "found {}",
                      is_view ? kViewClauses : kTableClauses, kind_name, Found()));
    }
    if (!ds.partition_by.empty() && (!ds.cluster_by.empty() || ds.cluster_by_auto)) {
      return Error(&toks_[0], fmt::format("{} {}: PARTITIONED BY and CLUSTER BY cannot be used "
                                          "together",
                                          kind_name, ds.name));
    }
    if (kind != DatasetKind::kStreamingTable && !ds.query) {
      return Error(nullptr, fmt::format("expected AS <query> for the {} {}, found end of statement",
                                        kind_name, ds.name));
    }
    out_->datasets.push_back(std::move(ds));
    if (cdc_flow) out_->flows.push_back(std::move(*cdc_flow));
    return Status::OK();
  }

  // PARTITIONED BY (a, b): plain one-part columns (SDP's PartitionHelper rejects transforms and
  // nested fields).
  Result<std::vector<std::string>> ParsePartitionColumns() {
    RETURN_NOT_OK(ExpectSym('(', "after PARTITIONED BY"));
    std::vector<std::string> cols;
    while (true) {
      ASSIGN_OR_RETURN(auto parts, ParseNameParts("a column name in PARTITIONED BY"));
      if (PeekSym('(')) {
        return ErrorHere(
            fmt::format("PARTITIONED BY takes column names; the transform {}(...) "
                        "is not supported",
                        JoinName(parts)));
      }
      if (parts.size() != 1) {
        return ErrorHere(
            fmt::format("PARTITIONED BY takes top-level columns, not '{}'", JoinName(parts)));
      }
      cols.push_back(parts[0]);
      if (AcceptSym(',')) continue;
      RETURN_NOT_OK(ExpectSym(')', "or ',' in PARTITIONED BY"));
      return cols;
    }
  }

  // TBLPROPERTIES ('k' = 'v', k.x = true, ...): keys and values unquoted; '=' optional as in Spark.
  Result<std::map<std::string, std::string>> ParseTableProperties() {
    RETURN_NOT_OK(ExpectSym('(', "after TBLPROPERTIES"));
    std::map<std::string, std::string> props;
    while (true) {
      const Token* key_token = Peek();
      std::string key;
      if (!AtEnd() && IsStringToken(*Peek())) {
        key = engine::Unquote(toks_[pos_++]);
      } else if (NameAt(pos_)) {
        ASSIGN_OR_RETURN(auto parts, ParseNameParts("a property key"));
        key = JoinName(parts);
      } else {
        return ErrorHere(
            fmt::format("expected a property key in TBLPROPERTIES, found {}", Found()));
      }
      AcceptSym('=');
      std::string value;
      if (!AtEnd() && IsStringToken(*Peek())) {
        value = engine::Unquote(toks_[pos_++]);
      } else if (PeekSym('-') && Peek(1) && Peek(1)->kind == TokenKind::kNumber) {
        value = "-" + std::string(Peek(1)->text);
        pos_ += 2;
      } else if (!AtEnd() &&
                 (Peek()->kind == TokenKind::kNumber || Peek()->kind == TokenKind::kWord)) {
        value = std::string(toks_[pos_++].text);
      } else {
        return ErrorHere(
            fmt::format("expected a value for the property '{}', found {}", key, Found()));
      }
      if (!props.emplace(key, value).second) {
        return Error(key_token, fmt::format("duplicate key '{}' in TBLPROPERTIES", key));
      }
      if (AcceptSym(',')) continue;
      RETURN_NOT_OK(ExpectSym(')', "or ',' in TBLPROPERTIES"));
      return props;
    }
  }

  // Skips an informational constraint up to the ',' or ')' that ends it.
  void SkipListItem() {
    int depth = 0;
    while (!AtEnd()) {
      if (depth == 0 && (PeekSym(',') || PeekSym(')'))) return;
      if (PeekSym('(')) ++depth;
      if (PeekSym(')')) --depth;
      ++pos_;
    }
  }

  // ( column definitions, expectations, informational constraints )
  Status ParseTableSpec(DatasetDefinition* ds, bool is_view) {
    ++pos_;  // '('
    std::set<std::string> expectation_names;
    std::set<std::string> column_names;
    while (true) {
      const Token* item = Peek();
      if (AtEnd()) return ErrorHere("unterminated column list: expected ')'");
      if (PeekKw("CONSTRAINT")) {
        ++pos_;
        if (!NameAt(pos_)) {
          return ErrorHere(
              fmt::format("expected a constraint name after CONSTRAINT, found {}", Found()));
        }
        std::string name = engine::Unquote(toks_[pos_++]);
        if (AcceptKw("EXPECT")) {
          Expectation e;
          e.name = name;
          if (!PeekSym('(')) {
            return ErrorHere(
                fmt::format("expected '(' after EXPECT (CONSTRAINT {} EXPECT "
                            "(condition)), found {}",
                            name, Found()));
          }
          size_t close = MatchingParen(pos_);
          if (close == toks_.size()) return ErrorHere("unbalanced parentheses in EXPECT (...)");
          e.condition = Slice(pos_ + 1, close);
          if (e.condition.empty())
            return ErrorHere(fmt::format("empty condition in EXPECT of {}", name));
          pos_ = close + 1;
          if (AcceptKw("ON")) {
            RETURN_NOT_OK(ExpectKw("VIOLATION", "after ON"));
            if (AcceptKw("DROP")) {
              RETURN_NOT_OK(ExpectKw("ROW", "after ON VIOLATION DROP"));
              e.action = Expectation::Action::kDrop;
            } else if (AcceptKw("FAIL")) {
              RETURN_NOT_OK(ExpectKw("UPDATE", "after ON VIOLATION FAIL"));
              e.action = Expectation::Action::kFail;
            } else if (AcceptKw("QUARANTINE")) {
              e.action = Expectation::Action::kQuarantine;
            } else {
              return ErrorHere(
                  fmt::format("expected DROP ROW, FAIL UPDATE or QUARANTINE after ON "
                              "VIOLATION, found {}",
                              Found()));
            }
          }
          if (!expectation_names.insert(e.name).second) {
            return Error(item, fmt::format("duplicate expectation name '{}'", e.name));
          }
          ds->expectations.push_back(std::move(e));
        } else if ((PeekKw("PRIMARY") || PeekKw("FOREIGN")) && PeekKw("KEY", 1)) {
          SkipListItem();  // informational on Databricks: not enforced
        } else if (PeekKw("CHECK")) {
          return NotSupportedHere(fmt::format(
              "CHECK constraints are not supported; write CONSTRAINT {} EXPECT (condition) ON "
              "VIOLATION FAIL UPDATE",
              name));
        } else {
          return ErrorHere(
              fmt::format("expected EXPECT (condition), PRIMARY KEY or FOREIGN KEY "
                          "after CONSTRAINT {}, found {}",
                          name, Found()));
        }
      } else if ((PeekKw("PRIMARY") || PeekKw("FOREIGN")) && PeekKw("KEY", 1)) {
        SkipListItem();
      } else if (NameAt(pos_)) {
        RETURN_NOT_OK(ParseColumn(ds, is_view));
        if (!column_names.insert(ds->columns.back().name).second) {
          return Error(item, fmt::format("duplicate column '{}'", ds->columns.back().name));
        }
      } else {
        return ErrorHere(
            fmt::format("expected a column definition or a CONSTRAINT, found {}", Found()));
      }
      if (AcceptSym(',')) continue;
      if (AcceptSym(')')) return Status::OK();
      if (AtEnd()) return ErrorHere("unterminated column list: expected ')'");
      return ErrorHere(fmt::format("expected ',' or ')' in the column list, found {}", Found()));
    }
  }

  static bool EndsColumnType(const Token& t) {
    for (std::string_view kw : {"NOT", "COMMENT", "MASK", "PRIMARY", "FOREIGN", "REFERENCES",
                                "GENERATED", "DEFAULT", "CONSTRAINT"}) {
      if (IsKeyword(t, kw)) return true;
    }
    return false;
  }

  // name TYPE [NOT NULL] [COMMENT 'c'] [[CONSTRAINT n] PRIMARY KEY | REFERENCES ...]
  Status ParseColumn(DatasetDefinition* ds, bool is_view) {
    ColumnDefinition col;
    col.name = engine::Unquote(toks_[pos_++]);
    size_t type_start = pos_;
    int depth = 0;
    while (!AtEnd()) {
      if (depth == 0 && (PeekSym(',') || PeekSym(')') || EndsColumnType(*Peek()))) break;
      if (PeekSym('(') || PeekSym('<')) ++depth;
      if (PeekSym(')') || PeekSym('>')) --depth;
      ++pos_;
    }
    col.type = Slice(type_start, pos_);
    if (col.type.empty() && !is_view) {
      return ErrorHere(fmt::format("expected a type for column {}, found {}", col.name, Found()));
    }
    while (!AtEnd() && !PeekSym(',') && !PeekSym(')')) {
      if (AcceptKw("NOT")) {
        RETURN_NOT_OK(ExpectKw("NULL", fmt::format("after NOT in column {}", col.name)));
        col.not_null = true;
      } else if (AcceptKw("COMMENT")) {
        ASSIGN_OR_RETURN(col.comment, ParseString("COMMENT"));
      } else if (AcceptKw("CONSTRAINT")) {
        if (!NameAt(pos_)) return ErrorHere("expected a constraint name after CONSTRAINT");
        ++pos_;
      } else if (PeekKw("PRIMARY") && PeekKw("KEY", 1)) {
        pos_ += 2;  // informational
        while (PeekKw("RELY") || PeekKw("NORELY")) ++pos_;
      } else if (PeekKw("REFERENCES") || (PeekKw("FOREIGN") && PeekKw("KEY", 1))) {
        SkipListItem();  // informational
      } else if (PeekKw("MASK") || PeekKw("GENERATED") || PeekKw("DEFAULT")) {
        return NotSupportedHere(
            fmt::format("column {}: {} is not supported in a pipeline", col.name, Peek()->text));
      } else {
        return ErrorHere(
            fmt::format("unexpected {} in the definition of column {}; expected NOT "
                        "NULL, COMMENT, ',' or ')'",
                        Found(), col.name));
      }
    }
    ds->columns.push_back(std::move(col));
    return Status::OK();
  }

  // ---- flows ----

  Status ParseCreateFlow() {
    const Token* name_token = Peek();
    ASSIGN_OR_RETURN(auto parts, ParseNameParts("a flow name"));
    parts = DropLive(std::move(parts));
    if (parts.size() != 1) {
      return Error(name_token, fmt::format("a flow name is one identifier, not '{}' (Spark: "
                                           "MULTIPART_FLOW_NAME_NOT_SUPPORTED)",
                                           JoinName(parts)));
    }
    std::optional<std::string> comment;
    if (AcceptKw("COMMENT")) {
      ASSIGN_OR_RETURN(comment, ParseString("COMMENT"));
    }
    RETURN_NOT_OK(ExpectKw("AS", fmt::format("after CREATE FLOW {}", parts[0])));
    FlowDefinition flow;
    if (PeekKw("AUTO") && PeekKw("CDC", 1)) {
      pos_ += 2;
      flow = NewFlow(FlowDefinition::Kind::kAutoCdc);
      flow.once = AcceptKw("ONCE");
      RETURN_NOT_OK(ExpectKw("INTO", "after AUTO CDC"));
      ASSIGN_OR_RETURN(flow.target, ParseName("the AUTO CDC target table"));
      ASSIGN_OR_RETURN(flow.auto_cdc, ParseAutoCdc(flow.target));
    } else if (PeekKw("APPLY") && PeekKw("CHANGES", 1)) {
      pos_ += 2;
      flow = NewFlow(FlowDefinition::Kind::kAutoCdc);
      RETURN_NOT_OK(ExpectKw("INTO", "after APPLY CHANGES"));
      ASSIGN_OR_RETURN(flow.target, ParseName("the APPLY CHANGES target table"));
      ASSIGN_OR_RETURN(flow.auto_cdc, ParseAutoCdc(flow.target));
    } else if (PeekKw("INSERT")) {
      flow = NewFlow(FlowDefinition::Kind::kAppend);
      RETURN_NOT_OK(ParseInsertFlow(&flow));
    } else {
      return ErrorHere(
          fmt::format("expected INSERT INTO or AUTO CDC INTO after CREATE FLOW {} "
                      "AS, found {}",
                      parts[0], Found()));
    }
    flow.name = parts[0];
    flow.comment = std::move(comment);
    out_->flows.push_back(std::move(flow));
    return Status::OK();
  }

  // INSERT [ONCE] INTO [ONCE] [TABLE] target BY NAME query (SDP's validateInsertIntoFlow).
  Status ParseInsertFlow(FlowDefinition* flow) {
    ++pos_;  // INSERT
    if (PeekKw("OVERWRITE")) {
      return ErrorHere(
          "INSERT OVERWRITE flows are not supported: a flow appends (INSERT INTO "
          "... BY NAME)");
    }
    flow->once = AcceptKw("ONCE");
    RETURN_NOT_OK(ExpectKw("INTO", "after INSERT"));
    // Databricks writes INSERT INTO ONCE target; `INSERT INTO once BY NAME` names a table "once".
    if (PeekKw("ONCE") && NameAt(pos_ + 1) && !PeekKw("BY", 1)) {
      ++pos_;
      flow->once = true;
    }
    if (PeekKw("TABLE") && NameAt(pos_ + 1) && !PeekKw("BY", 1)) ++pos_;
    ASSIGN_OR_RETURN(flow->target, ParseName("the flow's target table"));
    if (PeekKw("PARTITION")) return ErrorHere("a flow's INSERT cannot name a PARTITION");
    if (PeekKw("IF")) return ErrorHere("IF NOT EXISTS is not supported for flows");
    if (PeekSym('(')) {
      return ErrorHere("a flow's INSERT cannot list columns: BY NAME matches them by name");
    }
    if (!(PeekKw("BY") && PeekKw("NAME", 1))) {
      return ErrorHere(
          fmt::format("expected BY NAME after the flow's target (CREATE FLOW f AS "
                      "INSERT INTO t BY NAME <query>), found {}",
                      Found()));
    }
    pos_ += 2;
    if (AtEnd()) return ErrorHere("expected a query after BY NAME");
    flow->query = Slice(pos_, toks_.size());
    pos_ = toks_.size();
    return Status::OK();
  }

  // APPLY CHANGES INTO target FROM ...: a flow named after the target.
  Status ParseApplyChanges() {
    pos_ += 2;
    RETURN_NOT_OK(ExpectKw("INTO", "after APPLY CHANGES"));
    FlowDefinition flow = NewFlow(FlowDefinition::Kind::kAutoCdc);
    ASSIGN_OR_RETURN(flow.target, ParseName("the APPLY CHANGES target table"));
    flow.name = flow.target;
    ASSIGN_OR_RETURN(flow.auto_cdc, ParseAutoCdc(flow.target));
    out_->flows.push_back(std::move(flow));
    return Status::OK();
  }

  // Whether an AUTO CDC clause starts at token i.
  bool CdcClauseAt(size_t i) const {
    if (KwAt(i, "KEYS")) return SymAt(i + 1, '(');
    if (KwAt(i, "IGNORE")) return KwAt(i + 1, "NULL") && KwAt(i + 2, "UPDATES");
    if (KwAt(i, "APPLY")) return KwAt(i + 1, "AS");
    if (KwAt(i, "SEQUENCE")) return KwAt(i + 1, "BY");
    if (KwAt(i, "COLUMNS")) return SymAt(i + 1, '(') || SymAt(i + 1, '*') || NameAt(i + 1);
    if (KwAt(i, "STORED")) return KwAt(i + 1, "AS");
    if (KwAt(i, "TRACK")) return KwAt(i + 1, "HISTORY");
    return false;
  }

  // The end of an expression starting at `from`: the next clause at parenthesis depth 0.
  size_t ExpressionEnd(size_t from) const {
    int depth = 0;
    for (size_t i = from; i < toks_.size(); ++i) {
      if (depth == 0 && CdcClauseAt(i)) return i;
      if (SymAt(i, '(') || SymAt(i, '[')) ++depth;
      if (SymAt(i, ')') || SymAt(i, ']')) --depth;
    }
    return toks_.size();
  }

  Result<std::string> ParseExpression(std::string_view after) {
    size_t end = ExpressionEnd(pos_);
    if (end == pos_) {
      return ErrorHere(fmt::format("expected an expression after {}, found {}", after, Found()));
    }
    std::string expr = Slice(pos_, end);
    pos_ = end;
    return expr;
  }

  // FROM <source> and the clauses, to the end of the statement.
  Result<AutoCdcDefinition> ParseAutoCdc(const std::string& target) {
    AutoCdcDefinition cdc;
    RETURN_NOT_OK(ExpectKw("FROM", fmt::format("after the AUTO CDC target {}", target)));
    if (PeekKw("STREAM") && PeekSym('(', 1)) {
      pos_ += 2;
      ASSIGN_OR_RETURN(cdc.source, ParseName("a source table in STREAM(...)"));
      RETURN_NOT_OK(ExpectSym(')', "after the STREAM(...) source"));
    } else if (PeekKw("STREAM") && NameAt(pos_ + 1) && !CdcClauseAt(pos_ + 1)) {
      ++pos_;
      ASSIGN_OR_RETURN(cdc.source, ParseName("a source table after STREAM"));
    } else {
      ASSIGN_OR_RETURN(cdc.source, ParseName("a source table after FROM"));
      cdc.source_is_stream = false;
    }

    std::set<std::string> seen;
    const Token* truncate_at = nullptr;
    const Token* track_at = nullptr;
    while (!AtEnd()) {
      const Token* at = Peek();
      if (PeekKw("KEYS") && PeekSym('(', 1)) {
        RETURN_NOT_OK(Once(&seen, "KEYS", at));
        ++pos_;
        ASSIGN_OR_RETURN(cdc.keys, ParseParenNameList("KEYS"));
      } else if (CdcClauseAt(pos_) && PeekKw("IGNORE")) {
        RETURN_NOT_OK(Once(&seen, "IGNORE NULL UPDATES", at));
        pos_ += 3;
        cdc.ignore_null_updates = true;
        if (AcceptKw("ON")) {
          ASSIGN_OR_RETURN(cdc.ignore_null_updates_on,
                           ParseColumnSelection("IGNORE NULL UPDATES ON", /*bare_list=*/false));
        }
      } else if (PeekKw("APPLY") && PeekKw("AS", 1)) {
        pos_ += 2;
        if (AcceptKw("DELETE")) {
          RETURN_NOT_OK(Once(&seen, "APPLY AS DELETE WHEN", at));
          RETURN_NOT_OK(ExpectKw("WHEN", "after APPLY AS DELETE"));
          ASSIGN_OR_RETURN(cdc.apply_as_delete_when, ParseExpression("APPLY AS DELETE WHEN"));
        } else if (AcceptKw("TRUNCATE")) {
          RETURN_NOT_OK(Once(&seen, "APPLY AS TRUNCATE WHEN", at));
          RETURN_NOT_OK(ExpectKw("WHEN", "after APPLY AS TRUNCATE"));
          truncate_at = at;
          ASSIGN_OR_RETURN(cdc.apply_as_truncate_when, ParseExpression("APPLY AS TRUNCATE WHEN"));
        } else {
          return ErrorHere(
              fmt::format("expected DELETE WHEN or TRUNCATE WHEN after APPLY AS, "
                          "found {}",
                          Found()));
        }
      } else if (PeekKw("SEQUENCE") && PeekKw("BY", 1)) {
        RETURN_NOT_OK(Once(&seen, "SEQUENCE BY", at));
        pos_ += 2;
        size_t end = ExpressionEnd(pos_);
        if (end == pos_) {
          return ErrorHere(
              fmt::format("expected an expression after SEQUENCE BY, found {}", Found()));
        }
        if (PeekKw("STRUCT") && PeekSym('(', 1) && MatchingParen(pos_ + 1) == end - 1) {
          // STRUCT(a, b): the arguments, split at depth-0 commas.
          size_t arg = pos_ + 2;
          int depth = 0;
          for (size_t i = pos_ + 2; i <= end - 1; ++i) {
            if (i == end - 1 || (depth == 0 && SymAt(i, ','))) {
              if (i == arg) return Error(&toks_[i], "empty argument in SEQUENCE BY STRUCT(...)");
              cdc.sequence_by.push_back(Slice(arg, i));
              arg = i + 1;
              continue;
            }
            if (SymAt(i, '(') || SymAt(i, '[')) ++depth;
            if (SymAt(i, ')') || SymAt(i, ']')) --depth;
          }
        } else {
          cdc.sequence_by.push_back(Slice(pos_, end));
        }
        pos_ = end;
      } else if (CdcClauseAt(pos_) && PeekKw("COLUMNS")) {
        RETURN_NOT_OK(Once(&seen, "COLUMNS", at));
        ++pos_;
        ASSIGN_OR_RETURN(cdc.columns, ParseColumnSelection("COLUMNS", /*bare_list=*/true));
      } else if (PeekKw("STORED") && PeekKw("AS", 1)) {
        RETURN_NOT_OK(Once(&seen, "STORED AS", at));
        pos_ += 2;
        RETURN_NOT_OK(ExpectKw("SCD", "after STORED AS"));
        RETURN_NOT_OK(ExpectKw("TYPE", "after STORED AS SCD"));
        if (!AtEnd() && Peek()->kind == TokenKind::kNumber &&
            (Peek()->text == "1" || Peek()->text == "2")) {
          cdc.scd_type = Peek()->text == "1" ? 1 : 2;
          ++pos_;
        } else {
          return ErrorHere(
              fmt::format("expected 1 or 2 after STORED AS SCD TYPE, found {}", Found()));
        }
      } else if (PeekKw("TRACK") && PeekKw("HISTORY", 1)) {
        RETURN_NOT_OK(Once(&seen, "TRACK HISTORY ON", at));
        pos_ += 2;
        RETURN_NOT_OK(ExpectKw("ON", "after TRACK HISTORY"));
        track_at = at;
        ASSIGN_OR_RETURN(cdc.track_history_on,
                         ParseColumnSelection("TRACK HISTORY ON", /*bare_list=*/true));
      } else {
        return ErrorHere(fmt::format("unexpected {} in AUTO CDC into {}; expected {}", Found(),
                                     target, kAutoCdcClauses));
      }
    }
    if (cdc.keys.empty()) {
      return Error(&toks_[0], fmt::format("AUTO CDC into {}: KEYS (...) is required", target));
    }
    if (cdc.sequence_by.empty()) {
      return Error(&toks_[0], fmt::format("AUTO CDC into {}: SEQUENCE BY is required", target));
    }
    if (cdc.apply_as_truncate_when && cdc.scd_type == 2) {
      return Error(truncate_at, fmt::format("AUTO CDC into {}: APPLY AS TRUNCATE WHEN is not "
                                            "supported with STORED AS SCD TYPE 2",
                                            target));
    }
    if (cdc.track_history_on && cdc.scd_type != 2) {
      return Error(track_at, fmt::format("AUTO CDC into {}: TRACK HISTORY ON requires STORED AS "
                                         "SCD TYPE 2",
                                         target));
    }
    return cdc;
  }

  FileState* state_;
  PipelineDefinitions* out_;
  const std::string text_;  // the statement after ${} substitution; toks_ view into it
  const size_t first_line_;
  std::vector<Token> toks_;  // without spaces and comments
  size_t pos_ = 0;
};

}  // namespace

Result<PipelineDefinitions> ParsePipelineSql(const std::vector<SqlSource>& sources,
                                             const ParseOptions& options) {
  PipelineDefinitions out;
  for (const SqlSource& source : sources) {
    FileState state{source.file, options.catalog, options.schema, {}};
    auto lexed = engine::LexSql(source.text);
    if (!lexed.ok()) return LexError(source.file, lexed.status(), 1);
    const std::vector<Token>& tokens = *lexed;
    size_t i = 0;
    while (true) {
      size_t first = tokens.size(), last = tokens.size();
      size_t j = i;
      for (; j < tokens.size(); ++j) {
        if (tokens[j].kind == TokenKind::kSymbol && tokens[j].text == ";") break;
        if (!Significant(tokens[j])) continue;
        if (first == tokens.size()) first = j;
        last = j;
      }
      if (first != tokens.size()) {
        size_t begin = tokens[first].offset;
        size_t end = tokens[last].offset + tokens[last].text.size();
        std::string text = Substitute(std::string_view(source.text).substr(begin, end - begin),
                                      options.configuration, state.sets);
        StatementParser parser(&state, &out, std::move(text), tokens[first].line);
        RETURN_NOT_OK(parser.Run());
      }
      if (j >= tokens.size()) break;
      i = j + 1;
    }
  }
  return out;
}

}  // namespace medallion::pipeline
