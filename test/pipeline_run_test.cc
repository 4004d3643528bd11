// End-to-end runs of declarative pipelines: files -> bronze streaming tables -> silver with every
// expectation kind -> gold materialized views, plus append flows and a ONCE flow; incremental
// second runs; full refresh; failures and their downstream; the event log.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "engine/session.h"
#include "pipeline/flow_progress.h"
#include "pipeline/pipeline_update.h"
#include "session_rows.h"
#include "storage/test_util.h"

namespace medallion::pipeline {
namespace {

namespace fs = std::filesystem;

void WriteFile(const fs::path& path, const std::string& text) {
  fs::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary);
  out << text;
}

class PipelineRunTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = folder_.path();
    WriteFile(root_ / "spark-pipeline.yml",
              "name: shop\n"
              "libraries:\n"
              "  - glob:\n"
              "      include: transformations/**\n"
              "configuration:\n"
              "  landing: landing\n");
    WriteFile(root_ / "transformations" / "bronze.sql", R"(
CREATE OR REFRESH STREAMING TABLE bronze_orders
AS SELECT *, _metadata.file_name AS source_file
FROM STREAM read_files('${landing}/orders', format => 'csv', header => true);

CREATE OR REFRESH STREAMING TABLE bronze_returns
AS SELECT * FROM STREAM read_files('${landing}/returns', format => 'json');
)");
    WriteFile(root_ / "transformations" / "silver.sql", R"(
CREATE OR REFRESH STREAMING TABLE silver_orders (
  CONSTRAINT has_id EXPECT (order_id IS NOT NULL) ON VIOLATION DROP ROW,
  CONSTRAINT positive EXPECT (amount > 0) ON VIOLATION QUARANTINE,
  CONSTRAINT known_status EXPECT (status IN ('placed', 'shipped')),
  CONSTRAINT sane EXPECT (amount < 1000000) ON VIOLATION FAIL UPDATE
)
AS SELECT CAST(order_id AS BIGINT) AS order_id, CAST(amount AS DOUBLE) AS amount,
          lower(status) AS status
FROM STREAM(LIVE.bronze_orders);

-- Two append flows and a ONCE backfill into one streaming table.
CREATE OR REFRESH STREAMING TABLE events;
CREATE FLOW orders_to_events AS INSERT INTO events BY NAME
  SELECT CAST(order_id AS BIGINT) AS id, 'order' AS kind FROM STREAM(bronze_orders);
CREATE FLOW returns_to_events AS INSERT INTO events BY NAME
  SELECT CAST(order_id AS BIGINT) AS id, 'return' AS kind FROM STREAM bronze_returns;
CREATE FLOW backfill AS INSERT ONCE INTO events BY NAME
  SELECT CAST(-1 AS BIGINT) AS id, 'backfill' AS kind;
)");
    WriteFile(root_ / "transformations" / "gold.sql", R"(
CREATE OR REFRESH MATERIALIZED VIEW gold_status
AS SELECT status, count(*) AS orders, sum(amount) AS amount
FROM silver_orders GROUP BY status;

CREATE OR REFRESH MATERIALIZED VIEW gold_status_median
AS SELECT status, median(amount) AS median_amount, count(*) AS orders
FROM silver_orders GROUP BY status;

CREATE TEMPORARY VIEW returned AS SELECT DISTINCT order_id FROM bronze_returns;

CREATE OR REFRESH MATERIALIZED VIEW gold_kept
AS SELECT count(*) AS orders FROM silver_orders
WHERE order_id NOT IN (SELECT CAST(order_id AS BIGINT) FROM returned);
)");
    WriteFile(root_ / "landing" / "orders" / "day1.csv",
              "order_id,amount,status\n1,10.5,placed\n2,-3,placed\n,7,placed\n3,20,Shipped\n"
              "4,5,lost\n");
    WriteFile(root_ / "landing" / "returns" / "r1.json", "{\"order_id\": 3}\n");
  }

  Result<UpdateResult> RunOnce(UpdateOptions options = {}) {
    ASSIGN_OR_RETURN(auto p, Pipeline::Load(root_ / "spark-pipeline.yml"));
    return p->Run(options);
  }

  // One query's rows as text, "a|b" per row, in the query's order.
  std::vector<std::string> Rows(const std::string& sql) {
    auto session = engine::Session::Open();
    EXPECT_TRUE(session.ok()) << session.status().ToString();
    return session.ok() ? testutil::RowsOf(**session, sql) : std::vector<std::string>{};
  }
  std::string Table(const std::string& name) {
    return "delta.`" + (root_ / "lakehouse" / "default" / name).string() + "`";
  }
  const FlowReport* Find(const UpdateResult& result, const std::string& flow) {
    for (const auto& f : result.flows) {
      if (f.flow_name == flow) return &f;
    }
    return nullptr;
  }
  // Parquet files under `folder` (none when it does not exist).
  static int ParquetFilesUnder(const fs::path& folder) {
    int n = 0;
    if (!fs::exists(folder)) return 0;
    for (const auto& e : fs::recursive_directory_iterator(folder)) {
      n += e.path().extension() == ".parquet";
    }
    return n;
  }

  storage::TempFolder folder_;
  fs::path root_;
};

TEST_F(PipelineRunTest, FirstRunBuildsEveryLayer) {
  ASSERT_OK_AND_ASSIGN(auto result, RunOnce());
  for (const auto& f : result.flows) {
    EXPECT_EQ(f.state, FlowReport::State::kCompleted) << f.flow_name << ": " << f.error.ToString();
  }
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(Rows("SELECT count(*), min(source_file) FROM " + Table("bronze_orders")),
            std::vector<std::string>{"5|day1.csv"});
  // _metadata came from `*`'s source but is not a column.
  EXPECT_EQ(Rows("SELECT count(*) FROM (DESCRIBE " + Table("bronze_orders") +
                 ") WHERE column_name = '_metadata'"),
            std::vector<std::string>{"0"});
  // silver: the row without id dropped, the negative amount quarantined, 'lost' kept (warn).
  EXPECT_EQ(Rows("SELECT order_id, amount, status FROM " + Table("silver_orders") +
                 " ORDER BY order_id"),
            (std::vector<std::string>{"1|10.5|placed", "3|20.0|shipped", "4|5.0|lost"}));
  EXPECT_EQ(Rows("SELECT order_id, _failed_expectations FROM " + Table("silver_orders_quarantine")),
            std::vector<std::string>{"2|[positive]"});
  const FlowReport* silver = Find(result, "silver_orders");
  ASSERT_NE(silver, nullptr);
  EXPECT_EQ(silver->metrics.num_input_rows, 5);
  EXPECT_EQ(silver->metrics.num_output_rows, 3);
  EXPECT_EQ(silver->metrics.num_dropped_rows, 1);
  EXPECT_EQ(silver->metrics.num_quarantined_rows, 1);
  EXPECT_EQ(silver->metrics.num_input_rows, silver->metrics.num_output_rows +
                                                silver->metrics.num_dropped_rows +
                                                silver->metrics.num_quarantined_rows);
  ASSERT_EQ(silver->metrics.expectations.size(), 4u);
  EXPECT_EQ(silver->metrics.expectations[2].name, "known_status");
  EXPECT_EQ(silver->metrics.expectations[2].failed_records, 1);  // 'lost' (NULL id row passes)
  // gold
  EXPECT_EQ(Rows("SELECT status, orders, amount FROM " + Table("gold_status") + " ORDER BY 1"),
            (std::vector<std::string>{"lost|1|5.0", "placed|1|10.5", "shipped|1|20.0"}));
  EXPECT_EQ(Rows("SELECT orders FROM " + Table("gold_kept")), std::vector<std::string>{"2"});
  // append flows + ONCE
  EXPECT_EQ(Rows("SELECT kind, count(*) FROM " + Table("events") + " GROUP BY 1 ORDER BY 1"),
            (std::vector<std::string>{"backfill|1", "order|5", "return|1"}));
}

