// The flights example (examples/flights) on one week of the real data: its own spec and SQL run
// in-process on 2001-01-12 .. 2001-01-18 of vega-datasets' flights-3m.parquet (Parquet files for
// the 12th-15th, CSV for the 16th-18th, as examples/flights/land.sh lands them) and airports.csv,
// plus one small late CSV file of records the expectations must catch. The gold tables are then
// compared, row by row, with values this test computes itself in plain DuckDB SQL over the raw
// Parquet file (not with the pipeline's SQL), and every flow's counts must reconcile in the event
// log: rows read = written + dropped + quarantined.
//
// Skipped when third_party/data lacks the files (scripts/bootstrap fetches them).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "engine/session.h"
#include "pipeline/pipeline_update.h"
#include "session_rows.h"
#include "storage/test_util.h"

namespace medallion::pipeline {
namespace {

namespace fs = std::filesystem;

constexpr const char* kFirstDay = "2001-01-12";
constexpr const char* kDayAfterLast = "2001-01-19";

// Late records landed beside the real CSV of the 17th: two identical valid rows (one survives
// the deduplication), an unknown origin, an unknown destination, a zero distance (all dropped),
// an implausible delay (quarantined), an implausible delay from an unknown airport (quarantined:
// quarantine wins over drop), and a flight from an airport to itself (kept; a warning only).
constexpr const char* kLateRecords =
    "date,delay,distance,origin,destination\n"
    "2001-01-17 23:50:00,5,1846,ORD,SFO\n"
    "2001-01-17 23:50:00,5,1846,ORD,SFO\n"
    "2001-01-17 23:51:00,10,300,ZZZ,ORD\n"
    "2001-01-17 23:52:00,10,300,ORD,ZZZ\n"
    "2001-01-17 23:53:00,10,0,ORD,SFO\n"
    "2001-01-17 23:54:00,2000,1846,ORD,SFO\n"
    "2001-01-17 23:55:00,-500,300,QQQ,ORD\n"
    "2001-01-17 23:56:00,30,1,SFO,SFO\n";

fs::path DataFolder() { return fs::path(MEDALLION_SOURCE_DIR) / "third_party" / "data"; }

class FlightsExampleTest : public ::testing::Test {
 protected:
  void SetUp() override {
    flights_ = DataFolder() / "flights-3m.parquet";
    airports_ = DataFolder() / "airports.csv";
    if (!fs::exists(flights_) || !fs::exists(airports_)) {
      GTEST_SKIP() << "no " << flights_ << " or " << airports_ << " (run scripts/bootstrap)";
    }
    root_ = folder_.path();
    fs::path example = fs::path(MEDALLION_SOURCE_DIR) / "examples" / "flights";
    fs::copy_file(example / "spark-pipeline.yml", root_ / "spark-pipeline.yml");
    fs::copy(example / "transformations", root_ / "transformations");
    ASSERT_OK_AND_ASSIGN(session_, engine::Session::Open());
  }

  // The rows of `sql` as "a|b|..." text, in the query's order.
  std::vector<std::string> Rows(const std::string& sql) { return testutil::RowsOf(*session_, sql); }
  int64_t Count(const std::string& sql) {
    auto rows = Rows(sql);
    return rows.size() == 1 ? std::stoll(rows[0]) : -1;
  }
  std::string Table(const std::string& name) {
    return "delta.`" + (root_ / "lakehouse" / "default" / name).string() + "`";
  }

