#include "delta/schema.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace medallion::delta {
namespace {

using ::testing::HasSubstr;

// The example of PROTOCOL.md, "Schema Serialization Format", plus decimals and column mapping.
constexpr char kSchema[] = R"json({
  "type" : "struct",
  "fields" : [ {
    "name" : "a", "type" : "integer", "nullable" : false, "metadata" : { }
  }, {
    "name" : "b",
    "type" : { "type" : "struct", "fields" : [ {
        "name" : "d", "type" : "integer", "nullable" : false,
        "metadata" : { "delta.columnMapping.id": 5,
                       "delta.columnMapping.physicalName": "col-a7f4159c" } } ] },
    "nullable" : true, "metadata" : { }
  }, {
    "name" : "c",
    "type" : { "type" : "array", "elementType" : "integer", "containsNull" : false },
    "nullable" : true, "metadata" : { }
  }, {
    "name" : "e",
    "type" : { "type" : "array",
               "elementType" : { "type" : "struct", "fields" : [ {
                   "name" : "d", "type" : "integer", "nullable" : false, "metadata" : { } } ] },
               "containsNull" : true },
    "nullable" : true, "metadata" : { }
  }, {
    "name" : "f",
    "type" : { "type" : "map", "keyType" : "string", "valueType" : "string",
               "valueContainsNull" : true },
    "nullable" : true, "metadata" : { }
  }, {
    "name" : "g", "type" : "decimal(38,18)", "nullable" : true,
    "metadata" : { "comment": "money" }
  }, {
    "name" : "h", "type" : "timestamp_ntz", "nullable" : true, "metadata" : { }
  } ]
})json";

TEST(SchemaTest, ParsesNestedDecimalAndMapTypes) {
  auto s = ParseSchema(kSchema);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  ASSERT_EQ(s->fields().size(), 7u);
  const auto& a = s->fields()[0];
  EXPECT_EQ(a.name, "a");
  EXPECT_EQ(a.type->kind(), TypeKind::kInteger);
  EXPECT_FALSE(a.nullable);

  const auto& b = s->fields()[1];
  ASSERT_EQ(b.type->kind(), TypeKind::kStruct);
  const auto& d = b.type->fields()[0];
  EXPECT_EQ(d.physical_name, "col-a7f4159c");
  EXPECT_EQ(d.column_mapping_id, 5);
  EXPECT_EQ(d.PhysicalName(true), "col-a7f4159c");
  EXPECT_EQ(d.PhysicalName(false), "d");

  const auto& c = s->fields()[2];
  ASSERT_EQ(c.type->kind(), TypeKind::kArray);
  EXPECT_EQ(c.type->element_type()->kind(), TypeKind::kInteger);
  EXPECT_FALSE(c.type->contains_null());

  const auto& e = s->fields()[3];
  EXPECT_EQ(e.type->element_type()->kind(), TypeKind::kStruct);
  EXPECT_TRUE(e.type->contains_null());

  const auto& f = s->fields()[4];
  ASSERT_EQ(f.type->kind(), TypeKind::kMap);
  EXPECT_EQ(f.type->key_type()->kind(), TypeKind::kString);
  EXPECT_EQ(f.type->value_type()->kind(), TypeKind::kString);
  EXPECT_TRUE(f.type->value_contains_null());

  const auto& g = s->fields()[5];
  EXPECT_EQ(g.type->kind(), TypeKind::kDecimal);
  EXPECT_EQ(g.type->precision(), 38);
  EXPECT_EQ(g.type->scale(), 18);
  EXPECT_EQ(g.type->Name(), "decimal(38,18)");
  EXPECT_EQ(g.metadata_json, R"({"comment":"money"})");
  EXPECT_EQ(s->fields()[6].type->kind(), TypeKind::kTimestampNtz);

  EXPECT_EQ(s->AsStruct()->fields()[4].type->ToString(), "map<string, string>");
}

