#include "engine/database.h"

#include <gtest/gtest.h>

#include <unistd.h>

#include <thread>

namespace medallion::engine {
namespace {

class DatabaseTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto db = Database::Open();
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    db_ = std::move(*db);
    auto conn = db_->Connect();
    ASSERT_TRUE(conn.ok()) << conn.status().ToString();
    conn_ = std::move(*conn);
  }
  std::unique_ptr<Database> db_;
  std::unique_ptr<Connection> conn_;
};

TEST_F(DatabaseTest, LibraryVersionIsPinned) { EXPECT_EQ(Database::LibraryVersion(), "v1.4.4"); }

TEST_F(DatabaseTest, OptionsAreApplied) {
  DatabaseOptions options;
  options.memory_limit = "1GB";
  options.threads = 2;
  options.temp_directory = ::testing::TempDir() + "/medallion_spill_" + std::to_string(::getpid());
  auto db = Database::Open(options);
  ASSERT_TRUE(db.ok()) << db.status().ToString();
  auto conn = (*db)->Connect();
  ASSERT_TRUE(conn.ok());
  auto r = (*conn)->Query("SELECT current_setting('threads'), current_setting('memory_limit')");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(*r->GetInt64(0, 0), 2);
  EXPECT_NE(r->GetText(1, 0).find("953.6 MiB"), std::string::npos) << r->GetText(1, 0);
}

TEST_F(DatabaseTest, BadOptionIsInvalidArgument) {
  DatabaseOptions options;
  options.settings["no_such_setting"] = "1";
  auto db = Database::Open(options);
  ASSERT_FALSE(db.ok());
  EXPECT_TRUE(db.status().IsInvalidArgument()) << db.status().ToString();
  EXPECT_NE(db.status().message().find("no_such_setting"), std::string::npos);

  DatabaseOptions unwritable;
  unwritable.path = "/proc/no/such/dir/db.duckdb";
  auto io = Database::Open(unwritable);
  ASSERT_FALSE(io.ok());
  EXPECT_TRUE(io.status().IsIOError()) << io.status().ToString();
}

TEST_F(DatabaseTest, ScalarTypesAndNulls) {
  auto r = conn_->Query(
      "SELECT 42::INTEGER AS i, 9007199254740993::BIGINT AS b, 2.5::DOUBLE AS d, 'héllo' AS s, "
      "true AS t, NULL::INTEGER AS n");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->row_count(), 1u);
  ASSERT_EQ(r->column_count(), 6u);
  EXPECT_EQ(r->column_name(0), "i");
  EXPECT_EQ(r->column_type(0).id, TypeId::kInteger);
  EXPECT_EQ(*r->GetInt64(0, 0), 42);
  EXPECT_EQ(*r->GetInt64(1, 0), 9007199254740993);
  EXPECT_DOUBLE_EQ(*r->GetDouble(2, 0), 2.5);
  EXPECT_DOUBLE_EQ(*r->GetDouble(0, 0), 42.0);
  EXPECT_EQ(*r->GetString(3, 0), "héllo");
  EXPECT_TRUE(*r->GetBool(4, 0));
  EXPECT_TRUE(r->IsNull(5, 0));
  EXPECT_FALSE(r->IsNull(0, 0));
  EXPECT_EQ(r->GetText(5, 0), "NULL");
  EXPECT_TRUE(r->GetInt64(5, 0).status().IsInvalidArgument());
  EXPECT_TRUE(r->GetString(0, 0).status().IsInvalidArgument());  // INTEGER is not VARCHAR
  EXPECT_EQ(r->GetString(0, 0).status().message(), "column 'i' is INTEGER, not VARCHAR");
}

TEST_F(DatabaseTest, OutOfRangeCastIsAnError) {
  auto r = conn_->Query("SELECT 300::UTINYINT");
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.status().IsInvalidArgument()) << r.status().ToString();
  EXPECT_NE(r.status().message().find("out of range"), std::string::npos) << r.status().message();
}