TEST_F(PipelineRunTest, SecondRunProcessesOnlyNewFiles) {
  ASSERT_OK_AND_ASSIGN(auto first, RunOnce());
  ASSERT_TRUE(first.ok());
  WriteFile(root_ / "landing" / "orders" / "day2.csv", "order_id,amount,status\n7,1,placed\n");
  ASSERT_OK_AND_ASSIGN(auto second, RunOnce());
  ASSERT_TRUE(second.ok());
  const FlowReport* bronze = Find(second, "bronze_orders");
  EXPECT_EQ(bronze->state, FlowReport::State::kCompleted);
  EXPECT_EQ(bronze->metrics.num_input_files, 1);
  EXPECT_EQ(bronze->metrics.num_output_rows, 1);
  EXPECT_EQ(Find(second, "bronze_returns")->state, FlowReport::State::kUpToDate);
  EXPECT_EQ(Find(second, "silver_orders")->metrics.num_output_rows, 1);
  EXPECT_EQ(Find(second, "backfill")->state, FlowReport::State::kUpToDate);
  EXPECT_EQ(Find(second, "gold_status")->state, FlowReport::State::kCompleted);
  EXPECT_EQ(Rows("SELECT count(*) FROM " + Table("bronze_orders")), std::vector<std::string>{"6"});
  EXPECT_EQ(Rows("SELECT kind, count(*) FROM " + Table("events") + " GROUP BY 1 ORDER BY 1"),
            (std::vector<std::string>{"backfill|1", "order|6", "return|1"}));

  // Nothing new: everything is up to date, and no table gets a new version.
  auto commits = [&](const std::string& table) {
    size_t n = 0;
    for (const auto& e : fs::directory_iterator(root_ / "lakehouse" / "default" / table / "_delta_log")) {
      n += e.path().extension() == ".json" ? 1 : 0;
    }
    return n;
  };
  size_t gold_commits = commits("gold_status"), silver_commits = commits("silver_orders");
  ASSERT_OK_AND_ASSIGN(auto third, RunOnce());
  for (const auto& f : third.flows) {
    EXPECT_EQ(f.state, FlowReport::State::kUpToDate) << f.flow_name;
  }
  EXPECT_EQ(commits("gold_status"), gold_commits);
  EXPECT_EQ(commits("silver_orders"), silver_commits);
}

