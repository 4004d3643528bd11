// VACUUM, RESTORE, CLONE, OPTIMIZE and table_changes (engine/delta_maintenance.h) on real tables:
// Parquet files written by DuckDB, committed with delta::Transaction, read back through
// RegisterDeltaScan and the SQL session; tables OPTIMIZE writes are checked with
// test/delta_validity.h.
#include "engine/delta_maintenance.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>

#include <fmt/format.h>

#include "delta/commit_reader.h"
#include "delta/snapshot.h"
#include "delta/test_util.h"
#include "delta/transaction.h"
#include "delta_validity.h"
#include "engine/delta_dml.h"
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

// ---- OPTIMIZE --------------------------------------------------------------------------------

class DeltaOptimizeTest : public DeltaMaintenanceTest {
 protected:
  std::string Path(const std::string& table) { return (dir_ / table).string(); }

  // `table` made by SQL: CTAS then INSERTs, one small data file per statement (and per partition).
  void MakeSmallFiles(const std::string& table, int statements,
                      const std::string& partitioned_by = "", const std::string& properties = "") {
    for (int i = 0; i < statements; ++i) {
      std::string rows = fmt::format(
          "SELECT range::INTEGER AS id, 'name' || range AS name, (range % 3)::INTEGER AS p FROM "
          "range({}, {})",
          i * 10, i * 10 + 10);
      std::string sql =
          i == 0 ? "CREATE TABLE " + Ref(table) +
                       (partitioned_by.empty() ? "" : " PARTITIONED BY (" + partitioned_by + ")") +
                       (properties.empty() ? "" : " TBLPROPERTIES (" + properties + ")") + " AS " +
                       rows
                 : "INSERT INTO " + Ref(table) + " " + rows;
      auto r = session_->Query(sql);
      ASSERT_TRUE(r.ok()) << r.status().ToString();
    }
  }
  std::shared_ptr<const delta::Snapshot> Latest(const std::string& table) {
    auto s = delta::SnapshotBuilder(*store_, table).Build(*parquet_);
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    return s.ok() ? *s : nullptr;
  }
  std::string AllRows(const std::string& table) {
    return Text("SELECT * FROM " + Ref(table) + " ORDER BY ALL");
  }
  Result<OptimizeResult> RunOptimize(const std::string& table, OptimizeOptions options = {}) {
    return Optimize(session_->connection(), *store_, table, *parquet_, options);
  }
  // Every add and remove of commit `version` has dataChange=false; returns its commitInfo JSON.
  std::string CheckNoDataChange(const std::string& table, int64_t version) {
    auto actions = delta::ReadCommitActions(*store_, table, version);
    EXPECT_TRUE(actions.ok()) << actions.status().ToString();
    std::string info;
    for (const auto& a : *actions) {
      if (const auto* add = std::get_if<delta::AddFile>(&a)) {
        EXPECT_FALSE(add->data_change) << add->path;
      } else if (const auto* r = std::get_if<delta::RemoveFile>(&a)) {
        EXPECT_FALSE(r->data_change) << r->path;
      } else if (const auto* c = std::get_if<delta::CommitInfo>(&a)) {
        info = c->raw_json;
      } else {
        ADD_FAILURE() << "unexpected action " << delta::ActionName(a);
      }
    }
    return info;
  }
};

