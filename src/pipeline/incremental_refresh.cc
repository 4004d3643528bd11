#include "pipeline/incremental_refresh.h"

#include <fmt/format.h>

#include <array>
#include <nlohmann/json.hpp>
#include <optional>

#include "common/macros.h"
#include "common/text.h"
#include "engine/sql_text.h"

namespace medallion::pipeline {
namespace {

using nlohmann::json;

Status NotIncremental(std::string_view reason) {
  return Status::NotSupported(std::string(reason));
}

// Functions whose value differs between evaluations: a group recomputed later would not give the
// rows a complete recompute gives.
bool NonDeterministic(std::string_view function) {
  static constexpr std::array<std::string_view, 12> kNames = {
      "random", "rand", "uuid", "gen_random_uuid", "uuidv4", "uuidv7", "now",
      "current_timestamp", "get_current_timestamp", "current_date", "current_time", "nextval"};
  for (std::string_view name : kNames) {
    if (EqualsIgnoreCase(name, function)) return true;
  }
  return false;
}

// Rejects an expression tree holding what group-by-group recomputation cannot reproduce.
Status CheckExpression(const json& node) {
  if (node.is_array()) {
    for (const json& child : node) RETURN_NOT_OK(CheckExpression(child));
    return Status::OK();
  }
  if (!node.is_object()) return Status::OK();
  if (auto it = node.find("class"); it != node.end() && it->is_string()) {
    const std::string& kind = it->get_ref<const std::string&>();
    if (kind == "SUBQUERY") return NotIncremental("SUBQUERY_EXPRESSION_NOT_INCREMENTALIZABLE: a subquery");
    if (kind == "WINDOW") return NotIncremental("OPERATOR_NOT_INCREMENTALIZABLE: a window function");
    if (kind == "STAR") return NotIncremental("OPERATOR_NOT_INCREMENTALIZABLE: a star (*) in an aggregate query");
    if (kind == "FUNCTION") {
      const std::string name = node.value("function_name", "");
      if (NonDeterministic(name)) {
        return NotIncremental(fmt::format("EXPRESSION_NOT_DETERMINISTIC: {}()", name));
      }
    }
  }
  for (const auto& [key, child] : node.items()) RETURN_NOT_OK(CheckExpression(child));
  return Status::OK();
}

bool IsNull(const json& node, std::string_view key) {
  auto it = node.find(key);
  return it == node.end() || it->is_null();
}

// The column a COLUMN_REF names in `table` (its last name part; a qualifier must name the table or
// its alias), or nullopt.
std::optional<std::string> ColumnOf(const json& expr, const std::string& table, const std::string& alias) {
  if (!expr.is_object() || expr.value("class", "") != "COLUMN_REF") return std::nullopt;
  const json& names = expr.value("column_names", json::array());
  if (names.empty() || names.size() > 2 || !names.back().is_string()) return std::nullopt;
  if (names.size() == 2) {
    const std::string qualifier = names[0].is_string() ? names[0].get<std::string>() : "";
    if (!EqualsIgnoreCase(qualifier, alias.empty() ? table : alias)) return std::nullopt;
  }
  return names.back().get<std::string>();
}

// The one statement's node of a json_serialize_sql text.
Result<json> ParseStatement(std::string_view serialized) {
  json root = json::parse(serialized, nullptr, /*allow_exceptions=*/false);
  if (!root.is_object() || root.value("error", true) || !root.contains("statements") ||
      !root["statements"].is_array()) {
    return Status::InvalidArgument("not a serialized SQL statement");
  }
  json& statements = root["statements"];
  if (statements.size() != 1 || !statements[0].contains("node")) {
    return Status::InvalidArgument("not one serialized SQL statement");
  }
  return root;
}

json ColumnRef(const std::string& name, const std::string& alias, const json& location) {
  return json{{"class", "COLUMN_REF"},        {"type", "COLUMN_REF"},
              {"alias", alias},               {"query_location", location},
              {"column_names", json::array({name})}};
}

std::string PartialName(size_t i) { return fmt::format("__medallion_p{}", i); }
std::string ValueName(size_t i) { return fmt::format("__medallion_v{}", i); }

// Replaces the aggregate calls of expressions with their value columns, recording the partials
// each needs (PlanAggregateMerge).
class AggregateRewriter {
 public:
  explicit AggregateRewriter(const NonScalarTest& non_scalar) : non_scalar_(non_scalar) {}

