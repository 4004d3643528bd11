// Conformance with Spark: every golden table (../shared/data/delta-golden, written by Apache Spark /
// Delta) that comes with an `expected/` full scan is read through medallion (delta/ log replay +
// engine/ scan) and must equal Spark's result as a multiset of rows, over all columns, with values
// compared after casting Spark's output to the table's declared types. Skips when ../shared is absent.
#include <gtest/gtest.h>

#include <filesystem>
#include <set>

#include "common/macros.h"
#include "engine/database.h"
#include "engine/delta_scan.h"
#include "engine/duckdb_parquet_handler.h"
#include "engine/sql_text.h"
#include "storage/local_object_store.h"

namespace medallion {
namespace {

namespace fs = std::filesystem;

std::string GoldenRoot() { return std::string(MEDALLION_SOURCE_DIR) + "/../shared/data/delta-golden"; }

std::vector<std::string> TablesWithExpected() {
  std::vector<std::string> names;
  if (!fs::is_directory(GoldenRoot())) return names;
  for (const auto& entry : fs::directory_iterator(GoldenRoot())) {
    if (fs::is_directory(entry.path() / "expected") && fs::is_directory(entry.path() / "delta")) {
      names.push_back(entry.path().filename().string());
    }
  }
  std::sort(names.begin(), names.end());
  return names;
}

// Known differences in Spark's expected output, per ../shared/data/README.md: the writer's JVM ran
// in America/Los_Angeles, so a zone-less timestamp partition value ("2021-09-08 11:11:11"), which
// PROTOCOL.md's readers (and delta-kernel-rs) take as UTC, came out 7 hours later in `expected/`.
std::string ExpectedColumnExpr(const std::string& table, const std::string& column) {
  std::string quoted = engine::QuoteIdentifier(column);
  if (table == "data-reader-partition-values" && column == "as_timestamp") {
    return "(" + quoted + " - INTERVAL 7 HOURS)";
  }
  return quoted;
}

class GoldenScanTest : public ::testing::TestWithParam<std::string> {};

// Each row as text, sorted, with columns in `columns` order.
Result<std::vector<std::string>> SortedRows(engine::Connection& conn, const std::string& from,
                                            const std::vector<std::string>& columns,
                                            const std::vector<std::string>& casts) {
  std::string fields;
  for (size_t i = 0; i < columns.size(); ++i) {
    fields += (i ? ", " : "") + engine::QuoteIdentifier(columns[i]) + " := " + casts[i];
  }
  ASSIGN_OR_RETURN(auto r, conn.Query("SELECT CAST(struct_pack(" + fields + ") AS VARCHAR) AS row FROM " +
                                      from + " ORDER BY row"));
  std::vector<std::string> rows;
  for (size_t i = 0; i < r.row_count(); ++i) rows.push_back(r.GetText(0, i));
  return rows;
}

TEST_P(GoldenScanTest, MatchesSparkExpectedScan) {
  const std::string table = GetParam();
  if (!fs::is_directory(GoldenRoot())) GTEST_SKIP() << "../shared/data/delta-golden is absent";
  const fs::path dir = fs::path(GoldenRoot()) / table;
  auto store = storage::LocalObjectStore::Make((dir / "delta").string());
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  auto handler = engine::DuckDbParquetHandler::Make();
  ASSERT_TRUE(handler.ok());
  auto snapshot = delta::SnapshotBuilder(**store, "").Build(**handler);
  ASSERT_TRUE(snapshot.ok()) << table << ": " << snapshot.status().ToString();

  auto db = *engine::Database::Open();
  auto conn = *db->Connect();
  ASSERT_TRUE(conn->Execute("SET TimeZone = 'UTC'").ok());
  Status registered = engine::RegisterDeltaScan(*conn, **snapshot, **store, "t");
  ASSERT_TRUE(registered.ok()) << table << ": " << registered.ToString();

  // Our columns and types.
  auto ours = conn->Query("DESCRIBE t");
  ASSERT_TRUE(ours.ok()) << ours.status().ToString();
  std::vector<std::string> columns, types;
  for (size_t r = 0; r < ours->row_count(); ++r) {
    columns.push_back(ours->GetText(0, r));
    types.push_back(ours->GetText(1, r));
  }
  // Spark's expected output: same column names (any order).
  std::string expected = "read_parquet(" + engine::QuoteString((dir / "expected").string() + "/**/*.parquet") + ")";
  bool expected_has_files = false;
  for (const auto& e : fs::recursive_directory_iterator(dir / "expected")) {
    expected_has_files = expected_has_files || e.path().extension() == ".parquet";
  }
  if (!expected_has_files) {
    auto count = conn->Query("SELECT count(*) FROM t");
    ASSERT_TRUE(count.ok()) << count.status().ToString();
    EXPECT_EQ(*count->GetInt64(0, 0), 0) << table << ": expected no rows";
    return;
  }
  auto theirs = conn->Query("DESCRIBE SELECT * FROM " + expected);
  ASSERT_TRUE(theirs.ok()) << theirs.status().ToString();
  std::set<std::string> their_columns;
  for (size_t r = 0; r < theirs->row_count(); ++r) their_columns.insert(theirs->GetText(0, r));
  EXPECT_EQ(their_columns, std::set<std::string>(columns.begin(), columns.end())) << table;

  std::vector<std::string> our_casts, their_casts;
  for (size_t i = 0; i < columns.size(); ++i) {
    our_casts.push_back(engine::QuoteIdentifier(columns[i]));
    their_casts.push_back("CAST(" + ExpectedColumnExpr(table, columns[i]) + " AS " + types[i] + ")");
  }
  auto our_rows = SortedRows(*conn, "t", columns, our_casts);
  ASSERT_TRUE(our_rows.ok()) << table << ": " << our_rows.status().ToString();
  auto their_rows = SortedRows(*conn, expected, columns, their_casts);
  ASSERT_TRUE(their_rows.ok()) << table << ": " << their_rows.status().ToString();
  ASSERT_EQ(our_rows->size(), their_rows->size()) << table << ": row counts differ";
  size_t mismatches = 0;
  for (size_t i = 0; i < our_rows->size() && mismatches < 3; ++i) {
    if ((*our_rows)[i] != (*their_rows)[i]) {
      ++mismatches;
      ADD_FAILURE() << table << " row " << i << "\n ours:   " << (*our_rows)[i]
                    << "\n spark:  " << (*their_rows)[i];
    }
  }
}

std::vector<std::string> Params() {
  auto tables = TablesWithExpected();
  if (tables.empty()) tables.push_back("<no ../shared/data/delta-golden>");
  return tables;
}

INSTANTIATE_TEST_SUITE_P(DeltaGolden, GoldenScanTest, ::testing::ValuesIn(Params()),
                         [](const auto& info) {
                           std::string name = info.param;
                           for (char& c : name) {
                             if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
                           }
                           return name;
                         });

// Registered separately so a missing ../shared shows as a skip rather than as nothing.
TEST(GoldenScanAvailability, SharedDataPresent) {
  if (TablesWithExpected().empty()) GTEST_SKIP() << "../shared/data/delta-golden is absent";
  EXPECT_GE(TablesWithExpected().size(), 60u);
}

}  // namespace
}  // namespace medallion
