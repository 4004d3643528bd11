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

}  // namespace
