#include "pipeline/incremental_refresh.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <memory>
#include <set>
#include <string>
#include <utility>

#include "engine/database.h"
#include "engine/sql_text.h"
#include "storage/test_util.h"

namespace medallion::pipeline {
namespace {

class PlanGroupAggregateTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK_AND_ASSIGN(database_, engine::Database::Open());
    ASSERT_OK_AND_ASSIGN(conn_, database_->Connect());
  }

  // `sql` serialized by DuckDB, as the flow executor does.
  Result<std::string> Serialize(const std::string& sql) {
    ASSIGN_OR_RETURN(auto r, conn_->Query("SELECT json_serialize_sql(" + engine::QuoteString(sql) + ")"));
    return r.GetString(0, 0);
  }

  Result<GroupAggregatePlan> Plan(const std::string& sql) {
    ASSIGN_OR_RETURN(std::string ast, Serialize(sql));
    return PlanGroupAggregate(ast);
  }

  // The reason `sql` is not incrementalizable ("" when it is).
  std::string Refused(const std::string& sql) {
    auto plan = Plan(sql);
    EXPECT_TRUE(plan.ok() || plan.status().code() == StatusCode::kNotSupported)
        << plan.status().ToString();
    return plan.ok() ? "" : plan.status().message();
  }

  std::unique_ptr<engine::Database> database_;
  std::unique_ptr<engine::Connection> conn_;
};

