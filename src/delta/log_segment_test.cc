#include "delta/log_segment.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "delta/test_util.h"
#include "storage/memory_object_store.h"

namespace medallion::delta {
namespace {

using ::testing::HasSubstr;
using testing::CheckpointName;
using testing::LogKey;
using testing::MultiPartName;

TEST(LogFileNameTest, ParsesLogFileNames) {
  auto c = ParseLogFileName("00000000000000000042.json");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->kind, LogFileKind::kCommit);
  EXPECT_EQ(c->version, 42);

  auto cp = ParseLogFileName("00000000000000000010.checkpoint.parquet");
  ASSERT_TRUE(cp);
  EXPECT_EQ(cp->kind, LogFileKind::kClassicCheckpoint);
  EXPECT_EQ(cp->version, 10);

  auto mp = ParseLogFileName("00000000000000000010.checkpoint.0000000002.0000000003.parquet");
  ASSERT_TRUE(mp);
  EXPECT_EQ(mp->kind, LogFileKind::kMultiPartCheckpoint);
  EXPECT_EQ(mp->part, 2);
  EXPECT_EQ(mp->num_parts, 3);

  auto v2 = ParseLogFileName(
      "00000000000000000002.checkpoint.6374b053-df23-479b-b2cf-c9c550132b49.json");
  ASSERT_TRUE(v2);
  EXPECT_EQ(v2->kind, LogFileKind::kV2Checkpoint);
  EXPECT_TRUE(v2->is_json);
  EXPECT_EQ(v2->uuid, "6374b053-df23-479b-b2cf-c9c550132b49");
  auto v2p = ParseLogFileName(
      "00000000000000000002.checkpoint.e8fa2696-9728-4e9c-b285-634743fdd4fb.parquet");
  ASSERT_TRUE(v2p);
  EXPECT_FALSE(v2p->is_json);

  for (const char* junk :
       {"._00000000000000000002.json", ".00000000000000000002.json.crc",
        "00000000000000000002.crc", "00000000000000000002.json.tmp", "0000000000000000002.json",
        "00000000000000000004.00000000000000000006.compacted.json", "_last_checkpoint",
        "00000000000000000002.checkpoint.0000000003.0000000002.parquet",
        "00000000000000000002.checkpoint.not-a-uuid.json", "00000000000000000002.checkpoint",
        "0000000000000000000a.json", "00000000000000000002.JSON"}) {
    EXPECT_FALSE(ParseLogFileName(junk)) << junk;
  }
  EXPECT_EQ(CommitFileName(7), "00000000000000000007.json");
}

class LogSegmentTest : public ::testing::Test {
 protected:
  void Put(const std::string& name, const std::string& data = "{}") {
    ASSERT_TRUE(store_.Write(LogKey(root_, name), data).ok());
  }
  void Commits(int64_t from, int64_t to) {
    for (int64_t v = from; v <= to; ++v) Put(CommitFileName(v));
  }
  Result<LogSegment> Segment(std::optional<int64_t> version = std::nullopt) {
    return ListLogSegment(store_, root_, version);
  }
  static std::vector<int64_t> Versions(const LogSegment& s) {
    std::vector<int64_t> out;
    for (const auto& c : s.commits()) out.push_back(c.name.version);
    return out;
  }

  storage::MemoryObjectStore store_;
  std::string root_ = "db/t";
};

TEST_F(LogSegmentTest, NotADeltaTable) {
  auto s = Segment();
  ASSERT_FALSE(s.ok());
  EXPECT_TRUE(s.status().IsNotFound());
  EXPECT_EQ(s.status().message(), "db/t is not a Delta table (no _delta_log)");
  // Junk only is still not a table.
  Put("_last_checkpoint", R"({"version":3})");
  Put("._00000000000000000000.json");
  EXPECT_TRUE(Segment().status().IsNotFound());
}

TEST_F(LogSegmentTest, CommitsOnly) {
  Commits(0, 3);
  auto s = Segment();
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->version(), 3);
  EXPECT_FALSE(s->checkpoint());
  EXPECT_EQ(Versions(*s), (std::vector<int64_t>{0, 1, 2, 3}));
  ASSERT_TRUE(s->version_commit());
  EXPECT_EQ(s->version_commit()->name.version, 3);
}

