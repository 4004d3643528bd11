// DELETE, UPDATE and MERGE on Delta tables (engine/delta_dml.h) and their SQL forms in Session:
// results equal what DuckDB computes on the same rows, only files with affected rows are
// rewritten, whole-file deletes write nothing, the change data feed records every change, MERGE
// refuses ambiguous matches, concurrent changes to the same files conflict, and every table
// passes the protocol validator (test/delta_validity.h).
#include "engine/delta_dml.h"

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "delta/snapshot.h"
#include "delta_table_test.h"
#include "delta_validity.h"
#include "session_rows.h"
#include "engine/delta_writer.h"
#include "engine/duckdb_parquet_handler.h"
#include "engine/session.h"
#include "storage/local_object_store.h"
#include "storage/test_util.h"

namespace medallion::engine {
namespace {

using ::testing::HasSubstr;

// 100 rows in 10 files of 10 (ids 0..99 in order), columns id, v, s.
constexpr char kRows[] =
    "SELECT i::BIGINT AS id, (i * 10)::INTEGER AS v, 'r' || i AS s FROM range(100) t(i)";

class DeltaDmlTest : public testutil::DeltaTableTest {
 protected:
  // commitInfo of a version of `t`.
  nlohmann::json CommitInfo(int64_t version) {
    std::ifstream in(fmt::format("{}/_delta_log/{:020}.json", Path(), version));
    std::string line;
    while (std::getline(in, line)) {
      auto j = nlohmann::json::parse(line);
      if (j.contains("commitInfo")) return j["commitInfo"];
    }
    ADD_FAILURE() << "no commitInfo in version " << version;
    return {};
  }

  std::string Metric(int64_t version, const std::string& name) {
    auto info = CommitInfo(version);
    if (!info["operationMetrics"].contains(name)) return "<none>";
    return info["operationMetrics"][name].get<std::string>();
  }

