// Runs the built `medallion` binary as a user would and checks its output and exit codes.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace {

struct CliRun {
  int exit_code;
  std::string out;
  std::string err;
};

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Runs `medallion <args>` through the shell (args are shell words).
CliRun Medallion(const std::string& args) {
  // CTest runs tests as parallel processes: each run gets its own output files.
  static int run = 0;
  std::string base = ::testing::TempDir() + "/cli_" + std::to_string(::getpid()) + "_" +
                     std::to_string(run++);
  std::string out = base + ".out", err = base + ".err";
  std::string cmd = std::string(MEDALLION_BIN) + " " + args + " >" + out + " 2>" + err;
  int status = std::system(cmd.c_str());
  CliRun result{WIFEXITED(status) ? WEXITSTATUS(status) : -1, ReadFile(out), ReadFile(err)};
  std::remove(out.c_str());
  std::remove(err.c_str());
  return result;
}

TEST(CliTest, VersionNamesBothVersions) {
  CliRun r = Medallion("--version");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out, "medallion 0.1.0 (DuckDB v1.4.4)\n");
}

TEST(CliTest, SqlPrintsATable) {
  CliRun r = Medallion("sql \"SELECT 42 AS answer\"");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "answer\nINTEGER\n-------\n     42\n1 row\n");
  EXPECT_EQ(r.err, "");
}

TEST(CliTest, SqlFormats) {
  CliRun csv = Medallion("sql --format csv \"SELECT 1 AS a, 'x,y' AS b\"");
  EXPECT_EQ(csv.exit_code, 0);
  EXPECT_EQ(csv.out, "a,b\n1,\"x,y\"\n");
  CliRun json = Medallion("sql --format json \"SELECT 1 AS a UNION ALL SELECT 2 ORDER BY a\"");
  EXPECT_EQ(json.exit_code, 0);
  EXPECT_EQ(json.out, "{\"a\":1}\n{\"a\":2}\n");
  CliRun bad = Medallion("sql --format xml \"SELECT 1\"");
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_NE(bad.err.find("unknown output format 'xml'"), std::string::npos) << bad.err;
}

TEST(CliTest, SqlFromFileRunsEveryStatementAndPrintsTheLast) {
  std::string path = ::testing::TempDir() + "/cli_test_" + std::to_string(::getpid()) + ".sql";
  std::ofstream(path) << "CREATE TABLE t AS SELECT range AS x FROM range(4);\n"
                         "-- a comment\nSELECT sum(x) AS total FROM t;\n";
  CliRun r = Medallion("sql --format csv -f " + path);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "total\n6\n");
}

TEST(CliTest, BadSqlExitsNonZeroWithTheErrorOnStderr) {
  CliRun r = Medallion("sql \"SELEC 1\"");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.out, "");
  EXPECT_NE(r.err.find("medallion: InvalidArgument: query: statement at line 1: Parser Error: syntax error"),
            std::string::npos)
      << r.err;

  CliRun missing = Medallion("sql -f /no/such/file.sql");
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.err.find("cannot open SQL file /no/such/file.sql"), std::string::npos);

  CliRun empty = Medallion("sql \"\"");
  EXPECT_EQ(empty.exit_code, 1);
  EXPECT_NE(empty.err.find("no SQL given"), std::string::npos);
}

TEST(CliTest, UsageErrorsExitTwo) {
  EXPECT_EQ(Medallion("--no-such-flag").exit_code, 2);
  EXPECT_EQ(Medallion("nosuchcommand").exit_code, 2);
  EXPECT_EQ(Medallion("--log-level loud sql \"SELECT 1\"").exit_code, 2);
}


// A Delta table made by hand (PROTOCOL.md): v0 adds part-0 (ids 1-3), v1 adds part-1 (ids 4-5).
std::string MakeTable(const std::string& name) {
  std::string dir = ::testing::TempDir() + "/cli_" + std::to_string(::getpid()) + "_" + name;
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir + "/_delta_log");
  Medallion("sql \"COPY (SELECT * FROM (VALUES (1, 'a'), (2, 'b'), (3, 'c')) t(id, name)) TO '" +
            dir + "/part-0.parquet' (FORMAT parquet); COPY (SELECT * FROM (VALUES (4, 'd'), (5, 'e')) "
            "t(id, name)) TO '" + dir + "/part-1.parquet' (FORMAT parquet)\"");
  auto add = [&](const std::string& file) {
    return R"({"add":{"path":")" + file + R"(","partitionValues":{},"size":)" +
           std::to_string(std::filesystem::file_size(dir + "/" + file)) +
           R"(,"modificationTime":1700000000000,"dataChange":true}})" + "\n";
  };
  std::ofstream(dir + "/_delta_log/00000000000000000000.json")
      << R"({"commitInfo":{"timestamp":1700000000000,"operation":"CREATE TABLE AS SELECT"}})" "\n"
      << R"({"protocol":{"minReaderVersion":1,"minWriterVersion":2}})" "\n"
      << R"({"metaData":{"id":"tbl-1","format":{"provider":"parquet","options":{}},"schemaString":"{\"type\":\"struct\",\"fields\":[{\"name\":\"id\",\"type\":\"integer\",\"nullable\":true,\"metadata\":{}},{\"name\":\"name\",\"type\":\"string\",\"nullable\":true,\"metadata\":{}}]}","partitionColumns":[],"configuration":{},"createdTime":1700000000000}})" "\n"
      << add("part-0.parquet");
  std::ofstream(dir + "/_delta_log/00000000000000000001.json")
      << R"({"commitInfo":{"timestamp":1700000100000,"operation":"WRITE"}})" "\n" << add("part-1.parquet");
  return dir;
}

