#include "engine/scan_predicate.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>
#include <optional>

#include "common/macros.h"
#include "common/text.h"
#include "delta/partition_value.h"
#include "engine/sql_text.h"

namespace medallion::engine {
namespace {

using delta::ColumnPredicate;
using delta::Scalar;
using delta::SkippingOp;
using nlohmann::json;

struct Context {
  std::string table;  // lower-cased name of the table in FROM
  std::string alias;  // lower-cased alias ("" when none)
  bool utc = true;    // the connection's TimeZone is UTC
};

std::string Str(const json& node, const char* key) {
  auto it = node.find(key);
  return it != node.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// A column of the FROM table: its path without the table qualifier.
std::optional<std::vector<std::string>> ColumnOf(const json& node, const Context& ctx) {
  if (Str(node, "class") != "COLUMN_REF") return std::nullopt;
  auto names = node.find("column_names");
  if (names == node.end() || !names->is_array() || names->empty()) return std::nullopt;
  std::vector<std::string> path;
  for (const auto& n : *names) {
    if (!n.is_string()) return std::nullopt;
    path.push_back(n.get<std::string>());
  }
  if (path.size() >= 2) {
    const std::string first = AsciiLower(path[0]);
    if (first == (ctx.alias.empty() ? ctx.table : ctx.alias)) path.erase(path.begin());
  }
  return path;
}

bool LooksLikeTime(const std::string& text) {
  return delta::ParseTimestampMicros(text, /*allow_zone=*/true).ok();
}

// A literal as a Scalar; nullopt when it is not one data skipping can use.
std::optional<Scalar> LiteralOf(const json& node, const Context& ctx) {
  const std::string cls = Str(node, "class");
  if (cls == "CAST") {
    // DATE '...', TIMESTAMP '...', TIMESTAMPTZ '...', and true/false (CAST('t' AS BOOLEAN)).
    const json& child = node.value("child", json());
    if (!child.is_object() || Str(child, "class") != "CONSTANT") return std::nullopt;
    const json& value = child.value("value", json());
    if (!value.is_object() || value.value("is_null", false)) return std::nullopt;
    if (Str(value.value("type", json::object()), "id") != "VARCHAR") return std::nullopt;
    const std::string text = value.value("value", std::string());
    const std::string to = Str(node.value("cast_type", json::object()), "id");
    if (to == "BOOLEAN") {
      if (text == "t" || EqualsIgnoreCase(text, "true")) return Scalar::Boolean(true);
      if (text == "f" || EqualsIgnoreCase(text, "false")) return Scalar::Boolean(false);
      return std::nullopt;
    }
    if (to == "DATE") {
      auto days = delta::ParseDateDays(text);
      if (!days.ok()) return std::nullopt;
      return Scalar::Date(*days);
    }
    if (to == "TIMESTAMP") {
      // Compared with a Delta `timestamp` (TIMESTAMPTZ) column, DuckDB reads it in the session's
      // zone; so only in UTC. (Not kept as text: against a string column DuckDB would compare
      // timestamps, not text.)
      auto micros = delta::ParseTimestampMicros(text, /*allow_zone=*/false);
      if (!ctx.utc || !micros.ok()) return std::nullopt;
      return Scalar::Timestamp(*micros);
    }
    if (to == "TIMESTAMP WITH TIME ZONE" || to == "TIMESTAMP_TZ") {
      auto micros = delta::ParseTimestampMicros(text, /*allow_zone=*/true);
      if (!micros.ok()) return std::nullopt;
      const bool has_zone = text.find_first_of("Zz+") != std::string::npos ||
                            text.find('-', 10) != std::string::npos;
      if (!has_zone && !ctx.utc) return std::nullopt;
      return Scalar::Timestamp(*micros);
    }
    return std::nullopt;
  }
  if (cls != "CONSTANT") return std::nullopt;
  const json& value = node.value("value", json());
  if (!value.is_object()) return std::nullopt;
  if (value.value("is_null", false)) return Scalar::Null();
  const json& type = value.value("type", json::object());
  const std::string id = Str(type, "id");
  const json& v = value.value("value", json());
  if (id == "TINYINT" || id == "SMALLINT" || id == "INTEGER" || id == "BIGINT" ||
      id == "UTINYINT" || id == "USMALLINT" || id == "UINTEGER" || id == "HUGEINT" ||
      id == "UBIGINT") {
    if (v.is_number_integer() && (v.is_number_unsigned() ? v.get<uint64_t>() <= INT64_MAX : true)) {
      return Scalar::Int64(v.get<int64_t>());
    }
    return std::nullopt;
  }
  if (id == "DECIMAL") {
    if (!v.is_number_integer()) return std::nullopt;  // wider than 18 digits: {upper, lower}
    const json& info = type.value("type_info", json::object());
    if (!info.is_object()) return std::nullopt;
    const int scale = info.value("scale", 0), width = info.value("width", 18);
    int64_t raw = v.get<int64_t>();
    std::string digits = std::to_string(raw < 0 ? -(raw + 1) + 1ULL : static_cast<uint64_t>(raw));
    if (static_cast<int>(digits.size()) <= scale) digits.insert(0, scale + 1 - digits.size(), '0');
    std::string text = (raw < 0 ? "-" : "") + digits.substr(0, digits.size() - scale) +
                       (scale > 0 ? "." + digits.substr(digits.size() - scale) : "");
    return Scalar::Decimal(text, width, scale);
  }
  if (id == "DOUBLE" || id == "FLOAT") {
    if (!v.is_number()) return std::nullopt;
    return Scalar::Double(v.get<double>());
  }
  if (id == "VARCHAR") {
    if (!v.is_string()) return std::nullopt;
    std::string text = v.get<std::string>();
    if (!ctx.utc && LooksLikeTime(text)) return std::nullopt;
    return Scalar::String(std::move(text));
  }
  if (id == "BOOLEAN") {
    if (!v.is_boolean()) return std::nullopt;
    return Scalar::Boolean(v.get<bool>());
  }
  return std::nullopt;
}

SkippingOp Flip(SkippingOp op) {
  switch (op) {
    case SkippingOp::kLess: return SkippingOp::kGreater;
    case SkippingOp::kLessOrEqual: return SkippingOp::kGreaterOrEqual;
    case SkippingOp::kGreater: return SkippingOp::kLess;
    case SkippingOp::kGreaterOrEqual: return SkippingOp::kLessOrEqual;
    default: return op;
  }
}

std::optional<std::vector<std::string>> RawColumn(const json& node) {
  if (Str(node, "class") != "COLUMN_REF") return std::nullopt;
  std::vector<std::string> names;
  for (const auto& n : node.value("column_names", json::array())) {
    if (!n.is_string()) return std::nullopt;
    names.push_back(n.get<std::string>());
  }
  if (names.empty()) return std::nullopt;
  return names;
}

// Adds what `node` (one conjunct, or an AND of them) contributes.
void Collect(const json& node, const Context& ctx, ScanConditions& conditions) {
  if (!node.is_object()) return;
  std::vector<ColumnPredicate>& out = conditions.predicate.conjuncts;
  const std::string cls = Str(node, "class"), type = Str(node, "type");
  if (cls == "CONJUNCTION" && type == "CONJUNCTION_AND") {
    for (const auto& child : node.value("children", json::array())) Collect(child, ctx, conditions);
    return;
  }
  if (cls == "COMPARISON" && type == "COMPARE_EQUAL") {
    auto a = RawColumn(node.value("left", json())), b = RawColumn(node.value("right", json()));
    if (a && b) {
      conditions.column_equalities.emplace_back(std::move(*a), std::move(*b));
      return;
    }
  }
  if (cls == "COMPARISON") {
    static const std::pair<const char*, SkippingOp> kOps[] = {
        {"COMPARE_EQUAL", SkippingOp::kEqual},
        {"COMPARE_LESSTHAN", SkippingOp::kLess},
        {"COMPARE_LESSTHANOREQUALTO", SkippingOp::kLessOrEqual},
        {"COMPARE_GREATERTHAN", SkippingOp::kGreater},
        {"COMPARE_GREATERTHANOREQUALTO", SkippingOp::kGreaterOrEqual}};
    std::optional<SkippingOp> op;
    for (const auto& [name, o] : kOps) {
      if (type == name) op = o;
    }
    if (!op) return;
    const json& left = node.value("left", json());
    const json& right = node.value("right", json());
    if (auto col = ColumnOf(left, ctx)) {
      if (auto lit = LiteralOf(right, ctx)) {
        out.push_back(ColumnPredicate::Compare(std::move(*col), *op, std::move(*lit)));
      }
    } else if (auto col2 = ColumnOf(right, ctx)) {
      if (auto lit = LiteralOf(left, ctx)) {
        out.push_back(ColumnPredicate::Compare(std::move(*col2), Flip(*op), std::move(*lit)));
      }
    }
    return;
  }
  if (cls == "BETWEEN" && type == "COMPARE_BETWEEN") {
    auto col = ColumnOf(node.value("input", json()), ctx);
    auto lo = LiteralOf(node.value("lower", json()), ctx);
    auto hi = LiteralOf(node.value("upper", json()), ctx);
    if (!col) return;
    if (lo) out.push_back(ColumnPredicate::Compare(*col, SkippingOp::kGreaterOrEqual, *lo));
    if (hi) out.push_back(ColumnPredicate::Compare(*col, SkippingOp::kLessOrEqual, *hi));
    return;
  }
  if (cls == "OPERATOR") {
    const json& children = node.value("children", json::array());
    if (!children.is_array() || children.empty()) return;
    auto col = ColumnOf(children[0], ctx);
    if (!col) return;
    if (type == "OPERATOR_IS_NULL" && children.size() == 1) {
      out.push_back(ColumnPredicate::IsNull(std::move(*col)));
    } else if (type == "OPERATOR_IS_NOT_NULL" && children.size() == 1) {
      out.push_back(ColumnPredicate::IsNotNull(std::move(*col)));
    } else if (type == "COMPARE_IN") {
      std::vector<Scalar> values;
      for (size_t i = 1; i < children.size(); ++i) {
        auto lit = LiteralOf(children[i], ctx);
        if (!lit) return;
        values.push_back(std::move(*lit));
      }
      out.push_back(ColumnPredicate::In(std::move(*col), std::move(values)));
    }
  }
}

}  // namespace

Result<delta::SkippingPredicate> ExtractScanPredicate(Connection& conn, std::string_view select_sql,
                                                      std::string_view table_name) {
  ASSIGN_OR_RETURN(ScanConditions conditions, ExtractScanConditions(conn, select_sql, table_name));
  return std::move(conditions.predicate);
}

Result<ScanConditions> ExtractScanConditions(Connection& conn, std::string_view select_sql,
                                             std::string_view table_name) {
  ScanConditions out;
  ASSIGN_OR_RETURN(auto result, conn.Query(fmt::format(
                                    "SELECT json_serialize_sql({}), current_setting('TimeZone')",
                                    QuoteString(select_sql))));
  if (result.row_count() != 1 || result.IsNull(0, 0)) return out;
  ASSIGN_OR_RETURN(std::string text, result.GetString(0, 0));
  Context ctx;
  if (!result.IsNull(1, 0)) {
    ASSIGN_OR_RETURN(std::string zone, result.GetString(1, 0));
    ctx.utc = EqualsIgnoreCase(zone, "UTC") || EqualsIgnoreCase(zone, "Etc/UTC") ||
              EqualsIgnoreCase(zone, "GMT") || EqualsIgnoreCase(zone, "Etc/GMT");
  }
  json doc = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || doc.value("error", false)) return out;
  const json& statements = doc.value("statements", json::array());
  if (!statements.is_array() || statements.size() != 1) return out;
  const json& node = statements[0].value("node", json());
  if (!node.is_object() || Str(node, "type") != "SELECT_NODE") return out;
  const json& from = node.value("from_table", json());
  if (!from.is_object() || Str(from, "type") != "BASE_TABLE") return out;
  if (!Str(from, "schema_name").empty() || !Str(from, "catalog_name").empty()) return out;
  if (!EqualsIgnoreCase(Str(from, "table_name"), table_name)) return out;
  if (!from.value("sample", json()).is_null()) return out;
  // `FROM t AS x(a, b)` renames the columns: the WHERE's names are not the table's.
  if (const json& renamed = from.value("column_name_alias", json::array());
      !renamed.is_array() || !renamed.empty()) {
    return out;
  }
  ctx.table = AsciiLower(table_name);
  ctx.alias = AsciiLower(Str(from, "alias"));
  Collect(node.value("where_clause", json()), ctx, out);
  return out;
}

}  // namespace medallion::engine
