#include "engine/session.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "engine/sql_text.h"

namespace medallion::engine {
namespace {

namespace fs = std::filesystem;

// A two-version Delta table written by hand per PROTOCOL.md: v0 creates it with one file
// (ids 1-3), v1 appends a second file (ids 4-5).
class SessionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    table_ = fs::path(::testing::TempDir()) / ("session_test_" + std::to_string(::getpid()));
    fs::remove_all(table_);
    fs::create_directories(table_ / "_delta_log");
    auto session = Session::Open();
    ASSERT_TRUE(session.ok()) << session.status().ToString();
    session_ = std::move(*session);
    WriteParquet("part-0.parquet", "SELECT * FROM (VALUES (1, 'a'), (2, 'b'), (3, 'c')) t(id, name)");
    WriteParquet("part-1.parquet", "SELECT * FROM (VALUES (4, 'd'), (5, 'e')) t(id, name)");
    const std::string schema =
        R"({\"type\":\"struct\",\"fields\":[{\"name\":\"id\",\"type\":\"integer\",\"nullable\":true,\"metadata\":{}},{\"name\":\"name\",\"type\":\"string\",\"nullable\":true,\"metadata\":{}}]})";
    WriteCommit(0,
                R"({"commitInfo":{"timestamp":1700000000000,"operation":"CREATE TABLE AS SELECT","operationParameters":{"partitionBy":"[]"},"isBlindAppend":true,"operationMetrics":{"numFiles":"1","numOutputRows":"3"},"engineInfo":"test"}})"
                "\n"
                R"({"protocol":{"minReaderVersion":1,"minWriterVersion":2}})"
                "\n"
                R"({"metaData":{"id":"tbl-1","name":"people","format":{"provider":"parquet","options":{}},"schemaString":")" +
                    schema +
                    R"(","partitionColumns":[],"configuration":{"delta.appendOnly":"false"},"createdTime":1700000000000}})"
                    "\n" + AddJson("part-0.parquet"));
    WriteCommit(1,
                R"({"commitInfo":{"timestamp":1700000100000,"operation":"WRITE","operationParameters":{"mode":"Append"},"readVersion":0,"isBlindAppend":true,"engineInfo":"test"}})"
                "\n" + AddJson("part-1.parquet"));
    // Commit timestamps for time travel come from the files' modification times.
    SetMtime(0, 1700000000);
    SetMtime(1, 1700000100);
  }
  void TearDown() override { fs::remove_all(table_); }

  void WriteParquet(const std::string& name, const std::string& query) {
    auto r = session_->Query("COPY (" + query + ") TO " + QuoteString((table_ / name).string()) +
                             " (FORMAT parquet)");
    ASSERT_TRUE(r.ok()) << r.status().ToString();
  }
  std::string AddJson(const std::string& name) {
    return R"({"add":{"path":")" + name + R"(","partitionValues":{},"size":)" +
           std::to_string(fs::file_size(table_ / name)) +
           R"(,"modificationTime":1700000000000,"dataChange":true}})" + "\n";
  }
  fs::path CommitPath(int v) {
    char name[32];
    std::snprintf(name, sizeof(name), "%020d.json", v);
    return table_ / "_delta_log" / name;
  }
  void WriteCommit(int v, const std::string& text) { std::ofstream(CommitPath(v)) << text; }
  void SetMtime(int v, int64_t seconds) {
    fs::last_write_time(CommitPath(v), fs::file_time_type::clock::from_sys(
                                           std::chrono::sys_seconds(std::chrono::seconds(seconds))));
  }
  int64_t Count(const std::string& sql) {
    auto r = session_->Query(sql);
    EXPECT_TRUE(r.ok()) << sql << ": " << r.status().ToString();
    return r.ok() ? *r->GetInt64(0, 0) : -1;
  }
  std::string Ref() { return "delta.`" + table_.string() + "`"; }

  fs::path table_;
  std::unique_ptr<Session> session_;
};

TEST_F(SessionTest, ReadsTheLatestSnapshot) {
  EXPECT_EQ(Count("SELECT count(*) FROM " + Ref()), 5);
  EXPECT_EQ(Count("SELECT sum(id) FROM " + Ref() + " AS t WHERE t.`name` <> 'a'"), 14);
}

TEST_F(SessionTest, TimeTravelByVersionAndTimestamp) {
  EXPECT_EQ(Count("SELECT count(*) FROM " + Ref() + " VERSION AS OF 0"), 3);
  EXPECT_EQ(Count("SELECT count(*) FROM " + Ref() + " FOR VERSION AS OF 1"), 5);
  EXPECT_EQ(Count("SELECT count(*) FROM " + Ref() + " TIMESTAMP AS OF '2023-11-14 22:14:00'"), 3);
  EXPECT_EQ(Count("SELECT count(*) FROM " + Ref() + " TIMESTAMP AS OF '2023-11-14T22:15:00Z'"), 5);
  // Two versions of one table in one statement.
  EXPECT_EQ(Count("SELECT (SELECT count(*) FROM " + Ref() + ") - (SELECT count(*) FROM " + Ref() +
                  " VERSION AS OF 0)"),
            2);

  auto too_new = session_->Query("SELECT * FROM " + Ref() + " VERSION AS OF 7");
  ASSERT_FALSE(too_new.ok());
  EXPECT_TRUE(too_new.status().IsNotFound()) << too_new.status().ToString();
  auto before = session_->Query("SELECT * FROM " + Ref() + " TIMESTAMP AS OF '2020-01-01'");
  EXPECT_TRUE(before.status().IsNotFound()) << before.status().ToString();
  auto bad = session_->Query("SELECT * FROM " + Ref() + " VERSION AS OF x");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("VERSION AS OF needs a version number, got 'x'"), std::string::npos)
      << bad.status().message();
}