// A materialized view that is one GROUP BY over one table is refreshed incrementally when its
// input only had appends: by merging the new rows' partial aggregates into its hidden state
// (GENERIC_AGGREGATE) when its aggregates allow (gold_status: count, sum), else by recomputing the
// groups the new rows belong to (GROUP_AGGREGATE; gold_status_median: median). A view that reads
// two inputs, and any refresh after its input changed other than by appends, is recomputed whole
// (COMPLETE_RECOMPUTE). Either way it equals the query over its input.
TEST_F(PipelineRunTest, MaterializedViewsRefreshIncrementally) {
  ASSERT_OK_AND_ASSIGN(auto first, RunOnce());
  ASSERT_TRUE(first.ok());
  const std::string by_status = "SELECT status, count(*), sum(amount) FROM " + Table("silver_orders") +
                                " GROUP BY status ORDER BY 1";
  const std::string median_by_status = "SELECT status, median(amount), count(*) FROM " +
                                       Table("silver_orders") + " GROUP BY status ORDER BY 1";
  const std::string gold = "SELECT * FROM " + Table("gold_status") + " ORDER BY 1";
  const std::string median = "SELECT * FROM " + Table("gold_status_median") + " ORDER BY 1";
  const std::string log =
      "delta.`" + (root_ / "lakehouse" / "_pipelines" / "shop" / "event_log").string() + "`";
  auto planned = [&](const std::string& flow) {
    return Rows("SELECT json_extract_string(t, '$.maintenance_type') || ':' || "
                "json_extract_string(t, '$.is_chosen') FROM (SELECT unnest(json_extract(details, "
                "'$.planning_information.technique_information[*]')) AS t FROM (SELECT details FROM " +
                log + " WHERE event_type = 'planning_information' AND origin.flow_name = '" + flow +
                "' ORDER BY timestamp DESC, sequence.control_plane_seq_no DESC LIMIT 1))");
  };
  auto last_operation = [&](const std::string& folder) {
    return Rows("SELECT commitInfo.operation FROM read_json_auto('" +
                (root_ / "lakehouse" / "default" / folder / "_delta_log").string() +
                "/*.json', union_by_name = true, filename = true) WHERE commitInfo IS NOT NULL "
                "ORDER BY filename DESC LIMIT 1");
  };
  const fs::path state = root_ / "lakehouse" / "default" / "__medallion_mv_state_gold_status";
  EXPECT_EQ(Find(first, "gold_status")->metrics.refresh_technique, "COMPLETE_RECOMPUTE");
  EXPECT_TRUE(fs::exists(state / "_delta_log"));
  EXPECT_FALSE(fs::exists(root_ / "lakehouse" / "default" / "__medallion_mv_state_gold_status_median"));

  // A new order without a status: one group (NULL) merged / recomputed, each in one MERGE commit
  // (keys match with IS NOT DISTINCT FROM).
  WriteFile(root_ / "landing" / "orders" / "day2.csv", "order_id,amount,status\n7,1.5,\n");
  ASSERT_OK_AND_ASSIGN(auto second, RunOnce());
  ASSERT_TRUE(second.ok());
  const FlowReport* status = Find(second, "gold_status");
  EXPECT_EQ(status->metrics.refresh_technique, "GENERIC_AGGREGATE");
  EXPECT_EQ(status->metrics.detail, "incremental: 1 group merged");
  EXPECT_EQ(status->metrics.num_output_rows, 1);
  EXPECT_EQ(Rows(gold), (std::vector<std::string>{"lost|1|5.0", "placed|1|10.5", "shipped|1|20.0",
                                                  "NULL|1|1.5"}));
  EXPECT_EQ(Rows(gold), Rows(by_status));
  EXPECT_EQ(last_operation("gold_status"), std::vector<std::string>{"MERGE"});
  EXPECT_EQ(planned("gold_status"), (std::vector<std::string>{
                                        "MAINTENANCE_TYPE_GENERIC_AGGREGATE:true",
                                        "MAINTENANCE_TYPE_COMPLETE_RECOMPUTE:false"}));
  const FlowReport* by_median = Find(second, "gold_status_median");
  EXPECT_EQ(by_median->metrics.refresh_technique, "GROUP_AGGREGATE");
  EXPECT_EQ(by_median->metrics.detail, "incremental: 1 group recomputed");
  EXPECT_EQ(Rows(median), Rows(median_by_status));
  EXPECT_EQ(last_operation("gold_status_median"), std::vector<std::string>{"MERGE"});
  EXPECT_EQ(planned("gold_status_median"), (std::vector<std::string>{
                                               "MAINTENANCE_TYPE_GROUP_AGGREGATE:true",
                                               "MAINTENANCE_TYPE_COMPLETE_RECOMPUTE:false"}));
  // The view with a subquery over a second input: recomputed, and the event log says why.
  const FlowReport* kept = Find(second, "gold_kept");
  EXPECT_EQ(kept->metrics.refresh_technique, "COMPLETE_RECOMPUTE");
  EXPECT_EQ(kept->metrics.not_incremental_reason, "OPERATOR_NOT_INCREMENTALIZABLE: it reads 2 inputs")
      << kept->metrics.not_incremental_reason;
  EXPECT_EQ(Rows("SELECT orders FROM " + Table("gold_kept")), std::vector<std::string>{"3"});
  EXPECT_EQ(Rows("SELECT json_extract_string(details, '$.planning_information.technique_information[0]"
                 ".incrementalization_issues[0].issue_type') FROM " + log +
                 " WHERE event_type = 'planning_information' AND origin.flow_name = 'gold_kept' "
                 "ORDER BY timestamp DESC, sequence.control_plane_seq_no DESC LIMIT 1"),
            std::vector<std::string>{"OPERATOR_NOT_INCREMENTALIZABLE"});

  // A DELETE in the input: the next refresh recomputes everything (the state included).
  {
    ASSERT_OK_AND_ASSIGN(auto session, engine::Session::Open());
    ASSERT_OK(session->Query("DELETE FROM " + Table("silver_orders") + " WHERE order_id = 3").status());
  }
  ASSERT_OK_AND_ASSIGN(auto third, RunOnce());
  ASSERT_TRUE(third.ok());
  for (const char* view : {"gold_status", "gold_status_median"}) {
    status = Find(third, view);
    EXPECT_EQ(status->metrics.refresh_technique, "COMPLETE_RECOMPUTE") << view;
    EXPECT_NE(status->metrics.not_incremental_reason.find("changed other than by appends"),
              std::string::npos)
        << status->metrics.not_incremental_reason;
  }
  EXPECT_EQ(Rows(gold), (std::vector<std::string>{"lost|1|5.0", "placed|1|10.5", "NULL|1|1.5"}));

  // Appends again: incremental again, from the recomputed view and state; no NULL key, so a
  // replaceWhere overwrite of the touched keys.
  WriteFile(root_ / "landing" / "orders" / "day3.csv", "order_id,amount,status\n9,4,shipped\n");
  ASSERT_OK_AND_ASSIGN(auto fourth, RunOnce());
  ASSERT_TRUE(fourth.ok());
  EXPECT_EQ(Find(fourth, "gold_status")->metrics.refresh_technique, "GENERIC_AGGREGATE");
  EXPECT_EQ(Find(fourth, "gold_status_median")->metrics.refresh_technique, "GROUP_AGGREGATE");
  EXPECT_EQ(Rows(gold), (std::vector<std::string>{"lost|1|5.0", "placed|1|10.5", "shipped|1|4.0",
                                                  "NULL|1|1.5"}));
  EXPECT_EQ(last_operation("gold_status"), std::vector<std::string>{"REFRESH MATERIALIZED VIEW"});
  EXPECT_EQ(last_operation("gold_status_median"),
            std::vector<std::string>{"REFRESH MATERIALIZED VIEW"});
  EXPECT_EQ(Rows(gold), Rows(by_status));
  EXPECT_EQ(Rows(median), Rows(median_by_status));

  // New rows in three of the four groups: recomputing those groups would cost more than
  // recomputing everything; merging partial aggregates still costs only the new rows.
  WriteFile(root_ / "landing" / "orders" / "day4.csv",
            "order_id,amount,status\n10,1,lost\n11,1,placed\n12,1,shipped\n");
  ASSERT_OK_AND_ASSIGN(auto fifth, RunOnce());
  ASSERT_TRUE(fifth.ok());
  EXPECT_EQ(Find(fifth, "gold_status")->metrics.detail, "incremental: 3 groups merged");
  status = Find(fifth, "gold_status_median");
  EXPECT_EQ(status->metrics.refresh_technique, "COMPLETE_RECOMPUTE");
  EXPECT_TRUE(status->metrics.incremental_applicable);
  EXPECT_EQ(status->metrics.not_incremental_reason,
            "MORE_EXPENSIVE_THAN_COMPLETE_RECOMPUTE: 3 of the view's 4 rows would be recomputed");
  EXPECT_EQ(Rows(gold), Rows(by_status));
  EXPECT_EQ(Rows(median), Rows(median_by_status));
  EXPECT_EQ(planned("gold_status_median"), (std::vector<std::string>{
                                               "MAINTENANCE_TYPE_GROUP_AGGREGATE:false",
                                               "MAINTENANCE_TYPE_COMPLETE_RECOMPUTE:true"}));

  // A state that does not hold the last refresh (here: lost) is made again by a complete recompute,
  // and the next refresh merges into it.
  fs::remove_all(state);
  WriteFile(root_ / "landing" / "orders" / "day5.csv", "order_id,amount,status\n13,2,lost\n");
  ASSERT_OK_AND_ASSIGN(auto sixth, RunOnce());
  ASSERT_TRUE(sixth.ok());
  status = Find(sixth, "gold_status");
  EXPECT_EQ(status->metrics.refresh_technique, "COMPLETE_RECOMPUTE");
  EXPECT_EQ(status->metrics.not_incremental_reason,
            "the view's aggregate state does not hold its last refresh");
  EXPECT_EQ(Rows(gold), Rows(by_status));
  WriteFile(root_ / "landing" / "orders" / "day6.csv", "order_id,amount,status\n14,2.25,lost\n");
  ASSERT_OK_AND_ASSIGN(auto seventh, RunOnce());
  ASSERT_TRUE(seventh.ok());
  EXPECT_EQ(Find(seventh, "gold_status")->metrics.refresh_technique, "GENERIC_AGGREGATE");
  EXPECT_EQ(Rows(gold), Rows(by_status));
  EXPECT_EQ(Rows("SELECT * FROM " + Table("gold_status") + " WHERE status = 'lost'"),
            std::vector<std::string>{"lost|4|10.25"});
}

