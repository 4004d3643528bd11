#include "delta/snapshot.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "delta/commit_reader.h"
#include "delta/test_util.h"
#include "storage/local_object_store.h"
#include "storage/memory_object_store.h"

namespace medallion::delta {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::AddLine;
using testing::CheckpointName;
using testing::CreateTableLines;
using testing::LogKey;
using testing::RemoveLine;
using testing::StubParquetHandler;
using testing::TimedStore;
using testing::WriteCommit;

std::vector<std::string> Paths(const Snapshot& s) {
  std::vector<std::string> out;
  for (const auto& f : s.files()) out.push_back(f.path);
  return out;
}

std::vector<std::string> Concat(std::vector<std::string> a, const std::vector<std::string>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

class SnapshotTest : public ::testing::Test {
 protected:
  void Commit(int64_t v, const std::vector<std::string>& lines) {
    ASSERT_TRUE(WriteCommit(store_, root_, v, lines).ok());
  }
  Result<std::shared_ptr<const Snapshot>> Build(std::optional<int64_t> version = std::nullopt) {
    SnapshotBuilder b(store_, root_);
    if (version) b.AtVersion(*version);
    return b.Build(parquet_);
  }

  storage::MemoryObjectStore store_;
  StubParquetHandler parquet_;
  std::string root_ = "db/orders";
};

TEST_F(SnapshotTest, ReplaysCommits) {
  Commit(0, Concat(CreateTableLines(), {AddLine("b.parquet"), AddLine("a.parquet")}));
  Commit(1, {R"({"commitInfo":{"operation":"DELETE"}})", RemoveLine("b.parquet"),
             AddLine("c%20d.parquet"), R"({"txn":{"appId":"flow-1","version":4}})"});
  Commit(2, {AddLine("e.parquet"), R"({"txn":{"appId":"flow-1","version":5}})",
             R"({"domainMetadata":{"domain":"x","configuration":"{}","removed":false}})"});
  auto s = Build();
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ((*s)->version(), 2);
  EXPECT_THAT(Paths(**s), ElementsAre("a.parquet", "c%20d.parquet", "e.parquet"));
  EXPECT_EQ((*s)->TxnVersion("flow-1"), 5);
  EXPECT_FALSE((*s)->TxnVersion("flow-2").has_value());
  EXPECT_EQ((*s)->domain_metadata().count("x"), 1u);
  EXPECT_EQ((*s)->metadata().id, "t-1");
  EXPECT_EQ((*s)->schema().fields().size(), 2u);
  EXPECT_EQ((*s)->protocol().min_writer_version, 2);
  EXPECT_EQ((*s)->num_tombstones(), 1);
  EXPECT_EQ((*s)->table_root(), "db/orders");
  EXPECT_FALSE((*s)->commit_info().has_value());  // v2 has no commitInfo

  auto v1 = Build(1);
  ASSERT_TRUE(v1.ok());
  EXPECT_THAT(Paths(**v1), ElementsAre("a.parquet", "c%20d.parquet"));
  EXPECT_EQ((*v1)->TxnVersion("flow-1"), 4);
  EXPECT_EQ((*v1)->commit_info()->operation, "DELETE");

  auto v0 = Build(0);
  ASSERT_TRUE(v0.ok());
  EXPECT_THAT(Paths(**v0), ElementsAre("a.parquet", "b.parquet"));
}

TEST_F(SnapshotTest, ResolvesFilePaths) {
  Commit(0, Concat(CreateTableLines(), {AddLine("a%20b/part-0.parquet"),
                                        AddLine("file:///data/x%23y.parquet"),
                                        AddLine("s3://bucket/z.parquet"),
                                        AddLine("../escape.parquet")}));
  auto s = Build();
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  const auto& snap = **s;
  std::map<std::string, const AddFile*> by_path;
  for (const auto& f : snap.files()) by_path[f.path] = &f;
  EXPECT_EQ(*snap.FileLocalPath(*by_path["a%20b/part-0.parquet"]), "db/orders/a b/part-0.parquet");
  EXPECT_EQ(*snap.FileLocalPath(*by_path["file:///data/x%23y.parquet"]), "/data/x#y.parquet");
  EXPECT_TRUE(snap.FileLocalPath(*by_path["s3://bucket/z.parquet"]).status().IsNotSupported());
  EXPECT_TRUE(snap.FileLocalPath(*by_path["../escape.parquet"]).status().IsInvalidArgument());
}

TEST_F(SnapshotTest, CanonicalizedAbsolutePathsCancel) {
  // As golden canonicalized-paths-*: the add and the remove spell the same file differently.
  Commit(0, Concat(CreateTableLines(), {AddLine("/some/unqualified/with%20space/p@%23h")}));
  Commit(1, {RemoveLine("file:/some/unqualified/with%20space/p@%23h")});
  auto s = Build();
  ASSERT_TRUE(s.ok());
  EXPECT_TRUE((*s)->files().empty());
}

TEST_F(SnapshotTest, MissingMetadataOrProtocolIsCorruption) {
  auto lines = CreateTableLines();
  Commit(0, {lines[0], lines[1], AddLine("a")});  // no metaData
  auto s = Build();
  ASSERT_FALSE(s.ok());
  EXPECT_TRUE(s.status().IsCorruption());
  EXPECT_EQ(s.status().message(), "db/orders v0: table has no metaData action");

  Commit(0, {lines[0], lines[2]});  // no protocol
  auto p = Build();
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().message(), "db/orders v0: table has no protocol action");
}

TEST_F(SnapshotTest, UnsupportedReaderFeature) {
  Commit(0, CreateTableLines(
                "{}", R"({"minReaderVersion":3,"minWriterVersion":7,"readerFeatures":["variantType"],"writerFeatures":["variantType"]})"));
  auto s = Build();
  ASSERT_FALSE(s.ok());
  EXPECT_TRUE(s.status().IsNotSupported());
  EXPECT_THAT(s.status().message(),
              HasSubstr("table requires reader feature 'variantType', which medallion does not support"));
}

TEST_F(SnapshotTest, MalformedCommitNamesFileAndLine) {
  Commit(0, CreateTableLines());
  Commit(1, {AddLine("a"), R"({"add":{"path":"b"}})"});
  auto s = Build();
  ASSERT_FALSE(s.ok());
  EXPECT_TRUE(s.status().IsCorruption());
  EXPECT_THAT(s.status().message(),
              HasSubstr("db/orders/_delta_log/00000000000000000001.json line 2: add: missing "
                        "required field 'size'"));
}

// Files come out in path order whatever order replay meets them in: commits newest first, then a
// checkpoint in path order (merged), or a checkpoint in any order (sorted).
TEST_F(SnapshotTest, FilesAreInPathOrder) {
  auto add_row = [](const std::string& path) {
    return R"({"add":{"path":")" + path +
           R"(","partitionValues":{},"size":1,"modificationTime":1,"dataChange":true},"remove":null})";
  };
  auto lines = CreateTableLines();
  const std::vector<std::string> header = {
      R"({"add":null,"protocol":)" + lines[1].substr(12, lines[1].size() - 13) + "}",
      R"({"add":null,"metaData":)" + lines[2].substr(12, lines[2].size() - 13) + "}"};
  for (const bool checkpoint_sorted : {true, false}) {
    SCOPED_TRACE(checkpoint_sorted ? "checkpoint in path order" : "checkpoint in any order");
    storage::MemoryObjectStore store;
    StubParquetHandler parquet;
    const std::string cp_key = LogKey(root_, CheckpointName(1));
    ASSERT_TRUE(store.Write(cp_key, "PAR1").ok());
    std::vector<std::string> rows = header;
    for (const char* p : checkpoint_sorted ? std::vector<const char*>{"b", "d", "f", "h", "j"}
                                           : std::vector<const char*>{"h", "b", "j", "f", "d"}) {
      rows.push_back(add_row(p));
    }
    parquet.Put(cp_key, rows);
    ASSERT_TRUE(WriteCommit(store, root_, 2, {AddLine("i"), AddLine("a")}).ok());
    ASSERT_TRUE(WriteCommit(store, root_, 3, {AddLine("k"), RemoveLine("d"), AddLine("e")}).ok());
    ASSERT_TRUE(WriteCommit(store, root_, 4, {AddLine("c")}).ok());
    auto s = SnapshotBuilder(store, root_).Build(parquet);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    EXPECT_THAT(Paths(**s), ElementsAre("a", "b", "c", "e", "f", "h", "i", "j", "k"));
    // The files travel with their paths (commits' files are 100 bytes, the checkpoint's 1).
    for (const auto& f : (*s)->files()) {
      EXPECT_EQ(f.size, std::string("aceik").find(f.path) != std::string::npos ? 100 : 1)
          << f.path;
    }
  }
}

