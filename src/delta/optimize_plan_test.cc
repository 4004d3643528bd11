#include "delta/optimize_plan.h"

#include <gtest/gtest.h>

namespace medallion::delta {
namespace {

AddFile File(std::string path, int64_t size, PartitionValues partition = {}) {
  AddFile a;
  a.path = std::move(path);
  a.size = size;
  a.partition_values = std::move(partition);
  return a;
}

AddFile WithDv(AddFile f, int64_t deleted_rows) {
  DeletionVectorDescriptor dv;
  dv.storage_type = "u";
  dv.path_or_inline_dv = "ab^-aqEH.-t@S}K{vb[*k^";
  dv.size_in_bytes = 36;
  dv.cardinality = deleted_rows;
  f.deletion_vector = dv;
  return f;
}

// Each bin as "path+path", bins joined by ' '.
std::string Bins(const OptimizePlan& plan) {
  std::string out;
  for (const OptimizeBin& bin : plan.bins) {
    if (!out.empty()) out += ' ';
    for (size_t i = 0; i < bin.files.size(); ++i) out += (i ? "+" : "") + bin.files[i].path;
  }
  return out;
}

TEST(OptimizePlanTest, SmallFilesOfOnePartitionBecomeOneBin) {
  OptimizePlanInput in;
  in.files = {File("c", 30), File("a", 10), File("b", 10), File("big", 1000)};
  in.max_file_size = 100;
  auto plan = PlanOptimize(in);
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  EXPECT_EQ(Bins(*plan), "a+b+c");  // by size, then path; the big file stays
  EXPECT_EQ(plan->bins[0].bytes, 50);
  EXPECT_EQ(plan->total_considered_files, 4);
  EXPECT_EQ(plan->total_files_skipped, 1);
  EXPECT_EQ(plan->partitions_optimized, 1);
  EXPECT_EQ(plan->num_files(), 3);
  EXPECT_EQ(plan->num_bytes(), 50);
}

TEST(OptimizePlanTest, BinsCloseAtTheTargetSizeAndASingleFileBinIsDropped) {
  OptimizePlanInput in;
  in.files = {File("a", 40), File("b", 40), File("c", 40), File("d", 40), File("e", 40)};
  in.max_file_size = 100;
  auto plan = PlanOptimize(in);
  ASSERT_TRUE(plan.ok());
  EXPECT_EQ(Bins(*plan), "a+b c+d");  // e alone: nothing to combine
  EXPECT_EQ(plan->total_files_skipped, 1);
  // A file at the target size is not a candidate; a bin closes before it would pass the target.
  in.files = {File("a", 60), File("b", 40), File("c", 100), File("d", 1)};
  plan = PlanOptimize(in);
  ASSERT_TRUE(plan.ok());
  EXPECT_EQ(Bins(*plan), "d+b");
}

TEST(OptimizePlanTest, PartitionsAreBinnedApartInTheirOrder) {
  PartitionValues p1 = {{"d", "1"}}, p2 = {{"d", "2"}}, null_part = {{"d", std::nullopt}};
  OptimizePlanInput in;
  in.files = {File("2a", 5, p2),
              File("1a", 5, p1),
              File("2b", 5, p2),
              File("1b", 5, p1),
              File("n", 5, null_part),
              File("na", 5, null_part),
              File("solo", 5, {{"d", "3"}})};
  in.max_file_size = 100;
  auto plan = PlanOptimize(in);
  ASSERT_TRUE(plan.ok());
  EXPECT_EQ(Bins(*plan), "n+na 1a+1b 2a+2b");
  EXPECT_EQ(plan->partitions_optimized, 3);
  EXPECT_EQ(plan->total_files_skipped, 1);  // the single file of d=3
  EXPECT_EQ(plan->bins[1].partition_values, p1);

  // WHERE: only the selected partitions are considered.
  in.partitions = std::set<PartitionValues>{p2, {{"d", "3"}}};
  plan = PlanOptimize(in);
  ASSERT_TRUE(plan.ok());
  EXPECT_EQ(Bins(*plan), "2a+2b");
  EXPECT_EQ(plan->total_considered_files, 3);
  EXPECT_EQ(plan->total_files_skipped, 1);
}

TEST(OptimizePlanTest, AFileWithADeletionVectorIsRewrittenEvenAlone) {
  OptimizePlanInput in;
  in.files = {WithDv(File("dv", 500), 7), File("x", 10, {{"p", "1"}})};
  in.max_file_size = 100;
  auto plan = PlanOptimize(in);
  ASSERT_TRUE(plan.ok());
  EXPECT_EQ(Bins(*plan), "dv");
  EXPECT_EQ(plan->num_deletion_vectors_removed, 1);
  EXPECT_EQ(plan->num_deletion_vector_rows_removed, 7);
  EXPECT_EQ(plan->total_files_skipped, 1);
}

TEST(OptimizePlanTest, AnOptimizedTableHasNothingLeftToDo) {
  OptimizePlanInput in;
  in.files = {File("one", 80), File("two", 90, {{"p", "1"}})};
  in.max_file_size = 100;
  auto plan = PlanOptimize(in);
  ASSERT_TRUE(plan.ok());
  EXPECT_TRUE(plan->bins.empty());
  EXPECT_EQ(plan->partitions_optimized, 0);
  EXPECT_EQ(plan->total_files_skipped, 2);
}

TEST(OptimizePlanTest, MinimumsAndBadInput) {
  OptimizePlanInput in;
  in.files = {File("a", 10), File("b", 50), File("c", 60)};
  in.max_file_size = 1000;
  in.min_file_size = 20;
  auto plan = PlanOptimize(in);
  ASSERT_TRUE(plan.ok());
  EXPECT_TRUE(plan->bins.empty());  // only a is small enough: alone
  in.min_file_size.reset();
  in.min_files_per_bin = 4;
  plan = PlanOptimize(in);
  ASSERT_TRUE(plan.ok());
  EXPECT_TRUE(plan->bins.empty());
  in.min_files_per_bin = 0;
  EXPECT_TRUE(PlanOptimize(in).status().IsInvalidArgument());
  in.min_files_per_bin = 2;
  in.max_file_size = 0;
  EXPECT_TRUE(PlanOptimize(in).status().IsInvalidArgument());
}

TEST(OptimizePlanTest, ByteSizes) {
  EXPECT_EQ(*ParseByteSize("104857600"), 104857600);
  EXPECT_EQ(*ParseByteSize("100mb"), 100LL << 20);
  EXPECT_EQ(*ParseByteSize(" 1 GB "), 1LL << 30);
  EXPECT_EQ(*ParseByteSize("64k"), 64LL << 10);
  EXPECT_EQ(*ParseByteSize("5b"), 5);
  EXPECT_EQ(*ParseByteSize("2t"), 2LL << 40);
  for (const char* bad :
       {"", "mb", "-1", "1.5gb", "10 parsecs", "1 gb x", "99999999999999999999", "9999999999pb"}) {
    EXPECT_TRUE(ParseByteSize(bad).status().IsInvalidArgument()) << bad;
  }
}

TEST(OptimizePlanTest, TargetFileSizeFromTheTableTheSessionOrTheDefault) {
  EXPECT_EQ(*OptimizeTargetFileSize({}, std::nullopt), kDefaultOptimizeFileSize);
  EXPECT_EQ(*OptimizeTargetFileSize({}, 1000), 1000);
  EXPECT_EQ(*OptimizeTargetFileSize({{"delta.targetFileSize", "128mb"}}, 1000), 128LL << 20);
  auto bad = OptimizeTargetFileSize({{"delta.targetFileSize", "big"}}, std::nullopt);
  ASSERT_TRUE(bad.status().IsInvalidArgument());
  EXPECT_NE(bad.status().message().find("delta.targetFileSize: 'big'"), std::string::npos)
      << bad.status().message();
  EXPECT_TRUE(OptimizeTargetFileSize({{"delta.targetFileSize", "0"}}, std::nullopt)
                  .status()
                  .IsInvalidArgument());
  EXPECT_TRUE(OptimizeTargetFileSize({}, 0).status().IsInvalidArgument());
}

TEST(OptimizePlanTest, FileSizeHistogram) {
  FileSizeHistogram none = HistogramOf({});
  EXPECT_EQ(none.max, 0);
  FileSizeHistogram one = HistogramOf({7});
  EXPECT_EQ(one.min, 7);
  EXPECT_EQ(one.p25, 7);
  EXPECT_EQ(one.p50, 7);
  EXPECT_EQ(one.p75, 7);
  EXPECT_EQ(one.max, 7);
  FileSizeHistogram h = HistogramOf({80, 10, 40, 20, 70, 30, 60, 50});
  EXPECT_EQ(h.min, 10);
  EXPECT_EQ(h.p25, 30);  // index 2
  EXPECT_EQ(h.p50, 50);  // index 4
  EXPECT_EQ(h.p75, 70);  // index 6
  EXPECT_EQ(h.max, 80);
}

}  // namespace
}  // namespace medallion::delta