TEST_F(LogSegmentTest, IgnoresJunkFiles) {
  Commits(0, 1);
  Put("._00000000000000000002.json");
  Put(".00000000000000000001.json.crc");
  Put("00000000000000000001.crc");
  Put("00000000000000000000.00000000000000000001.compacted.json");
  Put("_last_checkpoint", "garbage");
  Put("_sidecars/00000000000000000005.checkpoint.parquet");
  Put("00000000000000000003.json.tmp");
  ASSERT_TRUE(store_.Write("db/t/00000000000000000009.json", "{}").ok());  // outside _delta_log
  auto s = Segment();
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->version(), 1);
  EXPECT_EQ(Versions(*s), (std::vector<int64_t>{0, 1}));
}

TEST_F(LogSegmentTest, UsesNewestCheckpointAtOrBelowTarget) {
  Commits(0, 12);
  Put(CheckpointName(5));
  Put(CheckpointName(10));
  auto latest = Segment();
  ASSERT_TRUE(latest.ok());
  EXPECT_EQ(latest->version(), 12);
  ASSERT_TRUE(latest->checkpoint());
  EXPECT_EQ(latest->checkpoint()->version, 10);
  EXPECT_EQ(Versions(*latest), (std::vector<int64_t>{11, 12}));

  auto at9 = Segment(9);
  ASSERT_TRUE(at9.ok());
  EXPECT_EQ(at9->checkpoint()->version, 5);
  EXPECT_EQ(Versions(*at9), (std::vector<int64_t>{6, 7, 8, 9}));

  auto at10 = Segment(10);
  ASSERT_TRUE(at10.ok());
  EXPECT_EQ(at10->checkpoint()->version, 10);
  EXPECT_TRUE(at10->commits().empty());
  ASSERT_TRUE(at10->version_commit());  // the commit of v10 is still known

  auto at4 = Segment(4);
  ASSERT_TRUE(at4.ok());
  EXPECT_FALSE(at4->checkpoint());
  EXPECT_EQ(Versions(*at4), (std::vector<int64_t>{0, 1, 2, 3, 4}));
}

TEST_F(LogSegmentTest, IncompleteMultiPartCheckpointIsIgnored) {
  Commits(0, 6);
  Put(CheckpointName(2));
  Put(MultiPartName(5, 1, 3));
  Put(MultiPartName(5, 3, 3));  // part 2 missing
  auto s = Segment();
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->checkpoint()->version, 2);

  Put(MultiPartName(5, 2, 3));
  auto complete = Segment();
  ASSERT_TRUE(complete.ok());
  ASSERT_EQ(complete->checkpoint()->version, 5);
  EXPECT_EQ(complete->checkpoint()->kind, LogFileKind::kMultiPartCheckpoint);
  ASSERT_EQ(complete->checkpoint()->files.size(), 3u);
  EXPECT_EQ(complete->checkpoint()->files[1].name.part, 2);
  EXPECT_EQ(Versions(*complete), (std::vector<int64_t>{6}));

  // Parts of a different split do not complete each other.
  Put(MultiPartName(6, 1, 2));
  Put(MultiPartName(6, 2, 3));
  EXPECT_EQ(Segment()->checkpoint()->version, 5);
}

TEST_F(LogSegmentTest, PrefersV2OrClassicOverMultiPartForOneVersion) {
  Commits(0, 3);
  Put(MultiPartName(3, 1, 2));
  Put(MultiPartName(3, 2, 2));
  Put(CheckpointName(3));
  auto s = Segment();
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->checkpoint()->kind, LogFileKind::kClassicCheckpoint);
  Put("00000000000000000003.checkpoint.80a083e8-7026-4e79-81be-64bd76c43a11.json");
  EXPECT_EQ(Segment()->checkpoint()->kind, LogFileKind::kV2Checkpoint);
}

