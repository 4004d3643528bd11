// Data skipping end to end (delta/data_skipping.h through engine/): a query on delta.`path` reads
// only the files its WHERE may need, partitioned views (Hive partitioning from the folders, a
// UNION ALL per partition, or a join) still return every row with the log's partition values, and DELETE / UPDATE / MERGE scan and rewrite only the files chosen by
// statistics and partitions. "Not read" is shown by deleting the other data files from disk: the
// statement still succeeds.
#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "delta/data_skipping.h"
#include "delta/snapshot.h"
#include "delta_table_test.h"
#include "delta_validity.h"
#include "session_rows.h"
#include "engine/delta_dml.h"
#include "engine/delta_scan.h"
#include "engine/delta_writer.h"
#include "engine/duckdb_parquet_handler.h"
#include "engine/session.h"
#include "storage/local_object_store.h"
#include "storage/test_util.h"

namespace medallion::engine {
namespace {

using delta::ColumnPredicate;
using delta::Scalar;
using delta::SkippingOp;

// 100 rows in 10 files of 10 (ids 0..99 in order).
constexpr char kRows[] =
    "SELECT i::BIGINT AS id, (i * 10)::INTEGER AS v, 'r' || i AS s FROM range(100) t(i)";
// The same ids partitioned by p: 'a' (id < 30), 'b' (30..59), NULL (60..99).
constexpr char kPartitionedRows[] =
    "SELECT i::BIGINT AS id, (i * 10)::INTEGER AS v, "
    "CASE WHEN i < 30 THEN 'a' WHEN i < 60 THEN 'b' END AS p FROM range(100) t(i)";

class DataSkippingTest : public testutil::DeltaTableTest {
 protected:
  // Deletes from disk every data file that `keep` does not select; returns how many were kept.
  int64_t DeleteFilesOtherThan(const delta::SkippingPredicate& keep) {
    auto snapshot = Snapshot();
    auto selected = delta::SelectFiles(*snapshot, keep);
    EXPECT_TRUE(selected.ok()) << selected.status().ToString();
    std::set<const delta::AddFile*> kept(selected->files.begin(), selected->files.end());
    for (const auto& f : snapshot->files()) {
      if (kept.count(&f)) continue;
      auto local = snapshot->FileLocalPath(f);
      EXPECT_TRUE(local.ok());
      auto path = store_->LocalPath(*local);
      EXPECT_TRUE(path.ok());
      std::filesystem::remove(*path);
    }
    return selected->kept;
  }
};

WriteOptions PartitionedBy(std::vector<std::string> columns) {
  WriteOptions options;
  options.partition_by = std::move(columns);
  return options;
}

delta::SkippingPredicate Where(ColumnPredicate p) {
  delta::SkippingPredicate out;
  out.conjuncts.push_back(std::move(p));
  return out;
}

TEST_F(DataSkippingTest, PointQueryRegistersOneFile) {
  MakeTable(kRows);
  auto snapshot = Snapshot();
  DeltaScanOptions options;
  options.predicate = Where(ColumnPredicate::Compare({"id"}, SkippingOp::kEqual, Scalar::Int64(42)));
  DeltaScanInfo info;
  ASSERT_OK(RegisterDeltaScan(session_->connection(), *snapshot, *store_, "point", options, &info));
  EXPECT_EQ(info.files_considered, 10);
  EXPECT_EQ(info.files_read, 1);
  EXPECT_EQ(Text("SELECT id, v FROM point WHERE id = 42"), "42,420;");
  // A conjunct on a column the table does not have (a select-list alias) is left out.
  options.predicate.conjuncts.push_back(
      ColumnPredicate::Compare({"nope"}, SkippingOp::kEqual, Scalar::Int64(1)));
  ASSERT_OK(RegisterDeltaScan(session_->connection(), *snapshot, *store_, "point", options, &info));
  EXPECT_EQ(info.files_read, 1);
}

TEST_F(DataSkippingTest, QueriesReadOnlyTheFilesTheirWhereNeeds) {
  MakeTable(kRows);
  EXPECT_EQ(DeleteFilesOtherThan(
                Where(ColumnPredicate::Compare({"id"}, SkippingOp::kLess, Scalar::Int64(10)))),
            1);
  // Only the file of ids 0..9 is left on disk.
  EXPECT_EQ(Text("SELECT id, s FROM " + Ref() + " WHERE id = 5"), "5,r5;");
  EXPECT_EQ(Text("SELECT count(*) FROM " + Ref() + " AS x WHERE x.id IN (3, 7, NULL) AND v > 0"),
            "2;");
  EXPECT_EQ(Text("SELECT sum(v) FROM " + Ref() + " WHERE id BETWEEN 2 AND 4"), "90;");
  EXPECT_EQ(Text("SELECT count(*) FROM " + Ref() + " WHERE 5 > id AND s IS NOT NULL"), "5;");
  EXPECT_EQ(Text("SELECT count(*) FROM " + Ref() + " WHERE id = 1000"), "0;");
  EXPECT_EQ(Text("SELECT count(*) FROM " + Ref() + " WHERE id < 2.5"), "3;");
  EXPECT_EQ(Text("SELECT count(*) FROM " + Ref() + " WHERE id = '5'"), "1;");
  // Spark-style backticks in the WHERE.
  EXPECT_EQ(Text("SELECT count(*) FROM " + Ref() + " WHERE `id` <= 9"), "10;");
  // A WHERE that needs other files still reads them (and fails here, since they are gone).
  EXPECT_FALSE(session_->Query("SELECT count(*) FROM " + Ref() + " WHERE id = 5 OR id = 50").ok());
  EXPECT_FALSE(session_->Query("SELECT count(*) FROM " + Ref()).ok());
  // The same table twice: no skipping (the view is shared).
  EXPECT_FALSE(session_->Query("SELECT count(*) FROM " + Ref() + " WHERE id = 5 AND v IN "
                               "(SELECT v FROM " + Ref() + ")")
                   .ok());
}

// The SQL of the view `name` (to tell which form RegisterDeltaScan chose).
std::string ViewSql(Session& session, const std::string& name) {
  return testutil::TextOf(session, "SELECT sql FROM duckdb_views() WHERE view_name = '" + name + "'");
}

TEST_F(DataSkippingTest, PartitionedViewIsUnionPerPartitionAndPrunes) {
  MakeTable(kPartitionedRows, PartitionedBy({"p"}));
  // A NULL partition (folder __HIVE_DEFAULT_PARTITION__) is not left to DuckDB's Hive partitioning.
  ASSERT_OK(RegisterDeltaScan(session_->connection(), *Snapshot(), *store_, "v", {}, nullptr));
  EXPECT_THAT(ViewSql(*session_, "v"), ::testing::HasSubstr("UNION ALL"));
  EXPECT_THAT(ViewSql(*session_, "v"), ::testing::Not(::testing::HasSubstr("hive_types")));
  // Every row, with typed partition values (NULL partition included).
  ExpectMatchesDuckDb();
  EXPECT_EQ(Text("SELECT p, count(*), sum(id) FROM " + Ref() + " GROUP BY p ORDER BY p"),
            "a,30,435;b,30,1335;NULL,40,3180;");
  // Keep only partition b on disk: queries on it still run.
  EXPECT_EQ(DeleteFilesOtherThan(
                Where(ColumnPredicate::Compare({"p"}, SkippingOp::kEqual, Scalar::String("b")))),
            3);
  EXPECT_EQ(Text("SELECT count(*), min(id), max(id) FROM " + Ref() + " WHERE p = 'b'"), "30,30,59;");
  EXPECT_EQ(Text("SELECT count(*) FROM " + Ref() + " WHERE p = 'b' AND id >= 55"), "5;");
  EXPECT_FALSE(session_->Query("SELECT count(*) FROM " + Ref() + " WHERE p IS NULL").ok());
}

TEST_F(DataSkippingTest, ManyPartitionsKeepTheJoin) {
  // 70 partition tuples (> 64) with a value Hive folders escape (a space): one read_parquet joined
  // to the partition values table.
  MakeTable("SELECT i::BIGINT AS id, 'k ' || (i % 70) AS k, 'r' || i AS s FROM range(700) t(i)",
            PartitionedBy({"k"}));
  ASSERT_OK(RegisterDeltaScan(session_->connection(), *Snapshot(), *store_, "v", {}, nullptr));
  EXPECT_THAT(ViewSql(*session_, "v"), ::testing::HasSubstr("JOIN"));
  ExpectMatchesDuckDb();
  EXPECT_EQ(Text("SELECT count(*), sum(id) FROM " + Ref() + " WHERE k = 'k 69'"), "10,3840;");
  EXPECT_EQ(DeleteFilesOtherThan(
                Where(ColumnPredicate::Compare({"k"}, SkippingOp::kEqual, Scalar::String("k 3")))),
            10);  // the writer cuts files of 10 consecutive rows, then by partition: 1 row each
  EXPECT_EQ(Text("SELECT count(*) FROM " + Ref() + " WHERE k = 'k 3'"), "10;");
}

TEST_F(DataSkippingTest, PartitionFoldersOfPlainValuesAreReadByHivePartitioning) {
  // Two partition columns of plain values (the folders spell them): one read_parquet whose Hive
  // columns are the partition values, typed, pruned by DuckDB under a filter.
  MakeTable("SELECT i::BIGINT AS id, (i % 3)::INTEGER AS k, CASE WHEN i < 50 THEN 'lo' ELSE 'hi' "
            "END AS band, DATE '2001-01-01' + (i % 2)::INTEGER AS d FROM range(100) t(i)",
            PartitionedBy({"k", "band", "d"}));
  ASSERT_OK(RegisterDeltaScan(session_->connection(), *Snapshot(), *store_, "v", {}, nullptr));
  EXPECT_THAT(ViewSql(*session_, "v"), ::testing::HasSubstr("hive_types"));
  EXPECT_THAT(ViewSql(*session_, "v"), ::testing::Not(::testing::HasSubstr("UNION ALL")));
  ExpectMatchesDuckDb();
  EXPECT_EQ(Text("SELECT typeof(k), typeof(band), typeof(d) FROM v LIMIT 1"), "INTEGER,VARCHAR,DATE;");
  const size_t files = Snapshot()->files().size();
  EXPECT_EQ(DeleteFilesOtherThan(
                Where(ColumnPredicate::Compare({"k"}, SkippingOp::kEqual, Scalar::Int64(2)))),
            files / 3);
  EXPECT_EQ(Text("SELECT count(*), sum(id) FROM " + Ref() + " WHERE k = 2 AND band = 'hi'"),
            Text("SELECT count(*), sum(id) FROM expected WHERE k = 2 AND band = 'hi'"));
  EXPECT_EQ(Text("SELECT count(*) FROM " + Ref() + " WHERE k = 2 AND band = 'hi'"), "17;");

}

TEST_F(DataSkippingTest, PartitionValuesComeFromTheLogNotTheFolders) {
  // A file in folder p=a/ whose add says p = "b", and a file that stores column p itself: the
  // log's partitionValues win (PROTOCOL.md, "Partition Value Serialization"), so neither is read
  // through Hive partitioning.
  const std::string root = Path("odd");
  std::filesystem::create_directories(root + "/p=a");
  std::filesystem::create_directories(root + "/_delta_log");
  ASSERT_OK(session_->Query("COPY (SELECT 1::BIGINT AS id) TO '" + root + "/p=a/f1.parquet'").status());
  ASSERT_OK(session_->Query("COPY (SELECT 2::BIGINT AS id, 'x' AS p) TO '" + root + "/p=a/f2.parquet'")
                .status());
  const std::string schema =
      R"({\"type\":\"struct\",\"fields\":[{\"name\":\"id\",\"type\":\"long\",\"nullable\":true,)"
      R"(\"metadata\":{}},{\"name\":\"p\",\"type\":\"string\",\"nullable\":true,\"metadata\":{}}]})";
  auto add = [](const std::string& file, const std::string& p) {
    return fmt::format(R"({{"add":{{"path":"p=a/{}","partitionValues":{{"p":"{}"}},"size":1,)"
                       R"("modificationTime":0,"dataChange":true}}}})",
                       file, p);
  };
  const std::string log =
      R"({"protocol":{"minReaderVersion":1,"minWriterVersion":2}})" "\n" +
      fmt::format(R"({{"metaData":{{"id":"x","format":{{"provider":"parquet","options":{{}}}},)"
                  R"("schemaString":"{}","partitionColumns":["p"],"configuration":{{}},)"
                  R"("createdTime":0}}}})",
                  schema) +
      "\n" + add("f1.parquet", "b") + "\n" + add("f2.parquet", "a") + "\n";
  ASSERT_OK(store_->Write("odd/_delta_log/00000000000000000000.json", log));
  EXPECT_EQ(Text("SELECT id, p FROM " + Ref("odd") + " ORDER BY id"), "1,b;2,a;");
  auto snapshot = Snapshot("odd");
  ASSERT_NE(snapshot, nullptr);
  ASSERT_OK(RegisterDeltaScan(session_->connection(), *snapshot, *store_, "odd", {}, nullptr));
  EXPECT_THAT(ViewSql(*session_, "odd"), ::testing::Not(::testing::HasSubstr("hive_types")));
}

TEST_F(DataSkippingTest, NullPartitionIsPruned) {
  MakeTable(kPartitionedRows, PartitionedBy({"p"}));
  EXPECT_EQ(DeleteFilesOtherThan(Where(ColumnPredicate::IsNull({"p"}))), 4);
  EXPECT_EQ(Text("SELECT count(*), sum(v) FROM " + Ref() + " WHERE p IS NULL"), "40,31800;");
  EXPECT_EQ(Text("SELECT count(*) FROM " + Ref() + " WHERE p IS NULL AND id = 99"), "1;");
}

TEST_F(DataSkippingTest, DeleteScansAndRewritesOnlyCandidateFiles) {
  MakeTable(kRows);
  ASSERT_OK_AND_ASSIGN(DmlResult r,
                       Delete(session_->connection(), *store_, "t", *parquet_, "id = 5"));
  EXPECT_EQ(r.num_files_considered, 10);
  EXPECT_EQ(r.num_files_scanned, 1);
  EXPECT_EQ(r.num_removed_files, 1);
  EXPECT_EQ(r.num_deleted_rows, 1);
  ASSERT_OK(session_->Query("DELETE FROM expected WHERE id = 5").status());
  ExpectMatchesDuckDb();

  // UPDATE through SQL, with the target aliased.
  EXPECT_EQ(Text("UPDATE " + Ref() + " AS x SET v = -1 WHERE x.id >= 95 AND x.s IS NOT NULL"),
            "5;");
  ASSERT_OK(session_->Query("UPDATE expected SET v = -1 WHERE id >= 95").status());
  ExpectMatchesDuckDb();
  ASSERT_OK_AND_ASSIGN(
      DmlResult u, Update(session_->connection(), *store_, "t", *parquet_, {{"v", "v + 1"}},
                          "id IN (11, 12)"));
  EXPECT_EQ(u.num_files_scanned, 1);
  EXPECT_EQ(u.num_updated_rows, 2);
  ASSERT_OK(session_->Query("UPDATE expected SET v = v + 1 WHERE id IN (11, 12)").status());
  ExpectMatchesDuckDb();
}

TEST_F(DataSkippingTest, DeleteNeverReadsSkippedFiles) {
  MakeTable(kRows);
  EXPECT_EQ(DeleteFilesOtherThan(
                Where(ColumnPredicate::Compare({"id"}, SkippingOp::kGreaterOrEqual,
                                               Scalar::Int64(90)))),
            1);
  ASSERT_OK_AND_ASSIGN(DmlResult r, Delete(session_->connection(), *store_, "t", *parquet_,
                                           "id > 95 AND s <> 'x'"));
  EXPECT_EQ(r.num_deleted_rows, 4);
  EXPECT_EQ(r.num_files_scanned, 1);
  EXPECT_EQ(r.num_removed_files, 1);
  EXPECT_EQ(r.num_added_files, 1);
}

TEST_F(DataSkippingTest, MergeReadsOnlyFilesInTheSourceKeyRange) {
  MakeTable(kRows);
  MergeSpec spec;
  spec.source_sql = "SELECT * FROM (VALUES (95::BIGINT, 1), (97, 2), (150, 3)) v(id, v)";
  spec.source_alias = "s";
  spec.on_condition = "t.id = s.id";
  MergeClause update;
  update.kind = MergeClause::Kind::kMatched;
  update.action = MergeClause::Action::kUpdate;
  update.assignments = {{"v", "s.v"}};
  MergeClause insert;
  insert.kind = MergeClause::Kind::kNotMatched;
  insert.action = MergeClause::Action::kInsert;
  insert.assignments = {{"id", "s.id"}, {"v", "s.v"}, {"s", "'new'"}};
  spec.clauses = {update, insert};
  DmlOptions options;
  options.target_alias = "t";
  ASSERT_OK_AND_ASSIGN(DmlResult r,
                       Merge(session_->connection(), *store_, "t", *parquet_, spec, options));
  // Source ids 95..150: only the file of ids 90..99 can match.
  EXPECT_EQ(r.num_files_considered, 10);
  EXPECT_EQ(r.num_files_scanned, 1);
  EXPECT_EQ(r.num_updated_rows, 2);
  EXPECT_EQ(r.num_inserted_rows, 1);
  EXPECT_EQ(r.num_removed_files, 1);
  ASSERT_OK(session_->Query("UPDATE expected SET v = 1 WHERE id = 95; "
                            "UPDATE expected SET v = 2 WHERE id = 97; "
                            "INSERT INTO expected VALUES (150, 3, 'new')")
                .status());
  ExpectMatchesDuckDb();

  // A literal conjunct on the target in ON, and a source key column of another type (no range).
  spec.source_sql = "SELECT * FROM (VALUES ('3', 7), ('42', 8)) v(id, v)";
  spec.on_condition = "t.id = CAST(s.id AS BIGINT) AND t.id < 10";
  spec.clauses = {update};
  ASSERT_OK_AND_ASSIGN(r, Merge(session_->connection(), *store_, "t", *parquet_, spec, options));
  EXPECT_EQ(r.num_files_scanned, 1);
  EXPECT_EQ(r.num_updated_rows, 1);
  ASSERT_OK(session_->Query("UPDATE expected SET v = 7 WHERE id = 3").status());
  ExpectMatchesDuckDb();

  // WHEN NOT MATCHED BY SOURCE needs every file.
  MergeClause by_source;
  by_source.kind = MergeClause::Kind::kNotMatchedBySource;
  by_source.action = MergeClause::Action::kDelete;
  by_source.condition = "t.id = 0";
  spec.source_sql = "SELECT 3::BIGINT AS id, 7 AS v";
  spec.on_condition = "t.id = s.id";
  spec.clauses = {update, by_source};
  ASSERT_OK_AND_ASSIGN(r, Merge(session_->connection(), *store_, "t", *parquet_, spec, options));
  EXPECT_EQ(r.num_files_scanned, r.num_files_considered);
  ASSERT_OK(session_->Query("DELETE FROM expected WHERE id = 0").status());
  ExpectMatchesDuckDb();
}

}  // namespace
}  // namespace medallion::engine
