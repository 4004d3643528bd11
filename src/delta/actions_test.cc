#include "delta/actions.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace medallion::delta {
namespace {

using ::testing::HasSubstr;

Action ParseOne(const std::string& json) {
  auto r = ParseAction(json, {"test.json", 1});
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->has_value());
  return **r;
}

void ExpectRoundTrip(const Action& action) {
  const std::string line = SerializeAction(action);
  auto parsed = ParseAction(line, {"roundtrip", 1});
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString() << " for " << line;
  ASSERT_TRUE(parsed->has_value()) << line;
  EXPECT_TRUE(**parsed == action) << line;
  // Serializing again gives the same line.
  EXPECT_EQ(SerializeAction(**parsed), line);
}

TEST(ActionsTest, ParsesAddWithAllFields) {
  Action a = ParseOne(
      R"({"add":{"path":"date=2017-12-10/part-000.parquet","partitionValues":{"date":"2017-12-10","n":null},)"
      R"("size":841454,"modificationTime":1512909768000,"dataChange":true,"baseRowId":4071,)"
      R"("defaultRowCommitVersion":41,"clusteringProvider":"liquid","tags":{"k":"v"},)"
      R"("stats":"{\"numRecords\":1}","deletionVector":{"storageType":"u","pathOrInlineDv":"ab^-aqEH.-t@S}K{vb[*k^",)"
      R"("offset":4,"sizeInBytes":40,"cardinality":6},"unknownField":[1,2]}})");
  ASSERT_TRUE(std::holds_alternative<AddFile>(a));
  const auto& add = std::get<AddFile>(a);
  EXPECT_EQ(add.path, "date=2017-12-10/part-000.parquet");
  EXPECT_EQ(add.partition_values.at("date"), "2017-12-10");
  EXPECT_FALSE(add.partition_values.at("n").has_value());
  EXPECT_EQ(add.size, 841454);
  EXPECT_EQ(add.modification_time, 1512909768000);
  EXPECT_TRUE(add.data_change);
  EXPECT_EQ(add.stats, R"({"numRecords":1})");
  EXPECT_EQ(add.tags.at("k"), "v");
  EXPECT_EQ(add.base_row_id, 4071);
  EXPECT_EQ(add.default_row_commit_version, 41);
  EXPECT_EQ(add.clustering_provider, "liquid");
  ASSERT_TRUE(add.deletion_vector.has_value());
  EXPECT_EQ(add.deletion_vector->UniqueId(), "uab^-aqEH.-t@S}K{vb[*k^@4");
  ExpectRoundTrip(a);
}

TEST(ActionsTest, RoundTripsEveryActionType) {
  Protocol p;
  p.min_reader_version = 3;
  p.min_writer_version = 7;
  p.reader_features = std::set<std::string>{"deletionVectors"};
  p.writer_features = std::set<std::string>{"deletionVectors", "appendOnly"};
  ExpectRoundTrip(p);
  ExpectRoundTrip(Protocol{});

  Metadata m;
  m.id = "id-1";
  m.name = "orders";
  m.description = "all orders";
  m.format_options = {{"a", "b"}};
  m.schema_string = R"({"type":"struct","fields":[]})";
  m.partition_columns = {"date", "region"};
  m.configuration = {{"delta.appendOnly", "true"}};
  m.created_time = 123;
  ExpectRoundTrip(m);

  AddFile add;
  add.path = "a%20b/part-0.parquet";
  add.partition_values = {{"x", std::nullopt}, {"y", "1"}};
  add.size = 5;
  add.modification_time = 6;
  add.data_change = false;
  ExpectRoundTrip(add);

  RemoveFile rm;
  rm.path = "p";
  rm.deletion_timestamp = 9;
  rm.data_change = true;
  rm.extended_file_metadata = true;
  rm.partition_values = PartitionValues{{"y", "2"}};
  rm.size = 10;
  rm.tags = StringMap{};
  rm.deletion_vector = DeletionVectorDescriptor{"i", "wi5b=000010000siXQKl0rr91000f55c8Xg0@@D72lkbi5=-{L",
                                                std::nullopt, 40, 6, std::nullopt};
  ExpectRoundTrip(rm);

  AddCdcFile cdc;
  cdc.path = "_change_data/cdc-0.parquet";
  cdc.size = 1213;
  ExpectRoundTrip(cdc);

  ExpectRoundTrip(Txn{"app", 42, 77});
  ExpectRoundTrip(Txn{"app", 42, std::nullopt});
  ExpectRoundTrip(DomainMetadata{"delta.rowTracking", R"({"a":1})", true});
  ExpectRoundTrip(CheckpointMetadata{7, {{"t", "v"}}});
  ExpectRoundTrip(Sidecar{"016ae953.parquet", 2304522, 1512909768000, {}});

  CommitInfo ci;
  ci.raw_json = R"({"timestamp":5,"operation":"WRITE","operationParameters":{"mode":"Append"},"inCommitTimestamp":7})";
  ci.timestamp = 5;
  ci.in_commit_timestamp = 7;
  ci.operation = "WRITE";
  const std::string line = SerializeAction(ci);
  auto parsed = ParseAction(line, {"ci", 1});
  ASSERT_TRUE(parsed.ok());
  const auto& back = std::get<CommitInfo>(**parsed);
  EXPECT_EQ(back.timestamp, 5);
  EXPECT_EQ(back.in_commit_timestamp, 7);
  EXPECT_EQ(back.operation, "WRITE");
  EXPECT_THAT(back.raw_json, HasSubstr(R"("operationParameters":{"mode":"Append"})"));
}

TEST(ActionsTest, SerializesSpecFieldNames) {
  Txn t{"3ba13872", 364475, std::nullopt};
  EXPECT_EQ(SerializeAction(t), R"({"txn":{"appId":"3ba13872","version":364475}})");
  Protocol p;
  p.min_reader_version = 1;
  p.min_writer_version = 2;
  EXPECT_EQ(SerializeAction(p), R"({"protocol":{"minReaderVersion":1,"minWriterVersion":2}})");
  EXPECT_EQ(ActionName(Action(AddCdcFile{})), "cdc");
  EXPECT_EQ(ActionName(Action(Metadata{})), "metaData");
}

TEST(ActionsTest, CheckpointRowNullsAreAbsent) {
  // A checkpoint row as ParquetHandler returns it: every action column, all but one null.
  auto r = ParseAction(
      R"({"txn":null,"add":null,"remove":{"path":"f","deletionTimestamp":null,"dataChange":false,)"
      R"("extendedFileMetadata":null,"partitionValues":null,"size":null,"deletionVector":null},)"
      R"("metaData":null,"protocol":null,"domainMetadata":null})",
      {"00000000000000000010.checkpoint.parquet", 3});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_TRUE(r->has_value());
  const auto& rm = std::get<RemoveFile>(**r);
  EXPECT_EQ(rm.path, "f");
  EXPECT_FALSE(rm.deletion_timestamp.has_value());
  EXPECT_FALSE(rm.data_change);
  EXPECT_FALSE(rm.partition_values.has_value());
  EXPECT_FALSE(rm.deletion_vector.has_value());

  auto none = ParseAction(R"({"txn":null,"add":null,"remove":null,"metaData":null})", {"cp", 4});
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
}

TEST(ActionsTest, AllNullDeletionVectorStructIsNoDv) {
  auto r = ParseAction(
      R"({"add":{"path":"f","partitionValues":{},"size":1,"modificationTime":2,"dataChange":true,)"
      R"("deletionVector":{"storageType":null,"pathOrInlineDv":null,"offset":null,"sizeInBytes":null,"cardinality":null}}})",
      {"cp", 1});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_FALSE(std::get<AddFile>(**r).deletion_vector.has_value());
}

TEST(ActionsTest, MapsAsKeyValueArrays) {
  auto r = ParseAction(
      R"({"add":{"path":"f","partitionValues":[{"key":"a","value":"1"},{"key":"b","value":null}],)"
      R"("size":1,"modificationTime":2,"dataChange":true}})",
      {"cp", 1});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const auto& add = std::get<AddFile>(**r);
  EXPECT_EQ(add.partition_values.at("a"), "1");
  EXPECT_FALSE(add.partition_values.at("b").has_value());
}

TEST(ActionsTest, UnknownActionsAndBlankLinesAreSkipped) {
  auto r = ParseActions(
      "{\"futureAction\":{\"x\":1}}\n\n" + std::string(R"({"txn":{"appId":"a","version":1}})") +
          "\n   \n",
      "00000000000000000001.json");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->size(), 1u);
  EXPECT_EQ(std::get<Txn>((*r)[0]).app_id, "a");
}

