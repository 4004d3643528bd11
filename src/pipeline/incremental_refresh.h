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
// Thread-safety: pure functions.
#pragma once

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

}  // namespace medallion::pipeline