// Many runs, each with a new file: every row once, and the flow's progress log compacted (a run
// reads the newest compact file and the batches after it, pipeline/flow_progress.h).
TEST_F(PipelineRunTest, ManyRunsCompactTheProgressLog) {
  ASSERT_OK_AND_ASSIGN(auto first, RunOnce());
  ASSERT_TRUE(first.ok());
  const int runs = 2 * static_cast<int>(kCompactInterval) + 3;
  for (int i = 0; i < runs; ++i) {
    WriteFile(root_ / "landing" / "orders" / ("more" + std::to_string(i) + ".csv"),
              "order_id,amount,status\n" + std::to_string(100 + i) + ",1,placed\n");
    ASSERT_OK_AND_ASSIGN(auto run, RunOnce());
    ASSERT_TRUE(run.ok());
    EXPECT_EQ(Find(run, "bronze_orders")->metrics.num_input_files, 1) << "run " << i;
  }
  EXPECT_EQ(Rows("SELECT count(*), count(DISTINCT order_id) FILTER (WHERE TRY_CAST(order_id AS "
                 "INTEGER) >= 100) FROM " + Table("bronze_orders")),
            std::vector<std::string>{std::to_string(5 + runs) + "|" + std::to_string(runs)});
  size_t compact = 0, batches = 0;
  for (const auto& e : fs::recursive_directory_iterator(root_ / "lakehouse" / "_pipelines")) {
    const std::string path = e.path().string();
    if (path.find("/flows/bronze_orders/") == std::string::npos) continue;
    compact += path.ends_with(".compact.json");
    batches += path.ends_with(".json") && !path.ends_with(".compact.json");
  }
  EXPECT_EQ(compact, 1u);
  EXPECT_LE(batches, static_cast<size_t>(kCompactInterval + kRetainedBatches));
}

TEST_F(PipelineRunTest, FullRefreshReprocessesAndRerunsOnceFlows) {
  ASSERT_OK_AND_ASSIGN(auto first, RunOnce());
  ASSERT_TRUE(first.ok());
  UpdateOptions options;
  options.full_refresh = {"events"};
  ASSERT_OK_AND_ASSIGN(auto refreshed, RunOnce(options));
  ASSERT_TRUE(refreshed.ok());
  EXPECT_EQ(Find(refreshed, "bronze_orders")->state, FlowReport::State::kExcluded);
  EXPECT_EQ(Find(refreshed, "backfill")->state, FlowReport::State::kCompleted);
  EXPECT_EQ(Rows("SELECT kind, count(*) FROM " + Table("events") + " GROUP BY 1 ORDER BY 1"),
            (std::vector<std::string>{"backfill|1", "order|5", "return|1"}));
}

// --refresh: only the named tables are updated; the others are EXCLUDED and keep their data.
TEST_F(PipelineRunTest, RefreshSelectionUpdatesOnlyTheNamedTables) {
  ASSERT_OK_AND_ASSIGN(auto first, RunOnce());
  ASSERT_TRUE(first.ok());
  WriteFile(root_ / "landing" / "orders" / "day2.csv", "order_id,amount,status\n7,1,placed\n");
  UpdateOptions options;
  options.refresh = {"bronze_orders"};
  ASSERT_OK_AND_ASSIGN(auto selected, RunOnce(options));
  ASSERT_TRUE(selected.ok());
  EXPECT_EQ(Find(selected, "bronze_orders")->state, FlowReport::State::kCompleted);
  EXPECT_EQ(Find(selected, "silver_orders")->state, FlowReport::State::kExcluded);
  EXPECT_EQ(Find(selected, "gold_status")->state, FlowReport::State::kExcluded);
  EXPECT_EQ(Rows("SELECT count(*) FROM " + Table("bronze_orders")), std::vector<std::string>{"6"});
  EXPECT_EQ(Rows("SELECT count(*) FROM " + Table("silver_orders")), std::vector<std::string>{"3"});
  options.refresh = {"no_such_table"};
  EXPECT_EQ(RunOnce(options).status().code(), StatusCode::kInvalidArgument);
}

TEST_F(PipelineRunTest, ResetNotAllowedRefusesFullRefresh) {
  WriteFile(root_ / "transformations" / "locked.sql",
            "CREATE MATERIALIZED VIEW locked TBLPROPERTIES ('pipelines.reset.allowed' = 'false') "
            "AS SELECT 1 AS x;\n");
  UpdateOptions options;
  options.full_refresh_all = true;
  auto result = RunOnce(options);
  ASSERT_FALSE(result.ok());
  EXPECT_NE(result.status().message().find("pipelines.reset.allowed"), std::string::npos)
      << result.status().ToString();
}

TEST_F(PipelineRunTest, FailUpdateCommitsNothingAndSkipsDownstreamOnly) {
  WriteFile(root_ / "landing" / "orders" / "day1.csv",
            "order_id,amount,status\n1,10,placed\n2,5000000,placed\n");
  ASSERT_OK_AND_ASSIGN(auto result, RunOnce());
  EXPECT_FALSE(result.ok());
  const FlowReport* silver = Find(result, "silver_orders");
  EXPECT_EQ(silver->state, FlowReport::State::kFailed);
  EXPECT_NE(silver->error.message().find("expectation 'sane'"), std::string::npos)
      << silver->error.ToString();
  EXPECT_EQ(Find(result, "gold_status")->state, FlowReport::State::kSkipped);
  EXPECT_EQ(Find(result, "bronze_orders")->state, FlowReport::State::kCompleted);
  EXPECT_EQ(Find(result, "orders_to_events")->state, FlowReport::State::kCompleted);
  EXPECT_FALSE(fs::exists(root_ / "lakehouse" / "default" / "silver_orders" / "_delta_log" /
                          "00000000000000000000.json"));
  EXPECT_EQ(ParquetFilesUnder(root_ / "lakehouse" / "default" / "silver_orders"), 0);
}