  // Lands the week as examples/flights/land.sh does, the late records, and the airports extract.
  void Land() {
    std::string landing = (root_ / "landing").string();
    fs::create_directories(landing + "/flights/parquet");
    fs::create_directories(landing + "/flights/csv");
    ASSERT_OK(session_->Query(
        "CREATE TEMP TABLE batch AS SELECT *, strftime(date, '%Y-%m-%d') AS day FROM '" +
        flights_.string() + "' WHERE date >= DATE '" + kFirstDay + "' AND date < DATE '" +
        kDayAfterLast +
        "';"
        "COPY (SELECT * FROM batch WHERE dayofmonth(date) <= 15) TO '" +
        landing +
        "/flights/parquet' (FORMAT parquet, PARTITION_BY (day), OVERWRITE_OR_IGNORE, "
        "FILENAME_PATTERN 'flights_{i}');"
        "COPY (SELECT * FROM batch WHERE dayofmonth(date) > 15) TO '" +
        landing +
        "/flights/csv' (FORMAT csv, HEADER, PARTITION_BY (day), OVERWRITE_OR_IGNORE, "
        "FILENAME_PATTERN 'flights_{i}');"
        "DROP TABLE batch"));
    std::ofstream(landing + "/flights/csv/day=2001-01-17/late_records.csv") << kLateRecords;
    fs::create_directories(landing + "/airports");
    fs::copy_file(airports_, landing + "/airports/airports_2001-01-01.csv");
  }

  // The expected silver rows, computed here: the raw week plus the late records, distinct, with
  // both airports looked up, and a verdict per row.
  void ComputeExpected() {
    std::string late =
        (root_ / "landing" / "flights" / "csv" / "day=2001-01-17" / "late_records.csv").string();
    ASSERT_OK(session_->Query(
        "CREATE TEMP TABLE raw_week AS "
        "SELECT date, delay, distance, origin, destination FROM read_parquet('" +
        flights_.string() + "') WHERE date >= TIMESTAMP '" + kFirstDay +
        "' AND date < TIMESTAMP '" + kDayAfterLast + "' UNION ALL SELECT * FROM read_csv('" + late +
        "', header = true, hive_partitioning = false, columns = {'date': 'TIMESTAMP', 'delay': "
        "'BIGINT', 'distance': "
        "'BIGINT', 'origin': 'VARCHAR', 'destination': 'VARCHAR'});"
        "CREATE TEMP TABLE expected AS "
        "SELECT u.*, a.city AS origin_city, a.state AS origin_state, b.city AS destination_city, "
        "       b.state AS destination_state, "
        "       CASE WHEN u.delay < -120 OR u.delay > 1440 THEN 'quarantined' "
        "            WHEN a.iata IS NULL OR b.iata IS NULL OR u.distance <= 0 THEN 'dropped' "
        "            ELSE 'kept' END AS verdict "
        "FROM (SELECT DISTINCT * FROM raw_week) u "
        "LEFT JOIN read_csv('" +
        airports_.string() +
        "', header = true) a ON a.iata = u.origin "
        "LEFT JOIN read_csv('" +
        airports_.string() +
        "', header = true) b "
        "  ON b.iata = u.destination"));
  }

  // Rows of `actual` that `expected` lacks, and the reverse, as "+row" / "-row" (at most 5).
  std::vector<std::string> Differences(const std::string& expected, const std::string& actual) {
    std::vector<std::string> out;
    for (const auto& row :
         Rows("SELECT * FROM ((" + actual + ") EXCEPT ALL (" + expected + ")) LIMIT 5")) {
      out.push_back("+" + row);
    }
    for (const auto& row :
         Rows("SELECT * FROM ((" + expected + ") EXCEPT ALL (" + actual + ")) LIMIT 5")) {
      out.push_back("-" + row);
    }
    return out;
  }

