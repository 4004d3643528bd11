#include "engine/duckdb_parquet_handler.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "common/macros.h"
#include "delta/actions.h"
#include "delta/log_replay.h"
#include "engine/database.h"
#include "engine/sql_text.h"
#include "storage/test_util.h"

namespace medallion::engine {
namespace {

// A fresh folder for the test named `test`, and the path of a Parquet file in it.
std::string TestFile(std::string_view test) {
  const std::string dir = ::testing::TempDir() + "/medallion_parquet_handler_" +
                          std::string(test) + "_" + std::to_string(::getpid());
  std::filesystem::create_directories(dir);
  return dir + "/checkpoint.parquet";
}

// Writes the rows of `query` to the Parquet file at `path` (`options` added to FORMAT parquet).
Status CopyToParquet(const std::string& query, const std::string& path,
                     std::string_view options = "") {
  ASSIGN_OR_RETURN(auto db, Database::Open());
  ASSIGN_OR_RETURN(auto conn, db->Connect());
  return conn->Execute(fmt::format("COPY ({}) TO {} (FORMAT parquet{}{})", query,
                                   QuoteString(path), options.empty() ? "" : ", ", options));
}

TEST(DuckDbParquetHandlerTest, RowsAsJsonWithProjection) {
  const std::string path = TestFile("json");
  ASSERT_OK(CopyToParquet(
      "SELECT * FROM (VALUES "
      " ({'path': 'a.parquet', 'size': 10, 'partitionValues': MAP {'d': '2024-01-01'}}, NULL),"
      " (NULL, {'appId': 'app', 'version': 3})) AS t(\"add\", txn)",
      path));
  auto handler = DuckDbParquetHandler::Make();
  ASSERT_TRUE(handler.ok());
  auto rows = (*handler)->ReadRowsAsJson(path, {});
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  ASSERT_EQ(rows->size(), 2u);
  EXPECT_EQ((*rows)[0],
            R"({"add":{"path":"a.parquet","size":10,"partitionValues":{"d":"2024-01-01"}},"txn":null})");
  EXPECT_EQ((*rows)[1], R"({"add":null,"txn":{"appId":"app","version":3}})");

  auto projected = (*handler)->ReadRowsAsJson(path, {"txn", "remove"});
  ASSERT_TRUE(projected.ok()) << projected.status().ToString();
  EXPECT_EQ((*projected)[1], R"({"txn":{"appId":"app","version":3}})");

  auto missing = (*handler)->ReadRowsAsJson(path + ".none", {});
  EXPECT_TRUE(missing.status().IsNotFound());

  const std::string junk = path + ".junk";
  FILE* f = std::fopen(junk.c_str(), "w");
  std::fputs("not parquet", f);
  std::fclose(f);
  auto corrupt = (*handler)->ReadRowsAsJson(junk, {});
  EXPECT_TRUE(corrupt.status().IsCorruption()) << corrupt.status().ToString();
}

// What log replay's fallback gives: ReadRowsAsJson, each row through ParseAction.
Result<std::vector<delta::Action>> ActionsViaJson(DuckDbParquetHandler& handler,
                                                  const std::string& path,
                                                  const std::vector<std::string>& columns) {
  ASSIGN_OR_RETURN(auto rows, handler.ReadRowsAsJson(path, columns));
  std::vector<delta::Action> out;
  for (size_t i = 0; i < rows.size(); ++i) {
    ASSIGN_OR_RETURN(auto action, delta::ParseAction(rows[i], {path, static_cast<int64_t>(i) + 1}));
    if (action) out.push_back(std::move(*action));
  }
  return out;
}

// ReadCheckpointActions into a vector.
Result<std::vector<delta::Action>> TypedActions(DuckDbParquetHandler& handler,
                                                const std::string& path,
                                                const std::vector<std::string>& columns) {
  delta::ActionCollector collector;
  RETURN_NOT_OK(handler.ReadCheckpointActions(path, columns, collector));
  return std::move(collector.actions);
}

// The typed actions of `path` (every checkpoint column) after checking that they equal what the
// JSON rows give; empty after a failure.
std::vector<delta::Action> TypedActionsMatchingJson(DuckDbParquetHandler& handler,
                                                    const std::string& path) {
  const auto& columns = delta::CheckpointColumns();
  auto typed = TypedActions(handler, path, columns);
  auto via_json = ActionsViaJson(handler, path, columns);
  EXPECT_TRUE(typed.ok()) << typed.status().ToString();
  EXPECT_TRUE(via_json.ok()) << via_json.status().ToString();
  if (!typed.ok() || !via_json.ok()) return {};
  EXPECT_EQ(*typed, *via_json);
  return std::move(typed).ValueOrDie();
}

TEST(DuckDbParquetHandlerTest, TypedCheckpointActionsMatchTheJsonRows) {
  const std::string path = TestFile("typed");
  // Rows: protocol, metaData, txn, an add with everything, a minimal add (all-null DV struct), a
  // remove, and an all-null row. stats_parsed must not matter.
  ASSERT_OK(CopyToParquet(R"SQL(
      SELECT * FROM (VALUES
        (NULL, NULL, {'minReaderVersion': 3, 'minWriterVersion': 7,
                      'readerFeatures': ['deletionVectors'], 'writerFeatures': ['deletionVectors']},
         NULL, NULL),
        (NULL, NULL, NULL, {'id': 'm', 'schemaString': '{"type":"struct","fields":[]}',
                            'partitionColumns': ['d'], 'configuration': MAP {'k': 'v'}}, NULL),
        (NULL, NULL, NULL, NULL, {'appId': 'app', 'version': 3, 'lastUpdated': NULL}),
        ({'path': 'd=1/a%20b.parquet', 'partitionValues': MAP {'d': '1', 'e': NULL},
          'size': 10, 'modificationTime': 5, 'dataChange': false, 'stats': '{"numRecords":2}',
          'stats_parsed': {'numRecords': 2}, 'tags': MAP {'t': 'x'},
          'deletionVector': {'storageType': 'u', 'pathOrInlineDv': 'ab^-aqEH.-t@S}K{vb[*k^',
                             'offset': 4, 'sizeInBytes': 40, 'cardinality': 6,
                             'maxRowIndex': NULL},
          'baseRowId': 7, 'defaultRowCommitVersion': 2, 'clusteringProvider': NULL},
         NULL, NULL, NULL, NULL),
        ({'path': 'b.parquet', 'partitionValues': MAP {}::MAP(VARCHAR, VARCHAR), 'size': 3,
          'modificationTime': NULL,
          'dataChange': NULL, 'stats': NULL, 'stats_parsed': NULL, 'tags': NULL,
          'deletionVector': {'storageType': NULL, 'pathOrInlineDv': NULL, 'offset': NULL,
                             'sizeInBytes': NULL, 'cardinality': NULL, 'maxRowIndex': NULL},
          'baseRowId': NULL, 'defaultRowCommitVersion': NULL, 'clusteringProvider': 'liquid'},
         NULL, NULL, NULL, NULL),
        (NULL, {'path': 'c.parquet', 'deletionTimestamp': 100, 'dataChange': false,
                'extendedFileMetadata': true, 'partitionValues': MAP {'d': '2'}, 'size': 8,
                'tags': MAP {}::MAP(VARCHAR, VARCHAR)}, NULL, NULL, NULL),
        (NULL, NULL, NULL, NULL, NULL)
      ) AS t("add", "remove", protocol, "metaData", txn))SQL",
                          path));
  auto handler = *DuckDbParquetHandler::Make();
  const auto typed = TypedActionsMatchingJson(*handler, path);
  ASSERT_EQ(typed.size(), 6u);
  const auto& add = std::get<delta::AddFile>(typed[3]);
  EXPECT_EQ(add.path, "d=1/a%20b.parquet");
  ASSERT_TRUE(add.deletion_vector);
  EXPECT_EQ(add.deletion_vector->offset, 4);
  EXPECT_EQ(add.partition_values.at("e"), std::nullopt);
  EXPECT_FALSE(std::get<delta::AddFile>(typed[4]).deletion_vector);