TEST_F(DeltaOptimizeTest, CompactsSmallFilesIntoOneWithoutChangingTheRows) {
  MakeSmallFiles("t", 5);
  const std::string before = AllRows("t");
  auto start = Latest("t");
  ASSERT_EQ(start->files().size(), 5u);
  int64_t removed_bytes = 0;
  for (const auto& f : start->files()) removed_bytes += f.size;

  auto optimized = RunOptimize("t");
  ASSERT_TRUE(optimized.ok()) << optimized.status().ToString();
  EXPECT_TRUE(optimized->committed);
  EXPECT_EQ(optimized->version, 5);
  EXPECT_EQ(optimized->num_files_removed, 5);
  EXPECT_EQ(optimized->num_files_added, 1);
  EXPECT_EQ(optimized->files_removed.total_size, removed_bytes);
  EXPECT_EQ(optimized->partitions_optimized, 1);
  EXPECT_EQ(optimized->num_bins, 1);
  EXPECT_EQ(optimized->num_batches, 1);
  EXPECT_EQ(optimized->total_considered_files, 5);
  EXPECT_EQ(optimized->total_files_skipped, 0);
  auto after = Latest("t");
  ASSERT_EQ(after->files().size(), 1u);
  EXPECT_EQ(optimized->files_added.total_size, after->files()[0].size);
  EXPECT_EQ(*optimized->files_added.min, after->files()[0].size);
  EXPECT_TRUE(after->files()[0].stats.has_value());
  EXPECT_EQ(AllRows("t"), before);
  EXPECT_EQ(Text("SELECT count(*) FROM " + Ref("t")), "50;");
  EXPECT_EQ(AllRows("t"), Text("SELECT * FROM " + Ref("t") + " VERSION AS OF 4 ORDER BY ALL"));

  const std::string info = CheckNoDataChange("t", 5);
  EXPECT_NE(info.find("\"operation\":\"OPTIMIZE\""), std::string::npos) << info;
  EXPECT_NE(info.find("\"isBlindAppend\":false"), std::string::npos) << info;
  const std::string size = std::to_string(after->files()[0].size);
  EXPECT_EQ(History("t", {2, 3, 7}, 1),
            "OPTIMIZE|{auto=false, clusterBy='[]', predicate='[]', zOrderBy='[]'}|{maxFileSize=" +
                size + ", minFileSize=" + size + ", numAddedBytes=" + size +
                ", numAddedFiles=1, numDeletionVectorsRemoved=0, numRemovedBytes=" +
                std::to_string(removed_bytes) + ", numRemovedFiles=5, p25FileSize=" + size +
                ", p50FileSize=" + size + ", p75FileSize=" + size + "};");
  Status valid = validity::ValidateDeltaTable(Path("t"));
  EXPECT_TRUE(valid.ok()) << valid.ToString();

  // Idempotent: a second OPTIMIZE finds nothing to do and commits nothing.
  auto again = RunOptimize("t");
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_FALSE(again->committed);
  EXPECT_EQ(again->version, 5);
  EXPECT_EQ(again->num_files_removed, 0);
  EXPECT_EQ(again->total_considered_files, 1);
  EXPECT_EQ(again->total_files_skipped, 1);
  EXPECT_FALSE(again->files_added.min.has_value());
  EXPECT_EQ(Latest("t")->version(), 5);
}

TEST_F(DeltaOptimizeTest, ChangeDataFeedAndHistoryReadersSkipTheCommit) {
  MakeSmallFiles("t", 3, "", "'delta.enableChangeDataFeed' = 'true'");
  ASSERT_TRUE(RunOptimize("t").ok());
  // table_changes sees the three inserts and nothing of the OPTIMIZE commit (version 3).
  EXPECT_EQ(Text("SELECT count(*), max(_commit_version), count(DISTINCT _change_type) FROM "
                 "table_changes('" +
                 Path("t") + "', 0)"),
            "30,2,1;");
  EXPECT_EQ(Text("SELECT count(*) FROM table_changes('" + Path("t") + "', 3)"), "0;");
  // Without change data feed too (a dataChange=false rewrite is not a change).
  MakeSmallFiles("plain", 2);
  ASSERT_TRUE(RunOptimize("plain").ok());
  EXPECT_EQ(Text("SELECT count(*) FROM table_changes('" + Path("plain") + "', 0)"), "20;");
}