TEST(CliTest, TableHistoryAndDetail) {
  std::string dir = MakeTable("history");
  CliRun history = Medallion("table history " + dir + " --format csv");
  EXPECT_EQ(history.exit_code, 0) << history.err;
  EXPECT_TRUE(history.out.starts_with("version,timestamp,operation,")) << history.out;
  EXPECT_NE(history.out.find("\n1,"), std::string::npos);
  EXPECT_NE(history.out.find("\n0,"), std::string::npos);
  CliRun limited = Medallion("table history " + dir + " --limit 1 --format csv");
  EXPECT_EQ(limited.out.find("\n0,"), std::string::npos) << limited.out;
  CliRun detail = Medallion("table detail " + dir + " --format json");
  EXPECT_EQ(detail.exit_code, 0) << detail.err;
  EXPECT_NE(detail.out.find("\"numFiles\":2"), std::string::npos) << detail.out;
  CliRun missing = Medallion("table history /no/such/table");
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.err.find("no Delta table at /no/such/table"), std::string::npos) << missing.err;
  EXPECT_EQ(Medallion("table history").exit_code, 2);
  std::filesystem::remove_all(dir);
}

TEST(CliTest, TableVacuumRestoreAndClone) {
  std::string dir = MakeTable("maint");
  CliRun refused = Medallion("table vacuum " + dir + " --retain-hours 1 --dry-run");
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_NE(refused.err.find("is refused"), std::string::npos) << refused.err;
  CliRun dry = Medallion("table vacuum " + dir + " --retain-hours 168 --dry-run --format csv");
  EXPECT_EQ(dry.exit_code, 0) << dry.err;
  EXPECT_EQ(dry.out, "path\n");

  CliRun restore = Medallion("table restore " + dir + " --version 0 --format csv");
  EXPECT_EQ(restore.exit_code, 0) << restore.err;
  EXPECT_TRUE(restore.out.starts_with("table_size_after_restore,num_of_files_after_restore,"
                                      "num_removed_files,num_restored_files,removed_files_size,"
                                      "restored_files_size\n"))
      << restore.out;
  EXPECT_NE(restore.out.find(",1,1,0,"), std::string::npos) << restore.out;
  CliRun count = Medallion("sql --format csv \"SELECT count(*) AS n FROM delta.\\`" + dir + "\\`\"");
  EXPECT_EQ(count.out, "n\n3\n");
  EXPECT_EQ(Medallion("table restore " + dir).exit_code, 1);

  std::string clone = dir + "_clone";
  std::filesystem::remove_all(clone);
  CliRun cloned = Medallion("table clone " + dir + " " + clone + " --shallow --version 1 --format csv");
  EXPECT_EQ(cloned.exit_code, 0) << cloned.err;
  EXPECT_TRUE(cloned.out.starts_with("source_table_size,source_num_of_files,")) << cloned.out;
  CliRun clone_count = Medallion("sql --format csv \"SELECT count(*) AS n FROM delta.\\`" + clone + "\\`\"");
  EXPECT_EQ(clone_count.out, "n\n5\n");
  CliRun again = Medallion("table clone " + dir + " " + clone + " --shallow");
  EXPECT_EQ(again.exit_code, 1);
  EXPECT_NE(again.err.find("already a Delta table"), std::string::npos) << again.err;
  std::filesystem::remove_all(dir);
  std::filesystem::remove_all(clone);
}