TEST_F(SnapshotTest, ReadsClassicCheckpointThroughHandler) {
  // Commits 0..2 were cleaned up; a checkpoint at 2 holds the state, commits 3..4 follow.
  const std::string cp_key = LogKey(root_, CheckpointName(2));
  ASSERT_TRUE(store_.Write(cp_key, "PAR1").ok());
  auto lines = CreateTableLines(R"({"delta.checkpointInterval":"2"})");
  parquet_.Put(cp_key,
               {R"({"add":null,"remove":null,"metaData":null,"protocol":)" +
                    lines[1].substr(12, lines[1].size() - 13) + "}",
                R"({"add":null,"metaData":)" + lines[2].substr(12, lines[2].size() - 13) + "}",
                R"({"add":{"path":"x","partitionValues":{},"size":1,"modificationTime":1,"dataChange":false},"remove":null})",
                R"({"add":{"path":"y","partitionValues":{},"size":1,"modificationTime":1,"dataChange":false},"remove":null})",
                R"({"add":null,"remove":{"path":"old","deletionTimestamp":1,"dataChange":true}})",
                R"({"txn":{"appId":"a","version":1,"lastUpdated":null},"add":null})"});
  Commit(2, {R"({"commitInfo":{"operation":"WRITE"}})", AddLine("y")});
  Commit(3, {RemoveLine("x")});
  Commit(4, {AddLine("z")});
  auto s = Build();
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ((*s)->version(), 4);
  EXPECT_THAT(Paths(**s), ElementsAre("y", "z"));
  EXPECT_EQ((*s)->TxnVersion("a"), 1);
  EXPECT_EQ((*s)->config().properties().checkpoint_interval, 2);
  EXPECT_EQ(parquet_.reads(), 1);

  // At the checkpoint's own version the commit is not replayed but its commitInfo is read.
  auto at2 = Build(2);
  ASSERT_TRUE(at2.ok()) << at2.status().ToString();
  EXPECT_THAT(Paths(**at2), ElementsAre("x", "y"));
  ASSERT_TRUE((*at2)->commit_info().has_value());
  EXPECT_EQ((*at2)->commit_info()->operation, "WRITE");

  auto at1 = Build(1);
  EXPECT_TRUE(at1.status().IsNotFound());
  EXPECT_THAT(at1.status().message(), HasSubstr("earliest available version is 2"));
}

