#include "common/text.h"
#include "engine/sql_references.h"

#include <fmt/format.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <set>

#include "common/macros.h"
#include "engine/sql_lexer.h"
#include "engine/sql_text.h"

namespace medallion::engine {
namespace {

using nlohmann::json;

// Walks the serialized statement: collects BASE_TABLE refs and CTE names at every depth.
void Walk(const json& node, std::vector<TableReference>& refs, std::set<std::string>& ctes) {
  if (node.is_array()) {
    for (const auto& child : node) Walk(child, refs, ctes);
    return;
  }
  if (!node.is_object()) return;
  auto type = node.find("type");
  if (type != node.end() && type->is_string() && *type == "BASE_TABLE" &&
      node.contains("table_name")) {
    TableReference ref;
    ref.catalog = node.value("catalog_name", "");
    ref.schema = node.value("schema_name", "");
    ref.table = node.value("table_name", "");
    ref.alias = node.value("alias", "");
    ref.begin = node.value("query_location", static_cast<size_t>(0));
    refs.push_back(std::move(ref));
  }
  auto cte_map = node.find("cte_map");
  if (cte_map != node.end() && cte_map->is_object()) {
    for (const auto& entry : cte_map->value("map", json::array())) {
      if (entry.contains("key") && entry["key"].is_string()) {
        ctes.insert(AsciiLower(entry["key"].get<std::string>()));
      }
    }
  }
  for (const auto& [key, child] : node.items()) Walk(child, refs, ctes);
}

// The end of a dotted name (`a`, `"a"."b"`, `a . b . c`) starting at `begin`.
size_t NameEnd(std::string_view sql, size_t begin) {
  auto tokens = LexSql(sql.substr(begin));
  if (!tokens.ok()) return begin;
  size_t end = begin;
  bool want_name = true;
  for (const Token& t : *tokens) {
    if (t.kind == TokenKind::kSpace || t.kind == TokenKind::kComment) continue;
    if (want_name && (t.kind == TokenKind::kWord || t.kind == TokenKind::kDoubleQuoted ||
                      t.kind == TokenKind::kBacktick)) {
      end = begin + t.offset + t.text.size();
      want_name = false;
    } else if (!want_name && t.kind == TokenKind::kSymbol && t.text == ".") {
      want_name = true;
    } else {
      break;
    }
  }
  return end;
}

// The references of `sql`, from its json_serialize_sql document `text`.
Result<std::vector<TableReference>> ReferencesFromJson(std::string_view sql,
                                                       const std::string& text) {
  json doc = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return Status::Internal("json_serialize_sql returned malformed JSON");
  if (doc.value("error", false)) {
    return Status::InvalidArgument(doc.value("error_message", std::string("syntax error")));
  }
  const json& statements = doc["statements"];
  if (!statements.is_array() || statements.size() != 1) {
    return Status::InvalidArgument("expected exactly one query");
  }
  std::vector<TableReference> refs;
  std::set<std::string> ctes;
  Walk(statements[0], refs, ctes);
  std::vector<TableReference> out;
  for (auto& ref : refs) {
    if (ref.catalog.empty() && ref.schema.empty() && ctes.count(AsciiLower(ref.table))) continue;
    if (ref.begin >= sql.size()) {
      return Status::Internal(fmt::format("no position for table reference {}", ref.table));
    }
    ref.end = NameEnd(sql, ref.begin);
    out.push_back(std::move(ref));
  }
  std::sort(out.begin(), out.end(),
            [](const TableReference& a, const TableReference& b) { return a.begin < b.begin; });
  return out;
}

}  // namespace

Result<std::vector<Result<std::vector<TableReference>>>> FindTableReferences(
    Connection& conn, const std::vector<std::string>& sqls) {
  std::vector<Result<std::vector<TableReference>>> out;
  if (sqls.empty()) return out;
  // One statement for all queries: the per-statement cost dominates for short queries.
  std::string values;
  for (size_t i = 0; i < sqls.size(); ++i) {
    values += fmt::format("{}({}, {})", i == 0 ? "" : ", ", i, QuoteString(sqls[i]));
  }
  ASSIGN_OR_RETURN(auto result,
                   conn.Query(fmt::format("SELECT json_serialize_sql(q) FROM (VALUES {}) t(i, q) "
                                          "ORDER BY i",
                                          values)));
  if (result.row_count() != sqls.size()) {
    return Status::Internal("json_serialize_sql returned the wrong number of rows");
  }
  for (size_t i = 0; i < sqls.size(); ++i) {
    ASSIGN_OR_RETURN(std::string text, result.GetString(0, i));
    out.push_back(ReferencesFromJson(sqls[i], text));
  }
  return out;
}

Result<std::vector<TableReference>> FindTableReferences(Connection& conn, std::string_view sql) {
  ASSIGN_OR_RETURN(auto all, FindTableReferences(conn, std::vector<std::string>{std::string(sql)}));
  return std::move(all[0]);
}

std::string ReplaceTableReferences(std::string_view sql, const std::vector<TableReference>& refs,
                                   const std::vector<std::string>& replacements) {
  std::string out;
  size_t pos = 0;
  for (size_t i = 0; i < refs.size(); ++i) {
    out.append(sql.substr(pos, refs[i].begin - pos));
    out.append(replacements[i]);
    if (refs[i].alias.empty()) out.append(" AS " + QuoteIdentifier(refs[i].table));
    pos = refs[i].end;
  }
  out.append(sql.substr(pos));
  return out;
}

}  // namespace medallion::engine