TEST_F(PlanGroupAggregateTest, GroupByColumnsOfOneTable) {
  ASSERT_OK_AND_ASSIGN(auto plan, Plan(
      "SELECT flight_month, origin_state AS state, count(*) AS flights, "
      "round(avg(CASE WHEN delay <= 15 THEN 1.0 ELSE 0.0 END), 4) AS share, "
      "quantile_cont(delay, 0.95) AS p95 FROM \"src\" WHERE delay IS NOT NULL "
      "GROUP BY flight_month, origin_state HAVING count(*) > 1 ORDER BY 1"));
  EXPECT_EQ(plan.source_table, "src");
  EXPECT_EQ(plan.source_keys, (std::vector<std::string>{"flight_month", "origin_state"}));
  EXPECT_EQ(plan.output_keys, (std::vector<std::string>{"flight_month", "state"}));

  // Qualified by the table's alias; an expression of the keys in the select list is fine.
  ASSERT_OK_AND_ASSIGN(plan, Plan("SELECT s.a, concat_ws('-', s.a, b) AS ab, b, sum(v) "
                                  "FROM src AS s GROUP BY s.a, b"));
  EXPECT_EQ(plan.source_keys, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(plan.output_keys, (std::vector<std::string>{"a", "b"}));

  // A GROUP BY column used only inside an expression: the view's rows are identified by the
  // others (a touched key value stands for all its groups).
  ASSERT_OK_AND_ASSIGN(plan, Plan("SELECT origin, destination, concat_ws(' -> ', origin_city, "
                                  "destination_city) AS route, count(*) FROM src GROUP BY origin, "
                                  "destination, origin_city, destination_city"));
  EXPECT_EQ(plan.source_keys, (std::vector<std::string>{"origin", "destination"}));
}

TEST_F(PlanGroupAggregateTest, RefusesWhatGroupsCannotRecompute) {
  EXPECT_NE(Refused("SELECT a, count(*) FROM t JOIN u USING (a) GROUP BY a").find("a join"),
            std::string::npos);
  EXPECT_NE(Refused("SELECT count(*) FROM t").find("no GROUP BY"), std::string::npos);
  EXPECT_NE(Refused("SELECT a, count(*) FROM t GROUP BY ALL").find("no GROUP BY"), std::string::npos);
  EXPECT_NE(Refused("SELECT a, count(*) FROM t GROUP BY a LIMIT 3").find("LIMIT"), std::string::npos);
  EXPECT_NE(Refused("SELECT a, b, count(*) FROM t GROUP BY ROLLUP (a, b)").find("ROLLUP"),
            std::string::npos);
  EXPECT_NE(Refused("SELECT count(*) AS n FROM t GROUP BY a").find("no GROUP BY column is in"),
            std::string::npos);
  EXPECT_NE(Refused("SELECT a + 1 AS a1, count(*) FROM t GROUP BY a + 1").find("not a column"),
            std::string::npos);
  EXPECT_NE(Refused("SELECT a, count(*) FROM t WHERE a IN (SELECT a FROM u) GROUP BY a")
                .find("SUBQUERY_EXPRESSION_NOT_INCREMENTALIZABLE"),
            std::string::npos);
  EXPECT_NE(Refused("SELECT a, sum(count(*)) OVER () FROM t GROUP BY a").find("window"),
            std::string::npos);
  EXPECT_NE(Refused("SELECT a, count(*) FROM t WHERE ts < now() GROUP BY a")
                .find("EXPRESSION_NOT_DETERMINISTIC: now()"),
            std::string::npos);
  EXPECT_NE(Refused("SELECT a, count(*) FROM t GROUP BY a UNION ALL SELECT 1, 2").find("set operation"),
            std::string::npos);
  EXPECT_NE(Refused("WITH x AS (SELECT * FROM t) SELECT a, count(*) FROM x GROUP BY a")
                .find("WITH"),
            std::string::npos);
  EXPECT_NE(Refused("SELECT a, count(*) FROM (SELECT * FROM t) GROUP BY a").find("not one table"),
            std::string::npos);
  EXPECT_EQ(PlanGroupAggregate("not json").status().code(), StatusCode::kInvalidArgument);
}

// PlanAggregateMerge's statements, run the way the flow executor runs them: the query's rows
// are split in two batches, each aggregated into partial rows, the partials merged, the values
// and then the output computed from them. The result must be the query's own.
class PlanAggregateMergeTest : public PlanGroupAggregateTest {
 protected:
  void SetUp() override {
    PlanGroupAggregateTest::SetUp();
    ASSERT_OK(conn_->Execute(
        "CREATE TABLE all_rows AS SELECT i AS id, ['a', 'b', NULL][i % 3 + 1] AS k, i % 2 AS k2, "
        "CASE WHEN i % 7 = 0 THEN NULL ELSE (i * 37) % 101 - 20 END AS v, "
        "CAST(i % 10 AS DECIMAL(4, 1)) / 4 AS d, 'n' || (i % 5) AS s FROM range(200) t(i)"));
    ASSERT_OK_AND_ASSIGN(auto names, conn_->Query(
        "SELECT DISTINCT lower(function_name) FROM duckdb_functions() "
        "WHERE function_type IN ('aggregate', 'macro')"));
    for (size_t r = 0; r < names.row_count(); ++r) {
      ASSERT_OK_AND_ASSIGN(std::string name, names.GetString(0, r));
      non_scalar_.insert(name);
    }
  }

  Result<std::string> Deserialize(const std::string& statement) {
    ASSIGN_OR_RETURN(auto r, conn_->Query("SELECT json_deserialize_sql(" +
                                          engine::QuoteString(statement) + "::JSON)"));
    return r.GetString(0, 0);
  }

  Result<AggregateMergePlan> MergePlan(const std::string& sql) {
    ASSIGN_OR_RETURN(std::string ast, Serialize(sql));
    return PlanAggregateMerge(ast, [&](const std::string& name) -> Result<bool> {
      return non_scalar_.count(name) > 0;
    });
  }

  // Rows of the query computed through the plan that differ from the query's (both ways).
  Result<int64_t> Differences(const std::string& sql) {
    ASSIGN_OR_RETURN(auto plan, MergePlan(sql));
    ASSIGN_OR_RETURN(std::string partial, Deserialize(plan.partial_statement));
    ASSIGN_OR_RETURN(std::string output, Deserialize(plan.output_statement));
    std::string groups;
    for (const auto& g : plan.group_columns) groups += (groups.empty() ? "" : ", ") + engine::QuoteIdentifier(g);
    std::string merges, values;
    for (size_t i = 0; i < plan.merge_expressions.size(); ++i) {
      merges += ", " + plan.merge_expressions[i] + " AS " + plan.partial_columns[i];
    }
    for (const auto& v : plan.value_expressions) values += ", " + v;
    for (int batch : {0, 1}) {
      RETURN_NOT_OK(conn_->Execute(fmt::format(
          "CREATE OR REPLACE VIEW src AS SELECT * FROM all_rows WHERE id % 2 = {}", batch)));
      RETURN_NOT_OK(conn_->Execute(fmt::format("CREATE OR REPLACE TABLE part{} AS {}", batch, partial)));
    }
    RETURN_NOT_OK(conn_->Execute(fmt::format(
        "CREATE OR REPLACE TABLE merged AS SELECT {0}{1} FROM (SELECT * FROM part0 UNION ALL BY "
        "NAME SELECT * FROM part1) GROUP BY {0}", groups, merges)));
    RETURN_NOT_OK(conn_->Execute(fmt::format("CREATE OR REPLACE VIEW {} AS SELECT {}{} FROM merged",
                                             kAggregateValuesRelation, groups, values)));
    RETURN_NOT_OK(conn_->Execute("CREATE OR REPLACE VIEW src AS SELECT * FROM all_rows"));
    ASSIGN_OR_RETURN(auto r, conn_->Query(fmt::format(
        "SELECT (SELECT count(*) FROM (({0}) EXCEPT ALL ({1}))) + "
        "(SELECT count(*) FROM (({1}) EXCEPT ALL ({0}))), (SELECT count(*) FROM ({1}))",
        output, sql)));
    ASSIGN_OR_RETURN(int64_t rows, r.GetInt64(1, 0));
    EXPECT_GT(rows, 0) << sql;
    return r.GetInt64(0, 0);
  }

  std::set<std::string> non_scalar_;
};

TEST_F(PlanAggregateMergeTest, MergedPartialsGiveTheQuerysRows) {
  for (const char* sql : {
           "SELECT k, count(*) AS n, count(v), sum(v) AS total, min(v), max(s) AS top, "
           "round(avg(v), 2) AS mean, avg(d) AS mean_d, sum(d) FROM src GROUP BY k",
           // The flights route view's shape: keys used in an expression, avg of a CASE.
           "SELECT k, k2, concat_ws(' -> ', k, s) AS route, count(*) AS flights, max(v) AS far, "
           "round(avg(CASE WHEN v <= 15 THEN 1.0 ELSE 0.0 END), 4) AS share "
           "FROM src AS f WHERE v IS NOT NULL OR k IS NULL GROUP BY k, k2, s",
           // HAVING over aggregates, qualified columns, an aggregate inside an expression.
           "SELECT f.k, sum(f.v) + count(*) * 2 AS x FROM src f GROUP BY f.k, f.k2 "
           "HAVING count(*) > 20 AND avg(v) > 0 ORDER BY 1",
           // No aggregate at all.
           "SELECT k, k2 FROM src GROUP BY k, k2",
       }) {
    SCOPED_TRACE(sql);
    ASSERT_OK_AND_ASSIGN(int64_t differences, Differences(sql));
    EXPECT_EQ(differences, 0);
  }
  ASSERT_OK_AND_ASSIGN(auto plan, MergePlan("SELECT k, avg(v) AS a, count(*) FROM src GROUP BY k, k2"));
  EXPECT_EQ(plan.group_columns, (std::vector<std::string>{"k", "k2"}));
  EXPECT_EQ(plan.keys.output_keys, (std::vector<std::string>{"k"}));
  EXPECT_EQ(plan.merge_expressions.size(), 3u);  // avg: a sum and a count; count(*)
  EXPECT_EQ(plan.value_expressions.size(), 2u);
}

TEST_F(PlanAggregateMergeTest, RefusesAggregatesThatCannotBeMerged) {
  auto refused = [&](const std::string& sql) {
    auto plan = MergePlan(sql);
    EXPECT_EQ(plan.status().code(), StatusCode::kNotSupported) << sql;
    return plan.ok() ? std::string() : plan.status().message();
  };
  // Each query, and what the refusal names.
  const std::pair<std::string, std::string> cases[] = {
      {"SELECT k, quantile_disc(v, 0.95) FROM src GROUP BY k", "quantile_disc()"},
      {"SELECT k, string_agg(s, ',') FROM src GROUP BY k", "string_agg()"},
      {"SELECT k, count(DISTINCT v) FROM src GROUP BY k", "DISTINCT"},
      {"SELECT k, sum(v) FILTER (WHERE v > 0) FROM src GROUP BY k", "FILTER"},
      {"SELECT DISTINCT k, count(*) FROM src GROUP BY k", "SELECT DISTINCT"},
      // A macro that aggregates (DuckDB's weighted_avg) is not taken for a scalar.
      {"SELECT k, weighted_avg(v, d) FROM src GROUP BY k", "weighted_avg()"},
      // What stops group-by-group recomputation stops this too.
      {"SELECT k, count(*) FROM src JOIN all_rows USING (k) GROUP BY k", "a join"},
  };
  for (const auto& [sql, why] : cases) {
    EXPECT_NE(refused(sql).find(why), std::string::npos) << sql << " should name " << why;
  }
}

}  // namespace
}  // namespace medallion::pipeline