TEST_F(SnapshotTest, V2JsonCheckpointWithSidecars) {
  auto lines = CreateTableLines(
      R"({"delta.checkpointPolicy":"v2"})",
      R"({"minReaderVersion":3,"minWriterVersion":7,"readerFeatures":["v2Checkpoint"],"writerFeatures":["v2Checkpoint"]})");
  const std::string cp_name =
      "00000000000000000001.checkpoint.6374b053-df23-479b-b2cf-c9c550132b49.json";
  ASSERT_TRUE(store_
                  .Write(LogKey(root_, cp_name),
                         R"({"checkpointMetadata":{"version":1}})"
                         "\n"
                         R"({"sidecar":{"path":"s1.parquet","sizeInBytes":10,"modificationTime":1}})"
                         "\n"
                         R"({"sidecar":{"path":"s2.parquet","sizeInBytes":10,"modificationTime":1}})"
                         "\n" +
                             lines[1] + "\n" + lines[2] + "\n")
                  .ok());
  const std::string s1 = LogKey(root_, "_sidecars/s1.parquet");
  const std::string s2 = LogKey(root_, "_sidecars/s2.parquet");
  ASSERT_TRUE(store_.Write(s1, "PAR1").ok());
  ASSERT_TRUE(store_.Write(s2, "PAR1").ok());
  parquet_.Put(s1, {R"({"add":{"path":"p1","partitionValues":{},"size":1,"modificationTime":1,"dataChange":true},"remove":null})"});
  parquet_.Put(s2, {R"({"add":{"path":"p2","partitionValues":{},"size":1,"modificationTime":1,"dataChange":true},"remove":null})",
                    R"({"add":null,"remove":{"path":"p0","dataChange":true}})"});
  Commit(2, {AddLine("p3")});
  auto s = Build();
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ((*s)->version(), 2);
  EXPECT_THAT(Paths(**s), ElementsAre("p1", "p2", "p3"));
  EXPECT_EQ((*s)->config().properties().checkpoint_policy, CheckpointPolicy::kV2);

  // A missing sidecar is an error naming it.
  ASSERT_TRUE(store_.Delete(s2).ok());
  parquet_.Put(s2, {});
  StubParquetHandler empty;
  auto broken = SnapshotBuilder(store_, root_).Build(empty);
  ASSERT_FALSE(broken.ok());
  EXPECT_THAT(broken.status().message(), HasSubstr("s1.parquet"));
}

