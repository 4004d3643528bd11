// VACUUM, RESTORE, CLONE and table_changes (engine/delta_maintenance.h) on real tables: Parquet
// files written by DuckDB, committed with delta::Transaction, read back through RegisterDeltaScan
// and the SQL session.
#include "engine/delta_maintenance.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>

#include "delta/snapshot.h"
#include "delta/transaction.h"
#include "engine/delta_scan.h"
#include "engine/duckdb_parquet_handler.h"
#include "engine/session.h"
#include "engine/sql_text.h"
#include "storage/local_object_store.h"

namespace medallion::engine {
namespace {

namespace fs = std::filesystem;

constexpr int64_t kHour = 3600LL * 1000;

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

class DeltaMaintenanceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::path(::testing::TempDir()) /
           ("delta_maintenance_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    auto session = Session::Open();
    ASSERT_TRUE(session.ok()) << session.status().ToString();
    session_ = std::move(*session);
    auto store = storage::LocalObjectStore::Make(dir_.string());
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(*store);
    auto parquet = DuckDbParquetHandler::Make();
    ASSERT_TRUE(parquet.ok());
    parquet_ = std::move(*parquet);
  }
  void TearDown() override { fs::remove_all(dir_); }

  // Writes `query`'s rows as Parquet at <dir>/<table>/<name> and returns its add action.
  delta::AddFile WriteFile(const std::string& table, const std::string& name,
                           const std::string& query) {
    fs::path path = dir_ / table / name;
    fs::create_directories(path.parent_path());
    auto r = session_->Query("COPY (" + query + ") TO " + QuoteString(path.string()) +
                             " (FORMAT parquet)");
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    delta::AddFile add;
    add.path = name;
    add.size = static_cast<int64_t>(fs::file_size(path));
    add.modification_time = NowMs();
    return add;
  }

  // Commits adds and removes of `table` (creating it, with columns id INT and name STRING, when
  // it has no log yet). Returns the version.
  int64_t Commit(const std::string& table, std::vector<delta::AddFile> adds,
                 std::vector<std::string> removes = {}, delta::StringMap config = {}) {
    std::shared_ptr<const delta::Snapshot> snapshot;
    if (fs::exists(dir_ / table / "_delta_log")) {
      auto s = delta::SnapshotBuilder(*store_, table).Build(*parquet_);
      EXPECT_TRUE(s.ok()) << s.status().ToString();
      snapshot = *s;
    }
    auto txn = delta::Transaction::ForTable(*store_, table, snapshot);
    EXPECT_TRUE(txn.ok()) << txn.status().ToString();
    if (!snapshot) {
      delta::Metadata m;
      m.id = delta::GenerateUuid();
      m.schema_string =
          R"({"type":"struct","fields":[{"name":"id","type":"integer","nullable":true,"metadata":{}},{"name":"name","type":"string","nullable":true,"metadata":{}}]})";
      m.configuration = std::move(config);
      m.created_time = NowMs();
      (*txn)->UpdateMetadata(std::move(m));
    }
    std::vector<delta::RemoveFile> rs;
    for (const auto& path : removes) {
      delta::RemoveFile r;
      r.path = path;
      r.deletion_timestamp = NowMs();
      r.data_change = true;
      for (const auto& f : snapshot->files()) {
        if (f.path == path) r.size = f.size;
      }
      rs.push_back(std::move(r));
    }
    (*txn)->RemoveFiles(std::move(rs));
    (*txn)->AddFiles(std::move(adds));
    auto committed = (*txn)->Commit(*parquet_);
    EXPECT_TRUE(committed.ok()) << committed.status().ToString();
    return committed.ok() ? committed->version : -1;
  }

