// CHECK constraints and column invariants (delta/constraints.h, engine/delta_constraints.h):
// ALTER TABLE ... ADD / DROP CONSTRAINT through the session, and every write path (INSERT straight
// from the query, partitioned INSERT, REPLACE WHERE, UPDATE, MERGE) refusing rows that make a
// constraint false or NULL, as Delta Lake does, without changing the table. Every table is checked
// by the protocol validator (test/delta_validity.h).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "delta/transaction.h"
#include "delta_table_test.h"
#include "delta_validity.h"
#include "session_rows.h"
#include "storage/test_util.h"

namespace medallion::engine {
namespace {

using ::testing::HasSubstr;

class DeltaConstraintsTest : public testutil::DeltaTableTest {
 protected:
  void Run(const std::string& sql) { ASSERT_OK(session_->Query(sql).status()) << sql; }

  // "<operation> <operationParameters>" of the latest commit, from DESCRIBE HISTORY.
  std::string LastCommit() {
    auto r = session_->Query("DESCRIBE HISTORY " + Ref() + " LIMIT 1");
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? r->GetText(2, 0) + " " + r->GetText(3, 0) : "";
  }

  // Data files in the table folder (committed or not).
  size_t DataFiles(const std::string& table = "t") {
    size_t n = 0;
    for (const auto& e : std::filesystem::recursive_directory_iterator(Path(table))) {
      n += e.path().extension() == ".parquet" && e.path().string().find("_delta_log") ==
                                                     std::string::npos;
    }
    return n;
  }