TEST(ActionsTest, MissingRequiredFieldNamesFileAndLine) {
  auto r = ParseActions(
      R"({"commitInfo":{}})"
      "\n"
      R"({"add":{"path":"f","partitionValues":{},"modificationTime":2,"dataChange":true}})",
      "_delta_log/00000000000000000003.json");
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.status().IsCorruption());
  EXPECT_EQ(r.status().message(),
            "_delta_log/00000000000000000003.json line 2: add: missing required field 'size'");

  auto p = ParseAction(R"({"protocol":{"minReaderVersion":1}})", {"x.json", 1});
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().message(),
            "x.json line 1: protocol: missing required field 'minWriterVersion'");

  auto m = ParseAction(R"({"metaData":{"id":"x","schemaString":null}})", {"x.json", 4});
  ASSERT_FALSE(m.ok());
  EXPECT_THAT(m.status().message(), HasSubstr("missing required field 'schemaString'"));

  auto dv = ParseAction(
      R"({"add":{"path":"f","size":1,"deletionVector":{"storageType":"u","pathOrInlineDv":"x","cardinality":1}}})",
      {"x.json", 2});
  ASSERT_FALSE(dv.ok());
  EXPECT_THAT(dv.status().message(),
              HasSubstr("add.deletionVector: missing required field 'sizeInBytes'"));
}

