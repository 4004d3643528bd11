#include "delta/checkpoint_writer.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <set>

#include "delta/log_segment.h"
#include "delta/test_util.h"
#include "delta/transaction.h"
#include "delta/write_test_util.h"
#include "storage/memory_object_store.h"
#include "storage/test_util.h"

namespace medallion::delta {
namespace {

using testing::TestAdd;
using testing::TestMetadata;
using testing::TestRemove;
using Json = nlohmann::json;

constexpr char kRoot[] = "t";
constexpr int64_t kDay = 24LL * 3600 * 1000;

class CheckpointWriterTest : public ::testing::Test {
 protected:
  CheckpointWriterTest() : parquet_(&store_) {}

  TransactionOptions Options() {
    TransactionOptions o;
    o.checkpoint_writer = &parquet_;
    o.now_ms = now_ms_;
    return o;
  }
  Result<std::shared_ptr<const Snapshot>> Latest() {
    return SnapshotBuilder(store_, kRoot).Build(parquet_);
  }
  Result<CommitResult> Create(Metadata m) {
    ASSIGN_OR_RETURN(auto t, Transaction::ForTable(store_, kRoot, nullptr, Options()));
    t->UpdateMetadata(std::move(m));
    return t->Commit(parquet_);
  }
  // One commit: adds `add` (if not empty), removes `remove` (if not empty), sets txn app=version.
  Result<CommitResult> Change(const std::string& add, const std::string& remove = "") {
    ASSIGN_OR_RETURN(auto snapshot, Latest());
    ASSIGN_OR_RETURN(auto t, Transaction::ForTable(store_, kRoot, snapshot, Options()));
    if (!add.empty()) t->AddFiles({TestAdd(add)});
    if (!remove.empty()) t->RemoveFiles({TestRemove(remove)});
    t->SetTxn("app", snapshot->version() + 1);
    return t->Commit(parquet_);
  }