TEST_F(LogSegmentTest, GapIsCorruption) {
  Put(CommitFileName(0));
  Put(CommitFileName(2));
  auto s = Segment();
  ASSERT_FALSE(s.ok());
  EXPECT_TRUE(s.status().IsCorruption());
  EXPECT_EQ(s.status().message(), "db/t: versions not contiguous: missing version 1 (found 2)");

  // A gap after a checkpoint.
  Commits(0, 5);
  Put(CheckpointName(3));
  ASSERT_TRUE(store_.Delete(LogKey(root_, CommitFileName(4))).ok());
  auto after = Segment();
  ASSERT_FALSE(after.ok());
  EXPECT_THAT(after.status().message(), HasSubstr("missing version 4 (found 5)"));
  // ... which does not matter for a version the checkpoint covers.
  EXPECT_TRUE(Segment(3).ok());
}

TEST_F(LogSegmentTest, TimeTravelPastTheEndIsNotFound) {
  Commits(0, 2);
  auto s = Segment(7);
  ASSERT_FALSE(s.ok());
  EXPECT_TRUE(s.status().IsNotFound());
  EXPECT_EQ(s.status().message(), "db/t: version 7 does not exist (latest version is 2)");
  EXPECT_TRUE(Segment(-1).status().IsInvalidArgument());
}

TEST_F(LogSegmentTest, CleanedUpEarlyCommits) {
  // Metadata cleanup removed commits 0..9; the checkpoint at 10 covers them.
  Commits(10, 14);
  Put(CheckpointName(10));
  auto latest = Segment();
  ASSERT_TRUE(latest.ok()) << latest.status().ToString();
  EXPECT_EQ(latest->version(), 14);
  EXPECT_EQ(latest->checkpoint()->version, 10);

  auto old = Segment(5);
  ASSERT_FALSE(old.ok());
  EXPECT_TRUE(old.status().IsNotFound());
  EXPECT_EQ(old.status().message(),
            "db/t: cannot reconstruct version 5: the earliest available version is 10");
}

TEST_F(LogSegmentTest, CommitsWithoutStartOrCheckpoint) {
  Commits(3, 4);
  auto s = Segment();
  ASSERT_FALSE(s.ok());
  EXPECT_TRUE(s.status().IsNotFound());
  EXPECT_THAT(s.status().message(), HasSubstr("earliest commit is version 3"));
}

TEST_F(LogSegmentTest, CheckpointOnlyTable) {
  Put(CheckpointName(5));
  auto s = Segment();
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->version(), 5);
  EXPECT_EQ(s->checkpoint()->version, 5);
  EXPECT_TRUE(s->commits().empty());
  EXPECT_FALSE(s->version_commit());
  EXPECT_TRUE(Segment(4).status().IsNotFound());
}

TEST_F(LogSegmentTest, TableAtStoreRoot) {
  ASSERT_TRUE(store_.Write("_delta_log/00000000000000000000.json", "{}").ok());
  auto s = ListLogSegment(store_, "", std::nullopt);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->version(), 0);
}

TEST_F(LogSegmentTest, ListLogFromVersionListsThatVersionAndLater) {
  Commits(0, 12);
  Put(CheckpointName(10));
  Put(MultiPartName(5, 1, 2));
  auto listing = ListLog(store_, root_, 10);
  ASSERT_TRUE(listing.ok()) << listing.status().ToString();
  ASSERT_EQ(listing->commits.size(), 3u);
  EXPECT_EQ(listing->commits.front().name.version, 10);
  ASSERT_EQ(listing->checkpoints.size(), 1u);
  EXPECT_EQ(listing->checkpoints.front().version, 10);
  EXPECT_EQ(ListLog(store_, root_, 0)->commits.size(), 13u);
  EXPECT_EQ(ListLog(store_, root_, 13)->commits.size(), 0u);
}