  Status Rewrite(json& e) {
    if (e.is_array()) {
      for (json& child : e) RETURN_NOT_OK(Rewrite(child));
      return Status::OK();
    }
    if (!e.is_object()) return Status::OK();
    if (e.value("class", "") == "FUNCTION") {
      const std::string name = AsciiLower(e.value("function_name", ""));
      if (name == "count_star" || name == "count" || name == "sum" || name == "min" ||
          name == "max" || name == "avg" || name == "mean") {
        return Replace(e, name);
      }
      ASSIGN_OR_RETURN(bool non_scalar, non_scalar_(name));
      if (non_scalar) {
        return NotIncremental(fmt::format(
            "OPERATOR_NOT_INCREMENTALIZABLE: {}() is not an aggregate that can be merged", name));
      }
    }
    for (auto& [key, child] : e.items()) RETURN_NOT_OK(Rewrite(child));
    return Status::OK();
  }

  std::vector<json> partials;
  std::vector<std::string> columns;
  std::vector<std::string> merges;
  std::vector<std::string> values;

 private:
  Status Replace(json& call, const std::string& name) {
    if (call.value("distinct", false) || !IsNull(call, "filter") ||
        !call.value("order_bys", json::object()).value("orders", json::array()).empty()) {
      return NotIncremental(fmt::format(
          "OPERATOR_NOT_INCREMENTALIZABLE: {}() with DISTINCT, FILTER or ORDER BY", name));
    }
    AggregateRewriter inner(non_scalar_);
    json args = call.value("children", json::array());
    RETURN_NOT_OK(inner.Rewrite(args));
    if (!inner.values.empty()) return NotIncremental("OPERATOR_NOT_INCREMENTALIZABLE: a nested aggregate");
    auto partial = [&](const char* function, const char* merge) {
      json p = call;
      p["function_name"] = function;
      p["alias"] = PartialName(partials.size());
      const std::string column = engine::QuoteIdentifier(PartialName(partials.size()));
      columns.push_back(PartialName(partials.size()));
      merges.push_back(fmt::format(fmt::runtime(merge), column));
      partials.push_back(std::move(p));
      return column;
    };
    const std::string value = engine::QuoteIdentifier(ValueName(values.size()));
    if (name == "count_star" || name == "count") {
      values.push_back(partial(name.c_str(), "CAST(sum({}) AS BIGINT)") + " AS " + value);
    } else if (name == "sum" || name == "min" || name == "max") {
      const std::string merge = name + "({})";
      values.push_back(partial(name.c_str(), merge.c_str()) + " AS " + value);
    } else {  // avg, mean
      const std::string sum = partial("sum", "sum({})");
      const std::string count = partial("count", "CAST(sum({}) AS BIGINT)");
      values.push_back(fmt::format("CASE WHEN {1} > 0 THEN CAST({0} AS DOUBLE) / {1} END AS {2}",
                                   sum, count, value));
    }
    call = ColumnRef(ValueName(values.size() - 1), call.value("alias", ""),
                     call.value("query_location", json()));
    return Status::OK();
  }