  // Sidecar-style projection: only file actions.
  auto files_only = TypedActions(*handler, path, {"add", "remove"});
  ASSERT_TRUE(files_only.ok()) << files_only.status().ToString();
  EXPECT_EQ(files_only->size(), 3u);

  EXPECT_TRUE(
      TypedActions(*handler, path + ".none", delta::CheckpointColumns()).status().IsNotFound());
  EXPECT_TRUE(TypedActions(*handler, path, {}).status().IsNotSupported());
}

TEST(DuckDbParquetHandlerTest, TypedCheckpointActionsMissingRequiredFieldIsCorruption) {
  const std::string path = TestFile("bad");
  ASSERT_OK(CopyToParquet("SELECT {'path': 'a.parquet', 'size': NULL::BIGINT} AS \"add\"", path));
  auto handler = *DuckDbParquetHandler::Make();
  auto typed = TypedActions(*handler, path, delta::CheckpointColumns());
  ASSERT_TRUE(typed.status().IsCorruption()) << typed.status().ToString();
  EXPECT_NE(typed.status().message().find("line 1: add: missing required field 'size'"),
            std::string::npos)
      << typed.status().ToString();
}

// A leaf is skipped only when every row group's statistics say it is all NULL: here only the last
// of five row groups has a remove, and the DV fields are NULL but in one add.
TEST(DuckDbParquetHandlerTest, TypedCheckpointActionsReadLeavesNullInSomeRowGroups) {
  const std::string path = TestFile("groups");
  ASSERT_OK(CopyToParquet(R"SQL(
        SELECT CASE WHEN i < 10000 THEN {'path': 'f' || i || '.parquet', 'size': i,
                   'deletionVector': CASE WHEN i = 3000 THEN {'storageType': 'i',
                       'pathOrInlineDv': 'wi5b=000010000siXQKl0rr91000f55c8Xg0@@D72lkbi5=-{L',
                       'sizeInBytes': 40, 'cardinality': 6} END} END AS "add",
               CASE WHEN i = 10000 THEN {'path': 'gone.parquet', 'deletionTimestamp': 9,
                   'dataChange': true} END AS "remove"
        FROM range(10001) AS t(i))SQL",
                          path, "ROW_GROUP_SIZE 2048"));
  auto handler = *DuckDbParquetHandler::Make();
  const auto typed = TypedActionsMatchingJson(*handler, path);
  ASSERT_EQ(typed.size(), 10001u);
  EXPECT_TRUE(std::get<delta::AddFile>(typed[3000]).deletion_vector);
  EXPECT_EQ(std::get<delta::RemoveFile>(typed.back()).path, "gone.parquet");
}