  // `sql` fails with InvalidArgument containing `message`, and commits nothing and leaves no
  // file behind.
  void ExpectRefused(const std::string& sql, const std::string& message,
                     const std::string& table = "t") {
    const int64_t version = Snapshot(table)->version();
    const size_t files = DataFiles(table);
    auto r = session_->Query(sql);
    ASSERT_FALSE(r.ok()) << sql;
    EXPECT_TRUE(r.status().IsInvalidArgument()) << r.status().ToString();
    EXPECT_THAT(r.status().message(), HasSubstr(message)) << sql;
    EXPECT_EQ(Snapshot(table)->version(), version) << sql;
    EXPECT_EQ(DataFiles(table), files) << sql << ": files were left behind";
  }
};

TEST_F(DeltaConstraintsTest, AddConstraintValidatesExistingRowsAndUpgradesTheProtocol) {
  Run("CREATE TABLE " + Ref() + " AS SELECT * FROM (VALUES (1, 'a'), (-1, 'b'), (-2, 'c')) v(id, name)");
  ASSERT_EQ(Snapshot()->protocol().min_writer_version, 2);
  // Two rows fail: nothing is committed.
  ExpectRefused("ALTER TABLE " + Ref() + " ADD CONSTRAINT Positive CHECK (id > 0)",
                "2 rows in file://" + Path() + " violate the new CHECK constraint (id > 0)");
  Run("DELETE FROM " + Ref() + " WHERE id < 0");
  Run("ALTER TABLE " + Ref() + " ADD CONSTRAINT Positive CHECK (id > 0)");

  auto snapshot = Snapshot();
  // Stored as Delta Lake stores it: the name in lower case, the expression as written.
  EXPECT_EQ(snapshot->metadata().configuration.at("delta.constraints.positive"), "id > 0");
  EXPECT_EQ(snapshot->protocol().min_writer_version, 3);
  EXPECT_EQ(LastCommit(), "ADD CONSTRAINT {expr=id > 0, name=Positive}");

  // Names compare ignoring case.
  auto again = session_->Query("ALTER TABLE " + Ref() + " ADD CONSTRAINT POSITIVE CHECK (id > 1)");
  ASSERT_FALSE(again.ok());
  EXPECT_TRUE(again.status().IsAlreadyExists()) << again.status().ToString();
  EXPECT_THAT(again.status().message(), HasSubstr("Old constraint:\nid > 0"));
  EXPECT_OK(validity::ValidateDeltaTable(Path()));
}

TEST_F(DeltaConstraintsTest, BadExpressionsAreRefused) {
  Run("CREATE TABLE " + Ref() + " AS SELECT 1 AS id");
  auto not_boolean = session_->Query("ALTER TABLE " + Ref() + " ADD CONSTRAINT c CHECK (id + 1)");
  ASSERT_FALSE(not_boolean.ok());
  EXPECT_THAT(not_boolean.status().message(),
              HasSubstr("CHECK constraint 'c' (id + 1) should be a boolean expression"));
  auto unknown = session_->Query("ALTER TABLE " + Ref() + " ADD CONSTRAINT c CHECK (nope > 0)");
  ASSERT_FALSE(unknown.ok());
  EXPECT_THAT(unknown.status().message(), HasSubstr("nope"));
  EXPECT_EQ(Snapshot()->version(), 0);
}

TEST_F(DeltaConstraintsTest, InsertsAreChecked) {
  Run("CREATE TABLE " + Ref() + " AS SELECT 1 AS id, 'a' AS name");
  Run("ALTER TABLE " + Ref() + " ADD CONSTRAINT positive CHECK (id > 0)");
  Run("ALTER TABLE " + Ref() + " ADD CONSTRAINT named CHECK (length(`name`) > 0)");
  // Straight from the query into the files: refused after the write, the files removed.
  ExpectRefused("INSERT INTO " + Ref() + " VALUES (2, 'b'), (-5, 'c'), (-6, 'd')",
                "CHECK constraint positive (id > 0) violated by row with values:\n - id : -");
  ExpectRefused("INSERT INTO " + Ref() + " VALUES (2, 'b'), (-5, 'c'), (-6, 'd')",
                "(2 rows violate it)");
  // NULL fails too (Delta Lake's rule, unlike SQL's CHECK).
  ExpectRefused("INSERT INTO " + Ref() + " VALUES (NULL, 'n')",
                "CHECK constraint positive (id > 0) violated by row with values:\n - id : null\n"
                "(1 row violates it)");
  ExpectRefused("INSERT INTO " + Ref() + " VALUES (3, '')",
                "CHECK constraint named (length(`name`) > 0) violated by row with values:\n"
                " - name : \n");
  Run("INSERT INTO " + Ref() + " VALUES (2, 'b')");
  EXPECT_EQ(testutil::CountOf(*session_, "SELECT count(*) FROM " + Ref()), 2);
  // REPLACE WHERE evaluates the rows into a table first: checked there.
  ExpectRefused("INSERT INTO " + Ref() + " REPLACE WHERE id = 2 SELECT -2 AS id, 'x' AS name",
                "CHECK constraint positive");
  EXPECT_OK(validity::ValidateDeltaTable(Path()));
}

TEST_F(DeltaConstraintsTest, PartitionedInsertsAreChecked) {
  Run("CREATE TABLE " + Ref() + " PARTITIONED BY (p) AS SELECT 1 AS id, 'x' AS p");
  Run("ALTER TABLE " + Ref() + " ADD CONSTRAINT small CHECK (id < 100 AND p <> 'bad')");
  ExpectRefused("INSERT INTO " + Ref() + " VALUES (5, 'x'), (6, 'bad')",
                "CHECK constraint small (id < 100 AND p <> 'bad') violated by row with values:\n"
                " - id : 6\n - p : bad\n");
  Run("INSERT INTO " + Ref() + " VALUES (5, 'x'), (6, 'y')");
  EXPECT_EQ(testutil::CountOf(*session_, "SELECT count(*) FROM " + Ref()), 3);
  EXPECT_OK(validity::ValidateDeltaTable(Path()));
}

TEST_F(DeltaConstraintsTest, UpdateAndMergeAreChecked) {
  Run("CREATE TABLE " + Ref() + " AS SELECT * FROM range(1, 11) r(id)");
  Run("ALTER TABLE " + Ref() + " ADD CONSTRAINT positive CHECK (id > 0)");
  ExpectRefused("UPDATE " + Ref() + " SET id = id - 5", "CHECK constraint positive (id > 0)");
  ExpectRefused("MERGE INTO " + Ref() + " t USING (SELECT 0 AS id) s ON t.id = s.id "
                "WHEN NOT MATCHED THEN INSERT *",
                " - id : 0\n(1 row violates it)");
  Run("UPDATE " + Ref() + " SET id = id + 5");
  Run("DELETE FROM " + Ref() + " WHERE id > 12");
  EXPECT_EQ(testutil::CountOf(*session_, "SELECT min(id) FROM " + Ref()), 6);
  EXPECT_EQ(testutil::CountOf(*session_, "SELECT count(*) FROM " + Ref()), 7);
  EXPECT_OK(validity::ValidateDeltaTable(Path()));
}

TEST_F(DeltaConstraintsTest, DropConstraint) {
  Run("CREATE TABLE " + Ref() + " AS SELECT 1 AS id");
  Run("ALTER TABLE " + Ref() + " ADD CONSTRAINT positive CHECK (id > 0)");
  ExpectRefused("INSERT INTO " + Ref() + " VALUES (-1)", "CHECK constraint positive");
  Run("ALTER TABLE " + Ref() + " DROP CONSTRAINT POSITIVE");
  EXPECT_EQ(Snapshot()->metadata().configuration.count("delta.constraints.positive"), 0u);
  EXPECT_EQ(LastCommit(), "DROP CONSTRAINT {expr=id > 0, name=POSITIVE}");
  Run("INSERT INTO " + Ref() + " VALUES (-1)");
  const int64_t version = Snapshot()->version();
  auto missing = session_->Query("ALTER TABLE " + Ref() + " DROP CONSTRAINT positive");
  ASSERT_FALSE(missing.ok());
  EXPECT_TRUE(missing.status().IsNotFound()) << missing.status().ToString();
  EXPECT_THAT(missing.status().message(), HasSubstr("Cannot drop nonexistent constraint positive"));
  Run("ALTER TABLE " + Ref() + " DROP CONSTRAINT IF EXISTS positive");
  EXPECT_EQ(Snapshot()->version(), version);  // nothing committed
  EXPECT_OK(validity::ValidateDeltaTable(Path()));
}

// A constraint written in Spark SQL (here substring, which Spark counts from 1 and DuckDB's
// session in its own dialect does not know as Spark's) is evaluated with Spark's semantics.
TEST_F(DeltaConstraintsTest, ConstraintsAreSparkSql) {
  Run("CREATE TABLE " + Ref() + " AS SELECT 'ab' AS code");
  Run("ALTER TABLE " + Ref() + " ADD CONSTRAINT prefix CHECK (substring(code, 0, 1) = 'a')");
  ExpectRefused("INSERT INTO " + Ref() + " VALUES ('ba')", "CHECK constraint prefix");
  Run("INSERT INTO " + Ref() + " VALUES ('ac')");
}

// A column invariant (the legacy form, in the column's metadata) is enforced like a constraint,
// under Delta Lake's name EXPRESSION(<expr>).
TEST_F(DeltaConstraintsTest, ColumnInvariantsAreEnforced) {
  Run("CREATE TABLE " + Ref() + " AS SELECT 5 AS x");
  auto snapshot = Snapshot();
  delta::Metadata m = snapshot->metadata();
  const std::string old_field = R"("name":"x","type":"integer","nullable":true,"metadata":{})";
  const size_t at = m.schema_string.find(old_field);
  ASSERT_NE(at, std::string::npos) << m.schema_string;
  m.schema_string.replace(
      at, old_field.size(),
      R"("name":"x","type":"integer","nullable":true,"metadata":{"delta.invariants":"{\"expression\":{\"expression\":\"x > 3\"}}"})");
  ASSERT_OK_AND_ASSIGN(auto txn, delta::Transaction::ForTable(*store_, "t", snapshot));
  txn->UpdateMetadata(m);
  ASSERT_OK(txn->Commit(*parquet_).status());

  ExpectRefused("INSERT INTO " + Ref() + " VALUES (2)",
                "CHECK constraint EXPRESSION(x > 3) (x > 3) violated by row with values:\n"
                " - x : 2\n");
  Run("INSERT INTO " + Ref() + " VALUES (4)");
  EXPECT_EQ(testutil::CountOf(*session_, "SELECT count(*) FROM " + Ref()), 2);
  EXPECT_OK(validity::ValidateDeltaTable(Path()));
}

}  // namespace
}  // namespace medallion::engine