TEST_F(LogSegmentTest, LastCheckpointHintOnlyChangesTheCostOfListing) {
  Commits(0, 12);
  Put(CheckpointName(10));
  Put("_last_checkpoint", R"({"version":10})");
  auto latest = Segment();
  ASSERT_TRUE(latest.ok()) << latest.status().ToString();
  ASSERT_TRUE(latest->checkpoint());
  EXPECT_EQ(latest->checkpoint()->version, 10);
  EXPECT_EQ(Versions(*latest), (std::vector<int64_t>{11, 12}));
  // A version before the hint lists the whole log.
  auto old = Segment(4);
  ASSERT_TRUE(old.ok()) << old.status().ToString();
  EXPECT_FALSE(old->checkpoint());
  EXPECT_EQ(Versions(*old), (std::vector<int64_t>{0, 1, 2, 3, 4}));
  // A newer checkpoint than the hint names is still used.
  Put(CheckpointName(12));
  auto newer = Segment();
  ASSERT_TRUE(newer.ok());
  EXPECT_EQ(newer->checkpoint()->version, 12);
  EXPECT_TRUE(newer->commits().empty());
  // A hint naming a missing or incomplete checkpoint falls back to the whole log.
  Put("_last_checkpoint", R"({"version":11})");
  Put(MultiPartName(11, 1, 2));
  auto stale = Segment(11);
  ASSERT_TRUE(stale.ok()) << stale.status().ToString();
  EXPECT_EQ(stale->checkpoint()->version, 10);
  EXPECT_EQ(Versions(*stale), (std::vector<int64_t>{11}));
  Put("_last_checkpoint", R"({"version":99})");
  auto beyond = Segment();
  ASSERT_TRUE(beyond.ok()) << beyond.status().ToString();
  EXPECT_EQ(beyond->version(), 12);
  // Time travel past the end says so with a hint too.
  Put("_last_checkpoint", R"({"version":10})");
  auto past = Segment(13);
  EXPECT_TRUE(past.status().IsNotFound()) << past.status().ToString();
}

// Time travel below the hint lists from kTimeTravelWindow versions before the target when a
// checkpoint is there, else the whole log: the segment is the same either way.
TEST_F(LogSegmentTest, TimeTravelBelowTheHintFindsTheCheckpointBeforeIt) {
  const int64_t w = kTimeTravelWindow;
  Commits(0, 3 * w);
  Put(CheckpointName(10));
  Put(CheckpointName(2 * w));
  Put(CheckpointName(3 * w));
  Put("_last_checkpoint", "{\"version\":" + std::to_string(3 * w) + "}");
  // A checkpoint in the window before the target.
  auto near = Segment(2 * w + 5);
  ASSERT_TRUE(near.ok()) << near.status().ToString();
  ASSERT_TRUE(near->checkpoint());
  EXPECT_EQ(near->checkpoint()->version, 2 * w);
  EXPECT_EQ(near->commits().size(), 5u);
  // None in the window (the newest before 2w - 1 is at 10): the whole log.
  auto far = Segment(2 * w - 1);
  ASSERT_TRUE(far.ok()) << far.status().ToString();
  ASSERT_TRUE(far->checkpoint());
  EXPECT_EQ(far->checkpoint()->version, 10);
  EXPECT_EQ(far->commits().front().name.version, 11);
  EXPECT_EQ(far->commits().back().name.version, 2 * w - 1);
  // Without a hint too.
  ASSERT_TRUE(store_.Delete(LogKey(root_, "_last_checkpoint")).ok());
  auto unhinted = Segment(2 * w + 1);
  ASSERT_TRUE(unhinted.ok()) << unhinted.status().ToString();
  EXPECT_EQ(unhinted->checkpoint()->version, 2 * w);
  EXPECT_EQ(Versions(*unhinted), (std::vector<int64_t>{2 * w + 1}));
}

TEST_F(LogSegmentTest, LastCheckpointHintIsTolerant) {
  auto none = ReadLastCheckpointHint(store_, root_);
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
  Put("_last_checkpoint", "");
  EXPECT_FALSE(ReadLastCheckpointHint(store_, root_)->has_value());
  Put("_last_checkpoint", "{\"version\":");
  EXPECT_FALSE(ReadLastCheckpointHint(store_, root_)->has_value());
  Put("_last_checkpoint", R"({"version":"x"})");
  EXPECT_FALSE(ReadLastCheckpointHint(store_, root_)->has_value());
  Put("_last_checkpoint", R"({"version":10,"size":13,"parts":2})");
  auto hint = ReadLastCheckpointHint(store_, root_);
  ASSERT_TRUE(hint.ok());
  ASSERT_TRUE(hint->has_value());
  EXPECT_EQ((*hint)->version, 10);
  EXPECT_EQ((*hint)->parts, 2);
}

}  // namespace
}  // namespace medallion::delta
