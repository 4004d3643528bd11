#include "engine/row_tally.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <memory>

#include "engine/database.h"

namespace medallion::engine {
namespace {

class RowTallyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    DatabaseOptions options;
    options.threads = 4;  // several DuckDB threads call the function at once
    auto db = Database::Open(options);
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    db_ = std::move(*db);
    auto conn = db_->Connect();
    ASSERT_TRUE(conn.ok()) << conn.status().ToString();
    conn_ = std::move(*conn);
  }
  std::unique_ptr<Database> db_;
  std::unique_ptr<Connection> conn_;
};

TEST_F(RowTallyTest, CountsEveryRowOnceUnderAFilterThatTestsIt) {
  RowTally tally;
  // 1,000,000 rows in parallel: keys 0..6 by i % 7; the filter keeps key 0 only.
  auto r = conn_->Query(fmt::format(
      "SELECT count(*), sum(i) FROM (SELECT i, {} AS k FROM range(1000000) t(i)) WHERE k = 0",
      tally.Count("i % 7")));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(*r->GetInt64(0, 0), 142858);
  std::map<int64_t, int64_t> expected = {{0, 142858}, {1, 142857}, {2, 142857}, {3, 142857},
                                         {4, 142857}, {5, 142857}, {6, 142857}};
  EXPECT_EQ(tally.counts(), expected);
}

TEST_F(RowTallyTest, TalliesAreSeparateAndKeepCountingAcrossQueries) {
  RowTally a, b;
  ASSERT_TRUE(conn_->Query(fmt::format("SELECT {}, {} FROM range(10) t(i)", a.Count("i % 2"),
                                       b.Count("5")))
                  .ok());
  ASSERT_TRUE(conn_->Query(fmt::format("SELECT {} FROM range(3) t(i)", a.Count("1"))).ok());
  EXPECT_EQ(a.counts(), (std::map<int64_t, int64_t>{{0, 5}, {1, 8}}));
  EXPECT_EQ(b.counts(), (std::map<int64_t, int64_t>{{5, 10}}));
}

TEST_F(RowTallyTest, IsNotFoldedForAConstantKey) {
  RowTally tally;
  // A constant argument list must still be counted per row (volatile: never constant-folded).
  ASSERT_TRUE(conn_->Query(fmt::format("SELECT {} FROM range(2500)", tally.Count("3"))).ok());
  EXPECT_EQ(tally.counts(), (std::map<int64_t, int64_t>{{3, 2500}}));
}

TEST_F(RowTallyTest, NullKeyAndDestroyedTallyFailTheQuery) {
  std::string sql;
  {
    RowTally tally;
    auto r = conn_->Query(fmt::format("SELECT {} FROM range(3) t(i)",
                                      tally.Count("CASE WHEN i = 2 THEN NULL ELSE i END")));
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.status().message().find("__medallion_tally: NULL id or key"), std::string::npos)
        << r.status().ToString();
    sql = fmt::format("SELECT {} FROM range(3)", tally.Count("1"));
  }
  auto r = conn_->Query(sql);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("__medallion_tally: no such tally"), std::string::npos)
      << r.status().ToString();
}

}  // namespace
}  // namespace medallion::engine
