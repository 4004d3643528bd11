// Exactly once: `medallion run` killed with SIGKILL at random instants, then run again, gives the
// same tables as clean runs (an AUTO CDC SCD type 2 flow included) (../shared/DESIGN.md, "Contracts": exactly once). Two waves of landing
// files, each processed by a run that is killed at a random point and then completed.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <fcntl.h>
#include <fmt/format.h>

#include <map>
#include <optional>
#include <random>

#include "child_process.h"
#include "engine/session.h"
#include "storage/test_util.h"

namespace medallion {
namespace {

namespace fs = std::filesystem;

void WriteFile(const fs::path& path, const std::string& text) {
  fs::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary);
  out << text;
}

constexpr const char* kSql = R"(
CREATE OR REFRESH STREAMING TABLE bronze
AS SELECT *, _metadata.file_name AS file FROM STREAM read_files('landing', format => 'csv', header => true);

CREATE OR REFRESH STREAMING TABLE silver (
  CONSTRAINT positive EXPECT (amount > 0) ON VIOLATION QUARANTINE,
  CONSTRAINT has_key EXPECT (k IS NOT NULL) ON VIOLATION DROP ROW
) AS SELECT CAST(k AS BIGINT) AS k, CAST(amount AS BIGINT) AS amount, file FROM STREAM(bronze);

CREATE OR REFRESH STREAMING TABLE events;
CREATE FLOW from_silver AS INSERT INTO events BY NAME SELECT k, 'silver' AS src FROM STREAM(silver);
CREATE FLOW from_bronze AS INSERT INTO events BY NAME
  SELECT CAST(k AS BIGINT) AS k, 'bronze' AS src FROM STREAM(bronze);
CREATE FLOW seed AS INSERT ONCE INTO events BY NAME SELECT CAST(0 AS BIGINT) AS k, 'seed' AS src;

CREATE OR REFRESH STREAMING TABLE history;
APPLY CHANGES INTO history FROM STREAM(silver) KEYS (file) SEQUENCE BY k STORED AS SCD TYPE 2;

CREATE OR REFRESH MATERIALIZED VIEW gold AS
SELECT file, count(*) AS n, sum(amount) AS total FROM silver GROUP BY file;
)";

void MakeProject(const fs::path& root) {
  WriteFile(root / "spark-pipeline.yml",
            "name: crash\nlibraries:\n  - glob:\n      include: transformations/**\n");
  WriteFile(root / "transformations" / "all.sql", kSql);
}

// Wave w's landing files: 4 files of 50 rows, some quarantined or dropped.
void Land(const fs::path& root, int wave) {
  for (int f = 0; f < 4; ++f) {
    std::string csv = "k,amount\n";
    for (int r = 0; r < 50; ++r) {
      int k = wave * 1000 + f * 100 + r;
      csv += (r % 17 == 0 ? std::string() : std::to_string(k)) + "," +
             std::to_string(r % 11 == 0 ? -r : r + 1) + "\n";
    }
    WriteFile(root / "landing" / ("w" + std::to_string(wave) + "_f" + std::to_string(f) + ".csv"),
              csv);
  }
}

testutil::ChildExit RunMedallion(const fs::path& root, std::optional<std::chrono::milliseconds> kill_after) {
  pid_t pid = testutil::StartChild([&]() -> int {
    if (::chdir(root.c_str()) != 0) return 3;
    int devnull = ::open("/dev/null", O_WRONLY);
    ::dup2(devnull, STDOUT_FILENO);
    ::execl(MEDALLION_BIN, MEDALLION_BIN, "run", "--parallelism", "2", static_cast<char*>(nullptr));
    return 4;
  });
  if (kill_after) {
    std::this_thread::sleep_for(*kill_after);
    ::kill(pid, SIGKILL);
  }
  return testutil::WaitChild(pid, std::chrono::seconds(120));
}

// Every table's rows, sorted, as text.
std::map<std::string, std::vector<std::string>> Tables(const fs::path& root) {
  std::map<std::string, std::vector<std::string>> out;
  auto session = engine::Session::Open();
  EXPECT_TRUE(session.ok());
  for (const char* table :
       {"bronze", "silver", "silver_quarantine", "events", "gold", "history"}) {
    fs::path folder = root / "lakehouse" / "default" / table;
    std::string columns = std::string(table) == "silver_quarantine"
                              ? "* EXCLUDE (_quarantined_at)"
                              : "*";
    auto result = (*session)->Query(fmt::format("SELECT {} FROM delta.`{}`", columns,
                                                folder.string()));
    EXPECT_TRUE(result.ok()) << table << ": " << result.status().ToString();
    if (!result.ok()) continue;
    std::vector<std::string>& rows = out[table];
    for (size_t r = 0; r < result->row_count(); ++r) {
      std::string row;
      for (size_t c = 0; c < result->column_count(); ++c) row += result->GetText(c, r) + "|";
      rows.push_back(row);
    }
    std::sort(rows.begin(), rows.end());
  }
  return out;
}

TEST(PipelineCrashTest, KilledRunsThenRerunEqualCleanRuns) {
  storage::TempFolder folder;
  fs::path clean = fs::path(folder.path()) / "clean";
  MakeProject(clean);
  Land(clean, 1);
  auto started = std::chrono::steady_clock::now();
  ASSERT_TRUE(RunMedallion(clean, std::nullopt).ok());
  auto run_time = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - started);
  Land(clean, 2);
  ASSERT_TRUE(RunMedallion(clean, std::nullopt).ok());
  auto expected = Tables(clean);
  ASSERT_EQ(expected["bronze"].size(), 400u);
  ASSERT_FALSE(expected["silver_quarantine"].empty());
  ASSERT_EQ(expected["history"].size(), expected["silver"].size());  // a version per silver row

  const int trials = 50;
  std::mt19937 rng(20261121);
  std::uniform_int_distribution<int> when(0, static_cast<int>(run_time.count()));
  for (int trial = 0; trial < trials; ++trial) {
    fs::path root = fs::path(folder.path()) / ("t" + std::to_string(trial));
    MakeProject(root);
    for (int wave : {1, 2}) {
      Land(root, wave);
      RunMedallion(root, std::chrono::milliseconds(when(rng)));  // killed (or finished early)
      auto completed = RunMedallion(root, std::nullopt);
      ASSERT_TRUE(completed.ok()) << "trial " << trial << " wave " << wave << ": "
                                  << completed.ToString();
    }
    auto actual = Tables(root);
    for (const auto& [table, rows] : expected) {
      ASSERT_EQ(actual[table], rows) << "trial " << trial << ", table " << table;
    }
    fs::remove_all(root);
  }
}

}  // namespace
}  // namespace medallion