TEST(SchemaTest, SerializeRoundTrips) {
  auto s = ParseSchema(kSchema);
  ASSERT_TRUE(s.ok());
  const std::string text = SerializeSchema(*s);
  EXPECT_THAT(text, HasSubstr(R"({"name":"a","type":"integer","nullable":false,"metadata":{}})"));
  auto again = ParseSchema(text);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_TRUE(*again == *s);
  EXPECT_EQ(SerializeSchema(*again), text);
}

TEST(SchemaTest, FindsFields) {
  auto s = ParseSchema(kSchema);
  ASSERT_TRUE(s.ok());
  EXPECT_NE(s->FindField("b"), nullptr);
  EXPECT_EQ(s->FindField("B"), nullptr);
  EXPECT_NE(s->FindFieldIgnoreCase("B"), nullptr);
  const StructField* d = s->FindFieldByPath({"b", "d"});
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(d->name, "d");
  EXPECT_EQ(s->FindFieldByPath({"b", "x"}), nullptr);
  EXPECT_EQ(s->FindFieldByPath({"a", "d"}), nullptr);  // a is not a struct
  EXPECT_EQ(s->FindFieldByPath({}), nullptr);
}

TEST(SchemaTest, UnknownTypeIsNotSupportedNamingTypeAndField) {
  auto s = ParseSchema(
      R"({"type":"struct","fields":[{"name":"v","type":"variant","nullable":true,"metadata":{}}]})");
  ASSERT_FALSE(s.ok());
  EXPECT_TRUE(s.status().IsNotSupported());
  EXPECT_EQ(s.status().message(),
            "field 'v' has type 'variant', which medallion does not support");

  auto nested = ParseSchema(
      R"({"type":"struct","fields":[{"name":"s","type":{"type":"struct","fields":[)"
      R"({"name":"x","type":"interval","nullable":true,"metadata":{}}]},"nullable":true,"metadata":{}}]})");
  ASSERT_FALSE(nested.ok());
  EXPECT_TRUE(nested.status().IsNotSupported());
  EXPECT_THAT(nested.status().message(), HasSubstr("field 's.x' has type 'interval'"));

  auto udt = ParseSchema(
      R"({"type":"struct","fields":[{"name":"u","type":{"type":"udt","class":"X"},"nullable":true,"metadata":{}}]})");
  EXPECT_TRUE(udt.status().IsNotSupported());
}

TEST(SchemaTest, MalformedSchemasAreCorruption) {
  EXPECT_TRUE(ParseSchema("{not json").status().IsCorruption());
  EXPECT_TRUE(ParseSchema(R"("long")").status().IsCorruption());
  EXPECT_TRUE(ParseSchema(R"({"type":"struct"})").status().IsCorruption());
  EXPECT_TRUE(ParseSchema(R"({"type":"struct","fields":[{"type":"long"}]})").status().IsCorruption());
  auto bad_decimal = ParseSchema(
      R"json({"type":"struct","fields":[{"name":"d","type":"decimal(39,2)","nullable":true,"metadata":{}}]})json");
  EXPECT_FALSE(bad_decimal.ok());
  EXPECT_THAT(bad_decimal.status().message(), HasSubstr("field 'd'"));
}

TEST(SchemaTest, ParsesBareTypes) {
  auto t = ParseDataType("decimal(5, 2)");
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ((*t)->Name(), "decimal(5,2)");
  auto d = ParseDataType("\"decimal\"");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ((*d)->Name(), "decimal(10,0)");
  for (const char* name : {"string", "long", "integer", "short", "byte", "float", "double",
                           "boolean", "binary", "date", "timestamp", "timestamp_ntz"}) {
    auto p = ParseDataType(name);
    ASSERT_TRUE(p.ok()) << name;
    EXPECT_EQ((*p)->Name(), name);
  }
}

}  // namespace
}  // namespace medallion::delta