// A sink's error stops the read and is the read's error.
TEST(DuckDbParquetHandlerTest, TypedCheckpointActionsStopAtTheSinksError) {
  const std::string path = TestFile("sink");
  ASSERT_OK(CopyToParquet(
      "SELECT {'path': 'f' || i || '.parquet', 'size': i} AS \"add\" FROM range(10) AS t(i)", path));
  class FailOnThird final : public delta::ActionSink {
   public:
    void Expect(size_t rows) override { expected = rows; }
    Status Accept(delta::Action&&) override {
      return ++accepted == 3 ? Status::Aborted("enough") : Status::OK();
    }
    size_t expected = 0;
    int accepted = 0;
  } sink;
  auto handler = *DuckDbParquetHandler::Make();
  Status s = handler->ReadCheckpointActions(path, delta::CheckpointColumns(), sink);
  EXPECT_EQ(s.code(), StatusCode::kAborted) << s.ToString();
  EXPECT_EQ(sink.accepted, 3);
  EXPECT_EQ(sink.expected, 10u);
}

// Every Parquet checkpoint and sidecar of the Spark-written golden tables reads the same typed as
// through JSON rows.
TEST(DuckDbParquetHandlerTest, TypedCheckpointActionsMatchJsonOnGoldenTables) {
  namespace fs = std::filesystem;
  const fs::path root = fs::path(MEDALLION_SOURCE_DIR) / ".." / "shared" / "data" / "delta-golden";
  if (!fs::is_directory(root)) GTEST_SKIP() << "golden tables are absent";
  auto handler = *DuckDbParquetHandler::Make();
  int files = 0;
  for (const auto& entry : fs::recursive_directory_iterator(root)) {
    const std::string p = entry.path().string();
    if (!entry.is_regular_file() || !p.ends_with(".parquet")) continue;
    if (p.find("_delta_log") == std::string::npos) continue;
    const bool sidecar = p.find("_sidecars") != std::string::npos;
    const std::vector<std::string> columns =
        sidecar ? std::vector<std::string>{"add", "remove"} : delta::CheckpointColumns();
    auto typed = TypedActions(*handler, p, columns);
    auto via_json = ActionsViaJson(*handler, p, columns);
    if (!via_json.ok()) {
      // Some golden logs are invalid on purpose: both ways must reject them alike.
      EXPECT_EQ(typed.status().ToString(), via_json.status().ToString()) << p;
      continue;
    }
    ASSERT_TRUE(typed.ok()) << p << ": " << typed.status().ToString();
    EXPECT_EQ(*typed, *via_json) << p;
    ++files;
  }
  EXPECT_GT(files, 10);
}

}  // namespace
}  // namespace medallion::engine