TEST_F(SessionTest, DescribeHistory) {
  auto r = session_->Query("DESCRIBE HISTORY " + Ref());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->row_count(), 2u);
  EXPECT_EQ(r->column_name(0), "version");
  EXPECT_EQ(*r->GetInt64(0, 0), 1);
  EXPECT_EQ(*r->GetString(2, 0), "WRITE");
  EXPECT_EQ(r->GetText(3, 0), "{mode=Append}");
  EXPECT_EQ(*r->GetInt64(4, 0), 0);  // readVersion
  EXPECT_EQ(*r->GetString(2, 1), "CREATE TABLE AS SELECT");
  EXPECT_EQ(r->GetText(7, 1), "{numFiles=1, numOutputRows=3}");
  auto limited = session_->Query("DESCRIBE HISTORY " + Ref() + " LIMIT 1");
  ASSERT_TRUE(limited.ok()) << limited.status().ToString();
  EXPECT_EQ(limited->row_count(), 1u);
}

TEST_F(SessionTest, DescribeDetail) {
  auto r = session_->Query("DESCRIBE DETAIL " + Ref());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->row_count(), 1u);
  EXPECT_EQ(*r->GetString(0, 0), "delta");
  EXPECT_EQ(*r->GetString(1, 0), "tbl-1");
  EXPECT_EQ(*r->GetString(2, 0), "people");
  EXPECT_EQ(*r->GetString(4, 0), table_.string());
  EXPECT_EQ(*r->GetInt64(8, 0), 2);  // numFiles
  EXPECT_EQ(r->GetText(10, 0), "{delta.appendOnly=false}");
  EXPECT_EQ(*r->GetInt64(11, 0), 1);
  EXPECT_EQ(*r->GetInt64(12, 0), 2);
}

TEST_F(SessionTest, MissingTablesAndBadStatements) {
  auto missing = session_->Query("SELECT * FROM delta.`/no/such/table`");
  ASSERT_FALSE(missing.ok());
  EXPECT_TRUE(missing.status().IsNotFound());
  EXPECT_NE(missing.status().message().find("no Delta table at /no/such/table"), std::string::npos);
  EXPECT_FALSE(fs::exists("/no/such/table"));

  auto not_delta = session_->Query("DESCRIBE HISTORY some_table");
  EXPECT_TRUE(not_delta.status().IsNotSupported()) << not_delta.status().ToString();

  auto second = session_->Query("SELECT 1;\n\nSELEC 2");
  ASSERT_FALSE(second.ok());
  EXPECT_NE(second.status().message().find("statement at line 3"), std::string::npos)
      << second.status().message();
  EXPECT_TRUE(session_->Query(" ;; -- nothing\n").status().IsInvalidArgument());
}

TEST_F(SessionTest, BackticksBecomeIdentifiersAndTimeZoneIsUtc) {
  auto r = session_->Query(
      "SELECT `x y` FROM (SELECT 1 AS `x y`); SELECT current_setting('TimeZone')");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(*r->GetString(0, 0), "UTC");
}

}  // namespace
}  // namespace medallion::engine

namespace medallion::engine {
namespace {

TEST(SessionDialectTest, SparkDialectTranslatesSparkSql) {
  SessionOptions options;
  options.dialect = SessionOptions::Dialect::kSpark;
  auto session = Session::Open(options);
  ASSERT_TRUE(session.ok()) << session.status().ToString();
  // "..." is a string in Spark; `x` an identifier; concat_ws / nvl are Spark functions; the colon
  // operator reads JSON.
  auto r = (*session)->Query(
      "SELECT concat_ws('-', \"a\", nvl(NULL, 'b')) AS `my col`, "
      "j:flow_progress.status AS status FROM (SELECT '{\"flow_progress\": {\"status\": "
      "\"COMPLETED\"}}' AS j)");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->column_name(0), "my col");
  EXPECT_EQ(r->GetText(0, 0), "a-b");
  EXPECT_EQ(r->GetText(1, 0), "COMPLETED");
  // The DuckDB dialect keeps "..." an identifier.
  auto duck = Session::Open();
  ASSERT_TRUE(duck.ok());
  EXPECT_FALSE((*duck)->Query("SELECT \"a\"").ok());
}

TEST(SessionDialectTest, EventLogResolvesThroughTheOption) {
  SessionOptions options;
  std::string asked;
  options.resolve_event_log = [&](std::string_view name) -> Result<std::string> {
    asked = std::string(name);
    return Status::NotFound("no pipeline named " + asked);
  };
  auto session = Session::Open(options);
  ASSERT_TRUE(session.ok());
  auto r = (*session)->Query("SELECT * FROM event_log('sales')");
  EXPECT_EQ(asked, "sales");
  EXPECT_EQ(r.status().code(), StatusCode::kNotFound);
  EXPECT_EQ((*session)->Query("SELECT * FROM event_log(1)").status().code(),
            StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace medallion::engine