TEST(ActionsTest, MalformedJsonAndWrongTypesAreCorruption) {
  auto r = ParseActions("{\"txn\":{\"appId\":\"a\",\"version\":1}}\n{\"add\": {", "c.json");
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.status().IsCorruption());
  EXPECT_THAT(r.status().message(), HasSubstr("c.json line 2: malformed JSON"));

  auto t = ParseAction(R"({"txn":{"appId":"a","version":"many"}})", {"c.json", 9});
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().message(), "c.json line 9: txn: field 'version' is not an integer");

  auto arr = ParseAction("[1,2]", {"c.json", 1});
  ASSERT_FALSE(arr.ok());
  EXPECT_TRUE(arr.status().IsCorruption());

  auto not_obj = ParseAction(R"({"add":5})", {"c.json", 1});
  ASSERT_FALSE(not_obj.ok());
  EXPECT_THAT(not_obj.status().message(), HasSubstr("add: action is not a JSON object"));
}

TEST(ActionsTest, DefaultsForLenientFields) {
  // Some writers omit dataChange / modificationTime in checkpoints; the reader defaults them.
  auto r = ParseAction(R"({"add":{"path":"f","size":3}})", {"x", 1});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const auto& add = std::get<AddFile>(**r);
  EXPECT_TRUE(add.data_change);
  EXPECT_EQ(add.modification_time, 0);
  EXPECT_TRUE(add.partition_values.empty());

  auto m = ParseAction(R"({"metaData":{"id":"x","schemaString":"{}"}})", {"x", 1});
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(std::get<Metadata>(**m).format_provider, "parquet");
}

}  // namespace
}  // namespace medallion::delta
