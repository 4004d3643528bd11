#include "delta/restore_plan.h"

#include <gtest/gtest.h>

namespace medallion::delta {
namespace {

AddFile Add(std::string path, int64_t size) {
  AddFile a;
  a.path = std::move(path);
  a.size = size;
  a.data_change = false;
  return a;
}

TEST(RestorePlanTest, RemovesWhatIsNewAndRestoresWhatWasRemoved) {
  std::vector<AddFile> current = {Add("a.parquet", 10), Add("c.parquet", 30)};
  std::vector<AddFile> target = {Add("a.parquet", 10), Add("b%20x.parquet", 20)};
  auto plan = PlanRestore(current, target, 777);
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  ASSERT_EQ(plan->adds.size(), 1u);
  EXPECT_EQ(plan->adds[0].path, "b%20x.parquet");
  EXPECT_TRUE(plan->adds[0].data_change);
  ASSERT_EQ(plan->removes.size(), 1u);
  EXPECT_EQ(plan->removes[0].path, "c.parquet");
  EXPECT_EQ(plan->removes[0].deletion_timestamp, 777);
  EXPECT_EQ(plan->removes[0].size, 30);
  EXPECT_EQ(plan->OperationMetrics(),
            (std::map<std::string, int64_t>{{"tableSizeAfterRestore", 30},
                                            {"numOfFilesAfterRestore", 2},
                                            {"numRemovedFiles", 1},
                                            {"numRestoredFiles", 1},
                                            {"removedFilesSize", 30},
                                            {"restoredFilesSize", 20}}));
}

TEST(RestorePlanTest, SameFileWithAnotherDeletionVectorIsAnotherLogicalFile) {
  AddFile with_dv = Add("a.parquet", 10);
  with_dv.deletion_vector = DeletionVectorDescriptor{"i", "wi5b=000010000siXQKl0rr91000f55c8Xg0@@D72lkbi5=-{L", std::nullopt, 40, 6, std::nullopt};
  auto plan = PlanRestore({with_dv}, {Add("a.parquet", 10)}, 1);
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  EXPECT_EQ(plan->removes.size(), 1u);
  EXPECT_EQ(plan->adds.size(), 1u);
  EXPECT_TRUE(plan->removes[0].deletion_vector.has_value());
}

TEST(RestorePlanTest, ProtocolIsNeverDowngraded) {
  Protocol high{3, 7, std::set<std::string>{"deletionVectors"}, std::set<std::string>{"deletionVectors"}};
  Protocol low{1, 2, std::nullopt, std::nullopt};
  EXPECT_EQ(MergeProtocols(high, low), high);
  EXPECT_EQ(MergeProtocols(low, low), low);
  Protocol cdf{1, 4, std::nullopt, std::nullopt};
  EXPECT_EQ(MergeProtocols(low, cdf), cdf);
  Protocol other{3, 7, std::set<std::string>{"timestampNtz"}, std::set<std::string>{"timestampNtz"}};
  Protocol merged = MergeProtocols(high, other);
  EXPECT_EQ(merged.reader_features, (std::set<std::string>{"deletionVectors", "timestampNtz"}));
}

}  // namespace
}  // namespace medallion::delta