// The spark_* macros are registered only when some query or expectation calls one: a pipeline
// whose only call is in an expectation, then one whose only call is in a query, both run.
TEST_F(PipelineRunTest, SparkMacrosAreThereWhenCalled) {
  fs::remove(root_ / "transformations" / "silver.sql");
  fs::remove(root_ / "transformations" / "gold.sql");
  WriteFile(root_ / "transformations" / "macros.sql", R"(
CREATE OR REFRESH MATERIALIZED VIEW statuses (
  CONSTRAINT known EXPECT (substring(status, 1, 1) IN ('p', 'S', 'l')) ON VIOLATION DROP ROW
)
AS SELECT status FROM bronze_orders;
)");
  ASSERT_OK_AND_ASSIGN(auto first, RunOnce());
  ASSERT_TRUE(first.ok()) << Find(first, "statuses")->error.ToString();
  EXPECT_EQ(Rows("SELECT count(*) FROM " + Table("statuses")), std::vector<std::string>{"5"});
  WriteFile(root_ / "transformations" / "macros.sql", R"(
CREATE OR REFRESH MATERIALIZED VIEW statuses
AS SELECT lpad(status, 8, '.') AS status FROM bronze_orders WHERE status = 'lost';
)");
  ASSERT_OK_AND_ASSIGN(auto second, RunOnce());
  ASSERT_TRUE(second.ok()) << Find(second, "statuses")->error.ToString();
  EXPECT_EQ(Rows("SELECT status FROM " + Table("statuses")), std::vector<std::string>{"....lost"});
}

// A dataset has at most 61 expectations (one bit each in the row counts, engine/row_tally.h).
TEST_F(PipelineRunTest, SixtyTwoExpectationsAreRefused) {
  std::string constraints;
  for (int i = 0; i < 62; ++i) {
    constraints += "  CONSTRAINT c" + std::to_string(i) + " EXPECT (amount > -" +
                   std::to_string(i) + ")" + (i < 61 ? ",\n" : "\n");
  }
  WriteFile(root_ / "transformations" / "many.sql",
            "CREATE OR REFRESH MATERIALIZED VIEW many (\n" + constraints +
                ") AS SELECT CAST(amount AS DOUBLE) AS amount FROM bronze_orders;\n");
  ASSERT_OK_AND_ASSIGN(auto result, RunOnce());
  const FlowReport* many = Find(result, "many");
  ASSERT_NE(many, nullptr);
  EXPECT_EQ(many->error.code(), StatusCode::kNotSupported) << many->error.ToString();
  EXPECT_NE(many->error.message().find("at most 61 per dataset"), std::string::npos)
      << many->error.ToString();
}

// A NULL in a column declared NOT NULL fails the flow before any commit, naming the column, and
// leaves no data files behind.
TEST_F(PipelineRunTest, NotNullColumnViolationCommitsNothing) {
  WriteFile(root_ / "transformations" / "typed.sql", R"(
CREATE OR REFRESH MATERIALIZED VIEW typed_orders (
  order_id BIGINT NOT NULL,
  amount DOUBLE,
  CONSTRAINT positive EXPECT (amount > 0) ON VIOLATION DROP ROW
)
AS SELECT CASE WHEN order_id = '2' THEN NULL ELSE order_id END AS order_id, amount
FROM bronze_orders;
)");
  ASSERT_OK_AND_ASSIGN(auto result, RunOnce());
  const FlowReport* typed = Find(result, "typed_orders");
  ASSERT_NE(typed, nullptr);
  EXPECT_EQ(typed->state, FlowReport::State::kFailed);
  EXPECT_NE(typed->error.message().find(
                "NOT NULL constraint violated for column: order_id (1 rows of 'typed_orders')"),
            std::string::npos)
      << typed->error.ToString();
  EXPECT_EQ(ParquetFilesUnder(root_ / "lakehouse" / "default" / "typed_orders"), 0);
}

TEST_F(PipelineRunTest, EventLogHasDatabricksShape) {
  ASSERT_OK_AND_ASSIGN(auto result, RunOnce());
  ASSERT_TRUE(result.ok());
  std::string log = "delta.`" + (root_ / "lakehouse" / "_pipelines" / "shop" / "event_log").string() + "`";
  EXPECT_EQ(Rows("SELECT count(*) FROM " + log + " WHERE event_type = 'create_update'"),
            std::vector<std::string>{"1"});
  EXPECT_EQ(Rows("SELECT CAST(json_extract(details, '$.flow_progress.metrics.num_output_rows') AS "
                 "BIGINT), CAST(json_extract(details, '$.flow_progress.data_quality.dropped_records') "
                 "AS BIGINT) FROM " +
                 log +
                 " WHERE event_type = 'flow_progress' AND origin.flow_name = 'silver_orders' AND "
                 "json_extract_string(details, '$.flow_progress.status') = 'COMPLETED'"),
            std::vector<std::string>{"3|1"});
  EXPECT_EQ(Rows("SELECT json_extract_string(details, '$.flow_definition.output_dataset') FROM " +
                 log + " WHERE event_type = 'flow_definition' AND origin.flow_name = 'backfill'"),
            std::vector<std::string>{"events"});
  EXPECT_EQ(Rows("SELECT json_extract_string(details, '$.update_progress.state') FROM " + log +
                 " WHERE event_type = 'update_progress' ORDER BY sequence.control_plane_seq_no DESC "
                 "LIMIT 1"),
            std::vector<std::string>{"COMPLETED"});
}

TEST_F(PipelineRunTest, DryRunBindsEverythingAndWritesNothing) {
  ASSERT_OK_AND_ASSIGN(auto p, Pipeline::Load(root_ / "spark-pipeline.yml"));
  ASSERT_OK(p->DryRun());
  EXPECT_FALSE(fs::exists(root_ / "lakehouse" / "default"));
  WriteFile(root_ / "transformations" / "broken.sql",
            "CREATE MATERIALIZED VIEW broken AS\nSELECT no_such_column FROM silver_orders;\n");
  ASSERT_OK_AND_ASSIGN(auto broken, Pipeline::Load(root_ / "spark-pipeline.yml"));
  Status s = broken->DryRun();
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("broken.sql:1"), std::string::npos) << s.ToString();
  EXPECT_NE(s.message().find("no_such_column"), std::string::npos) << s.ToString();

  // Expectations bind together; a failing one is named.
  WriteFile(root_ / "transformations" / "broken.sql",
            "CREATE MATERIALIZED VIEW broken (\n"
            "  CONSTRAINT fine EXPECT (amount > 0),\n"
            "  CONSTRAINT bad_column EXPECT (no_such_column > 0)\n"
            ") AS SELECT * FROM silver_orders;\n");
  ASSERT_OK_AND_ASSIGN(auto bad_expectation, Pipeline::Load(root_ / "spark-pipeline.yml"));
  s = bad_expectation->DryRun();
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("expectation 'bad_column'"), std::string::npos) << s.ToString();
  // The failed dry-run leaves the pipeline's database as it was: a run completes every other flow.
  ASSERT_OK_AND_ASSIGN(auto after, bad_expectation->Run(UpdateOptions{}));
  for (const auto& f : after.flows) {
    if (f.flow_name != "broken") {
      EXPECT_EQ(f.state, FlowReport::State::kCompleted) << f.flow_name;
    }
  }
}

