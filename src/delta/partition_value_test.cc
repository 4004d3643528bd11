#include "delta/partition_value.h"

#include <cmath>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace medallion::delta {
namespace {

using ::testing::HasSubstr;

Scalar Parse(const char* value, const DataTypePtr& type) {
  auto r = ParsePartitionValue(value ? std::optional<std::string>(value) : std::nullopt, *type,
                               "col");
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? *r : Scalar::Null();
}

DataTypePtr T(TypeKind kind) { return DataType::Primitive(kind); }

TEST(PartitionValueTest, NullAndEmpty) {
  EXPECT_TRUE(Parse(nullptr, T(TypeKind::kLong)).is_null());
  EXPECT_TRUE(Parse("", T(TypeKind::kString)).is_null());
  EXPECT_TRUE(Parse("", T(TypeKind::kDate)).is_null());
  // The text "null" is a string, not NULL (golden table data-reader-partition-values).
  EXPECT_EQ(Parse("null", T(TypeKind::kString)), Scalar::String("null"));
}

TEST(PartitionValueTest, Numbers) {
  EXPECT_EQ(Parse("-12", T(TypeKind::kInteger)), Scalar::Int64(-12));
  EXPECT_EQ(Parse("127", T(TypeKind::kByte)), Scalar::Int64(127));
  EXPECT_EQ(Parse("9223372036854775807", T(TypeKind::kLong)),
            Scalar::Int64(9223372036854775807LL));
  EXPECT_EQ(Parse("1.5", T(TypeKind::kDouble)), Scalar::Double(1.5));
  EXPECT_EQ(Parse("0.0", T(TypeKind::kFloat)), Scalar::Double(0));
  EXPECT_TRUE(std::isnan(Parse("NaN", T(TypeKind::kDouble)).double_value()));
  EXPECT_EQ(Parse("-Infinity", T(TypeKind::kDouble)).double_value(), -INFINITY);
  auto dec = DataType::MakeDecimal(5, 2);
  ASSERT_TRUE(dec.ok());
  EXPECT_EQ(Parse("-123.45", *dec), Scalar::Decimal("-123.45", 5, 2));
  EXPECT_EQ(Parse("1.50", *DataType::MakeDecimal(3, 1)).string_value(), "1.50");
  EXPECT_EQ(Parse("true", T(TypeKind::kBoolean)), Scalar::Boolean(true));
  EXPECT_EQ(Parse("FALSE", T(TypeKind::kBoolean)), Scalar::Boolean(false));
}

TEST(PartitionValueTest, DatesAndTimestamps) {
  EXPECT_EQ(Parse("1970-01-01", T(TypeKind::kDate)), Scalar::Date(0));
  EXPECT_EQ(Parse("2021-09-08", T(TypeKind::kDate)), Scalar::Date(18878));
  EXPECT_EQ(Parse("1969-12-31", T(TypeKind::kDate)), Scalar::Date(-1));
  EXPECT_EQ(Parse("2000-02-29", T(TypeKind::kDate)).ToString(), "DATE 2000-02-29");

  const int64_t ts = 1631099471000000;  // 2021-09-08 11:11:11 UTC
  EXPECT_EQ(Parse("2021-09-08 11:11:11", T(TypeKind::kTimestamp)), Scalar::Timestamp(ts));
  EXPECT_EQ(Parse("2021-09-08T11:11:11Z", T(TypeKind::kTimestamp)), Scalar::Timestamp(ts));
  EXPECT_EQ(Parse("2021-09-08T11:11:11.123456Z", T(TypeKind::kTimestamp)),
            Scalar::Timestamp(ts + 123456));
  EXPECT_EQ(Parse("2021-09-08 11:11:11.5", T(TypeKind::kTimestamp)),
            Scalar::Timestamp(ts + 500000));
  EXPECT_EQ(Parse("2021-09-08T13:11:11+02:00", T(TypeKind::kTimestamp)), Scalar::Timestamp(ts));
  EXPECT_EQ(Parse("1969-01-01 00:00:00", T(TypeKind::kTimestamp)),
            Scalar::Timestamp(-365LL * 86400 * 1000000));
  EXPECT_EQ(Parse("2021-09-08 11:11:11", T(TypeKind::kTimestampNtz)), Scalar::TimestampNtz(ts));
  EXPECT_EQ(Parse("2021-09-08T11:11:11.000001", T(TypeKind::kTimestampNtz)),
            Scalar::TimestampNtz(ts + 1));
  EXPECT_EQ(Scalar::Timestamp(ts + 1).ToString(), "TIMESTAMP 2021-09-08 11:11:11.000001Z");
}

TEST(PartitionValueTest, BinaryKeepsBytes) {
  EXPECT_EQ(Parse("\x01\x02\x03", T(TypeKind::kBinary)), Scalar::Binary("\x01\x02\x03"));
  EXPECT_EQ(Scalar::Binary("\x0a\x0b").ToString(), "X'0A0B'");
}

TEST(PartitionValueTest, ErrorsNameColumnAndValue) {
  auto bad = [](const char* value, const DataTypePtr& type) {
    return ParsePartitionValue(std::string(value), *type, "d").status();
  };
  Status s = bad("2021-13-01", T(TypeKind::kDate));
  EXPECT_TRUE(s.IsInvalidArgument());
  EXPECT_EQ(s.message(), "partition column 'd': '2021-13-01' is not a valid date");
  EXPECT_TRUE(bad("2021-02-29", T(TypeKind::kDate)).IsInvalidArgument());
  EXPECT_TRUE(bad("abc", T(TypeKind::kLong)).IsInvalidArgument());
  EXPECT_THAT(bad("128", T(TypeKind::kByte)).message(), HasSubstr("out of range"));
  EXPECT_TRUE(bad("1.5", T(TypeKind::kInteger)).IsInvalidArgument());
  EXPECT_TRUE(bad("yes", T(TypeKind::kBoolean)).IsInvalidArgument());
  EXPECT_TRUE(bad("1e", T(TypeKind::kDouble)).IsInvalidArgument());
  EXPECT_TRUE(bad("123.4", *DataType::MakeDecimal(3, 1)).IsInvalidArgument());
  EXPECT_TRUE(bad("1.23", *DataType::MakeDecimal(3, 1)).IsInvalidArgument());
  EXPECT_TRUE(bad("2021-09-08 25:00:00", T(TypeKind::kTimestamp)).IsInvalidArgument());
  EXPECT_TRUE(bad("2021-09-08T11:11:11Z", T(TypeKind::kTimestampNtz)).IsInvalidArgument());
  EXPECT_THAT(bad("x", T(TypeKind::kTimestamp)).message(),
              HasSubstr("partition column 'd': 'x' is not a valid timestamp"));
  auto nested = ParsePartitionValue(std::string("1"),
                                    *DataType::Array(T(TypeKind::kLong), true), "arr");
  EXPECT_TRUE(nested.status().IsInvalidArgument());
}

}  // namespace
}  // namespace medallion::delta