  storage::TempFolder folder_;
  fs::path root_;
  fs::path flights_;
  fs::path airports_;
  std::unique_ptr<engine::Session> session_;
};

TEST_F(FlightsExampleTest, OneWeekGoldMatchesIndependentSqlAndCountsReconcile) {
  ASSERT_NO_FATAL_FAILURE(Land());
  ASSERT_NO_FATAL_FAILURE(ComputeExpected());
  int64_t parquet_rows = Count("SELECT count(*) FROM raw_week WHERE dayofmonth(date) <= 15");
  int64_t csv_rows = Count("SELECT count(*) FROM raw_week WHERE dayofmonth(date) > 15");
  ASSERT_GT(parquet_rows, 50000);
  ASSERT_GT(csv_rows, 50000);

  ASSERT_OK_AND_ASSIGN(auto pipeline, Pipeline::Load(root_ / "spark-pipeline.yml"));
  ASSERT_OK_AND_ASSIGN(auto update, pipeline->Run({}));
  ASSERT_TRUE(update.ok());
  for (const auto& flow : update.flows) {
    EXPECT_EQ(flow.state, FlowReport::State::kCompleted) << flow.flow_name;
  }

  // Bronze holds every landed record; silver and its quarantine what the independent verdicts say.
  EXPECT_EQ(Count("SELECT count(*) FROM " + Table("bronze_flights")), parquet_rows + csv_rows);
  EXPECT_EQ(Count("SELECT count(*) FROM " + Table("silver_airports") + " WHERE __END_AT IS NULL"),
            Count("SELECT count(*) FROM read_csv('" + airports_.string() + "', header = true)"));
  int64_t kept = Count("SELECT count(*) FROM expected WHERE verdict = 'kept'");
  int64_t dropped = Count("SELECT count(*) FROM expected WHERE verdict = 'dropped'");
  int64_t quarantined = Count("SELECT count(*) FROM expected WHERE verdict = 'quarantined'");
  EXPECT_EQ(dropped, 3);
  EXPECT_GE(quarantined, 2);
  EXPECT_EQ(Count("SELECT count(*) FROM " + Table("silver_flights")), kept);
  EXPECT_EQ(Count("SELECT count(*) FROM " + Table("silver_flights_quarantine")), quarantined);
  EXPECT_EQ(Differences("SELECT date, delay, origin, destination FROM expected "
                        "WHERE verdict = 'quarantined'",
                        "SELECT departure, delay, origin, destination FROM " +
                            Table("silver_flights_quarantine")),
            std::vector<std::string>{});

  // Per flow, in the event log: rows read = written + dropped + quarantined; and what each flow
  // read is what this test landed or expects.
  std::string event_log =
      "delta.`" + (root_ / "lakehouse" / "_pipelines" / "flights" / "event_log").string() + "`";
  auto flows = Rows(
      "SELECT origin.flow_name, "
      "  CAST(json_extract(details, '$.flow_progress.metrics.num_input_rows') AS BIGINT), "
      "  CAST(json_extract(details, '$.flow_progress.metrics.num_output_rows') AS BIGINT), "
      "  coalesce(CAST(json_extract(details, '$.flow_progress.data_quality.dropped_records') "
      "    AS BIGINT), 0), "
      "  coalesce(CAST(json_extract(details, '$.flow_progress.data_quality.quarantined_records') "
      "    AS BIGINT), 0) "
      "FROM " +
      event_log +
      " WHERE event_type = 'flow_progress' "
      "  AND json_extract_string(details, '$.flow_progress.status') = 'COMPLETED' "
      "ORDER BY 1");
  EXPECT_EQ(flows.size(), update.flows.size());
  int64_t distinct_rows = Count("SELECT count(*) FROM expected");
  for (const auto& row : flows) {
    std::vector<std::string> f;
    for (size_t start = 0, bar;; start = bar + 1) {
      bar = row.find('|', start);
      f.push_back(row.substr(start, bar == std::string::npos ? std::string::npos : bar - start));
      if (bar == std::string::npos) break;
    }
    ASSERT_EQ(f.size(), 5u) << row;
    int64_t read = std::stoll(f[1]), written = std::stoll(f[2]), drop = std::stoll(f[3]),
            quarantine = std::stoll(f[4]);
    EXPECT_EQ(read, written + drop + quarantine) << row;
    if (f[0] == "flights_parquet") {
      EXPECT_EQ(read, parquet_rows) << row;
    }
    if (f[0] == "flights_csv") {
      EXPECT_EQ(read, csv_rows) << row;
    }
    if (f[0] == "silver_flights") {
      EXPECT_EQ(read, distinct_rows) << row;
      EXPECT_EQ(written, kept) << row;
      EXPECT_EQ(drop, dropped) << row;
      EXPECT_EQ(quarantine, quarantined) << row;
    }
  }

  // Gold, computed here from the expected silver rows: means as sum / count, the 95th percentile
  // as the value at rank ceil(0.95 n) in delay order, shares as counts over counts. The rounding
  // is DuckDB's round of the DOUBLE quotient, which is what medallion's round gives today; on a
  // tie such as -97 / 40 = -2.425 it gives -2.42 where Spark gives -2.43 (docs/benchmarks.md,
  // "Flights medallion pipeline").
  ASSERT_OK(session_->Query(
      "CREATE TEMP TABLE silver_expected AS "
      "SELECT *, CAST(date AS DATE) AS day, strftime(date, '%Y-%m') AS month, "
      "  row_number() OVER (PARTITION BY CAST(date AS DATE), origin ORDER BY delay) AS delay_rank, "
      "  count(*) OVER (PARTITION BY CAST(date AS DATE), origin) AS origin_day_flights "
      "FROM expected WHERE verdict = 'kept'"));
  EXPECT_EQ(
      Differences("SELECT day, origin, origin_city, origin_state, count(*), "
                  "  round(round(sum(delay) / count(delay), 2), 6), "
                  "  max(CASE WHEN delay_rank = greatest(ceil(0.95 * origin_day_flights), 1) "
                  "      THEN delay END), "
                  "  round(round(count(*) FILTER (WHERE delay > 15) / count(*), 4), 6) "
                  "FROM silver_expected GROUP BY ALL",
                  "SELECT flight_date, origin, origin_city, origin_state, flights, "
                  "  round(mean_delay_min, 6), p95_delay_min, round(share_delayed_15m, 6) FROM " +
                      Table("gold_daily_origin_delays")),
      std::vector<std::string>{});
  EXPECT_EQ(Differences(
                "SELECT origin, destination, origin_city || ' -> ' || destination_city, count(*), "
                "  max(distance), round(round(sum(delay) / count(delay), 2), 6), "
                "  round(round(count(*) FILTER (WHERE delay <= 15) / count(*), 4), 6) "
                "FROM silver_expected GROUP BY origin, destination, origin_city, destination_city",
                "SELECT origin, destination, route, flights, distance, round(mean_delay_min, 6), "
                "  round(on_time_share, 6) FROM " +
                    Table("gold_route_performance")),
            std::vector<std::string>{});
  EXPECT_EQ(Differences("SELECT month, origin_state, count(*), "
                        "  round(round(count(*) FILTER (WHERE delay <= 15) / count(*), 4), 6) "
                        "FROM silver_expected GROUP BY ALL",
                        "SELECT flight_month, state, flights, round(on_time_share, 6) FROM " +
                            Table("gold_monthly_state_on_time")),
            std::vector<std::string>{});

  // One value spelled out: O'Hare's flights on the 17th are the distinct real ones with a
  // plausible delay, plus the surviving late duplicate (the other late ORD records were dropped or
  // quarantined).
  EXPECT_EQ(
      Count("SELECT flights FROM " + Table("gold_daily_origin_delays") +
            " WHERE origin = 'ORD' AND flight_date = DATE '2001-01-17'"),
      Count("SELECT count(*) FROM (SELECT DISTINCT * FROM read_parquet('" + flights_.string() +
            "') WHERE origin = 'ORD' AND CAST(date AS DATE) = DATE '2001-01-17' "
            "AND delay BETWEEN -120 AND 1440)") +
          1);
}

}  // namespace
}  // namespace medallion::pipeline
