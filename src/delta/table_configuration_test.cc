#include "delta/table_configuration.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace medallion::delta {
namespace {

using ::testing::HasSubstr;

Metadata MakeMetadata(StringMap config = {}) {
  Metadata m;
  m.id = "id";
  m.schema_string =
      R"({"type":"struct","fields":[{"name":"id","type":"long","nullable":true,"metadata":{}},)"
      R"({"name":"p","type":"string","nullable":true,"metadata":{}}]})";
  m.configuration = std::move(config);
  return m;
}

Protocol MakeProtocol(int r, int w, std::optional<std::set<std::string>> rf = std::nullopt,
                      std::optional<std::set<std::string>> wf = std::nullopt) {
  Protocol p;
  p.min_reader_version = r;
  p.min_writer_version = w;
  p.reader_features = std::move(rf);
  p.writer_features = std::move(wf);
  return p;
}

constexpr int64_t kDayMs = 24LL * 3600 * 1000;

TEST(TableConfigurationTest, Defaults) {
  auto c = TableConfiguration::Make(MakeProtocol(1, 2), MakeMetadata());
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  const auto& p = c->properties();
  EXPECT_EQ(p.column_mapping_mode, ColumnMappingMode::kNone);
  EXPECT_FALSE(p.enable_change_data_feed);
  EXPECT_EQ(p.checkpoint_interval, 10);
  EXPECT_EQ(p.log_retention_ms, 30 * kDayMs);
  EXPECT_EQ(p.deleted_file_retention_ms, 7 * kDayMs);
  EXPECT_EQ(p.data_skipping_num_indexed_cols, 32);
  EXPECT_FALSE(p.data_skipping_stats_columns.has_value());
  EXPECT_FALSE(p.append_only);
  EXPECT_FALSE(p.enable_deletion_vectors);
  EXPECT_FALSE(p.enable_in_commit_timestamps);
  EXPECT_EQ(p.checkpoint_policy, CheckpointPolicy::kClassic);
  EXPECT_EQ(c->column_mapping_mode(), ColumnMappingMode::kNone);
  EXPECT_FALSE(c->in_commit_timestamps_enabled());
  EXPECT_EQ(c->schema().fields().size(), 2u);
}

TEST(TableConfigurationTest, ParsesProperties) {
  auto c = TableConfiguration::Make(
      MakeProtocol(3, 7, std::set<std::string>{"columnMapping", "deletionVectors"},
                   std::set<std::string>{"columnMapping", "deletionVectors", "inCommitTimestamp",
                                         "changeDataFeed"}),
      MakeMetadata({{"delta.columnMapping.mode", "name"},
                    {"delta.enableChangeDataFeed", "true"},
                    {"delta.checkpointInterval", "5"},
                    {"delta.logRetentionDuration", "interval 2 hours"},
                    {"delta.deletedFileRetentionDuration", "INTERVAL 1 WEEK"},
                    {"delta.dataSkippingNumIndexedCols", "-1"},
                    {"delta.dataSkippingStatsColumns", "a, b.c ,d"},
                    {"delta.appendOnly", "true"},
                    {"delta.enableDeletionVectors", "true"},
                    {"delta.enableInCommitTimestamps", "true"},
                    {"delta.inCommitTimestampEnablementVersion", "3"},
                    {"delta.checkpointPolicy", "v2"},
                    {"some.other.key", "whatever"}}));
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  const auto& p = c->properties();
  EXPECT_EQ(c->column_mapping_mode(), ColumnMappingMode::kName);
  EXPECT_TRUE(c->change_data_feed_enabled());
  EXPECT_EQ(p.checkpoint_interval, 5);
  EXPECT_EQ(p.log_retention_ms, 2 * 3600 * 1000);
  EXPECT_EQ(p.deleted_file_retention_ms, 7 * kDayMs);
  EXPECT_EQ(p.data_skipping_num_indexed_cols, -1);
  EXPECT_EQ(p.data_skipping_stats_columns, (std::vector<std::string>{"a", "b.c", "d"}));
  EXPECT_TRUE(p.append_only);
  EXPECT_TRUE(c->deletion_vectors_supported());
  EXPECT_TRUE(c->in_commit_timestamps_enabled());
  EXPECT_EQ(c->in_commit_timestamp_enablement_version(), 3);
  EXPECT_EQ(p.checkpoint_policy, CheckpointPolicy::kV2);
}

TEST(TableConfigurationTest, ColumnMappingNeedsProtocolSupport) {
  auto unsupported = TableConfiguration::Make(MakeProtocol(1, 2),
                                              MakeMetadata({{"delta.columnMapping.mode", "id"}}));
  ASSERT_TRUE(unsupported.ok());
  EXPECT_EQ(unsupported->properties().column_mapping_mode, ColumnMappingMode::kId);
  EXPECT_EQ(unsupported->column_mapping_mode(), ColumnMappingMode::kNone);
  auto v2 = TableConfiguration::Make(MakeProtocol(2, 5),
                                     MakeMetadata({{"delta.columnMapping.mode", "id"}}));
  ASSERT_TRUE(v2.ok());
  EXPECT_EQ(v2->column_mapping_mode(), ColumnMappingMode::kId);
}

TEST(TableConfigurationTest, UnsupportedReaderVersionAndFeatures) {
  auto v4 = TableConfiguration::Make(MakeProtocol(99, 7), MakeMetadata());
  ASSERT_FALSE(v4.ok());
  EXPECT_TRUE(v4.status().IsNotSupported());
  EXPECT_THAT(v4.status().message(), HasSubstr("table requires reader version 99"));

  auto foo = TableConfiguration::Make(
      MakeProtocol(3, 7, std::set<std::string>{"deletionVectors", "foo"},
                   std::set<std::string>{"deletionVectors", "foo"}),
      MakeMetadata());
  ASSERT_FALSE(foo.ok());
  EXPECT_TRUE(foo.status().IsNotSupported());
  EXPECT_EQ(foo.status().message(),
            "table requires reader feature 'foo', which medallion does not support");

  // Unknown writer-only features do not stop a reader.
  auto writer_only = TableConfiguration::Make(
      MakeProtocol(1, 7, std::nullopt, std::set<std::string>{"someFutureWriterFeature"}),
      MakeMetadata());
  EXPECT_TRUE(writer_only.ok());

  for (const char* f : {"columnMapping", "deletionVectors", "timestampNtz", "v2Checkpoint",
                        "vacuumProtocolCheck", "typeWidening", "typeWidening-preview"}) {
    EXPECT_TRUE(IsSupportedReaderFeature(f)) << f;
  }
  EXPECT_FALSE(IsSupportedReaderFeature("variantType"));
  EXPECT_FALSE(IsSupportedReaderFeature("catalogManaged"));
}

TEST(TableConfigurationTest, BadValuesNameTheProperty) {
  struct Case {
    const char* key;
    const char* value;
  };
  for (const Case& c : {Case{"delta.columnMapping.mode", "names"},
                        Case{"delta.enableChangeDataFeed", "yes"},
                        Case{"delta.checkpointInterval", "0"},
                        Case{"delta.checkpointInterval", "ten"},
                        Case{"delta.logRetentionDuration", "30 days ago"},
                        Case{"delta.deletedFileRetentionDuration", "interval 1 month"},
                        Case{"delta.dataSkippingNumIndexedCols", "-2"},
                        Case{"delta.appendOnly", "1"},
                        Case{"delta.enableDeletionVectors", ""},
                        Case{"delta.checkpointPolicy", "v3"}}) {
    auto r = TableConfiguration::Make(MakeProtocol(1, 2), MakeMetadata({{c.key, c.value}}));
    ASSERT_FALSE(r.ok()) << c.key << "=" << c.value;
    EXPECT_TRUE(r.status().IsInvalidArgument()) << r.status().ToString();
    EXPECT_THAT(r.status().message(), HasSubstr(std::string(c.key) + ": '" + c.value + "'"));
  }
}

TEST(TableConfigurationTest, PartitionColumnMustBeInSchema) {
  Metadata m = MakeMetadata();
  m.partition_columns = {"nope"};
  auto r = TableConfiguration::Make(MakeProtocol(1, 2), m);
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.status().IsCorruption());
  EXPECT_THAT(r.status().message(), HasSubstr("'nope'"));
}

