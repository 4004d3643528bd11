#include "engine/sql_references.h"

#include <gtest/gtest.h>

#include "storage/test_util.h"

namespace medallion::engine {
namespace {

class SqlReferencesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK_AND_ASSIGN(db_, Database::Open());
    ASSERT_OK_AND_ASSIGN(conn_, db_->Connect());
  }
  std::unique_ptr<Database> db_;
  std::unique_ptr<Connection> conn_;
};

TEST_F(SqlReferencesTest, FindsTablesInJoinsSubqueriesAndSetOperations) {
  std::string sql =
      "WITH c AS (SELECT * FROM bronze.raw) SELECT * FROM silver.orders o JOIN c ON true, "
      "(SELECT * FROM main.gold.x) WHERE id IN (SELECT id FROM \"Odd Name\") "
      "UNION ALL SELECT * FROM y";
  ASSERT_OK_AND_ASSIGN(auto refs, FindTableReferences(*conn_, sql));
  ASSERT_EQ(refs.size(), 5u);
  EXPECT_EQ(refs[0].schema, "bronze");
  EXPECT_EQ(refs[0].table, "raw");
  EXPECT_EQ(sql.substr(refs[0].begin, refs[0].end - refs[0].begin), "bronze.raw");
  EXPECT_EQ(refs[1].table, "orders");
  EXPECT_EQ(refs[1].alias, "o");
  EXPECT_EQ(refs[2].catalog, "main");
  EXPECT_EQ(refs[2].schema, "gold");
  EXPECT_EQ(sql.substr(refs[2].begin, refs[2].end - refs[2].begin), "main.gold.x");
  EXPECT_EQ(refs[3].table, "Odd Name");
  EXPECT_EQ(sql.substr(refs[3].begin, refs[3].end - refs[3].begin), "\"Odd Name\"");
  EXPECT_EQ(refs[4].table, "y");
}

TEST_F(SqlReferencesTest, SkipsCtesStringsAndTableFunctions) {
  std::string sql =
      "WITH a AS (SELECT 1 AS v) SELECT 'FROM fake' AS s FROM a, read_csv('x.csv') -- FROM t2\n";
  ASSERT_OK_AND_ASSIGN(auto refs, FindTableReferences(*conn_, sql));
  EXPECT_TRUE(refs.empty());
}

TEST_F(SqlReferencesTest, ReplaceKeepsQualifiedColumnsBinding) {
  ASSERT_OK(conn_->Execute("CREATE TABLE v1 AS SELECT 1 AS id"));
  std::string sql = "SELECT orders.id FROM sales.orders WHERE orders.id = 1";
  ASSERT_OK_AND_ASSIGN(auto refs, FindTableReferences(*conn_, sql));
  ASSERT_EQ(refs.size(), 1u);
  std::string rewritten = ReplaceTableReferences(sql, refs, {"v1"});
  EXPECT_EQ(rewritten, "SELECT orders.id FROM v1 AS \"orders\" WHERE orders.id = 1");
  ASSERT_OK_AND_ASSIGN(auto result, conn_->Query(rewritten));
  EXPECT_EQ(result.row_count(), 1u);
}

TEST_F(SqlReferencesTest, SyntaxErrorIsInvalidArgument) {
  auto refs = FindTableReferences(*conn_, "SELECT FROM WHERE");
  EXPECT_EQ(refs.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(FindTableReferences(*conn_, "SELECT 1; SELECT 2").status().code(),
            StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace medallion::engine