TEST_F(DatabaseTest, DecimalTimestampAndNestedTypes) {
  auto r = conn_->Query(
      "SET TimeZone = 'UTC'; SELECT 123.45::DECIMAL(10,2) AS dec, "
      "12345678901234567890.123::DECIMAL(38,3) AS wide, "
      "TIMESTAMP '2024-03-01 12:34:56.789' AS ts, "
      "TIMESTAMPTZ '2024-03-01 12:34:56+00' AS tstz, DATE '2024-02-29' AS d, "
      "[1, NULL, 3] AS l, {'a': 1, 'b': 'x'} AS st, MAP {'k': 10} AS m, "
      "[{'x': [1,2]}] AS deep");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->column_type(0).ToString(), "DECIMAL(10,2)");
  EXPECT_EQ(r->GetText(0, 0), "123.45");
  EXPECT_DOUBLE_EQ(*r->GetDouble(0, 0), 123.45);
  EXPECT_EQ(*r->GetValue(0, 0).DecimalUnscaled(), "12345");
  EXPECT_EQ(r->column_type(1).ToString(), "DECIMAL(38,3)");
  EXPECT_EQ(r->GetText(1, 0), "12345678901234567890.123");
  EXPECT_EQ(*r->GetValue(1, 0).DecimalUnscaled(), "12345678901234567890123");

  EXPECT_EQ(r->column_type(2).id, TypeId::kTimestamp);
  EXPECT_EQ(r->GetText(2, 0), "2024-03-01 12:34:56.789");
  EXPECT_EQ(*r->GetValue(2, 0).AsEpochMicros(), 1709296496789000);
  EXPECT_EQ(r->column_type(3).ToString(), "TIMESTAMP WITH TIME ZONE");
  EXPECT_EQ(r->GetText(3, 0), "2024-03-01 12:34:56+00");
  EXPECT_EQ(*r->GetValue(3, 0).AsEpochMicros(), 1709296496000000);
  EXPECT_EQ(*r->GetValue(4, 0).AsDateDays(), 19782);

  EXPECT_EQ(r->column_type(5).ToString(), "INTEGER[]");
  Value list = r->GetValue(5, 0);
  ASSERT_EQ(list.size(), 3u);
  EXPECT_EQ(*list.child(0).AsInt64(), 1);
  EXPECT_TRUE(list.child(1).is_null());
  EXPECT_EQ(r->GetText(5, 0), "[1, NULL, 3]");
  EXPECT_EQ(list.ToJson(), "[1,null,3]");

  EXPECT_EQ(r->column_type(6).ToString(), "STRUCT(a INTEGER, b VARCHAR)");
  Value st = r->GetValue(6, 0);
  ASSERT_EQ(st.size(), 2u);
  EXPECT_EQ(st.child_name(1), "b");
  EXPECT_EQ(*st.child(1).AsString(), "x");
  EXPECT_EQ(r->GetText(6, 0), "{'a': 1, 'b': x}");
  EXPECT_EQ(st.ToJson(), R"({"a":1,"b":"x"})");

  EXPECT_EQ(r->column_type(7).ToString(), "MAP(VARCHAR, INTEGER)");
  Value m = r->GetValue(7, 0);
  ASSERT_EQ(m.size(), 1u);
  EXPECT_EQ(*m.map_key(0).AsString(), "k");
  EXPECT_EQ(*m.map_value(0).AsInt64(), 10);
  EXPECT_EQ(m.ToJson(), R"({"k":10})");

  EXPECT_EQ(r->GetValue(8, 0).ToJson(), R"([{"x":[1,2]}])");
}

TEST_F(DatabaseTest, ManyChunksAreMaterialized) {
  auto r = conn_->Query("SELECT range AS x FROM range(10000)");
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->row_count(), 10000u);
  EXPECT_EQ(*r->GetInt64(0, 0), 0);
  EXPECT_EQ(*r->GetInt64(0, 2048), 2048);
  EXPECT_EQ(*r->GetInt64(0, 9999), 9999);
}

TEST_F(DatabaseTest, ErrorsCarryDuckDbMessageAndCode) {
  auto syntax = conn_->Query("SELEC 1");
  ASSERT_FALSE(syntax.ok());
  EXPECT_TRUE(syntax.status().IsInvalidArgument());
  EXPECT_NE(syntax.status().message().find("syntax error"), std::string::npos);

  auto missing = conn_->Query("SELECT * FROM no_such_table");
  ASSERT_FALSE(missing.ok());
  EXPECT_TRUE(missing.status().IsInvalidArgument());
  EXPECT_NE(missing.status().message().find("no_such_table"), std::string::npos);

  auto io = conn_->Query("SELECT * FROM read_parquet('/no/such/file.parquet')");
  ASSERT_FALSE(io.ok());
  EXPECT_TRUE(io.status().IsIOError()) << io.status().ToString();

  auto runtime = conn_->Query("SELECT CAST('abc' AS INTEGER)");
  ASSERT_FALSE(runtime.ok());
  EXPECT_NE(runtime.status().message().find("abc"), std::string::npos);
}

TEST_F(DatabaseTest, DescribeGivesColumnsAndTypedErrors) {
  ASSERT_TRUE(conn_->Execute("CREATE TABLE t (a INTEGER, b DECIMAL(10, 2))").ok());
  auto columns = conn_->Describe("SELECT a + 1 AS x, b, 'c' AS c, [a] AS l FROM t");
  ASSERT_TRUE(columns.ok()) << columns.status().ToString();
  ASSERT_EQ(columns->size(), 4u);
  EXPECT_EQ((*columns)[0].first, "x");
  EXPECT_EQ((*columns)[0].second.id, TypeId::kInteger);
  EXPECT_EQ((*columns)[1].first, "b");
  EXPECT_EQ((*columns)[1].second.id, TypeId::kDecimal);
  EXPECT_EQ((*columns)[1].second.decimal_scale, 2);
  EXPECT_EQ((*columns)[2].second.id, TypeId::kVarchar);
  EXPECT_EQ((*columns)[3].first, "l");
  EXPECT_EQ((*columns)[3].second.id, TypeId::kList);

  // Errors are typed as Query's for the same statement, with DuckDB's message (its first line:
  // the excerpt under it shows the statement as Describe wrapped it).
  const std::pair<std::string, StatusCode> failing[] = {
      {"SELECT * FROM no_such_table", StatusCode::kInvalidArgument},
      {"SELECT * FROM read_parquet('/no/such/file.parquet')", StatusCode::kIOError}};
  auto first_line = [](const Status& s) { return s.message().substr(0, s.message().find('\n')); };
  for (const auto& [sql, code] : failing) {
    Status described = conn_->Describe(sql).status();
    EXPECT_EQ(described.code(), code) << sql << ": " << described.ToString();
    EXPECT_EQ(first_line(described), first_line(conn_->Query(sql).status())) << sql;
  }
}