  // The rows of `table` (at `version`, latest when -1) as sorted text.
  std::string Rows(storage::ObjectStore& store, const std::string& table, int64_t version = -1) {
    delta::SnapshotBuilder builder(store, table);
    if (version >= 0) builder.AtVersion(version);
    auto snapshot = builder.Build(*parquet_);
    if (!snapshot.ok()) return "error: " + snapshot.status().ToString();
    Status s = RegisterDeltaScan(session_->connection(), **snapshot, store, "scanned");
    if (!s.ok()) return "error: " + s.ToString();
    return Text("SELECT id, name FROM scanned ORDER BY id");
  }
  std::string Rows(const std::string& table, int64_t version = -1) {
    return Rows(*store_, table, version);
  }
  std::string Text(const std::string& sql) {
    auto r = session_->Query(sql);
    if (!r.ok()) return "error: " + r.status().ToString();
    std::string out;
    for (size_t row = 0; row < r->row_count(); ++row) {
      for (size_t c = 0; c < r->column_count(); ++c) out += (c ? "," : "") + r->GetText(c, row);
      out += ";";
    }
    return out;
  }
  // Columns of DESCRIBE HISTORY (newest first): 0 version, 2 operation, 3 operationParameters,
  // 7 operationMetrics; rows joined by ';', columns by '|'.
  std::string History(const std::string& table, std::vector<size_t> columns, size_t limit = 0) {
    auto r = session_->Query("DESCRIBE HISTORY " + Ref(table));
    if (!r.ok()) return "error: " + r.status().ToString();
    std::string out;
    for (size_t row = 0; row < r->row_count() && (limit == 0 || row < limit); ++row) {
      for (size_t i = 0; i < columns.size(); ++i) out += (i ? "|" : "") + r->GetText(columns[i], row);
      out += ";";
    }
    return out;
  }
  void Age(const std::string& table, const std::string& name, int64_t hours) {
    auto t = fs::last_write_time(dir_ / table / name);
    fs::last_write_time(dir_ / table / name, t - std::chrono::hours(hours));
  }
  std::string Ref(const std::string& table) { return "delta.`" + (dir_ / table).string() + "`"; }

  // t: v0 adds a (ids 1-2), v1 adds b (3), v2 removes a.
  void MakeThreeVersions(const std::string& table = "t", delta::StringMap config = {}) {
    Commit(table, {WriteFile(table, "a.parquet", "SELECT * FROM (VALUES (1, 'x'), (2, 'y')) v(id, name)")}, {},
           config);
    Commit(table, {WriteFile(table, "b.parquet", "SELECT 3 AS id, 'z' AS name")});
    Commit(table, {}, {"a.parquet"});
  }

