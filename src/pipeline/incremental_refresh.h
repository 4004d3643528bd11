// Incremental refresh of materialized views: which queries can be refreshed group by group.
//
// Databricks refreshes a materialized view incrementally when it can ("Incremental refresh for
// materialized views"; the event log's planning_information names the technique, e.g.
// GROUP_AGGREGATE or COMPLETE_RECOMPUTE). medallion implements GROUP_AGGREGATE by recomputing
// groups: when the view is one GROUP BY over one Delta table whose commits since the last refresh
// only appended files, the groups those new rows belong to are the only ones whose result can
// change. Their rows are computed again from the whole table (the query run over the table's rows
// of those groups only), and replace the view's rows of those groups in one commit
// (pipeline/flow_executor.h). Any aggregate works, percentiles included, since each touched group
// is computed from all its rows; the saving is in the groups not touched.
//
// PlanGroupAggregate decides from the query's syntax tree (DuckDB's json_serialize_sql of the
// translated query) whether it has that shape:
//   SELECT <GROUP BY columns as bare columns, aliased or not>, <any expressions>
//   FROM <one table> [WHERE ...] GROUP BY <columns of that table> [HAVING ...] [ORDER BY ...]
// where at least one GROUP BY column is selected bare. The view's rows are identified by the
// selected ones (the plan's keys): a "touched" key value stands for every group that has it, all
// of which are recomputed.
// and nothing else: no join, subquery, set operation, CTE, window, QUALIFY, LIMIT, SAMPLE,
// time travel, GROUPING SETS / ROLLUP / CUBE / GROUP BY ALL, star, or non-deterministic function
// (random(), uuid(), now(), ...). WHERE and HAVING are fine: a touched group is recomputed whole,
// and a group HAVING now rejects loses its row.
//
// When every aggregate of such a query can be merged (count, sum, min, max, avg, without DISTINCT,
// FILTER or ORDER BY), medallion refreshes it by merging partial aggregates instead
// (GENERIC_AGGREGATE): a hidden state table beside the view keeps, for every group, the partial
// aggregates of all its rows (count, sum, min, max; avg as its sum and count); a refresh
// aggregates only the appended rows, merges those partials into the state's rows of the touched
// groups (sums of counts and sums, min of mins, max of maxes), and computes the view's rows of
// those groups from the merged state, so its cost follows the new rows, not the table.
// PlanAggregateMerge writes the statements for that; pipeline/flow_executor.h runs them. An
// average is computed as sum / count in DOUBLE, which may differ from DuckDB's avg() in the last
// bit, as two runs of a parallel aggregation of DOUBLEs may.
//
// Thread-safety: pure functions.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace medallion::pipeline {

// How to refresh a GROUP BY view group by group.
struct GroupAggregatePlan {
  std::string source_table;               // the one table read (as the query names it)
  std::vector<std::string> source_keys;   // the GROUP BY columns selected, as the table names them
  std::vector<std::string> output_keys;   // the same columns as the view names them, in order
};

// The plan for `serialized` (the JSON text json_serialize_sql gives for one SELECT statement), or
// NotSupported naming what stops it, in Databricks' terms (e.g. "OPERATOR_NOT_INCREMENTALIZABLE:
// a join"). InvalidArgument when the JSON is not a serialized statement.
Result<GroupAggregatePlan> PlanGroupAggregate(std::string_view serialized);

// The relation the output statement of an AggregateMergePlan reads: one row per group, the GROUP BY
// columns and one column per aggregate call (`value_columns`).
inline constexpr std::string_view kAggregateValuesRelation = "__medallion_mv_values";

// How to refresh a GROUP BY view by merging partial aggregates. Statements are serialized
// (json_deserialize_sql turns them into SQL); expressions are SQL over the named columns.
struct AggregateMergePlan {
  GroupAggregatePlan keys;                 // the source and the view's key columns
  std::vector<std::string> group_columns;  // every GROUP BY column, as the source names them
  // SELECT <group_columns>, <partial aggregates> FROM <source> [WHERE ...] GROUP BY ...: the state
  // rows of the rows it reads. Partial columns are named __medallion_p<i>.
  std::string partial_statement;
  std::vector<std::string> partial_columns;  // __medallion_p0, ...
  // Per partial column, the aggregate that merges many partial rows of a group into one
  // ("CAST(sum(\"__medallion_p0\") AS BIGINT)").
  std::vector<std::string> merge_expressions;
  // Per aggregate call of the query, its value from one merged row (aliased __medallion_v<i>).
  std::vector<std::string> value_expressions;
  // The query with each aggregate call replaced by its value column, over kAggregateValuesRelation
  // (named as the query names its table), HAVING as WHERE, without GROUP BY and ORDER BY. Its
  // column names may differ from the query's (unaliased aggregates); the types are the same.
  std::string output_statement;
};

// Whether a function (lower-case name) is an aggregate or a macro of the engine, not a plain
// scalar function.
using NonScalarTest = std::function<Result<bool>(const std::string& name)>;

// The plan for `serialized` (as PlanGroupAggregate's). Any function `is_non_scalar` says is an
// aggregate or macro, other than count, sum, min, max, avg / mean, refuses the plan, so that no
// aggregate is taken for a scalar. NotSupported naming what stops it, as PlanGroupAggregate;
// `is_non_scalar`'s errors.
Result<AggregateMergePlan> PlanAggregateMerge(std::string_view serialized,
                                              const NonScalarTest& is_non_scalar);

}  // namespace medallion::pipeline