TEST_F(DeltaOptimizeTest, PartitionedTablesAreCompactedPerPartitionAndWhereSelectsPartitions) {
  MakeSmallFiles("t", 3, "p");
  // One more file only in p=0, and a partition (p=7) with a single file.
  ASSERT_TRUE(
      session_
          ->Query("INSERT INTO " + Ref("t") + " SELECT 100, 'x', 0 UNION ALL SELECT 101, 'y', 7")
          .ok());
  const std::string before = AllRows("t");
  ASSERT_EQ(Latest("t")->files().size(), 11u);

  std::string result = Text("OPTIMIZE " + Ref("t") + " WHERE p = 1");
  EXPECT_TRUE(result.starts_with(Path("t") + ",{'numFilesAdded': 1, 'numFilesRemoved': 3, "))
      << result;
  EXPECT_NE(result.find("'partitionsOptimized': 1, 'numBins': 1, 'numBatches': 1, "
                        "'totalConsideredFiles': 3, 'totalFilesSkipped': 0, "),
            std::string::npos)
      << result;
  EXPECT_EQ(History("t", {3}, 1),
            "{auto=false, clusterBy='[]', predicate='[\"p = 1\"]', zOrderBy='[]'};");
  auto snapshot = Latest("t");
  std::map<std::string, int> per_partition;
  for (const auto& f : snapshot->files()) ++per_partition[*f.partition_values.at("p")];
  EXPECT_EQ(per_partition, (std::map<std::string, int>{{"0", 4}, {"1", 1}, {"2", 3}, {"7", 1}}));

  // The rest: p=0 and p=2 are compacted, p=7's single file is left.
  auto all = RunOptimize("t");
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  EXPECT_EQ(all->num_files_removed, 7);
  EXPECT_EQ(all->num_files_added, 2);
  EXPECT_EQ(all->partitions_optimized, 2);
  EXPECT_EQ(all->total_considered_files, 9);
  EXPECT_EQ(all->total_files_skipped, 2);
  EXPECT_EQ(Latest("t")->files().size(), 4u);
  EXPECT_EQ(AllRows("t"), before);
  auto compacted = Latest("t");
  for (const auto& f : compacted->files()) {
    EXPECT_TRUE(f.path.starts_with("p=" + *f.partition_values.at("p") + "/part-")) << f.path;
  }
  Status valid = validity::ValidateDeltaTable(Path("t"));
  EXPECT_TRUE(valid.ok()) << valid.ToString();
  EXPECT_FALSE(RunOptimize("t")->committed);

  // WHERE on a partition column that selects nothing, with a qualified or backticked name.
  EXPECT_NE(Text("OPTIMIZE " + Ref("t") + " WHERE `p` > 100").find("'numFilesRemoved': 0"),
            std::string::npos);
  // Errors.
  EXPECT_NE(Text("OPTIMIZE " + Ref("t") + " WHERE id = 1")
                .find("Predicate references non-partition column 'id'. Only the partition "
                      "columns may be referenced: [p]"),
            std::string::npos)
      << Text("OPTIMIZE " + Ref("t") + " WHERE id = 1");
  EXPECT_NE(Text("OPTIMIZE " + Ref("t") + " WHERE nope = 1").find("nope"), std::string::npos);
  std::string zorder = Text("OPTIMIZE " + Ref("t") + " WHERE p = 0 ZORDER BY (id)");
  EXPECT_NE(zorder.find("NotSupported"), std::string::npos) << zorder;
  EXPECT_NE(zorder.find("ZORDER BY is not supported"), std::string::npos) << zorder;
  EXPECT_NE(Text("OPTIMIZE " + Ref("t") + " WHERE").find("WHERE needs a predicate"),
            std::string::npos);
  EXPECT_NE(Text("OPTIMIZE " + Ref("t") + " VERSION AS OF 1").find("NotSupported"),
            std::string::npos);
  EXPECT_NE(Text("OPTIMIZE " + Ref("missing")).find("NotFound"), std::string::npos);
}

