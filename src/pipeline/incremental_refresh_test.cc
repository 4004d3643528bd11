#include "pipeline/incremental_refresh.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>

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

  // The plan for `sql`, serialized by DuckDB as the flow executor does.
  Result<GroupAggregatePlan> Plan(const std::string& sql) {
    ASSIGN_OR_RETURN(auto r, conn_->Query("SELECT json_serialize_sql(" + engine::QuoteString(sql) + ")"));
    ASSIGN_OR_RETURN(std::string ast, r.GetString(0, 0));
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

}  // namespace
}  // namespace medallion::pipeline