TEST_F(SnapshotTest, TimeTravelByTimestampUsesFileTimes) {
  TimedStore timed(store_);
  Commit(0, Concat(CreateTableLines(), {AddLine("a")}));
  Commit(1, {AddLine("b")});
  Commit(2, {AddLine("c")});
  for (int v = 0; v <= 2; ++v) timed.SetTime(LogKey(root_, CommitFileName(v)), 1000 * (v + 1));

  auto at = [&](int64_t ms) { return SnapshotBuilder(timed, root_).AtTimestamp(ms).Build(parquet_); };
  auto s = at(2500);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ((*s)->version(), 1);
  EXPECT_EQ((*s)->timestamp_ms(), 2000);
  EXPECT_EQ((*at(2000))->version(), 1);
  EXPECT_EQ((*at(1000))->version(), 0);
  EXPECT_EQ((*at(99999))->version(), 2);
  auto before = at(999);
  ASSERT_FALSE(before.ok());
  EXPECT_TRUE(before.status().IsNotFound());
  EXPECT_THAT(before.status().message(), HasSubstr("before the earliest available commit (version 0"));

  auto both = SnapshotBuilder(timed, root_).AtVersion(1).AtTimestamp(5).Build(parquet_);
  EXPECT_TRUE(both.status().IsInvalidArgument());
}

TEST_F(SnapshotTest, InCommitTimestamps) {
  TimedStore timed(store_);
  auto lines = CreateTableLines(
      R"({"delta.enableInCommitTimestamps":"true","delta.inCommitTimestampEnablementVersion":"1"})",
      R"({"minReaderVersion":1,"minWriterVersion":7,"writerFeatures":["inCommitTimestamp"]})");
  Commit(0, Concat(lines, {AddLine("a")}));
  Commit(1, {R"({"commitInfo":{"inCommitTimestamp":50000,"timestamp":1}})", AddLine("b")});
  Commit(2, {R"({"commitInfo":{"inCommitTimestamp":60000,"timestamp":2}})", AddLine("c")});
  // File times disagree with the in-commit timestamps, which win from version 1 on.
  timed.SetTime(LogKey(root_, CommitFileName(0)), 10000);
  timed.SetTime(LogKey(root_, CommitFileName(1)), 99999999);
  timed.SetTime(LogKey(root_, CommitFileName(2)), 5);

  auto latest = SnapshotBuilder(timed, root_).Build(parquet_);
  ASSERT_TRUE(latest.ok()) << latest.status().ToString();
  EXPECT_EQ((*latest)->timestamp_ms(), 60000);
  EXPECT_EQ((*SnapshotBuilder(timed, root_).AtTimestamp(55000).Build(parquet_))->version(), 1);
  EXPECT_EQ((*SnapshotBuilder(timed, root_).AtTimestamp(20000).Build(parquet_))->version(), 0);
  auto v0 = SnapshotBuilder(timed, root_).AtVersion(0).Build(parquet_);
  ASSERT_TRUE(v0.ok());
  EXPECT_EQ((*v0)->timestamp_ms(), 10000);  // before enablement: the file time

  auto history = ReadHistory(timed, root_);
  ASSERT_TRUE(history.ok()) << history.status().ToString();
  ASSERT_EQ(history->size(), 3u);
  EXPECT_EQ((*history)[0].version, 2);
  EXPECT_EQ((*history)[0].timestamp_ms, 60000);
  EXPECT_EQ((*history)[2].version, 0);
  EXPECT_EQ((*history)[2].commit_info->operation, "CREATE TABLE");
  EXPECT_EQ(ReadHistory(timed, root_, 1)->size(), 1u);
}