TEST_F(DeltaOptimizeTest, WhereComparesTypedPartitionValuesIncludingNull) {
  for (int i = 0; i < 2; ++i) {
    std::string rows = fmt::format(
        "SELECT range::INTEGER AS id, DATE '2024-01-01' + (range % 3)::INTEGER AS d, CASE WHEN "
        "range % 2 = 0 THEN 'x' END AS s FROM range({}, {})",
        i * 6, i * 6 + 6);
    ASSERT_TRUE(session_
                    ->Query(i == 0
                                ? "CREATE TABLE " + Ref("t") + " PARTITIONED BY (d, s) AS " + rows
                                : "INSERT INTO " + Ref("t") + " " + rows)
                    .ok());
  }
  ASSERT_EQ(Latest("t")->files().size(), 12u);
  const std::string before = AllRows("t");
  std::string result = Text("OPTIMIZE " + Ref("t") + " WHERE d >= DATE '2024-01-02' AND s IS NULL");
  EXPECT_NE(result.find("'numFilesAdded': 2, 'numFilesRemoved': 4"), std::string::npos) << result;
  EXPECT_NE(result.find("'partitionsOptimized': 2"), std::string::npos) << result;
  EXPECT_NE(result.find("'totalConsideredFiles': 4"), std::string::npos) << result;
  EXPECT_EQ(AllRows("t"), before);
  auto snapshot = Latest("t");
  for (const auto& f : snapshot->files()) {
    if (f.data_change) continue;  // the two new files
    EXPECT_FALSE(f.partition_values.at("s").has_value()) << f.path;
    EXPECT_TRUE(f.path.find("s=__HIVE_DEFAULT_PARTITION__/part-") != std::string::npos) << f.path;
  }
  Status valid = validity::ValidateDeltaTable(Path("t"));
  EXPECT_TRUE(valid.ok()) << valid.ToString();
}

TEST_F(DeltaOptimizeTest, TargetFileSizeFromTheTablePropertyAndTheSessionSetting) {
  MakeSmallFiles("t", 6);
  auto files = Latest("t")->files();
  int64_t largest = 0;
  for (const auto& f : files) largest = std::max(largest, f.size);
  // A session maximum below every file's size: nothing is small.
  EXPECT_EQ(Text("SET spark.databricks.delta.optimize.maxFileSize = 100"),
            "spark.databricks.delta.optimize.maxFileSize,100;");
  EXPECT_NE(Text("OPTIMIZE " + Ref("t")).find("'numFilesRemoved': 0"), std::string::npos);
  EXPECT_NE(Text("SET spark.databricks.delta.optimize.maxFileSize = lots").find("positive number"),
            std::string::npos);
  // Room for two files per bin: three bins of two.
  EXPECT_FALSE(
      Text("SET spark.databricks.delta.optimize.maxFileSize = " + std::to_string(2 * largest + 1))
          .starts_with("error"));
  const std::string before = AllRows("t");
  std::string result = Text("OPTIMIZE " + Ref("t"));
  EXPECT_NE(result.find("'numFilesAdded': 3, 'numFilesRemoved': 6"), std::string::npos) << result;
  EXPECT_EQ(AllRows("t"), before);

  // delta.targetFileSize on the table takes precedence over the session.
  MakeSmallFiles("prop", 4, "", "'delta.targetFileSize' = '100'");
  EXPECT_NE(Text("OPTIMIZE " + Ref("prop")).find("'numFilesRemoved': 0"), std::string::npos);
  MakeSmallFiles("bad", 2, "", "'delta.targetFileSize' = 'huge'");
  EXPECT_NE(Text("OPTIMIZE " + Ref("bad")).find("delta.targetFileSize: 'huge'"), std::string::npos);
}

TEST_F(DeltaOptimizeTest, DeletionVectorsArePurged) {
  auto golden = delta::testing::GoldenDir();
  if (!golden) GTEST_SKIP() << delta::testing::kSkipNoGolden;
  fs::copy(fs::path(*golden) / "dv-partitioned-with-checkpoint" / "delta", dir_ / "dv",
           fs::copy_options::recursive);
  const std::string before = AllRows("dv");
  auto start = Latest("dv");
  int64_t dvs = 0, deleted = 0;
  for (const auto& f : start->files()) {
    if (f.deletion_vector) {
      ++dvs;
      deleted += f.deletion_vector->cardinality;
    }
  }
  ASSERT_GT(dvs, 0);

  auto optimized = RunOptimize("dv");
  ASSERT_TRUE(optimized.ok()) << optimized.status().ToString();
  EXPECT_TRUE(optimized->committed);
  EXPECT_EQ(optimized->num_deletion_vectors_removed, dvs);
  EXPECT_EQ(optimized->num_deletion_vector_rows_removed, deleted);
  auto after = Latest("dv");
  for (const auto& f : after->files()) EXPECT_FALSE(f.deletion_vector.has_value()) << f.path;
  EXPECT_EQ(AllRows("dv"), before);
  CheckNoDataChange("dv", after->version());
  Status valid = validity::ValidateDeltaTable(Path("dv"));
  EXPECT_TRUE(valid.ok()) << valid.ToString();
  EXPECT_NE(History("dv", {7}, 1).find("numDeletionVectorsRemoved=" + std::to_string(dvs)),
            std::string::npos);
  EXPECT_FALSE(RunOptimize("dv")->committed);
}