  storage::MemoryObjectStore store_;
  testing::TextParquet parquet_;
  int64_t now_ms_ = 100 * kDay;
};

TEST_F(CheckpointWriterTest, SchemaHasSpecColumns) {
  const Schema& s = CheckpointSchema();
  std::vector<std::string> names;
  for (const auto& f : s.fields()) names.push_back(f.name);
  EXPECT_EQ(names, (std::vector<std::string>{"txn", "add", "remove", "metaData", "protocol",
                                             "domainMetadata"}));
  const StructField* add = s.FindField("add");
  ASSERT_NE(add, nullptr);
  std::vector<std::string> add_fields;
  for (const auto& f : add->type->fields()) add_fields.push_back(f.name);
  EXPECT_EQ(std::vector<std::string>(add_fields.begin(), add_fields.begin() + 6),
            (std::vector<std::string>{"path", "partitionValues", "size", "modificationTime",
                                      "dataChange", "stats"}));
  EXPECT_EQ(add->type->fields()[1].type->kind(), TypeKind::kMap);
  EXPECT_EQ(add->type->fields()[5].type->kind(), TypeKind::kString);
  const StructField* protocol = s.FindField("protocol");
  EXPECT_EQ(protocol->type->fields()[0].type->kind(), TypeKind::kInteger);
}

TEST_F(CheckpointWriterTest, CommitAtIntervalWritesCheckpointAndHint) {
  ASSERT_OK(Create(TestMetadata({{"delta.checkpointInterval", "5"}})));
  for (int i = 1; i <= 7; ++i) {
    ASSERT_OK_AND_ASSIGN(auto r,
                         Change("f" + std::to_string(i) + ".parquet", i == 3 ? "f1.parquet" : ""));
    EXPECT_EQ(r.checkpoint_written, i == 5) << i;
    EXPECT_OK(r.checkpoint_status);
  }
  ASSERT_OK_AND_ASSIGN(auto listing, ListLog(store_, kRoot));
  ASSERT_EQ(listing.checkpoints.size(), 1u);
  EXPECT_EQ(listing.checkpoints[0].version, 5);

  // protocol, metaData, txn, 4 adds (f2..f5), 1 tombstone (f1).
  ASSERT_OK_AND_ASSIGN(auto last, store_.Read(LogPrefix(kRoot) + "_last_checkpoint"));
  Json hint = Json::parse(last);
  EXPECT_EQ(hint["version"], 5);
  EXPECT_EQ(hint["size"], 8);
  EXPECT_EQ(hint["numOfAddFiles"], 4);
  ASSERT_OK_AND_ASSIGN(auto cp, store_.Head(LogPrefix(kRoot) + testing::CheckpointName(5)));
  EXPECT_EQ(hint["sizeInBytes"], cp.size);

  ASSERT_OK_AND_ASSIGN(auto rows, parquet_.ReadRowsAsJson(cp.key, {}));
  ASSERT_EQ(rows.size(), 8u);
  EXPECT_TRUE(Json::parse(rows[0]).contains("protocol"));
  EXPECT_TRUE(Json::parse(rows[1]).contains("metaData"));
  EXPECT_EQ(Json::parse(rows[2])["txn"]["version"], 5);
  Json add = Json::parse(rows[3])["add"];
  EXPECT_EQ(add["path"], "f2.parquet");
  EXPECT_EQ(add["dataChange"], false);
  Json tomb = Json::parse(rows[7])["remove"];
  EXPECT_EQ(tomb["path"], "f1.parquet");
  EXPECT_EQ(tomb["deletionTimestamp"], now_ms_);

  // The snapshot from the checkpoint equals the one replayed from JSON.
  ASSERT_OK_AND_ASSIGN(auto from_cp, Latest());
  ASSERT_OK_AND_ASSIGN(auto segment, ListLogSegment(store_, kRoot));
  ASSERT_TRUE(segment.checkpoint().has_value());
  storage::MemoryObjectStore json_only;
  for (int64_t v = 0; v <= 7; ++v) {
    const std::string key = LogPrefix(kRoot) + CommitFileName(v);
    ASSERT_OK_AND_ASSIGN(auto data, store_.Read(key));
    ASSERT_OK(json_only.Write(key, data));
  }
  ASSERT_OK_AND_ASSIGN(auto replayed, SnapshotBuilder(json_only, kRoot).Build(parquet_));
  EXPECT_EQ(from_cp->version(), replayed->version());
  EXPECT_EQ(from_cp->protocol(), replayed->protocol());
  EXPECT_EQ(from_cp->metadata(), replayed->metadata());
  EXPECT_EQ(from_cp->txns(), replayed->txns());
  ASSERT_EQ(from_cp->files().size(), replayed->files().size());
  for (size_t i = 0; i < from_cp->files().size(); ++i) {
    EXPECT_EQ(from_cp->files()[i].path, replayed->files()[i].path);
  }
}

// What a transaction writes its checkpoint from: the read snapshot plus its commit, reconciled in
// memory, equals the snapshot read from the log.
TEST_F(CheckpointWriterTest, SnapshotFromParentAndCommitEqualsTheLogs) {
  ASSERT_OK(Create(TestMetadata({})));
  ASSERT_OK(Change("a.parquet"));
  ASSERT_OK(Change("b.parquet"));
  ASSERT_OK(Change("c.parquet", "a.parquet"));
  ASSERT_OK_AND_ASSIGN(auto parent, Latest());
  ASSERT_OK(Change("a.parquet", "b.parquet"));  // re-adds a tombstoned file
  ASSERT_OK_AND_ASSIGN(auto child, Latest());
  const std::string key = LogPrefix(kRoot) + CommitFileName(child->version());
  ASSERT_OK_AND_ASSIGN(auto text, store_.Read(key));
  ASSERT_OK_AND_ASSIGN(auto actions, ParseActions(text, key));
  ASSERT_OK_AND_ASSIGN(auto meta, store_.Head(key));
  ASSERT_OK_AND_ASSIGN(auto made, Snapshot::FromParentAndCommit(*parent, actions, meta));
  EXPECT_EQ(made->version(), child->version());
  EXPECT_EQ(made->timestamp_ms(), child->timestamp_ms());
  EXPECT_EQ(made->protocol(), child->protocol());
  EXPECT_EQ(made->metadata(), child->metadata());
  EXPECT_EQ(made->files(), child->files());
  EXPECT_EQ(made->txns(), child->txns());
  EXPECT_EQ(made->domain_metadata(), child->domain_metadata());
  EXPECT_EQ(made->commit_info(), child->commit_info());
  auto paths = [](const std::vector<RemoveFile>& removes) {
    std::set<std::string> out;
    for (const auto& r : removes) out.insert(r.path);
    return out;
  };
  EXPECT_EQ(paths(made->tombstones()), paths(child->tombstones()));
  EXPECT_EQ(paths(made->tombstones()), (std::set<std::string>{"b.parquet"}));
}

TEST_F(CheckpointWriterTest, ExpiredTombstonesAreDropped) {
  ASSERT_OK(Create(TestMetadata({{"delta.deletedFileRetentionDuration", "interval 1 day"}})));
  ASSERT_OK(Change("a.parquet"));
  ASSERT_OK(Change("b.parquet", "a.parquet"));
  ASSERT_OK_AND_ASSIGN(auto snapshot, Latest());
  auto fresh = CheckpointRows(*snapshot, now_ms_ + 1000);
  EXPECT_EQ(fresh.size(), 5u);  // protocol, metaData, txn, add b, remove a
  auto later = CheckpointRows(*snapshot, now_ms_ + 2 * kDay);
  EXPECT_EQ(later.size(), 4u);
}

TEST_F(CheckpointWriterTest, TombstonesSurviveFromAnEarlierCheckpoint) {
  ASSERT_OK(Create(TestMetadata({{"delta.checkpointInterval", "2"}})));
  ASSERT_OK(Change("a.parquet"));
  ASSERT_OK(Change("b.parquet", "a.parquet"));  // v2: checkpoint with tombstone a
  ASSERT_OK(Change("c.parquet"));
  ASSERT_OK_AND_ASSIGN(auto r, Change("d.parquet"));  // v4: checkpoint from checkpoint 2
  EXPECT_TRUE(r.checkpoint_written);
  ASSERT_OK_AND_ASSIGN(auto rows,
                       parquet_.ReadRowsAsJson(LogPrefix(kRoot) + testing::CheckpointName(4), {}));
  int tombstones = 0;
  for (const auto& row : rows) tombstones += Json::parse(row).contains("remove") ? 1 : 0;
  EXPECT_EQ(tombstones, 1);
  ASSERT_OK_AND_ASSIGN(auto snapshot, Latest());
  EXPECT_EQ(snapshot->files().size(), 3u);
  EXPECT_EQ(snapshot->num_tombstones(), 1);
}

// Sets the modification time of every log file up to `version` to `ms`.
void AgeLog(testing::TimedStore& timed, storage::ObjectStore& base, int64_t up_to_version,
            int64_t ms) {
  auto objects = base.List(LogPrefix(kRoot));
  ASSERT_TRUE(objects.ok());
  for (const auto& o : *objects) {
    auto name = ParseLogFileName(o.key.substr(LogPrefix(kRoot).size()));
    if (name && name->version <= up_to_version) timed.SetTime(o.key, ms);
  }
}

TEST_F(CheckpointWriterTest, CleanupKeepsRetainedVersionsReconstructable) {
  ASSERT_OK(Create(TestMetadata({{"delta.checkpointInterval", "10"}})));
  for (int i = 1; i <= 25; ++i) ASSERT_OK(Change("f" + std::to_string(i) + ".parquet"));
  // Checkpoints at 10 and 20 exist. Versions 0..15 are old, 16..25 recent.
  testing::TimedStore timed(store_);
  AgeLog(timed, store_, 25, now_ms_);
  AgeLog(timed, store_, 15, now_ms_ - 40 * kDay);
  ASSERT_OK_AND_ASSIGN(auto cleaned, CleanUpExpiredLog(timed, kRoot, 30 * kDay, now_ms_));
  // The newest checkpoint at or below 16 is 10: versions 0..9 go (10 commits + 0 checkpoints).
  EXPECT_EQ(cleaned.files_deleted, 10);
  EXPECT_EQ(cleaned.earliest_version, 10);
  for (int64_t v = 10; v <= 25; ++v) {
    SnapshotBuilder b(store_, kRoot);
    b.AtVersion(v);
    ASSERT_OK_AND_ASSIGN(auto s, b.Build(parquet_));
    EXPECT_EQ(static_cast<int64_t>(s->files().size()), v);
  }
  // Everything old: cleaned up to the latest checkpoint (20); checkpoint 10 goes too.
  AgeLog(timed, store_, 25, now_ms_ - 40 * kDay);
  ASSERT_OK_AND_ASSIGN(auto all, CleanUpExpiredLog(timed, kRoot, 30 * kDay, now_ms_));
  EXPECT_EQ(all.files_deleted, 11);
  EXPECT_EQ(all.earliest_version, 20);
  ASSERT_OK_AND_ASSIGN(auto latest, Latest());
  EXPECT_EQ(latest->version(), 25);
  EXPECT_EQ(latest->files().size(), 25u);
}

TEST_F(CheckpointWriterTest, CleanupWithoutCheckpointDoesNothing) {
  ASSERT_OK(Create(TestMetadata()));
  ASSERT_OK(Change("a.parquet"));
  ASSERT_OK_AND_ASSIGN(auto r, CleanUpExpiredLog(store_, kRoot, 0, now_ms_ + 10 * kDay));
  EXPECT_EQ(r.files_deleted, 0);
}

}  // namespace
}  // namespace medallion::delta