TEST_F(DatabaseTest, DmlReportsRowsChanged) {
  ASSERT_TRUE(conn_->Execute("CREATE TABLE t (a INTEGER)").ok());
  auto r = conn_->Query("INSERT INTO t SELECT * FROM range(5)");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->rows_changed(), 5);
}

TEST_F(DatabaseTest, PreparedStatementsBindEveryKind) {
  auto stmt = conn_->Prepare("SELECT ?::BIGINT + 1, ? || '!', ?, ?::DOUBLE * 2, ? IS NULL, octet_length(?)");
  ASSERT_TRUE(stmt.ok()) << stmt.status().ToString();
  auto& s = **stmt;
  EXPECT_EQ(s.parameter_count(), 6u);
  ASSERT_TRUE(s.Bind(1, int64_t{41}).ok());
  ASSERT_TRUE(s.Bind(2, "hi").ok());
  ASSERT_TRUE(s.Bind(3, true).ok());
  ASSERT_TRUE(s.Bind(4, 1.25).ok());
  ASSERT_TRUE(s.BindNull(5).ok());
  ASSERT_TRUE(s.BindBlob(6, std::string("a\0b", 3)).ok());
  auto r = s.Execute();
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(*r->GetInt64(0, 0), 42);
  EXPECT_EQ(*r->GetString(1, 0), "hi!");
  EXPECT_TRUE(*r->GetBool(2, 0));
  EXPECT_DOUBLE_EQ(*r->GetDouble(3, 0), 2.5);
  EXPECT_TRUE(*r->GetBool(4, 0));
  EXPECT_EQ(*r->GetInt64(5, 0), 3);
  EXPECT_TRUE(s.Bind(7, 1).IsInvalidArgument());

  auto bad = conn_->Prepare("SELECT FROM WHERE");
  ASSERT_FALSE(bad.ok());
  EXPECT_TRUE(bad.status().IsInvalidArgument());
}

TEST_F(DatabaseTest, AppenderWritesRows) {
  ASSERT_TRUE(conn_->Execute("CREATE TABLE people (id BIGINT, name VARCHAR, score DOUBLE, ok BOOLEAN)").ok());
  {
    auto app = conn_->MakeAppender("", "people");
    ASSERT_TRUE(app.ok()) << app.status().ToString();
    for (int i = 0; i < 3000; ++i) {
      ASSERT_TRUE((*app)->Append(int64_t{i}).ok());
      ASSERT_TRUE((*app)->Append("p" + std::to_string(i)).ok());
      ASSERT_TRUE(i % 2 == 0 ? (*app)->Append(i * 0.5).ok() : (*app)->AppendNull().ok());
      ASSERT_TRUE((*app)->Append(i % 3 == 0).ok());
      ASSERT_TRUE((*app)->EndRow().ok());
    }
    ASSERT_TRUE((*app)->Close().ok());
  }
  auto r = conn_->Query("SELECT count(*), count(score), max(name) FROM people");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r->GetInt64(0, 0), 3000);
  EXPECT_EQ(*r->GetInt64(1, 0), 1500);
  EXPECT_EQ(*r->GetString(2, 0), "p999");

  auto missing = conn_->MakeAppender("", "nobody");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("nobody"), std::string::npos);

  auto app = conn_->MakeAppender("main", "people");
  ASSERT_TRUE(app.ok());
  ASSERT_TRUE((*app)->Append(int64_t{1}).ok());
  Status s = (*app)->EndRow();  // too few columns
  EXPECT_FALSE(s.ok());
}

TEST_F(DatabaseTest, InterruptCancelsALongQuery) {
  std::thread stopper([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    conn_->Interrupt();
  });
  auto r = conn_->Query("SELECT count(*) FROM range(10000000000) a, range(1000) b");
  stopper.join();
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.status().IsCancelled()) << r.status().ToString();
}

TEST_F(DatabaseTest, ConnectionsOnOneDatabaseRunInParallel) {
  ASSERT_TRUE(conn_->Execute("CREATE TABLE shared AS SELECT range AS x FROM range(1000)").ok());
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      auto c = db_->Connect();
      if (!c.ok()) return;
      auto r = (*c)->Query("SELECT sum(x) FROM shared");
      if (r.ok() && *r->GetInt64(0, 0) == 499500) ok++;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 4);
}

}  // namespace
}  // namespace medallion::engine
