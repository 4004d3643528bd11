#include "delta/protocol_requirements.h"

#include <gtest/gtest.h>

#include "delta/write_test_util.h"
#include "storage/test_util.h"

namespace medallion::delta {
namespace {

using testing::SchemaJson;
using testing::TestMetadata;
using Features = std::set<std::string>;

Protocol Legacy(int32_t r, int32_t w) { return Protocol{r, w, std::nullopt, std::nullopt}; }
Protocol Features37(Features reader, Features writer) {
  return Protocol{3, 7, std::move(reader), std::move(writer)};
}
Protocol WriterFeatures(Features writer) { return Protocol{1, 7, std::nullopt, std::move(writer)}; }

Metadata WithNtz(StringMap config = {}) {
  Metadata m = TestMetadata(std::move(config));
  m.schema_string = SchemaJson({{"id", "long"}, {"ts", "timestamp_ntz"}});
  return m;
}

TEST(RequiredProtocolTest, NewTableDefaultsTo12) {
  ASSERT_OK_AND_ASSIGN(auto p, RequiredProtocol(TestMetadata(), std::nullopt));
  EXPECT_EQ(p, Legacy(1, 2));
  ASSERT_OK_AND_ASSIGN(
      auto ao, RequiredProtocol(TestMetadata({{"delta.appendOnly", "true"}}), std::nullopt));
  EXPECT_EQ(ao, Legacy(1, 2));
}

TEST(RequiredProtocolTest, ChangeDataFeedNeedsWriter4) {
  Metadata m = TestMetadata({{"delta.enableChangeDataFeed", "true"}});
  ASSERT_OK_AND_ASSIGN(auto p, RequiredProtocol(m, std::nullopt));
  EXPECT_EQ(p, Legacy(1, 4));
  ASSERT_OK_AND_ASSIGN(auto from12, RequiredProtocol(m, Legacy(1, 2)));
  EXPECT_EQ(from12, Legacy(1, 4));
  // Never downgraded.
  ASSERT_OK_AND_ASSIGN(auto from25, RequiredProtocol(m, Legacy(2, 5)));
  EXPECT_EQ(from25, Legacy(2, 5));
  ASSERT_OK_AND_ASSIGN(auto off, RequiredProtocol(TestMetadata(), Legacy(1, 4)));
  EXPECT_EQ(off, Legacy(1, 4));
}

TEST(RequiredProtocolTest, ChangeDataFeedOnTableFeaturesAddsTheFeature) {
  Metadata m = TestMetadata({{"delta.enableChangeDataFeed", "true"}});
  ASSERT_OK_AND_ASSIGN(auto p,
                       RequiredProtocol(m, Features37({"deletionVectors"}, {"deletionVectors"})));
  EXPECT_EQ(p, Features37({"deletionVectors"}, {"changeDataFeed", "deletionVectors"}));
  ASSERT_OK_AND_ASSIGN(auto w, RequiredProtocol(m, WriterFeatures({"appendOnly"})));
  EXPECT_EQ(w, WriterFeatures({"appendOnly", "changeDataFeed"}));
}

TEST(RequiredProtocolTest, TimestampNtzNeeds37) {
  ASSERT_OK_AND_ASSIGN(auto p, RequiredProtocol(WithNtz(), std::nullopt));
  EXPECT_EQ(p, Features37({"timestampNtz"}, {"appendOnly", "invariants", "timestampNtz"}));
  // Nested in a struct or array counts too.
  Metadata nested = TestMetadata();
  nested.schema_string =
      R"({"type":"struct","fields":[{"name":"a","type":{"type":"array","elementType":"timestamp_ntz","containsNull":true},"nullable":true,"metadata":{}}]})";
  ASSERT_OK_AND_ASSIGN(auto n, RequiredProtocol(nested, std::nullopt));
  EXPECT_TRUE(n.reader_features->count("timestampNtz"));
}

TEST(RequiredProtocolTest, DeletionVectorsNeed37) {
  Metadata m = TestMetadata({{"delta.enableDeletionVectors", "true"}});
  ASSERT_OK_AND_ASSIGN(auto p, RequiredProtocol(m, std::nullopt));
  EXPECT_EQ(p, Features37({"deletionVectors"}, {"appendOnly", "deletionVectors", "invariants"}));
}

TEST(RequiredProtocolTest, LegacyFeaturesAreListedOnUpgrade) {
  Metadata m = TestMetadata(
      {{"delta.enableDeletionVectors", "true"}, {"delta.enableChangeDataFeed", "true"}});
  ASSERT_OK_AND_ASSIGN(auto p, RequiredProtocol(m, Legacy(1, 4)));
  EXPECT_EQ(p,
            Features37({"deletionVectors"}, {"appendOnly", "changeDataFeed", "checkConstraints",
                                             "deletionVectors", "generatedColumns", "invariants"}));
  ASSERT_OK_AND_ASSIGN(auto cm, RequiredProtocol(WithNtz(), Legacy(2, 5)));
  EXPECT_EQ(cm, Features37({"columnMapping", "timestampNtz"},
                           {"appendOnly", "changeDataFeed", "checkConstraints", "columnMapping",
                            "generatedColumns", "invariants", "timestampNtz"}));
}

TEST(RequiredProtocolTest, SufficientProtocolIsKept) {
  Protocol p = Features37({"deletionVectors", "timestampNtz"},
                          {"deletionVectors", "timestampNtz", "domainMetadata"});
  ASSERT_OK_AND_ASSIGN(auto out,
                       RequiredProtocol(WithNtz({{"delta.enableDeletionVectors", "true"}}), p));
  EXPECT_EQ(out, p);
}

TEST(RequiredProtocolTest, BadPropertyIsInvalid) {
  EXPECT_TRUE(
      RequiredProtocol(TestMetadata({{"delta.enableChangeDataFeed", "maybe"}}), std::nullopt)
          .status()
          .IsInvalidArgument());
}

TEST(CheckWriteSupportedTest, AcceptsWhatMedallionWrites) {
  EXPECT_OK(CheckWriteSupported(Legacy(1, 2), TestMetadata()));
  EXPECT_OK(
      CheckWriteSupported(Legacy(1, 4), TestMetadata({{"delta.enableChangeDataFeed", "true"}})));
  EXPECT_OK(
      CheckWriteSupported(Features37({"timestampNtz"}, {"timestampNtz", "appendOnly"}), WithNtz()));
}

TEST(CheckWriteSupportedTest, RefusesUnknownOrUnwritableFeatures) {
  for (const char* feature : {"rowTracking", "inCommitTimestamp", "v2Checkpoint", "someFuture"}) {
    Status st = CheckWriteSupported(WriterFeatures({"appendOnly", feature}), TestMetadata());
    EXPECT_TRUE(st.IsNotSupported()) << feature;
    EXPECT_NE(st.message().find(feature), std::string::npos) << st.message();
  }
  EXPECT_TRUE(CheckWriteSupported(Legacy(1, 8), TestMetadata()).IsNotSupported());
}

// Invariants and CHECK constraints are enforced by the writers: accepted when the protocol has
// their feature, invalid without it (other writers would ignore them).
TEST(CheckWriteSupportedTest, RowConstraintsNeedTheirFeature) {
  Metadata constrained = TestMetadata({{"delta.constraints.positive", "id > 0"}});
  EXPECT_OK(CheckWriteSupported(Legacy(1, 3), constrained));
  EXPECT_OK(CheckWriteSupported(WriterFeatures({"checkConstraints"}), constrained));
  Status c = CheckWriteSupported(Legacy(1, 2), constrained);
  EXPECT_TRUE(c.IsInvalidArgument());
  EXPECT_NE(c.message().find("checkConstraints"), std::string::npos) << c.message();
  EXPECT_TRUE(
      CheckWriteSupported(WriterFeatures({"appendOnly"}), constrained).IsInvalidArgument());

  Metadata invariant = TestMetadata();
  invariant.schema_string =
      R"({"type":"struct","fields":[{"name":"x","type":"long","nullable":true,"metadata":{"delta.invariants":"{\"expression\":{\"expression\":\"x > 3\"}}"}}]})";
  EXPECT_OK(CheckWriteSupported(Legacy(1, 2), invariant));
  EXPECT_TRUE(CheckWriteSupported(WriterFeatures({"appendOnly"}), invariant).IsInvalidArgument());
}