TEST_F(DeltaOptimizeTest, ColumnMappedTablesAreRefusedBeforeWritingAnything) {
  auto golden = delta::testing::GoldenDir();
  if (!golden) GTEST_SKIP() << delta::testing::kSkipNoGolden;
  fs::copy(fs::path(*golden) / "table-with-columnmapping-mode-name" / "delta", dir_ / "cm",
           fs::copy_options::recursive);
  size_t files_before = 0;
  for (auto it = fs::recursive_directory_iterator(dir_ / "cm");
       it != fs::recursive_directory_iterator(); ++it) {
    ++files_before;
  }
  auto refused = RunOptimize("cm");
  ASSERT_FALSE(refused.ok());
  EXPECT_TRUE(refused.status().IsNotSupported()) << refused.status().ToString();
  EXPECT_NE(refused.status().message().find("OPTIMIZE"), std::string::npos);
  size_t files_after = 0;
  for (auto it = fs::recursive_directory_iterator(dir_ / "cm");
       it != fs::recursive_directory_iterator(); ++it) {
    ++files_after;
  }
  EXPECT_EQ(files_after, files_before);
}

TEST_F(DeltaOptimizeTest, AConcurrentDeleteOfACompactedFileConflicts) {
  MakeSmallFiles("t", 3);
  auto read = Latest("t");
  // Another writer deletes rows of one of the files after OPTIMIZE read the table.
  auto deleted = Delete(session_->connection(), *store_, "t", *parquet_, "id = 3");
  ASSERT_TRUE(deleted.ok()) << deleted.status().ToString();
  const std::string after_delete = AllRows("t");
  auto optimized = RunOptimize("t", {.snapshot = read});
  ASSERT_FALSE(optimized.ok());
  EXPECT_TRUE(optimized.status().IsConflict()) << optimized.status().ToString();
  EXPECT_NE(optimized.status().message().find("concurrent"), std::string::npos);
  EXPECT_EQ(AllRows("t"), after_delete);
  EXPECT_EQ(Text("SELECT count(*) FROM " + Ref("t")), "29;");
  // From the latest snapshot it goes through.
  ASSERT_TRUE(RunOptimize("t").ok());
  EXPECT_EQ(AllRows("t"), after_delete);
}

TEST_F(DeltaOptimizeTest, AConcurrentBlindAppendDoesNotConflict) {
  MakeSmallFiles("t", 3);
  auto read = Latest("t");
  ASSERT_TRUE(session_->Query("INSERT INTO " + Ref("t") + " SELECT 500, 'late', 1").ok());
  auto optimized = RunOptimize("t", {.snapshot = read});
  ASSERT_TRUE(optimized.ok()) << optimized.status().ToString();
  EXPECT_EQ(optimized->version, 4);
  EXPECT_EQ(optimized->num_files_removed, 3);
  EXPECT_EQ(Text("SELECT count(*), max(id) FROM " + Ref("t")), "31,500;");
  EXPECT_EQ(Latest("t")->files().size(), 2u);  // the compacted file and the appended one
  Status valid = validity::ValidateDeltaTable(Path("t"));
  EXPECT_TRUE(valid.ok()) << valid.ToString();
}

}  // namespace
}  // namespace medallion::engine
