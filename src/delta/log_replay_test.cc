#include "delta/log_replay.h"

#include <gtest/gtest.h>

#include <algorithm>

namespace medallion::delta {
namespace {

AddFile Add(const std::string& path, std::optional<std::string> dv_path = std::nullopt) {
  AddFile a;
  a.path = path;
  a.size = 1;
  if (dv_path) a.deletion_vector = DeletionVectorDescriptor{"u", *dv_path, 1, 10, 1, std::nullopt};
  return a;
}
RemoveFile Remove(const std::string& path, std::optional<std::string> dv_path = std::nullopt) {
  RemoveFile r;
  r.path = path;
  if (dv_path) r.deletion_vector = DeletionVectorDescriptor{"u", *dv_path, 1, 10, 1, std::nullopt};
  return r;
}

std::vector<std::string> Paths(const ReplayedState& s) {
  std::vector<std::string> out;
  for (const auto& f : s.files) out.push_back(f.path);
  std::sort(out.begin(), out.end());
  return out;
}

TEST(LogReplayerTest, NewestActionPerFileWins) {
  LogReplayer r;
  // Fed newest first: v2 removes a, v1 adds b, v0 adds a.
  ASSERT_TRUE(r.AddCommit({Remove("a")}, "v2").ok());
  ASSERT_TRUE(r.AddCommit({Add("b")}, "v1").ok());
  ASSERT_TRUE(r.AddCommit({Add("a")}, "v0").ok());
  auto s = r.Finish();
  EXPECT_EQ(Paths(s), std::vector<std::string>{"b"});
  EXPECT_EQ(s.tombstones.size(), 1u);
}

TEST(LogReplayerTest, ReAddAfterRemove) {
  LogReplayer r;
  ASSERT_TRUE(r.AddCommit({Add("a")}, "v2").ok());
  ASSERT_TRUE(r.AddCommit({Remove("a")}, "v1").ok());
  ASSERT_TRUE(r.AddCommit({Add("a")}, "v0").ok());
  auto s = r.Finish();
  EXPECT_EQ(Paths(s), std::vector<std::string>{"a"});
  EXPECT_EQ(s.tombstones.size(), 0u);
}

TEST(LogReplayerTest, DeletionVectorsArePartOfTheKey) {
  LogReplayer r;
  // v2: add (a, dv2), remove (a, dv1); v1: add (a, dv1), remove (a); v0: add a.
  ASSERT_TRUE(r.AddCommit({Add("a", "dv2-aaaaaaaaaaaaaaaa"), Remove("a", "dv1-aaaaaaaaaaaaaaaa")},
                          "v2")
                  .ok());
  ASSERT_TRUE(r.AddCommit({Add("a", "dv1-aaaaaaaaaaaaaaaa"), Remove("a")}, "v1").ok());
  ASSERT_TRUE(r.AddCommit({Add("a")}, "v0").ok());
  auto s = r.Finish();
  ASSERT_EQ(s.files.size(), 1u);
  EXPECT_EQ(s.files[0].deletion_vector->path_or_inline_dv, "dv2-aaaaaaaaaaaaaaaa");
}

TEST(LogReplayerTest, AddWinsOverRemoveOfSameKeyInOneCommit) {
  LogReplayer r;
  ASSERT_TRUE(r.AddCommit({Remove("a"), Add("a")}, "v1").ok());
  ASSERT_TRUE(r.AddCommit({Add("a")}, "v0").ok());
  EXPECT_EQ(Paths(r.Finish()), std::vector<std::string>{"a"});
}

TEST(LogReplayerTest, PathSpellingsAreOneFile) {
  LogReplayer r;
  ASSERT_TRUE(r.AddCommit({Remove("file:/x/with%20space")}, "v1").ok());
  ASSERT_TRUE(r.AddCommit({Add("/x/with%20space"), Add("a%20b"), Add("a b")}, "v0").ok());
  // "a%20b" and "a b" decode to the same file; both adds come from one (invalid) commit and are
  // both kept, but the absolute file was removed.
  auto s = r.Finish();
  EXPECT_EQ(s.files.size(), 2u);
}

TEST(LogReplayerTest, CheckpointAfterCommits) {
  LogReplayer r;
  Protocol newer;
  newer.min_reader_version = 2;
  newer.min_writer_version = 5;
  ASSERT_TRUE(r.AddCommit({newer, Remove("a"), Txn{"app", 9, std::nullopt}}, "v11").ok());
  Protocol older;
  Metadata md;
  md.id = "m";
  ASSERT_TRUE(r.AddCheckpointActions({older, md, Add("a"), Add("b"), Remove("c"),
                                      Txn{"app", 3, std::nullopt}, Txn{"other", 1, std::nullopt},
                                      DomainMetadata{"d1", "x", false},
                                      DomainMetadata{"d2", "y", true}},
                                     "cp10")
                  .ok());
  auto s = r.Finish();
  EXPECT_EQ(Paths(s), std::vector<std::string>{"b"});
  ASSERT_TRUE(s.protocol);
  EXPECT_EQ(s.protocol->min_reader_version, 2);
  ASSERT_TRUE(s.metadata);
  EXPECT_EQ(s.metadata->id, "m");
  EXPECT_EQ(s.txns.at("app").version, 9);
  EXPECT_EQ(s.txns.at("other").version, 1);
  EXPECT_EQ(s.domains.size(), 1u);
  EXPECT_EQ(s.domains.count("d1"), 1u);
}

TEST(LogReplayerTest, DomainTombstoneSuppressesOlder) {
  LogReplayer r;
  ASSERT_TRUE(r.AddCommit({DomainMetadata{"d", "new", true}}, "v1").ok());
  ASSERT_TRUE(r.AddCommit({DomainMetadata{"d", "old", false}}, "v0").ok());
  EXPECT_TRUE(r.Finish().domains.empty());
}

TEST(LogReplayerTest, CommitInfoOfNewestCommitOnly) {
  LogReplayer r;
  CommitInfo newest;
  newest.operation = "DELETE";
  CommitInfo older;
  older.operation = "WRITE";
  ASSERT_TRUE(r.AddCommit({Add("x")}, "v2").ok());  // no commitInfo in the newest commit
  ASSERT_TRUE(r.AddCommit({older}, "v1").ok());
  EXPECT_FALSE(r.Finish().commit_info.has_value());

  LogReplayer r2;
  ASSERT_TRUE(r2.AddCommit({newest}, "v2").ok());
  ASSERT_TRUE(r2.AddCommit({older}, "v1").ok());
  EXPECT_EQ(r2.Finish().commit_info->operation, "DELETE");
}

TEST(LogReplayerTest, UndecodablePathIsCorruption) {
  LogReplayer r;
  auto s = r.AddCommit({Add("bad%zz")}, "00000000000000000001.json");
  EXPECT_TRUE(s.IsCorruption());
  EXPECT_NE(s.message().find("00000000000000000001.json"), std::string::npos);
}

}  // namespace
}  // namespace medallion::delta
