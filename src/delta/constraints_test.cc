#include "delta/constraints.h"

#include <gtest/gtest.h>

#include "delta/write_test_util.h"
#include "storage/test_util.h"

namespace medallion::delta {
namespace {

using testing::TestMetadata;

TEST(TableConstraintsTest, CheckConstraintsAndInvariantsInOrder) {
  Metadata m = TestMetadata({{"delta.constraints.positive", "id > 0"},
                             {"delta.constraints.a_first", "id < 100"},
                             {"delta.appendOnly", "false"}});
  // A top-level invariant in the protocol's JSON form, a nested one as a bare expression.
  m.schema_string =
      R"({"type":"struct","fields":[)"
      R"({"name":"id","type":"long","nullable":true,"metadata":{"delta.invariants":"{\"expression\":{\"expression\":\"id > 3\"}}"}},)"
      R"({"name":"s","type":{"type":"struct","fields":[{"name":"v","type":"integer","nullable":true,"metadata":{"delta.invariants":"s.v IS NOT NULL"}}]},"nullable":true,"metadata":{}}]})";
  ASSERT_OK_AND_ASSIGN(auto constraints, TableConstraints(m));
  ASSERT_EQ(constraints.size(), 4u);
  EXPECT_EQ(constraints[0].name, "a_first");
  EXPECT_EQ(constraints[0].expression, "id < 100");
  EXPECT_EQ(constraints[0].kind, RowConstraint::Kind::kCheck);
  EXPECT_EQ(constraints[1].name, "positive");
  EXPECT_EQ(constraints[2].kind, RowConstraint::Kind::kInvariant);
  EXPECT_EQ(constraints[2].name, "EXPRESSION(id > 3)");
  EXPECT_EQ(constraints[2].expression, "id > 3");
  EXPECT_EQ(constraints[2].column, "id");
  EXPECT_EQ(constraints[3].expression, "s.v IS NOT NULL");
  EXPECT_EQ(constraints[3].column, "s.v");
}

TEST(TableConstraintsTest, NoneWithoutThem) {
  ASSERT_OK_AND_ASSIGN(auto constraints, TableConstraints(TestMetadata()));
  EXPECT_TRUE(constraints.empty());
}

TEST(TableConstraintsTest, MalformedOnesAreErrors) {
  EXPECT_TRUE(TableConstraints(TestMetadata({{"delta.constraints.c", "  "}})).status()
                  .IsInvalidArgument());
  EXPECT_TRUE(TableConstraints(TestMetadata({{"delta.constraints.", "x > 0"}})).status()
                  .IsInvalidArgument());
  Metadata m = TestMetadata();
  m.schema_string =
      R"({"type":"struct","fields":[{"name":"id","type":"long","nullable":true,"metadata":{"delta.invariants":"{\"expression\":{}}"}}]})";
  Status st = TableConstraints(m).status();
  EXPECT_TRUE(st.IsInvalidArgument());
  EXPECT_NE(st.message().find("column id"), std::string::npos) << st.message();
}

TEST(TableConstraintsTest, KeysAreLowerCase) {
  EXPECT_EQ(CheckConstraintKey("DateCheck"), "delta.constraints.datecheck");
}

}  // namespace
}  // namespace medallion::delta