TEST_F(SnapshotTest, ReadCommitActions) {
  Commit(0, Concat(CreateTableLines(), {AddLine("a")}));
  auto actions = ReadCommitActions(store_, root_, 0);
  ASSERT_TRUE(actions.ok());
  ASSERT_EQ(actions->size(), 4u);
  EXPECT_TRUE(std::holds_alternative<CommitInfo>((*actions)[0]));
  EXPECT_TRUE(std::holds_alternative<AddFile>((*actions)[3]));
  auto missing = ReadCommitActions(store_, root_, 5);
  EXPECT_TRUE(missing.status().IsNotFound());
  EXPECT_EQ(missing.status().message(), "db/orders: commit 5 does not exist");
}

TEST_F(SnapshotTest, NotATable) {
  auto s = Build();
  ASSERT_FALSE(s.ok());
  EXPECT_TRUE(s.status().IsNotFound());
  EXPECT_EQ(s.status().message(), "db/orders is not a Delta table (no _delta_log)");
}

// JSON-only golden tables, through a handler that must not be called.
TEST(SnapshotGoldenTest, JsonOnlyTables) {
  auto dir = testing::GoldenDir();
  if (!dir) GTEST_SKIP() << testing::kSkipNoGolden;
  auto store = storage::LocalObjectStore::Make(*dir);
  ASSERT_TRUE(store.ok());
  StubParquetHandler none;
  auto load = [&](const std::string& table, std::optional<int64_t> v = std::nullopt) {
    SnapshotBuilder b(**store, table + "/delta");
    if (v) b.AtVersion(*v);
    return b.Build(none);
  };
  auto dv = load("log-replay-dv-key-cases");
  ASSERT_TRUE(dv.ok()) << dv.status().ToString();
  EXPECT_EQ((*dv)->version(), 3);
  ASSERT_EQ((*dv)->files().size(), 1u);
  EXPECT_EQ((*dv)->files()[0].deletion_vector->cardinality, 3);

  auto canon = load("canonicalized-paths-special-a");
  ASSERT_TRUE(canon.ok()) << canon.status().ToString();
  EXPECT_TRUE((*canon)->files().empty());

  auto gap = load("versions-not-contiguous");
  EXPECT_TRUE(gap.status().IsCorruption());
  EXPECT_THAT(gap.status().message(), HasSubstr("missing version 1 (found 2)"));

  auto no_md = load("deltalog-state-reconstruction-without-metadata");
  EXPECT_TRUE(no_md.status().IsCorruption());
  EXPECT_THAT(no_md.status().message(), HasSubstr("table has no metaData action"));

  auto special = load("log-replay-special-characters-a");
  ASSERT_TRUE(special.ok()) << special.status().ToString();
  EXPECT_TRUE((*special)->files().empty());
  EXPECT_EQ(none.reads(), 0);
}

}  // namespace
}  // namespace medallion::delta