TEST_F(PipelineRunTest, GraphErrorsNameFileAndLine) {
  auto load_with = [&](const std::string& sql) {
    WriteFile(root_ / "transformations" / "extra.sql", sql);
    return Pipeline::Load(root_ / "spark-pipeline.yml").status();
  };
  Status cycle = load_with(
      "CREATE MATERIALIZED VIEW a AS SELECT * FROM b;\nCREATE MATERIALIZED VIEW b AS SELECT * FROM a;\n");
  EXPECT_NE(cycle.message().find("cycle"), std::string::npos) << cycle.ToString();
  EXPECT_NE(cycle.message().find("a -> b -> a"), std::string::npos) << cycle.ToString();
  Status unknown = load_with("\n\nCREATE MATERIALIZED VIEW c AS SELECT * FROM nowhere;\n");
  EXPECT_NE(unknown.message().find("extra.sql:3"), std::string::npos) << unknown.ToString();
  EXPECT_NE(unknown.message().find("'nowhere' not found"), std::string::npos) << unknown.ToString();
  Status duplicate = load_with("CREATE MATERIALIZED VIEW gold_status AS SELECT 1 AS x;\n");
  EXPECT_NE(duplicate.message().find("'gold_status' is already defined at"), std::string::npos)
      << duplicate.ToString();
  Status syntax = load_with("CREATE MATERIALIZED VIEW d AS SELEC 1;\n");
  EXPECT_NE(syntax.message().find("extra.sql:1"), std::string::npos) << syntax.ToString();
  Status batch_stream = load_with("CREATE STREAMING TABLE e AS SELECT * FROM silver_orders;\n");
  EXPECT_NE(batch_stream.message().find("must read a streaming source"), std::string::npos)
      << batch_stream.ToString();
  Status stream_mv = load_with("CREATE STREAMING TABLE f AS SELECT * FROM STREAM(gold_status);\n");
  EXPECT_NE(stream_mv.message().find("cannot stream from materialized view"), std::string::npos)
      << stream_mv.ToString();
}

TEST_F(PipelineRunTest, StreamingReadFailsOnUpstreamRewriteUnlessSkipped) {
  ASSERT_OK_AND_ASSIGN(auto first, RunOnce());
  ASSERT_TRUE(first.ok());
  // A DELETE on bronze (e.g. a GDPR erasure) is a change commit.
  auto session = engine::Session::Open();
  ASSERT_TRUE(session.ok());
  ASSERT_OK((*session)->Query("DELETE FROM " + Table("bronze_orders") + " WHERE order_id = 4").status());
  WriteFile(root_ / "landing" / "orders" / "day2.csv", "order_id,amount,status\n8,1,placed\n");
  ASSERT_OK_AND_ASSIGN(auto second, RunOnce());
  const FlowReport* silver = Find(second, "silver_orders");
  EXPECT_EQ(silver->state, FlowReport::State::kFailed);
  EXPECT_NE(silver->error.message().find("detected a data update"), std::string::npos)
      << silver->error.ToString();
}

TEST_F(PipelineRunTest, SkipChangeCommitsReadsOnlyAppends) {
  WriteFile(root_ / "transformations" / "silver.sql", R"(
CREATE OR REFRESH STREAMING TABLE silver_orders TBLPROPERTIES ('skipChangeCommits' = 'true')
AS SELECT CAST(order_id AS BIGINT) AS order_id FROM STREAM(bronze_orders);
)");
  fs::remove(root_ / "transformations" / "gold.sql");
  ASSERT_OK_AND_ASSIGN(auto first, RunOnce());
  ASSERT_TRUE(first.ok());
  auto session = engine::Session::Open();
  ASSERT_TRUE(session.ok());
  ASSERT_OK((*session)->Query("DELETE FROM " + Table("bronze_orders") + " WHERE order_id = 4").status());
  WriteFile(root_ / "landing" / "orders" / "day2.csv", "order_id,amount,status\n8,1,placed\n");
  ASSERT_OK_AND_ASSIGN(auto second, RunOnce());
  ASSERT_TRUE(second.ok());
  // The DELETE commit was skipped (order 4 stays in silver); the append after it was read.
  EXPECT_EQ(Rows("SELECT count(*), count_if(order_id = 4), count_if(order_id = 8) FROM " +
                 Table("silver_orders")),
            std::vector<std::string>{"6|1|1"});
}

// Malformed and mistyped records are rescued or counted, and a new column mid-stream evolves the
// table: nothing is lost silently.
TEST_F(PipelineRunTest, BadInputIsRescuedCountedAndEvolved) {
  WriteFile(root_ / "transformations" / "bronze.sql", R"(
CREATE OR REFRESH STREAMING TABLE bronze_orders
AS SELECT * FROM STREAM read_files('${landing}/orders', format => 'csv', header => true,
                                   schemaHints => 'amount DOUBLE');
CREATE OR REFRESH STREAMING TABLE bronze_returns
AS SELECT * FROM STREAM read_files('${landing}/returns', format => 'json');
)");
  fs::remove(root_ / "transformations" / "silver.sql");
  fs::remove(root_ / "transformations" / "gold.sql");
  WriteFile(root_ / "landing" / "orders" / "day1.csv",
            "order_id,amount,status\n1,10.5,placed\n2,abc,placed\n3,1,placed,EXTRA\n");
  WriteFile(root_ / "landing" / "returns" / "r1.json", "{\"order_id\": 3}\n{not json\n");
  ASSERT_OK_AND_ASSIGN(auto first, RunOnce());
  ASSERT_TRUE(first.ok()) << first.flows[0].error.ToString();
  // 'abc' is not a DOUBLE: NULL, and kept in _rescued_data with the file path; the line with an
  // extra field is a row whose _rescued_data holds the raw line.
  EXPECT_EQ(Rows("SELECT order_id, amount, _rescued_data IS NOT NULL, "
                 "coalesce(_rescued_data LIKE '%day1.csv%', false) FROM " + Table("bronze_orders") +
                 " ORDER BY order_id NULLS LAST"),
            (std::vector<std::string>{"1|10.5|false|false", "2|NULL|true|true",
                                      "NULL|NULL|true|true"}));
  EXPECT_EQ(Find(first, "bronze_orders")->metrics.num_rescued_rows, 2);
  EXPECT_EQ(Rows("SELECT count(*), count(_rescued_data) FROM " + Table("bronze_returns")),
            std::vector<std::string>{"2|1"});
  // A new column in a later file: added to the table (schemaEvolutionMode addNewColumns).
  WriteFile(root_ / "landing" / "orders" / "day2.csv",
            "order_id,amount,status,channel\n9,2.5,placed,web\n");
  ASSERT_OK_AND_ASSIGN(auto second, RunOnce());
  ASSERT_TRUE(second.ok()) << Find(second, "bronze_orders")->error.ToString();
  EXPECT_EQ(Rows("SELECT order_id, channel FROM " + Table("bronze_orders") +
                 " WHERE channel IS NOT NULL"),
            std::vector<std::string>{"9|web"});
}