  fs::path dir_;
  std::unique_ptr<Session> session_;
  std::unique_ptr<storage::LocalObjectStore> store_;
  std::unique_ptr<DuckDbParquetHandler> parquet_;
};

TEST_F(DeltaMaintenanceTest, VacuumRefusesAShortRetentionUnlessTheCheckIsOff) {
  MakeThreeVersions();
  VacuumOptions options;
  options.retention_hours = 1;
  auto refused = Vacuum(*store_, "t", *parquet_, options);
  ASSERT_FALSE(refused.ok());
  EXPECT_TRUE(refused.status().IsInvalidArgument());
  EXPECT_NE(refused.status().message().find("retention of 1 hours is refused"), std::string::npos)
      << refused.status().message();
  EXPECT_NE(refused.status().message().find("delta.deletedFileRetentionDuration"), std::string::npos);
  options.retention_check = false;
  options.dry_run = true;
  EXPECT_TRUE(Vacuum(*store_, "t", *parquet_, options).ok());
  // A table property lowers the minimum.
  MakeThreeVersions("short", {{"delta.deletedFileRetentionDuration", "interval 1 hour"}});
  options.retention_check = true;
  EXPECT_TRUE(Vacuum(*store_, "short", *parquet_, options).ok());
}

TEST_F(DeltaMaintenanceTest, VacuumDryRunListsThenVacuumDeletesAndTheTableStillReads) {
  MakeThreeVersions();
  WriteFile("t", "orphan.parquet", "SELECT 9 AS id, 'o' AS name");
  WriteFile("t", "_change_data/cdc-old.parquet", "SELECT 9 AS id, 'o' AS name, 'insert' AS _change_type");
  WriteFile("t", "_hidden/keep.parquet", "SELECT 1 AS id");
  const std::string before = Rows("t");
  EXPECT_EQ(before, "3,z;");

  // Everything is younger than the default week: nothing to delete.
  auto none = Vacuum(*store_, "t", *parquet_, {.dry_run = true});
  ASSERT_TRUE(none.ok()) << none.status().ToString();
  EXPECT_TRUE(none->files.empty());

  // Zero retention: the removed file a, the orphan and the old change data file go.
  VacuumOptions options{.retention_hours = 0, .dry_run = true, .retention_check = false};
  auto dry = Vacuum(*store_, "t", *parquet_, options);
  ASSERT_TRUE(dry.ok()) << dry.status().ToString();
  ASSERT_EQ(dry->files.size(), 3u);
  EXPECT_EQ(dry->files[0], (dir_ / "t/_change_data/cdc-old.parquet").string());
  EXPECT_EQ(dry->files[1], (dir_ / "t/a.parquet").string());
  EXPECT_EQ(dry->files[2], (dir_ / "t/orphan.parquet").string());
  EXPECT_TRUE(fs::exists(dir_ / "t/a.parquet"));

  // With 1 hour retention only files older than an hour go, and a's tombstone is too young.
  Age("t", "orphan.parquet", 2);
  Age("t", "a.parquet", 2);
  options.retention_hours = 1;
  auto aged = Vacuum(*store_, "t", *parquet_, options);
  ASSERT_TRUE(aged.ok());
  EXPECT_EQ(aged->files, std::vector<std::string>{(dir_ / "t/orphan.parquet").string()});

  options.retention_hours = 0;
  options.dry_run = false;
  auto done = Vacuum(*store_, "t", *parquet_, options);
  ASSERT_TRUE(done.ok()) << done.status().ToString();
  EXPECT_EQ(done->files.size(), 3u);
  EXPECT_FALSE(fs::exists(dir_ / "t/a.parquet"));
  EXPECT_FALSE(fs::exists(dir_ / "t/orphan.parquet"));
  EXPECT_TRUE(fs::exists(dir_ / "t/b.parquet"));
  EXPECT_TRUE(fs::exists(dir_ / "t/_hidden/keep.parquet"));
  EXPECT_EQ(Rows("t"), before);
  // VACUUM START and VACUUM END were recorded.
  EXPECT_EQ(History("t", {2, 7}, 2),
            "VACUUM END|{numDeletedFiles=3, numVacuumedDirectories=0};VACUUM START|"
            "{numFilesToDelete=3, sizeOfDataToDelete=" + std::to_string(done->bytes) + "};");
}

TEST_F(DeltaMaintenanceTest, VacuumInSql) {
  MakeThreeVersions();
  EXPECT_NE(Text("VACUUM " + Ref("t") + " RETAIN 0 HOURS DRY RUN").find("is refused"),
            std::string::npos);
  EXPECT_EQ(Text("SET spark.databricks.delta.retentionDurationCheck.enabled = false"),
            "spark.databricks.delta.retentionDurationCheck.enabled,false;");
  EXPECT_EQ(Text("VACUUM " + Ref("t") + " RETAIN 0 HOURS DRY RUN"),
            (dir_ / "t/a.parquet").string() + ";");
  EXPECT_TRUE(fs::exists(dir_ / "t/a.parquet"));
  EXPECT_EQ(Text("VACUUM " + Ref("t") + " RETAIN 0 HOURS"), (dir_ / "t/a.parquet").string() + ";");
  EXPECT_FALSE(fs::exists(dir_ / "t/a.parquet"));
  EXPECT_EQ(Text("VACUUM " + Ref("t")), "");
  EXPECT_NE(Text("VACUUM " + Ref("t") + " RETAIN x HOURS").find("expected RETAIN <number> HOURS"),
            std::string::npos);
}

TEST_F(DeltaMaintenanceTest, RestoreToAnOlderVersionReadsAsThatVersion) {
  MakeThreeVersions();
  Commit("t", {WriteFile("t", "c.parquet", "SELECT 4 AS id, 'w' AS name")});  // v3
  const std::string v1 = Rows("t", 1);
  EXPECT_EQ(v1, "1,x;2,y;3,z;");
  auto restored = Restore(*store_, "t", *parquet_, {.version = 1});
  ASSERT_TRUE(restored.ok()) << restored.status().ToString();
  EXPECT_EQ(restored->commit_version, 4);
  EXPECT_EQ(restored->plan.num_restored_files, 1);  // a
  EXPECT_EQ(restored->plan.num_removed_files, 1);   // c
  EXPECT_EQ(restored->plan.num_of_files_after_restore, 2);
  EXPECT_EQ(Rows("t"), v1);
  EXPECT_EQ(History("t", {2, 3}, 1), "RESTORE|{version=1};");

  // In SQL, by version and by timestamp (now: the latest version, which equals v1).
  auto size = [&](const char* name) { return std::to_string(fs::file_size(dir_ / "t" / name)); };
  EXPECT_EQ(Text("RESTORE TABLE " + Ref("t") + " TO VERSION AS OF 3"),
            std::to_string(fs::file_size(dir_ / "t/b.parquet") + fs::file_size(dir_ / "t/c.parquet")) +
                ",2,1,1," + size("a.parquet") + "," + size("c.parquet") + ";");
  EXPECT_EQ(Rows("t"), Rows("t", 3));
  EXPECT_FALSE(Text("RESTORE " + Ref("t") + " TO TIMESTAMP AS OF '2999-01-01'").starts_with("error"));
  EXPECT_EQ(Rows("t"), Rows("t", 3));
  EXPECT_NE(Text("RESTORE " + Ref("t") + " VERSION AS OF 99").find("NotFound"), std::string::npos);
  EXPECT_NE(Text("RESTORE " + Ref("t")).find("expected VERSION AS OF"), std::string::npos);
}

TEST_F(DeltaMaintenanceTest, RestoreAfterVacuumNamesTheMissingFile) {
  MakeThreeVersions();
  ASSERT_TRUE(Vacuum(*store_, "t", *parquet_, {.retention_hours = 0, .retention_check = false}).ok());
  auto restored = Restore(*store_, "t", *parquet_, {.version = 0});
  ASSERT_FALSE(restored.ok());
  EXPECT_TRUE(restored.status().IsNotFound());
  EXPECT_NE(restored.status().message().find("its file a.parquet no longer exists (VACUUM"),
            std::string::npos)
      << restored.status().message();
  EXPECT_EQ(Rows("t"), "3,z;");
}

TEST_F(DeltaMaintenanceTest, ShallowCloneReadsAsTheSourceAndSurvivesSourceAppends) {
  MakeThreeVersions();
  auto cloned = Clone(*store_, "t", *store_, "shallow", *parquet_,
                      {.version = 1, .deep = false});
  ASSERT_TRUE(cloned.ok()) << cloned.status().ToString();
  EXPECT_EQ(cloned->source_num_of_files, 2);
  EXPECT_EQ(cloned->num_copied_files, 0);
  EXPECT_EQ(Rows("shallow"), Rows("t", 1));
  EXPECT_FALSE(fs::exists(dir_ / "shallow/a.parquet"));
  Commit("t", {WriteFile("t", "c.parquet", "SELECT 4 AS id, 'w' AS name")});
  EXPECT_EQ(Rows("shallow"), "1,x;2,y;3,z;");
  auto snapshot = delta::SnapshotBuilder(*store_, "shallow").Build(*parquet_);
  ASSERT_TRUE(snapshot.ok());
  EXPECT_TRUE((*snapshot)->files()[0].path.starts_with("file:///")) << (*snapshot)->files()[0].path;
  auto source = delta::SnapshotBuilder(*store_, "t").Build(*parquet_);
  EXPECT_NE((*snapshot)->metadata().id, (*source)->metadata().id);
  std::string history = History("shallow", {2, 3});
  EXPECT_TRUE(history.starts_with("CLONE|{isShallow=true, source='file://")) << history;
  EXPECT_TRUE(history.ends_with(", sourceVersion=1};")) << history;
  // A second clone to the same target is refused; OR REPLACE replaces it.
  auto again = Clone(*store_, "t", *store_, "shallow", *parquet_, {.deep = false});
  EXPECT_TRUE(again.status().IsAlreadyExists()) << again.status().ToString();
  auto replaced = Clone(*store_, "t", *store_, "shallow", *parquet_, {.deep = false, .replace = true});
  ASSERT_TRUE(replaced.ok()) << replaced.status().ToString();
  EXPECT_EQ(replaced->num_removed_files, 2);
  EXPECT_EQ(Rows("shallow"), "3,z;4,w;");
}

TEST_F(DeltaMaintenanceTest, DeepCloneIsIndependentOfTheSource) {
  MakeThreeVersions();
  std::string result = Text("CREATE TABLE " + Ref("deep") + " DEEP CLONE " + Ref("t"));
  EXPECT_EQ(result.substr(result.find(',') + 1), "1,0,1,0," + std::to_string(fs::file_size(dir_ / "t/b.parquet")) + ";")
      << result;
  EXPECT_TRUE(fs::exists(dir_ / "deep/b.parquet"));
  fs::remove_all(dir_ / "t");
  EXPECT_EQ(Rows("deep"), "3,z;");
  EXPECT_EQ(History("deep", {2, 3}),
            "CLONE|{isShallow=false, source=" + Ref("t") + ", sourceVersion=2};");
  // SHALLOW in SQL, with time travel on the source, and an existing target.
  MakeThreeVersions("t2");
  EXPECT_EQ(Text("CREATE TABLE " + Ref("s2") + " SHALLOW CLONE " + Ref("t2") + " VERSION AS OF 0"),
            std::to_string(fs::file_size(dir_ / "t2/a.parquet")) + ",1,0,0,0,0;");
  EXPECT_EQ(Text("SELECT count(*) FROM " + Ref("s2")), "2;");
  EXPECT_NE(Text("CREATE TABLE " + Ref("s2") + " SHALLOW CLONE " + Ref("t2")).find("AlreadyExists"),
            std::string::npos);
  EXPECT_FALSE(
      Text("CREATE OR REPLACE TABLE " + Ref("s2") + " SHALLOW CLONE " + Ref("t2")).starts_with("error"));
  EXPECT_EQ(Text("SELECT count(*) FROM " + Ref("s2")), "1;");
  // A failed clone leaves no target folder behind.
  EXPECT_NE(Text("CREATE TABLE " + Ref("s3") + " CLONE " + Ref("missing")).find("NotFound"),
            std::string::npos);
  EXPECT_FALSE(fs::exists(dir_ / "s3"));
}

TEST_F(DeltaMaintenanceTest, TableChangesFromAddsAndRemoves) {
  MakeThreeVersions();
  const std::string path = (dir_ / "t").string();
  EXPECT_EQ(Text("SELECT id, name, _change_type, _commit_version FROM table_changes('" + path +
                 "', 0) ORDER BY _commit_version, _change_type, id"),
            "1,x,insert,0;2,y,insert,0;3,z,insert,1;1,x,delete,2;2,y,delete,2;");
  EXPECT_EQ(Text("SELECT count(*) FROM table_changes('" + path + "', 1, 1)"), "1;");
  EXPECT_EQ(Text("SELECT count(*), min(_commit_version) FROM table_changes('" + path + "', 2)"), "2,2;");
  // Column types and the commit timestamp.
  EXPECT_EQ(Text("SELECT any_value(typeof(_commit_version)), any_value(typeof(_commit_timestamp)), "
                 "abs(epoch(now()) - epoch(max(_commit_timestamp))) < 600 FROM table_changes('" +
                 path + "', 0)"),
            "BIGINT,TIMESTAMP WITH TIME ZONE,true;");
  // By timestamp: everything since 2000, nothing after 2999.
  EXPECT_EQ(Text("SELECT count(*) FROM table_changes('" + path + "', '2000-01-01')"), "5;");
  EXPECT_NE(Text("SELECT * FROM table_changes('" + path + "', '2999-01-01')").find("after the latest commit"),
            std::string::npos);
  // Errors.
  EXPECT_NE(Text("SELECT * FROM table_changes('" + path + "', 5)").find("start version 5 is after the latest version 2"),
            std::string::npos);
  EXPECT_NE(Text("SELECT * FROM table_changes('" + path + "', 2, 1)").find("before its start"),
            std::string::npos);
  EXPECT_NE(Text("SELECT * FROM table_changes('" + path + "')").find("table_changes takes"),
            std::string::npos);
  EXPECT_NE(Text("SELECT * FROM table_changes('/no/such/table', 0)").find("NotFound"), std::string::npos);
}

TEST_F(DeltaMaintenanceTest, TableChangesRefusesRewritesWithoutChangeDataFeed) {
  MakeThreeVersions();
  // v3 rewrites b into c (an UPDATE without change data).
  Commit("t", {WriteFile("t", "c.parquet", "SELECT 3 AS id, 'Z' AS name")}, {"b.parquet"});
  const std::string path = (dir_ / "t").string();
  std::string err = Text("SELECT * FROM table_changes('" + path + "', 0)");
  EXPECT_NE(err.find("change data was not recorded for version 3"), std::string::npos) << err;
  EXPECT_EQ(Text("SELECT count(*) FROM table_changes('" + path + "', 0, 2)"), "5;");
}

TEST_F(DeltaMaintenanceTest, TableChangesReadsChangeDataFiles) {
  MakeThreeVersions("t", {{"delta.enableChangeDataFeed", "true"}});
  // v3: an UPDATE of b (3,z -> 3,Z) with change data files, written by hand.
  delta::AddFile cdc_file = WriteFile(
      "t", "_change_data/cdc-3.parquet",
      "SELECT * FROM (VALUES (3, 'z', 'update_preimage'), (3, 'Z', 'update_postimage')) "
      "v(id, name, _change_type)");
  auto snapshot = delta::SnapshotBuilder(*store_, "t").Build(*parquet_);
  ASSERT_TRUE(snapshot.ok());
  auto txn = delta::Transaction::ForTable(*store_, "t", *snapshot);
  ASSERT_TRUE(txn.ok());
  delta::RemoveFile remove_b;
  remove_b.path = "b.parquet";
  remove_b.deletion_timestamp = NowMs();
  (*txn)->RemoveFiles({remove_b});
  (*txn)->AddFiles({WriteFile("t", "c.parquet", "SELECT 3 AS id, 'Z' AS name")});
  (*txn)->AddCdcFiles({delta::AddCdcFile{cdc_file.path, {}, cdc_file.size, false, {}}});
  ASSERT_TRUE((*txn)->Commit(*parquet_).ok());

  const std::string path = (dir_ / "t").string();
  EXPECT_EQ(Text("SELECT id, name, _change_type, _commit_version FROM table_changes('" + path +
                 "', 2, 3) ORDER BY _commit_version, _change_type, name"),
            "1,x,delete,2;2,y,delete,2;3,Z,update_postimage,3;3,z,update_preimage,3;");
  EXPECT_EQ(Rows("t"), "3,Z;");
  // table_changes joins with a table reference in one statement.
  EXPECT_EQ(Text("SELECT count(*) FROM table_changes('" + path + "', 3) AS c JOIN " + Ref("t") +
                 " AS t ON c.id = t.id"),
            "2;");
}

}  // namespace
}  // namespace medallion::engine