TEST(TableConfigurationTest, Intervals) {
  EXPECT_EQ(*ParseIntervalMs("interval 7 days"), 7 * kDayMs);
  EXPECT_EQ(*ParseIntervalMs("interval 1 week"), 7 * kDayMs);
  EXPECT_EQ(*ParseIntervalMs("interval 2 hours"), 2 * 3600 * 1000);
  EXPECT_EQ(*ParseIntervalMs("1 day 12 hours"), kDayMs + kDayMs / 2);
  EXPECT_EQ(*ParseIntervalMs("interval 30 minutes"), 30 * 60 * 1000);
  EXPECT_EQ(*ParseIntervalMs("interval 15 seconds"), 15000);
  EXPECT_EQ(*ParseIntervalMs("100 milliseconds"), 100);
  EXPECT_EQ(*ParseIntervalMs("interval 0 days"), 0);
  EXPECT_EQ(*ParseIntervalMs("Interval 3 Days"), 3 * kDayMs);
  EXPECT_EQ(*ParseIntervalMs("5000000 microseconds"), 5000);
  EXPECT_FALSE(ParseIntervalMs("").ok());
  EXPECT_FALSE(ParseIntervalMs("interval").ok());
  EXPECT_FALSE(ParseIntervalMs("interval 7").ok());
  EXPECT_FALSE(ParseIntervalMs("interval x days").ok());
  EXPECT_FALSE(ParseIntervalMs("interval 1 month").ok());
  EXPECT_FALSE(ParseIntervalMs("interval 1 year").ok());
}

}  // namespace
}  // namespace medallion::delta