// CSV files are read by the write itself; their malformed records are counted before the commit
// (DROPMALFORMED), or fail the flow with nothing committed (FAILFAST).
TEST_F(PipelineRunTest, StreamedCsvMalformedRecordsAreCountedOrFail) {
  WriteFile(root_ / "transformations" / "bronze.sql", R"(
CREATE OR REFRESH STREAMING TABLE bronze_orders (
  CONSTRAINT positive EXPECT (amount > 0) ON VIOLATION DROP ROW
)
AS SELECT * FROM STREAM read_files('${landing}/orders', format => 'csv', header => true,
                                   mode => 'DROPMALFORMED', schemaHints => 'amount DOUBLE');
CREATE OR REFRESH STREAMING TABLE strict_orders
AS SELECT * FROM STREAM read_files('${landing}/orders', format => 'csv', header => true,
                                   mode => 'FAILFAST');
)");
  fs::remove(root_ / "transformations" / "silver.sql");
  fs::remove(root_ / "transformations" / "gold.sql");
  WriteFile(root_ / "landing" / "orders" / "day1.csv",
            "order_id,amount,status\n1,10.5,placed\n2,-1,placed\n3,1,placed,EXTRA\n4,2,placed\n");
  ASSERT_OK_AND_ASSIGN(auto first, RunOnce());
  const FlowReport* lenient = Find(first, "bronze_orders");
  ASSERT_TRUE(lenient->error.ok()) << lenient->error.ToString();
  EXPECT_EQ(lenient->metrics.num_malformed_dropped, 1);
  EXPECT_EQ(lenient->metrics.num_input_rows, 3);
  EXPECT_EQ(lenient->metrics.num_dropped_rows, 1);
  EXPECT_EQ(Rows("SELECT list(order_id ORDER BY order_id) FROM " + Table("bronze_orders")),
            std::vector<std::string>{"[1, 4]"});
  const FlowReport* strict = Find(first, "strict_orders");
  EXPECT_EQ(strict->error.code(), StatusCode::kCorruption) << strict->error.ToString();
  EXPECT_NE(strict->error.message().find("day1.csv line 4 (mode FAILFAST)"), std::string::npos)
      << strict->error.ToString();
  EXPECT_EQ(ParquetFilesUnder(root_ / "lakehouse" / "default" / "strict_orders"), 0);
}

// AUTO CDC end to end: change events land as files over two runs (the second with late events);
// SCD type 1 and type 2 targets match the semantics of pipeline/auto_cdc.h, and the hidden state
// is not a pipeline dataset.
TEST_F(PipelineRunTest, AutoCdcScd1AndScd2AcrossRuns) {
  fs::remove(root_ / "transformations" / "silver.sql");
  fs::remove(root_ / "transformations" / "gold.sql");
  WriteFile(root_ / "transformations" / "bronze.sql", R"(
CREATE OR REFRESH STREAMING TABLE changes
AS SELECT * FROM STREAM read_files('${landing}/changes', format => 'csv', header => true,
                                   schemaHints => 'id INT, seq BIGINT, city STRING');

CREATE OR REFRESH STREAMING TABLE users_scd1;
APPLY CHANGES INTO LIVE.users_scd1 FROM STREAM(LIVE.changes)
  KEYS (id) APPLY AS DELETE WHEN op = 'DELETE' SEQUENCE BY seq
  COLUMNS * EXCEPT (op, seq, _rescued_data) STORED AS SCD TYPE 1;

CREATE OR REFRESH STREAMING TABLE users_scd2;
CREATE FLOW users_history AS AUTO CDC INTO users_scd2 FROM STREAM changes
  KEYS (id) APPLY AS DELETE WHEN op = 'DELETE' SEQUENCE BY seq
  COLUMNS * EXCEPT (op, seq, _rescued_data) STORED AS SCD TYPE 2;
)");
  WriteFile(root_ / "landing" / "changes" / "c1.csv",
            "id,op,seq,city\n1,INSERT,1,Oslo\n2,INSERT,1,Rome\n1,UPDATE,3,Bergen\n2,DELETE,4,\n");
  ASSERT_OK_AND_ASSIGN(auto first, RunOnce());
  for (const auto& f : first.flows) ASSERT_NE(f.state, FlowReport::State::kFailed) << f.error.ToString();
  EXPECT_EQ(Rows("SELECT id, city FROM " + Table("users_scd1") + " ORDER BY id"),
            std::vector<std::string>{"1|Bergen"});
  // Late events: an update of 1 at seq 2 (older than Bergen: ignored by SCD1, spliced into SCD2's
  // history), and an insert of 2 at seq 2 (older than its delete: stays deleted in SCD1).
  WriteFile(root_ / "landing" / "changes" / "c2.csv",
            "id,op,seq,city\n1,UPDATE,2,Trondheim\n2,UPDATE,2,Milan\n3,INSERT,5,Paris\n");
  ASSERT_OK_AND_ASSIGN(auto second, RunOnce());
  for (const auto& f : second.flows) ASSERT_NE(f.state, FlowReport::State::kFailed) << f.error.ToString();
  EXPECT_EQ(Rows("SELECT id, city FROM " + Table("users_scd1") + " ORDER BY id"),
            (std::vector<std::string>{"1|Bergen", "3|Paris"}));
  EXPECT_EQ(Rows("SELECT id, city, __START_AT, __END_AT FROM " + Table("users_scd2") +
                 " ORDER BY id, __START_AT"),
            (std::vector<std::string>{"1|Oslo|1|2", "1|Trondheim|2|3", "1|Bergen|3|NULL",
                                      "2|Rome|1|2", "2|Milan|2|4", "3|Paris|5|NULL"}));
  const FlowReport* history = Find(second, "users_history");
  ASSERT_NE(history, nullptr);
  EXPECT_EQ(history->state, FlowReport::State::kCompleted);
  EXPECT_GT(history->metrics.num_upserted_rows, 0);
  // The hidden state sits beside the target.
  EXPECT_TRUE(fs::exists(root_ / "lakehouse" / "default" / "__medallion_autocdc_users_scd1" /
                         "_delta_log"));
  // Nothing new: up to date.
  ASSERT_OK_AND_ASSIGN(auto third, RunOnce());
  EXPECT_EQ(Find(third, "users_history")->state, FlowReport::State::kUpToDate);
}