  const NonScalarTest& non_scalar_;
};

}  // namespace

Result<GroupAggregatePlan> PlanGroupAggregate(std::string_view serialized) {
  ASSIGN_OR_RETURN(json root, ParseStatement(serialized));
  const json& node = root["statements"][0]["node"];
  if (node.value("type", "") != "SELECT_NODE") {
    return NotIncremental("OPERATOR_NOT_INCREMENTALIZABLE: a set operation (UNION, EXCEPT, INTERSECT)");
  }
  if (node.contains("cte_map") && !node["cte_map"].value("map", json::array()).empty()) {
    return NotIncremental("OPERATOR_NOT_INCREMENTALIZABLE: a common table expression (WITH)");
  }
  for (const json& modifier : node.value("modifiers", json::array())) {
    const std::string type = modifier.value("type", "");
    if (type != "ORDER_MODIFIER" && type != "DISTINCT_MODIFIER") {
      return NotIncremental("OPERATOR_NOT_INCREMENTALIZABLE: LIMIT / OFFSET");
    }
  }
  if (!IsNull(node, "qualify")) return NotIncremental("OPERATOR_NOT_INCREMENTALIZABLE: QUALIFY");
  if (!IsNull(node, "sample")) return NotIncremental("OPERATOR_NOT_INCREMENTALIZABLE: TABLESAMPLE");

  const json& from = node.value("from_table", json::object());
  const std::string from_type = from.value("type", "");
  if (from_type == "JOIN") return NotIncremental("OPERATOR_NOT_INCREMENTALIZABLE: a join");
  if (from_type != "BASE_TABLE" || !IsNull(from, "sample") || !IsNull(from, "at_clause") ||
      !from.value("column_name_alias", json::array()).empty()) {
    return NotIncremental("OPERATOR_NOT_INCREMENTALIZABLE: the FROM clause is not one table");
  }
  GroupAggregatePlan plan;
  plan.source_table = from.value("table_name", "");
  const std::string alias = from.value("alias", "");

  const json& groups = node.value("group_expressions", json::array());
  if (groups.empty() || node.value("aggregate_handling", "") != "STANDARD_HANDLING") {
    return NotIncremental("OPERATOR_NOT_INCREMENTALIZABLE: no GROUP BY of columns");
  }
  const json& sets = node.value("group_sets", json::array());
  if (sets.size() != 1 || sets[0].size() != groups.size()) {
    return NotIncremental("OPERATOR_NOT_INCREMENTALIZABLE: GROUPING SETS, ROLLUP or CUBE");
  }
  const json& select_list = node.value("select_list", json::array());
  for (const json& group : groups) {
    std::optional<std::string> column = ColumnOf(group, plan.source_table, alias);
    if (!column) {
      return NotIncremental("AGGREGATE_NOT_TOP_NODE: a GROUP BY item that is not a column of the table");
    }
    std::optional<std::string> output;
    for (const json& item : select_list) {
      std::optional<std::string> selected = ColumnOf(item, plan.source_table, alias);
      if (selected && EqualsIgnoreCase(*selected, *column)) {
        const std::string item_alias = item.value("alias", "");
        output = item_alias.empty() ? *selected : item_alias;
        break;
      }
    }
    if (output) {
      plan.source_keys.push_back(*column);
      plan.output_keys.push_back(*output);
    }
  }
  if (plan.source_keys.empty()) {
    return NotIncremental("AGGREGATE_NOT_TOP_NODE: no GROUP BY column is in the select list");
  }
  for (const char* part : {"select_list", "where_clause", "having", "group_expressions"}) {
    if (node.contains(part)) RETURN_NOT_OK(CheckExpression(node[part]));
  }
  for (const json& modifier : node.value("modifiers", json::array())) {
    RETURN_NOT_OK(CheckExpression(modifier));
  }
  return plan;
}

Result<AggregateMergePlan> PlanAggregateMerge(std::string_view serialized,
                                              const NonScalarTest& is_non_scalar) {
  AggregateMergePlan plan;
  ASSIGN_OR_RETURN(plan.keys, PlanGroupAggregate(serialized));
  ASSIGN_OR_RETURN(json root, ParseStatement(serialized));
  json& node = root["statements"][0]["node"];
  for (const json& modifier : node.value("modifiers", json::array())) {
    if (modifier.value("type", "") == "DISTINCT_MODIFIER") {
      return NotIncremental("OPERATOR_NOT_INCREMENTALIZABLE: SELECT DISTINCT over a GROUP BY");
    }
  }
  const json& from = node["from_table"];
  const std::string alias = from.value("alias", "");
  const json location = from.value("query_location", json());
  for (const json& group : node["group_expressions"]) {
    // PlanGroupAggregate checked that each is a column of the table.
    plan.group_columns.push_back(*ColumnOf(group, plan.keys.source_table, alias));
  }

  AggregateRewriter rewriter(is_non_scalar);
  json select_list = node["select_list"];
  RETURN_NOT_OK(rewriter.Rewrite(select_list));
  json having = node.value("having", json());
  RETURN_NOT_OK(rewriter.Rewrite(having));
  plan.partial_columns = std::move(rewriter.columns);
  plan.merge_expressions = std::move(rewriter.merges);
  plan.value_expressions = std::move(rewriter.values);

  json partial = node;
  json partial_list = json::array();
  for (const std::string& column : plan.group_columns) {
    partial_list.push_back(ColumnRef(column, column, location));
  }
  for (json& p : rewriter.partials) partial_list.push_back(std::move(p));
  partial["select_list"] = std::move(partial_list);
  partial["having"] = nullptr;
  partial["modifiers"] = json::array();
  json partial_root = root;
  partial_root["statements"][0]["node"] = std::move(partial);
  plan.partial_statement = partial_root.dump();

  json output = std::move(node);
  output["select_list"] = std::move(select_list);
  output["from_table"]["table_name"] = std::string(kAggregateValuesRelation);
  output["from_table"]["schema_name"] = "";
  output["from_table"]["catalog_name"] = "";
  output["from_table"]["alias"] = alias.empty() ? plan.keys.source_table : alias;
  output["where_clause"] = std::move(having);
  output["group_expressions"] = json::array();
  output["group_sets"] = json::array();
  output["having"] = nullptr;
  output["modifiers"] = json::array();
  root["statements"][0]["node"] = std::move(output);
  plan.output_statement = root.dump();
  return plan;
}

}  // namespace medallion::pipeline