TEST(RequiredProtocolTest, CheckConstraintsNeedWriter3OrTheFeature) {
  Metadata m = TestMetadata({{"delta.constraints.positive", "id > 0"}});
  ASSERT_OK_AND_ASSIGN(auto fresh, RequiredProtocol(m, std::nullopt));
  EXPECT_EQ(fresh, Legacy(1, 3));
  ASSERT_OK_AND_ASSIGN(auto from12, RequiredProtocol(m, Legacy(1, 2)));
  EXPECT_EQ(from12, Legacy(1, 3));
  ASSERT_OK_AND_ASSIGN(auto from14, RequiredProtocol(m, Legacy(1, 4)));
  EXPECT_EQ(from14, Legacy(1, 4));
  ASSERT_OK_AND_ASSIGN(auto features, RequiredProtocol(m, WriterFeatures({"appendOnly"})));
  EXPECT_EQ(features, WriterFeatures({"appendOnly", "checkConstraints"}));
}

TEST(CheckWriteSupportedTest, RefusesFeaturesInUse) {
  Metadata generated = TestMetadata();
  generated.schema_string =
      R"({"type":"struct","fields":[{"name":"g","type":"long","nullable":true,"metadata":{"delta.generationExpression":"1"}}]})";
  Status g = CheckWriteSupported(Legacy(1, 4), generated);
  EXPECT_TRUE(g.IsNotSupported());
  EXPECT_NE(g.message().find("generatedColumns"), std::string::npos);

  Metadata mapped = TestMetadata({{"delta.columnMapping.mode", "name"}});
  EXPECT_TRUE(CheckWriteSupported(Legacy(2, 5), mapped).IsNotSupported());
}

TEST(CheckWriteSupportedTest, PropertyWithoutItsFeatureIsInvalid) {
  EXPECT_TRUE(
      CheckWriteSupported(Legacy(1, 2), TestMetadata({{"delta.enableChangeDataFeed", "true"}}))
          .IsInvalidArgument());
  EXPECT_TRUE(CheckWriteSupported(Legacy(1, 2), WithNtz()).IsInvalidArgument());
}

}  // namespace
}  // namespace medallion::delta