  size_t ActiveFiles() {
    auto s = Snapshot();
    return s ? s->files().size() : 0;
  }
};

TEST_F(DeltaDmlTest, DeleteRewritesOnlyFilesWithMatchingRows) {
  MakeTable(kRows);
  ASSERT_OK_AND_ASSIGN(
      DmlResult r, Delete(session_->connection(), *store_, "t", *parquet_, "id < 15 OR id = 97"));
  EXPECT_TRUE(r.committed);
  EXPECT_EQ(r.version, 1);
  EXPECT_EQ(r.num_affected_rows, 16);
  ASSERT_OK(session_->Query("DELETE FROM expected WHERE id < 15 OR id = 97").status());
  ExpectMatchesDuckDb();
  // Files 0-9 (all deleted: removed only), 10-19 and 90-99 (rewritten).
  EXPECT_EQ(CommitInfo(1)["operation"], "DELETE");
  EXPECT_EQ(CommitInfo(1)["operationParameters"]["predicate"], "[\"id < 15 OR id = 97\"]");
  EXPECT_EQ(Metric(1, "numRemovedFiles"), "3");
  EXPECT_EQ(Metric(1, "numAddedFiles"), "1");
  EXPECT_EQ(Metric(1, "numDeletedRows"), "16");
  EXPECT_EQ(Metric(1, "numCopiedRows"), "14");
  EXPECT_EQ(ActiveFiles(), 8u);
}

TEST_F(DeltaDmlTest, DeleteMatchingNothingCommitsNothing) {
  MakeTable(kRows);
  ASSERT_OK_AND_ASSIGN(DmlResult r,
                       Delete(session_->connection(), *store_, "t", *parquet_, "id > 1000"));
  EXPECT_FALSE(r.committed);
  EXPECT_EQ(r.version, 0);
  EXPECT_EQ(r.num_affected_rows, 0);
}

TEST_F(DeltaDmlTest, PartitionDeleteRemovesFilesWithoutRewriting) {
  WriteOptions options;
  options.partition_by = {"p"};
  MakeTable("SELECT i::BIGINT AS id, CASE WHEN i < 30 THEN 'a' ELSE 'b' END AS p "
            "FROM range(60) t(i)",
            options);
  size_t before = ActiveFiles();
  EXPECT_EQ(Text("DELETE FROM " + Ref() + " WHERE p = 'a'"), "30;");
  ASSERT_OK(session_->Query("DELETE FROM expected WHERE p = 'a'").status());
  ExpectMatchesDuckDb();
  EXPECT_EQ(Metric(1, "numAddedFiles"), "0");
  EXPECT_EQ(Metric(1, "numRemovedFiles"), "3");
  EXPECT_EQ(Metric(1, "numCopiedRows"), "0");
  EXPECT_EQ(ActiveFiles(), before - 3);
}

TEST_F(DeltaDmlTest, UpdateRewritesOnlyFilesWithMatchingRows) {
  MakeTable(kRows);
  ASSERT_OK_AND_ASSIGN(DmlResult r,
                       Update(session_->connection(), *store_, "t", *parquet_,
                              {{"v", "v * 2 + id"}, {"s", "upper(s)"}}, "id BETWEEN 20 AND 25"));
  EXPECT_EQ(r.num_affected_rows, 6);
  ASSERT_OK(session_
                ->Query("UPDATE expected SET v = v * 2 + id, s = upper(s) WHERE id BETWEEN "
                        "20 AND 25")
                .status());
  ExpectMatchesDuckDb();
  EXPECT_EQ(CommitInfo(1)["operation"], "UPDATE");
  EXPECT_EQ(Metric(1, "numUpdatedRows"), "6");
  EXPECT_EQ(Metric(1, "numCopiedRows"), "4");
  EXPECT_EQ(Metric(1, "numRemovedFiles"), "1");
  EXPECT_EQ(Metric(1, "numAddedFiles"), "1");
  EXPECT_EQ(ActiveFiles(), 10u);
}

TEST_F(DeltaDmlTest, SqlDeleteAndUpdateWithAliasAndNoWhere) {
  MakeTable(kRows);
  EXPECT_EQ(Text("UPDATE " + Ref() + " AS x SET x.v = -1, s = 'z' || x.s WHERE x.id % 10 = 3"),
            "10;");
  ASSERT_OK(session_->Query("UPDATE expected SET v = -1, s = 'z' || s WHERE id % 10 = 3").status());
  ExpectMatchesDuckDb();
  EXPECT_EQ(Text("DELETE FROM " + Ref()), "100;");
  ASSERT_OK(session_->Query("DELETE FROM expected").status());
  ExpectMatchesDuckDb();
  EXPECT_EQ(Metric(2, "numAddedFiles"), "0");
  EXPECT_EQ(ActiveFiles(), 0u);
}

TEST_F(DeltaDmlTest, UpdateUnknownColumnIsInvalidArgument) {
  MakeTable(kRows);
  auto r = session_->Query("UPDATE " + Ref() + " SET nope = 1");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(r.status().ToString(), HasSubstr("no column 'nope'"));
}

TEST_F(DeltaDmlTest, MergeMatchesDuckDb) {
  MakeTable(kRows);
  // Source: ids 5 (delete), 15 and 16 (update), 200 and 201 (insert).
  const std::string source =
      "SELECT * FROM (VALUES (5, 0, 'd'), (15, 1, 'u'), (16, 2, 'u'), (200, 3, 'i'), "
      "(201, 4, 'skip')) AS v(id, v, s)";
  EXPECT_EQ(Text("MERGE INTO " + Ref() + " AS t USING (" + source +
                 ") AS src ON t.id = src.id "
                 "WHEN MATCHED AND src.s = 'd' THEN DELETE "
                 "WHEN MATCHED THEN UPDATE SET v = src.v + t.v, s = src.s "
                 "WHEN NOT MATCHED AND src.s <> 'skip' THEN INSERT (id, s) VALUES (src.id, src.s) "
                 "WHEN NOT MATCHED BY SOURCE AND t.id >= 98 THEN DELETE"),
            "6,2,3,1;");
  // The same with DuckDB statements.
  ASSERT_OK(session_
                ->Query("DELETE FROM expected WHERE id IN (5, 98, 99); "
                        "UPDATE expected SET v = v + CASE id WHEN 15 THEN 1 ELSE 2 END, "
                        "s = 'u' WHERE id IN (15, 16); "
                        "INSERT INTO expected VALUES (200, NULL, 'i')")
                .status());
  ExpectMatchesDuckDb();
  auto info = CommitInfo(1);
  EXPECT_EQ(info["operation"], "MERGE");
  EXPECT_EQ(info["operationParameters"]["predicate"], "\"t.id = src.id\"");
  EXPECT_EQ(Metric(1, "numSourceRows"), "5");
  EXPECT_EQ(Metric(1, "numTargetRowsUpdated"), "2");
  EXPECT_EQ(Metric(1, "numTargetRowsDeleted"), "3");
  EXPECT_EQ(Metric(1, "numTargetRowsInserted"), "1");
  // Files 0-9, 10-19 and 90-99 are rewritten: 25 rows copied; the other 7 files stay.
  EXPECT_EQ(Metric(1, "numTargetRowsCopied"), "25");
  EXPECT_EQ(Metric(1, "numTargetFilesRemoved"), "3");
  EXPECT_EQ(Metric(1, "numTargetFilesAdded"), "1");
}

TEST_F(DeltaDmlTest, MergeStarFromDeltaSourceAndUpsert) {
  MakeTable(kRows);
  ASSERT_OK(WriteDelta(session_->connection(),
                       "SELECT i::BIGINT AS id, 7::INTEGER AS v, 'new' AS s FROM range(95, 105) "
                       "t(i)",
                       *store_, "src", *parquet_)
                .status());
  EXPECT_EQ(Text("MERGE INTO " + Ref() + " t USING " + Ref("src") +
                 " s ON t.id = s.id WHEN MATCHED THEN UPDATE SET * WHEN NOT MATCHED THEN INSERT *"),
            "10,5,0,5;");
  ASSERT_OK(session_
                ->Query("DELETE FROM expected WHERE id >= 95; INSERT INTO expected SELECT "
                        "i, 7, 'new' FROM range(95, 105) t(i)")
                .status());
  ExpectMatchesDuckDb();
  EXPECT_EQ(Metric(1, "numTargetFilesRemoved"), "1");
}

TEST_F(DeltaDmlTest, MergeWithSeveralSourceRowsForOneTargetRowFails) {
  MakeTable(kRows);
  auto r = session_->Query("MERGE INTO " + Ref() +
                           " t USING (SELECT 3 AS id UNION ALL SELECT 3) s ON t.id = s.id "
                           "WHEN MATCHED THEN UPDATE SET v = 0");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(r.status().ToString(), HasSubstr("several source rows matched the same target row"));
  // The table is unchanged; an unconditional DELETE alone is not ambiguous.
  EXPECT_EQ(ActiveFiles(), 10u);
  EXPECT_EQ(Text("MERGE INTO " + Ref() +
                 " t USING (SELECT 3 AS id UNION ALL SELECT 3) s ON t.id = s.id "
                 "WHEN MATCHED THEN DELETE"),
            "1,0,1,0;");
  ASSERT_OK(session_->Query("DELETE FROM expected WHERE id = 3").status());
  ExpectMatchesDuckDb();
}

TEST_F(DeltaDmlTest, ChangeDataFeedRecordsDeleteUpdateAndMerge) {
  WriteOptions options;
  options.table_properties = {{"delta.enableChangeDataFeed", "true"}};
  MakeTable(kRows, options);
  ASSERT_OK(Delete(session_->connection(), *store_, "t", *parquet_, "id IN (1, 2)").status());
  ASSERT_OK(
      Update(session_->connection(), *store_, "t", *parquet_, {{"v", "-v"}}, "id = 30").status());
  EXPECT_EQ(Text("MERGE INTO " + Ref() +
                 " t USING (SELECT 40 AS id, 'm' AS s UNION ALL SELECT 500, 'n') s ON t.id = s.id "
                 "WHEN MATCHED THEN UPDATE SET s = s.s WHEN NOT MATCHED THEN INSERT (id, v, s) "
                 "VALUES (s.id, 0, s.s)"),
            "2,1,0,1;");
  const std::string changes = "table_changes('" + Path() + "', 1)";
  EXPECT_EQ(
      Text("SELECT _commit_version, _change_type, id, v, s FROM " + changes + " ORDER BY 1, 2, 3"),
      "1,delete,1,10,r1;1,delete,2,20,r2;"
      "2,update_postimage,30,-300,r30;2,update_preimage,30,300,r30;"
      "3,insert,500,0,n;3,update_postimage,40,400,m;3,update_preimage,40,400,r40;");
  std::ifstream in(fmt::format("{}/_delta_log/{:020}.json", Path(), 1));
  std::stringstream text;
  text << in.rdbuf();
  EXPECT_THAT(text.str(), HasSubstr("\"cdc\""));
  EXPECT_THAT(text.str(), HasSubstr("_change_data/cdc-00000-"));
  ASSERT_OK(session_
                ->Query("DELETE FROM expected WHERE id IN (1, 2); UPDATE expected SET v = -v "
                        "WHERE id = 30; UPDATE expected SET s = 'm' WHERE id = 40; INSERT "
                        "INTO expected VALUES (500, 0, 'n')")
                .status());
  ExpectMatchesDuckDb();
}

TEST_F(DeltaDmlTest, ConcurrentDeleteAndUpdateOfTheSameFileConflict) {
  MakeTable(kRows);
  ASSERT_OK_AND_ASSIGN(auto read, delta::SnapshotBuilder(*store_, "t").Build(*parquet_));
  DmlOptions options;
  options.snapshot = read;  // both start from version 0
  ASSERT_OK_AND_ASSIGN(DmlResult deleted,
                       Delete(session_->connection(), *store_, "t", *parquet_, "id = 42", options));
  EXPECT_EQ(deleted.version, 1);
  auto updated =
      Update(session_->connection(), *store_, "t", *parquet_, {{"v", "0"}}, "id = 45", options);
  ASSERT_FALSE(updated.ok());
  EXPECT_EQ(updated.status().code(), StatusCode::kConflict) << updated.status().ToString();
  // A change to other files from the same snapshot still commits.
  ASSERT_OK_AND_ASSIGN(DmlResult other, Update(session_->connection(), *store_, "t", *parquet_,
                                               {{"v", "0"}}, "id = 75", options));
  EXPECT_EQ(other.version, 2);
  ASSERT_OK(session_
                ->Query("DELETE FROM expected WHERE id = 42; UPDATE expected SET v = 0 WHERE "
                        "id = 75")
                .status());
  ExpectMatchesDuckDb();
}

}  // namespace
}  // namespace medallion::engine