TEST(CliTest, TableOptimize) {
  std::string dir = MakeTable("optimize");
  CliRun optimized = Medallion("table optimize " + dir + " --format json");
  EXPECT_EQ(optimized.exit_code, 0) << optimized.err;
  EXPECT_NE(optimized.out.find("\"numFilesAdded\":1,\"numFilesRemoved\":2"), std::string::npos)
      << optimized.out;
  CliRun count = Medallion("sql --format csv \"SELECT count(*) AS n, sum(id) AS s FROM delta.\\`" +
                           dir + "\\`\"");
  EXPECT_EQ(count.out, "n,s\n5,15\n");
  CliRun history = Medallion("table history " + dir + " --limit 1 --format csv");
  EXPECT_NE(history.out.find("\n2,"), std::string::npos) << history.out;
  EXPECT_NE(history.out.find(",OPTIMIZE,"), std::string::npos) << history.out;
  // Nothing left to compact: no new version.
  CliRun again = Medallion("table optimize " + dir + " --format json");
  EXPECT_EQ(again.exit_code, 0) << again.err;
  EXPECT_NE(again.out.find("\"numFilesRemoved\":0"), std::string::npos) << again.out;
  EXPECT_EQ(Medallion("table history " + dir + " --limit 1 --format csv").out, history.out);
  // The table is not partitioned: any column in --where is a non-partition column.
  CliRun bad = Medallion("table optimize " + dir + " --where \"id = 1\"");
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_NE(bad.err.find("Predicate references non-partition column 'id'"), std::string::npos)
      << bad.err;
  std::filesystem::remove_all(dir);
}

}  // namespace

namespace {

// The pipeline verbs on the scaffold `medallion init` writes: it runs as generated, a second run
// has nothing to do, and the event log answers Databricks' monitoring SQL.
TEST(CliPipelineTest, InitRunGraphDryRunAndEventLog) {
  std::string dir = ::testing::TempDir() + "/cli_pipeline_" + std::to_string(::getpid());
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  // Runs medallion in dir + sub (Medallion() runs through the shell, so `cd` chains).
  auto in = [&](const std::string& sub, const std::string& args) {
    return Medallion("--version >/dev/null && cd " + dir + sub + " && " + MEDALLION_BIN + " " +
                     args);
  };
  CliRun init = in("", "init --name shop");
  ASSERT_EQ(init.exit_code, 0) << init.err;
  EXPECT_NE(init.out.find("Created pipeline 'shop'"), std::string::npos) << init.out;
  EXPECT_EQ(in("", "init --name shop").exit_code, 1);  // exists already

  CliRun dry = in("/shop", "dry-run");
  EXPECT_EQ(dry.exit_code, 0) << dry.err;
  EXPECT_NE(dry.out.find("is valid: 5 datasets, 5 flows"), std::string::npos) << dry.out;
  EXPECT_FALSE(std::filesystem::exists(dir + "/shop/lakehouse/default"));

  CliRun run = in("/shop", "run --parallelism 2");
  ASSERT_EQ(run.exit_code, 0) << run.out << run.err;
  EXPECT_NE(run.out.find("COMPLETED   silver_orders"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("4 rows written, 1 dropped, 1 quarantined"), std::string::npos) << run.out;

  CliRun again = in("/shop/transformations", "run");  // the spec is found in a parent folder
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(again.out.find("COMPLETED"), std::string::npos) << again.out;
  EXPECT_NE(again.out.find("UP_TO_DATE"), std::string::npos) << again.out;

  CliRun dot = in("/shop", "graph --format dot");
  EXPECT_EQ(dot.exit_code, 0);
  EXPECT_NE(dot.out.find("n_bronze_orders -> n_silver_orders [style=bold"), std::string::npos)
      << dot.out;

  CliRun mermaid = in("/shop", "graph --format mermaid");
  EXPECT_EQ(mermaid.exit_code, 0);
  EXPECT_NE(mermaid.out.find("n_bronze_orders ==> n_silver_orders"), std::string::npos)
      << mermaid.out;

  CliRun log = in("/shop", "sql --dialect spark --format csv \"SELECT "
                  "sum(CAST(details:flow_progress.data_quality.dropped_records AS BIGINT)) AS d "
                  "FROM event_log('shop') WHERE event_type = 'flow_progress'\"");
  EXPECT_EQ(log.exit_code, 0) << log.err;
  EXPECT_EQ(log.out, "d\n1\n");

  // A broken query: dry-run fails naming the file and line; run exits 1 too.
  std::ofstream(dir + "/shop/transformations/broken.sql")
      << "\nCREATE MATERIALIZED VIEW broken AS SELECT * FROM no_such_table;\n";
  CliRun bad = in("/shop", "dry-run");
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_NE(bad.err.find("transformations/broken.sql:2"), std::string::npos) << bad.err;
  EXPECT_NE(bad.err.find("'no_such_table' not found"), std::string::npos) << bad.err;
  std::filesystem::remove_all(dir);
}

}  // namespace
