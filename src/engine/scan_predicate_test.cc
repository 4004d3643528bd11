#include "engine/scan_predicate.h"

#include <gtest/gtest.h>

#include "storage/test_util.h"

namespace medallion::engine {
namespace {

class ScanPredicateTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK_AND_ASSIGN(db_, Database::Open());
    ASSERT_OK_AND_ASSIGN(conn_, db_->Connect());
    ASSERT_OK(conn_->Execute("SET TimeZone = 'UTC'"));
  }
  std::string Of(const std::string& sql) {
    auto p = ExtractScanPredicate(*conn_, sql, "tbl");
    EXPECT_TRUE(p.ok()) << p.status().ToString();
    return p.ok() ? p->ToString() : "<error>";
  }
  std::unique_ptr<Database> db_;
  std::unique_ptr<Connection> conn_;
};

TEST_F(ScanPredicateTest, SimpleConjuncts) {
  EXPECT_EQ(Of("SELECT * FROM tbl WHERE id = 5"), "id = 5");
  EXPECT_EQ(Of("SELECT a FROM tbl AS t WHERE t.id >= 5 AND 7 > t.id AND s.x IS NULL"),
            "id >= 5 AND id < 7 AND s.x IS NULL");
  EXPECT_EQ(Of("SELECT * FROM tbl WHERE tbl.p IN ('a', NULL) AND q IS NOT NULL"),
            "p IN ('a', NULL) AND q IS NOT NULL");
  EXPECT_EQ(Of("SELECT * FROM tbl WHERE v BETWEEN -1.5 AND 2e3"), "v >= -1.5 AND v <= 2000");
  EXPECT_EQ(Of("SELECT * FROM tbl WHERE d = DATE '2021-01-02' AND b = true"),
            "d = DATE 2021-01-02 AND b = true");
  EXPECT_EQ(Of("SELECT * FROM tbl WHERE ts < TIMESTAMP '2021-01-02 03:04:05'"),
            "ts < TIMESTAMP 2021-01-02 03:04:05.000000Z");
}

TEST_F(ScanPredicateTest, WhatIsNotUnderstoodContributesNothing) {
  EXPECT_EQ(Of("SELECT * FROM tbl WHERE id = 5 OR id = 6"), "TRUE");
  EXPECT_EQ(Of("SELECT * FROM tbl WHERE NOT id = 5 AND id <> 3 AND id + 1 = 4"), "TRUE");
  EXPECT_EQ(Of("SELECT * FROM tbl WHERE id = (SELECT 1) AND id IN (SELECT 2)"), "TRUE");
  EXPECT_EQ(Of("SELECT * FROM tbl JOIN other USING (id) WHERE id = 5"), "TRUE");
  EXPECT_EQ(Of("SELECT * FROM (SELECT * FROM tbl) WHERE id = 5"), "TRUE");
  EXPECT_EQ(Of("SELECT * FROM other WHERE id = 5"), "TRUE");
  EXPECT_EQ(Of("SELECT * FROM tbl AS t(v, id) WHERE id = 5"), "TRUE");
  EXPECT_EQ(Of("SELECT * FROM tbl WHERE id = 5 UNION ALL SELECT * FROM tbl"), "TRUE");
  EXPECT_EQ(Of("not sql at all"), "TRUE");
  // Only the AND-conjuncts that are understood.
  EXPECT_EQ(Of("SELECT * FROM tbl WHERE (a = 1 OR b = 2) AND c = 'x'"), "c = 'x'");
}

TEST_F(ScanPredicateTest, TimeLiteralsNeedUtc) {
  ASSERT_OK(conn_->Execute("SET TimeZone = 'Europe/Paris'"));
  EXPECT_EQ(Of("SELECT * FROM tbl WHERE ts < '2021-01-02 03:00:00' AND s = 'abc'"), "s = 'abc'");
  EXPECT_EQ(Of("SELECT * FROM tbl WHERE ts < TIMESTAMP '2021-01-02 03:00:00'"), "TRUE");
}

}  // namespace
}  // namespace medallion::engine
