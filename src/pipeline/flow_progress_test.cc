#include "pipeline/flow_progress.h"

#include <gtest/gtest.h>

#include "storage/memory_object_store.h"
#include "storage/test_util.h"

namespace medallion::pipeline {
namespace {

constexpr char kFolder[] = "flows/f/epoch-0";

// Batch `b` planning one new file "f<b>" of source "files", and Delta versions (b, b+1] of
// source "table"; the schema changes at batch 5.
BatchPlan Plan(int64_t b) {
  BatchPlan plan;
  plan.batch = b;
  plan.now_ms = 1000 + b;
  SourceProgress files;
  files.is_files = true;
  files.files.push_back({"f" + std::to_string(b), 10, 100});
  files.schema_json = b < 5 ? R"({"columns":[]})" : R"({"columns":[{"name":"x"}]})";
  plan.sources["files"] = files;
  SourceProgress table;
  table.start_version = b;
  table.end_version = b + 1;
  plan.sources["table"] = table;
  return plan;
}

size_t OffsetFiles(storage::ObjectStore& store) {
  auto listing = store.List(std::string(kFolder) + "/offsets/");
  EXPECT_TRUE(listing.ok());
  return listing.ok() ? listing->size() : 0;
}

// Writing n batches through the log, and reading it back, gives the history of all of them
// however the log was compacted.
TEST(FlowProgressLogTest, CompactedLogReadsAsTheWholeLog) {
  storage::MemoryObjectStore store;
  FlowProgressLog log(store, kFolder);
  std::map<std::string, SourceHistory> expected;
  for (int64_t b = 0; b < 35; ++b) {
    ASSERT_OK_AND_ASSIGN(FlowProgress before, log.Read());
    EXPECT_EQ(before.history, expected) << "before batch " << b;
    ASSERT_EQ(before.latest.has_value(), b > 0);
    if (b > 0) {
      EXPECT_EQ(before.latest->batch, b - 1);
      EXPECT_EQ(before.latest->now_ms, 1000 + b - 1);
    }
    ASSERT_OK(log.Write(Plan(b), before));
    AddToHistory(Plan(b), &expected);
  }
  ASSERT_OK_AND_ASSIGN(FlowProgress after, log.Read());
  EXPECT_EQ(after.history, expected);
  EXPECT_EQ(after.history["files"].planned_files.size(), 35u);
  EXPECT_EQ(after.history["files"].schema_json, R"({"columns":[{"name":"x"}]})");
  EXPECT_EQ(after.history["table"].end_version, 35);
  ASSERT_TRUE(after.latest);
  EXPECT_EQ(after.latest->batch, 34);
  // Compacted at batches 9, 19 and 29: the compact file of 29 and the batches from 19 on remain.
  EXPECT_EQ(OffsetFiles(store), 1u + (34 - 19 + 1));
  EXPECT_TRUE(store.Head(std::string(kFolder) + "/offsets/0000000029.compact.json").ok());
  EXPECT_FALSE(store.Head(std::string(kFolder) + "/offsets/0000000019.compact.json").ok());
}

// The batch that ends an interval is still the newest plan right after its compaction (a run
// that stops before committing it runs it again from its own file).
TEST(FlowProgressLogTest, CompactedBatchIsStillTheLatestPlan) {
  storage::MemoryObjectStore store;
  FlowProgressLog log(store, kFolder);
  for (int64_t b = 0; b < 10; ++b) {
    ASSERT_OK_AND_ASSIGN(FlowProgress before, log.Read());
    ASSERT_OK(log.Write(Plan(b), before));
  }
  ASSERT_OK_AND_ASSIGN(FlowProgress progress, log.Read());
  ASSERT_TRUE(progress.latest);
  EXPECT_EQ(progress.latest->batch, 9);
  EXPECT_EQ(progress.latest->sources.at("files").files.at(0).path, "f9");
  // Planning the same batch again is refused (another run is active).
  ASSERT_OK_AND_ASSIGN(FlowProgress again, log.Read());
  EXPECT_TRUE(log.Write(Plan(9), again).IsAlreadyExists());
}

TEST(FlowProgressLogTest, UnreadableFilesAreCorruption) {
  storage::MemoryObjectStore store;
  ASSERT_OK(store.Write(std::string(kFolder) + "/offsets/0000000000.json", "{not json"));
  FlowProgressLog log(store, kFolder);
  Status st = log.Read().status();
  EXPECT_TRUE(st.IsCorruption()) << st.ToString();
  EXPECT_NE(st.message().find("0000000000.json"), std::string::npos) << st.message();
  // Other names in the folder are ignored.
  storage::MemoryObjectStore other;
  ASSERT_OK(other.Write(std::string(kFolder) + "/offsets/.0000000000.json.tmp", "x"));
  FlowProgressLog clean(other, kFolder);
  ASSERT_OK_AND_ASSIGN(FlowProgress empty, clean.Read());
  EXPECT_FALSE(empty.latest);
}

}  // namespace
}  // namespace medallion::pipeline