// Each AUTO CDC batch after the first is one MERGE commit that rewrites only the target files
// holding the batch's keys; a batch that changes nothing still records its txn.
TEST_F(PipelineRunTest, AutoCdcRewritesOnlyFilesOfTouchedKeys) {
  fs::remove(root_ / "transformations" / "silver.sql");
  fs::remove(root_ / "transformations" / "gold.sql");
  WriteFile(root_ / "transformations" / "bronze.sql", R"(
CREATE OR REFRESH STREAMING TABLE changes
AS SELECT * FROM STREAM read_files('${landing}/changes', format => 'csv', header => true,
                                   schemaHints => 'id INT, seq BIGINT, city STRING');
CREATE OR REFRESH STREAMING TABLE users;
CREATE FLOW users_cdc AS AUTO CDC INTO users FROM STREAM changes
  KEYS (id) APPLY AS DELETE WHEN op = 'DELETE' SEQUENCE BY seq
  COLUMNS * EXCEPT (op, seq, _rescued_data);
)");
  auto run = [&](const std::string& file, const std::string& csv) {
    WriteFile(root_ / "landing" / "changes" / file, "id,op,seq,city\n" + csv);
    auto result = RunOnce();
    ASSERT_TRUE(result.ok()) << result.status().ToString();
    for (const auto& f : result->flows) {
      EXPECT_NE(f.state, FlowReport::State::kFailed) << f.error.ToString();
    }
  };
  // DESCRIBE HISTORY, newest first.
  auto history = [&] { return Rows("DESCRIBE HISTORY " + Table("users")); };
  run("c1.csv", "1,INSERT,1,Oslo\n2,INSERT,1,Rome\n3,INSERT,1,Paris\n");
  run("c2.csv", "10,INSERT,1,Lima\n11,INSERT,1,Quito\n12,INSERT,1,Bogota\n");
  auto commits = history();
  ASSERT_EQ(commits.size(), 2u);
  EXPECT_NE(commits[0].find("|MERGE|"), std::string::npos) << commits[0];
  EXPECT_NE(commits[0].find("numTargetFilesRemoved=0"), std::string::npos) << commits[0];
  EXPECT_NE(commits[0].find("numUpsertedRows=3"), std::string::npos) << commits[0];

  // An update of key 11: only the file of keys 10-12 is rewritten (2 rows copied, not 5).
  run("c3.csv", "11,UPDATE,2,Cuenca\n");
  commits = history();
  ASSERT_EQ(commits.size(), 3u);
  EXPECT_NE(commits[0].find("numTargetFilesRemoved=1"), std::string::npos) << commits[0];
  EXPECT_NE(commits[0].find("numTargetRowsCopied=2"), std::string::npos) << commits[0];
  EXPECT_NE(commits[0].find("numUpsertedRows=1"), std::string::npos) << commits[0];
  EXPECT_EQ(Rows("SELECT id, city FROM " + Table("users") + " ORDER BY id"),
            (std::vector<std::string>{"1|Oslo", "2|Rome", "3|Paris", "10|Lima", "11|Cuenca",
                                      "12|Bogota"}));

  // A late event changes nothing: the batch still commits (recording its txn), and the next run
  // is up to date.
  run("c4.csv", "2,UPDATE,0,Naples\n");
  EXPECT_EQ(history().size(), 4u);
  ASSERT_OK_AND_ASSIGN(auto again, RunOnce());
  EXPECT_EQ(Find(again, "users_cdc")->state, FlowReport::State::kUpToDate);
  EXPECT_EQ(Rows("SELECT city FROM " + Table("users") + " WHERE id = 2"),
            std::vector<std::string>{"Rome"});
}

// OPTIMIZE on a streaming source (engine/delta_maintenance.h) rewrites files with
// dataChange=false: the downstream streaming read neither fails on it as a change commit nor
// reads the compacted rows again.
TEST_F(PipelineRunTest, StreamingReadSkipsOptimizeCommits) {
  ASSERT_OK_AND_ASSIGN(auto first, RunOnce());
  ASSERT_TRUE(first.ok());
  WriteFile(root_ / "landing" / "orders" / "day2.csv", "order_id,amount,status\n8,1,placed\n");
  ASSERT_OK_AND_ASSIGN(auto second, RunOnce());
  ASSERT_TRUE(second.ok());
  const auto before = Rows("SELECT count(*) FROM " + Table("silver_orders"));
  ASSERT_EQ(before.size(), 1u);
  auto optimized = Rows("OPTIMIZE " + Table("bronze_orders"));
  ASSERT_EQ(optimized.size(), 1u);
  EXPECT_NE(optimized[0].find("'numFilesAdded': 1, 'numFilesRemoved': 2"), std::string::npos)
      << optimized[0];
  WriteFile(root_ / "landing" / "orders" / "day3.csv", "order_id,amount,status\n9,2,placed\n");
  ASSERT_OK_AND_ASSIGN(auto third, RunOnce());
  ASSERT_TRUE(third.ok()) << Find(third, "silver_orders")->error.ToString();
  EXPECT_EQ(Rows("SELECT count(*) - " + before[0] +
                 ", count_if(order_id = 8), count_if(order_id = 9) FROM " + Table("silver_orders")),
            std::vector<std::string>{"1|1|1"});
}

// Expectations are counted in the evaluation that writes the kept rows and the quarantined rows
// come from a second one; an expectation on a volatile value (random()) gives other rows the
// second time, which is detected before any commit: the batch is then run from one evaluation
// kept in a TEMP table, and read = written + dropped + quarantined.
TEST_F(PipelineRunTest, VolatileExpectationsStayConsistent) {
  WriteFile(root_ / "transformations" / "random.sql", R"(
CREATE OR REFRESH MATERIALIZED VIEW lottery (
  CONSTRAINT low EXPECT (r < 0.5) ON VIOLATION DROP ROW,
  CONSTRAINT not_top EXPECT (r < 0.9) ON VIOLATION QUARANTINE
)
AS SELECT i, random() AS r FROM range(100000) t(i);
)");
  ASSERT_OK_AND_ASSIGN(auto result, RunOnce());
  const FlowReport* f = Find(result, "lottery");
  ASSERT_NE(f, nullptr);
  ASSERT_TRUE(f->error.ok()) << f->error.ToString();
  const FlowMetrics& m = f->metrics;
  EXPECT_EQ(m.num_input_rows, 100000);
  EXPECT_EQ(m.num_output_rows + m.num_dropped_rows + m.num_quarantined_rows, m.num_input_rows);
  EXPECT_EQ(Rows("SELECT count(*), count_if(r >= 0.5) FROM " + Table("lottery")),
            std::vector<std::string>{std::to_string(m.num_output_rows) + "|0"});
  EXPECT_EQ(Rows("SELECT count(*), count_if(r < 0.9) FROM " + Table("lottery_quarantine")),
            std::vector<std::string>{std::to_string(m.num_quarantined_rows) + "|0"});
}

}  // namespace
}  // namespace medallion::pipeline
