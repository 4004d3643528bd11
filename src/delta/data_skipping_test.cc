#include "delta/data_skipping.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace medallion::delta {
namespace {

using ::testing::HasSubstr;

std::string Field(const std::string& name, const std::string& type,
                  const std::string& metadata = "{}") {
  return R"({"name":")" + name + R"(","type":)" + type + R"(,"nullable":true,"metadata":)" +
         metadata + "}";
}

TableConfiguration Config(const std::vector<std::string>& fields,
                          std::vector<std::string> partition_columns = {},
                          StringMap configuration = {}, Protocol protocol = {}) {
  Metadata m;
  m.id = "id";
  std::string list;
  for (const auto& f : fields) list += (list.empty() ? "" : ",") + f;
  m.schema_string = R"({"type":"struct","fields":[)" + list + "]}";
  m.partition_columns = std::move(partition_columns);
  m.configuration = std::move(configuration);
  auto c = TableConfiguration::Make(protocol, m);
  EXPECT_TRUE(c.ok()) << c.status().ToString();
  return *c;
}

AddFile FileWithStats(std::string stats, PartitionValues partitions = {}) {
  AddFile f;
  f.path = "part-0.parquet";
  f.stats = std::move(stats);
  f.partition_values = std::move(partitions);
  return f;
}

bool May(const TableConfiguration& config, const ColumnPredicate& p, const AddFile& file) {
  SkippingPredicate pred;
  pred.conjuncts.push_back(p);
  auto filter = DataSkippingFilter::Make(config, pred);
  EXPECT_TRUE(filter.ok()) << filter.status().ToString();
  return filter.ok() ? filter->MayMatch(file) : true;
}

using Op = SkippingOp;
ColumnPredicate Cmp(const std::string& col, Op op, Scalar v) {
  return ColumnPredicate::Compare({col}, op, std::move(v));
}

const char* kIdStats =
    R"({"numRecords":10,"minValues":{"id":10},"maxValues":{"id":20},"nullCount":{"id":0}})";

TEST(DataSkippingTest, IntegerComparisons) {
  auto config = Config({Field("id", R"("long")")});
  AddFile f = FileWithStats(kIdStats);
  EXPECT_TRUE(May(config, Cmp("id", Op::kEqual, Scalar::Int64(10)), f));
  EXPECT_TRUE(May(config, Cmp("id", Op::kEqual, Scalar::Int64(20)), f));
  EXPECT_FALSE(May(config, Cmp("id", Op::kEqual, Scalar::Int64(9)), f));
  EXPECT_FALSE(May(config, Cmp("id", Op::kEqual, Scalar::Int64(21)), f));
  EXPECT_FALSE(May(config, Cmp("id", Op::kLess, Scalar::Int64(10)), f));
  EXPECT_TRUE(May(config, Cmp("id", Op::kLess, Scalar::Int64(11)), f));
  EXPECT_FALSE(May(config, Cmp("id", Op::kLessOrEqual, Scalar::Int64(9)), f));
  EXPECT_TRUE(May(config, Cmp("id", Op::kLessOrEqual, Scalar::Int64(10)), f));
  EXPECT_FALSE(May(config, Cmp("id", Op::kGreater, Scalar::Int64(20)), f));
  EXPECT_TRUE(May(config, Cmp("id", Op::kGreater, Scalar::Int64(19)), f));
  EXPECT_FALSE(May(config, Cmp("id", Op::kGreaterOrEqual, Scalar::Int64(21)), f));
  EXPECT_TRUE(May(config, Cmp("id", Op::kGreaterOrEqual, Scalar::Int64(20)), f));
  // Mixed numeric literals: decimals exactly, doubles as doubles.
  EXPECT_FALSE(May(config, Cmp("id", Op::kEqual, Scalar::Decimal("20.5", 3, 1)), f));
  EXPECT_TRUE(May(config, Cmp("id", Op::kEqual, Scalar::Decimal("20.0", 3, 1)), f));
  EXPECT_TRUE(May(config, Cmp("id", Op::kLess, Scalar::Decimal("10.01", 4, 2)), f));
  EXPECT_FALSE(May(config, Cmp("id", Op::kGreater, Scalar::Double(20.0)), f));
  EXPECT_TRUE(May(config, Cmp("id", Op::kGreater, Scalar::Double(19.99)), f));
  // A string literal is read as the column's type; one that is not a number is ignored.
  EXPECT_FALSE(May(config, Cmp("id", Op::kEqual, Scalar::String("42")), f));
  EXPECT_TRUE(May(config, Cmp("id", Op::kEqual, Scalar::String("abc")), f));
}

TEST(DataSkippingTest, NumRecordsFromStatistics) {
  EXPECT_EQ(NumRecords(FileWithStats(kIdStats)), 10);
  EXPECT_EQ(NumRecords(FileWithStats(R"({"minValues":{"id":1}})")), std::nullopt);
  EXPECT_EQ(NumRecords(FileWithStats("{not json")), std::nullopt);
  EXPECT_EQ(NumRecords(AddFile{}), std::nullopt);
}

TEST(DataSkippingTest, InAndNullLiterals) {
  auto config = Config({Field("id", R"("long")")});
  AddFile f = FileWithStats(kIdStats);
  EXPECT_TRUE(May(config, ColumnPredicate::In({"id"}, {Scalar::Int64(1), Scalar::Int64(15)}), f));
  EXPECT_FALSE(May(config, ColumnPredicate::In({"id"}, {Scalar::Int64(1), Scalar::Int64(25)}), f));
  EXPECT_FALSE(May(config, ColumnPredicate::In({"id"}, {Scalar::Null(), Scalar::Int64(25)}), f));
  EXPECT_FALSE(May(config, ColumnPredicate::In({"id"}, {}), f));
  // A comparison with NULL is never true.
  EXPECT_FALSE(May(config, Cmp("id", Op::kEqual, Scalar::Null()), f));
}

TEST(DataSkippingTest, NullCounts) {
  auto config = Config({Field("id", R"("long")")});
  AddFile all_null = FileWithStats(R"({"numRecords":5,"nullCount":{"id":5}})");
  EXPECT_FALSE(May(config, Cmp("id", Op::kEqual, Scalar::Int64(1)), all_null));
  EXPECT_FALSE(May(config, Cmp("id", Op::kLess, Scalar::Int64(1)), all_null));
  EXPECT_FALSE(May(config, ColumnPredicate::In({"id"}, {Scalar::Int64(1)}), all_null));
  EXPECT_FALSE(May(config, ColumnPredicate::IsNotNull({"id"}), all_null));
  EXPECT_TRUE(May(config, ColumnPredicate::IsNull({"id"}), all_null));

  AddFile no_null = FileWithStats(kIdStats);
  EXPECT_FALSE(May(config, ColumnPredicate::IsNull({"id"}), no_null));
  EXPECT_TRUE(May(config, ColumnPredicate::IsNotNull({"id"}), no_null));

  AddFile some_null =
      FileWithStats(R"({"numRecords":5,"minValues":{"id":1},"maxValues":{"id":1},)"
                    R"("nullCount":{"id":2}})");
  EXPECT_TRUE(May(config, ColumnPredicate::IsNull({"id"}), some_null));
  EXPECT_TRUE(May(config, ColumnPredicate::IsNotNull({"id"}), some_null));
  // Wide bounds (deletion vectors): only 0 and numRecords carry information, and those still hold.
  AddFile wide = FileWithStats(
      R"({"numRecords":5,"tightBounds":false,"minValues":{"id":1},"maxValues":{"id":9},)"
      R"("nullCount":{"id":0}})");
  EXPECT_FALSE(May(config, ColumnPredicate::IsNull({"id"}), wide));
  EXPECT_FALSE(May(config, Cmp("id", Op::kEqual, Scalar::Int64(10)), wide));
}

TEST(DataSkippingTest, MissingStatisticsKeepTheFile) {
  auto config = Config({Field("id", R"("long")"), Field("other", R"("long")")});
  const ColumnPredicate eq = Cmp("id", Op::kEqual, Scalar::Int64(99));
  AddFile none;
  none.path = "x.parquet";
  EXPECT_TRUE(May(config, eq, none));
  EXPECT_TRUE(May(config, eq, FileWithStats("not json")));
  EXPECT_TRUE(May(config, eq, FileWithStats(R"({"numRecords":3})")));
  // Only the other column has statistics (id not among the indexed columns).
  EXPECT_TRUE(May(config, eq,
                  FileWithStats(R"({"numRecords":3,"minValues":{"other":1},)"
                                R"("maxValues":{"other":2},"nullCount":{"other":0}})")));
  // Only a min: the max side cannot skip.
  EXPECT_TRUE(May(config, eq, FileWithStats(R"({"numRecords":3,"minValues":{"id":1}})")));
  EXPECT_FALSE(May(config, Cmp("id", Op::kLess, Scalar::Int64(1)),
                   FileWithStats(R"({"numRecords":3,"minValues":{"id":1}})")));
  // NaN bounds (written as text) are no bounds.
  auto dconfig = Config({Field("d", R"("double")")});
  EXPECT_TRUE(May(dconfig, Cmp("d", Op::kGreater, Scalar::Double(5)),
                  FileWithStats(R"({"numRecords":3,"minValues":{"d":1.0},"maxValues":{"d":"NaN"}})")));
}

TEST(DataSkippingTest, CutStringMaxNeverSkipsWrongly) {
  auto config = Config({Field("s", R"("string")")});
  const std::string prefix(32, 'a');  // 32 characters: may have been cut
  AddFile cut = FileWithStats(R"({"numRecords":2,"minValues":{"s":"a"},"maxValues":{"s":")" +
                              prefix + R"("},"nullCount":{"s":0}})");
  // The real max may be "aaa...a" followed by anything.
  EXPECT_TRUE(May(config, Cmp("s", Op::kEqual, Scalar::String(prefix + "zzz")), cut));
  EXPECT_TRUE(May(config, Cmp("s", Op::kGreater, Scalar::String(prefix)), cut));
  EXPECT_TRUE(May(config, Cmp("s", Op::kGreaterOrEqual, Scalar::String(prefix + "\xff")), cut));
  EXPECT_FALSE(May(config, Cmp("s", Op::kEqual, Scalar::String("b")), cut));
  EXPECT_FALSE(May(config, Cmp("s", Op::kGreater, Scalar::String("ab")), cut));

  // A cut max with Spark's U+10FFFF tie-breaker.
  AddFile tie = FileWithStats(R"({"numRecords":2,"minValues":{"s":"a"},"maxValues":{"s":"abc)"
                              "\xF4\x8F\xBF\xBF" R"("},"nullCount":{"s":0}})");
  EXPECT_TRUE(May(config, Cmp("s", Op::kEqual, Scalar::String("abc\xF4\x8F\xBF\xBF\xF4\x8F\xBF\xBF")),
                  tie));
  EXPECT_TRUE(May(config, Cmp("s", Op::kEqual, Scalar::String("abcz")), tie));
  EXPECT_FALSE(May(config, Cmp("s", Op::kEqual, Scalar::String("abd")), tie));

  // A short max is exact; strings compare by UTF-8 bytes ("é" > "z").
  AddFile exact = FileWithStats(
      R"({"numRecords":2,"minValues":{"s":"b"},"maxValues":{"s":"m"},"nullCount":{"s":0}})");
  EXPECT_FALSE(May(config, Cmp("s", Op::kEqual, Scalar::String("mm")), exact));
  EXPECT_FALSE(May(config, Cmp("s", Op::kEqual, Scalar::String("\xC3\xA9")), exact));
  EXPECT_FALSE(May(config, Cmp("s", Op::kEqual, Scalar::String("B")), exact));
  EXPECT_TRUE(May(config, Cmp("s", Op::kEqual, Scalar::String("c")), exact));

  // A shorter prefix length in the table's properties.
  auto short_config = Config({Field("s", R"("string")")}, {},
                             {{"delta.dataSkippingStringPrefixLength", "2"}});
  AddFile two = FileWithStats(
      R"({"numRecords":2,"minValues":{"s":"a"},"maxValues":{"s":"mm"},"nullCount":{"s":0}})");
  EXPECT_TRUE(May(short_config, Cmp("s", Op::kEqual, Scalar::String("mmz")), two));
  EXPECT_FALSE(May(config, Cmp("s", Op::kEqual, Scalar::String("mmz")), two));
}

TEST(DataSkippingTest, TimestampsAreWidenedToMilliseconds) {
  auto config = Config({Field("ts", R"("timestamp")"), Field("ntz", R"("timestamp_ntz")")});
  AddFile f = FileWithStats(
      R"({"numRecords":2,"minValues":{"ts":"2021-01-01T00:00:00.123Z","ntz":"2021-01-01T00:00:00.123"},)"
      R"("maxValues":{"ts":"2021-01-01T00:00:00.123Z","ntz":"2021-01-01T00:00:00.123"},)"
      R"("nullCount":{"ts":0,"ntz":0}})");
  const int64_t base = 1609459200000000LL;  // 2021-01-01 00:00:00 UTC
  // The max of ...123Z may really be ...123999.
  EXPECT_TRUE(May(config, Cmp("ts", Op::kEqual, Scalar::Timestamp(base + 123999)), f));
  EXPECT_TRUE(May(config, Cmp("ts", Op::kGreater, Scalar::Timestamp(base + 123500)), f));
  EXPECT_FALSE(May(config, Cmp("ts", Op::kGreater, Scalar::Timestamp(base + 125000)), f));
  EXPECT_FALSE(May(config, Cmp("ts", Op::kLess, Scalar::Timestamp(base + 121000)), f));
  EXPECT_TRUE(May(config, Cmp("ntz", Op::kEqual, Scalar::TimestampNtz(base + 123456)), f));
  EXPECT_FALSE(May(config, Cmp("ntz", Op::kEqual, Scalar::TimestampNtz(base + 200000)), f));
  // Text literals are read as the column's type.
  EXPECT_FALSE(May(config, Cmp("ts", Op::kEqual, Scalar::String("2021-01-02 00:00:00")), f));
  EXPECT_TRUE(May(config, Cmp("ts", Op::kEqual, Scalar::String("2021-01-01T00:00:00.123456Z")), f));
  // A zone-less literal against a timestamp with time zone is not comparable: ignored.
  EXPECT_TRUE(May(config, Cmp("ts", Op::kEqual, Scalar::TimestampNtz(base)), f));
}

TEST(DataSkippingTest, DatesDecimalsDoublesFloatsBooleans) {
  auto config = Config({Field("d", R"("date")"), Field("dec", "\"decimal(38,10)\""),
                        Field("x", R"("double")"), Field("f", R"("float")"),
                        Field("b", R"("boolean")")});
  AddFile f = FileWithStats(
      R"({"numRecords":4,"minValues":{"d":"2021-01-01","dec":1234567890123456789012.0000000001,)"
      R"("x":-1.5,"f":0.1,"b":false},)"
      R"("maxValues":{"d":"2021-01-31","dec":1.5E+22,"x":2.5,"f":0.1,"b":false},)"
      R"("nullCount":{"d":0,"dec":0,"x":0,"f":0,"b":0}})");
  EXPECT_TRUE(May(config, Cmp("d", Op::kEqual, Scalar::Date(18628)), f));   // 2021-01-01
  EXPECT_FALSE(May(config, Cmp("d", Op::kEqual, Scalar::Date(18627)), f));  // 2020-12-31
  EXPECT_FALSE(May(config, Cmp("d", Op::kGreater, Scalar::String("2021-01-31")), f));
  // Decimals compare exactly, beyond what a double holds.
  EXPECT_FALSE(May(config, Cmp("dec", Op::kLess, Scalar::Decimal("1234567890123456789012.0000000001", 38, 10)), f));
  EXPECT_TRUE(May(config, Cmp("dec", Op::kLess, Scalar::Decimal("1234567890123456789012.0000000002", 38, 10)), f));
  EXPECT_FALSE(May(config, Cmp("dec", Op::kGreater, Scalar::Decimal("15000000000000000000000", 38, 0)), f));
  EXPECT_FALSE(May(config, Cmp("dec", Op::kEqual, Scalar::Int64(1500000000000000000LL)), f));
  EXPECT_FALSE(May(config, Cmp("x", Op::kLess, Scalar::Double(-1.5)), f));
  EXPECT_TRUE(May(config, Cmp("x", Op::kLessOrEqual, Scalar::Decimal("-1.5", 2, 1)), f));
  EXPECT_FALSE(May(config, Cmp("x", Op::kGreater, Scalar::Int64(2)) , FileWithStats(
      R"({"numRecords":1,"minValues":{"x":1},"maxValues":{"x":2},"nullCount":{"x":0}})")));
  // A float printed as 0.1 is 0.100000001490116...: not skipped for > 0.1.
  EXPECT_TRUE(May(config, Cmp("f", Op::kGreater, Scalar::Decimal("0.1", 1, 1)), f));
  EXPECT_FALSE(May(config, Cmp("f", Op::kGreater, Scalar::Decimal("0.2", 1, 1)), f));
  EXPECT_FALSE(May(config, Cmp("b", Op::kEqual, Scalar::Boolean(true)), f));
  EXPECT_TRUE(May(config, Cmp("b", Op::kEqual, Scalar::Boolean(false)), f));
}

TEST(DataSkippingTest, PartitionPruning) {
  auto config = Config({Field("id", R"("long")"), Field("p", R"("string")"),
                        Field("d", R"("date")")},
                       {"p", "d"});
  AddFile a = FileWithStats(kIdStats, {{"p", "x"}, {"d", "2021-01-01"}});
  AddFile null_p = FileWithStats(kIdStats, {{"p", std::nullopt}, {"d", "2021-01-02"}});
  AddFile empty_p;  // no statistics; "" is NULL
  empty_p.partition_values = {{"p", ""}, {"d", "2021-01-03"}};
  EXPECT_TRUE(May(config, Cmp("p", Op::kEqual, Scalar::String("x")), a));
  EXPECT_FALSE(May(config, Cmp("p", Op::kEqual, Scalar::String("y")), a));
  EXPECT_FALSE(May(config, Cmp("p", Op::kEqual, Scalar::String("x")), null_p));
  EXPECT_TRUE(May(config, ColumnPredicate::IsNull({"p"}), null_p));
  EXPECT_TRUE(May(config, ColumnPredicate::IsNull({"p"}), empty_p));
  EXPECT_FALSE(May(config, ColumnPredicate::IsNull({"p"}), a));
  EXPECT_FALSE(May(config, ColumnPredicate::IsNotNull({"P"}), null_p));
  EXPECT_TRUE(May(config, Cmp("d", Op::kGreaterOrEqual, Scalar::String("2021-01-02")), null_p));
  EXPECT_FALSE(May(config, Cmp("d", Op::kGreaterOrEqual, Scalar::String("2021-01-02")), a));
  EXPECT_FALSE(May(config, ColumnPredicate::In({"d"}, {Scalar::Date(0)}), empty_p));

  // A conjunction: both must be possible.
  SkippingPredicate both;
  both.conjuncts = {Cmp("p", Op::kEqual, Scalar::String("x")), Cmp("id", Op::kEqual, Scalar::Int64(99))};
  std::vector<AddFile> files = {a, null_p, empty_p};
  auto sel = SelectFiles(config, files, both);
  ASSERT_TRUE(sel.ok()) << sel.status().ToString();
  EXPECT_EQ(sel->considered, 3);
  EXPECT_EQ(sel->kept, 0);
  both.conjuncts.pop_back();
  sel = SelectFiles(config, files, both);
  ASSERT_TRUE(sel.ok());
  ASSERT_EQ(sel->kept, 1);
  EXPECT_EQ(sel->files[0], &files[0]);
  EXPECT_EQ(sel->skipped(), 2);
}

TEST(DataSkippingTest, ColumnMappingUsesPhysicalNames) {
  Protocol protocol;
  protocol.min_reader_version = 2;
  protocol.min_writer_version = 5;
  auto config = Config(
      {Field("Id", R"("long")", R"({"delta.columnMapping.id":1,"delta.columnMapping.physicalName":"col-1"})"),
       Field("part", R"("string")", R"({"delta.columnMapping.id":2,"delta.columnMapping.physicalName":"col-2"})"),
       Field("s",
             R"({"type":"struct","fields":[)" +
                 Field("x", R"("integer")", R"({"delta.columnMapping.id":4,"delta.columnMapping.physicalName":"col-4"})") +
                 "]}",
             R"({"delta.columnMapping.id":3,"delta.columnMapping.physicalName":"col-3"})")},
      {"part"}, {{"delta.columnMapping.mode", "name"}}, protocol);
  AddFile f = FileWithStats(
      R"({"numRecords":3,"minValues":{"col-1":1,"col-3":{"col-4":5}},)"
      R"("maxValues":{"col-1":3,"col-3":{"col-4":7}},"nullCount":{"col-1":0,"col-3":{"col-4":0}}})",
      {{"col-2", "a"}});
  EXPECT_FALSE(May(config, Cmp("id", Op::kEqual, Scalar::Int64(4)), f));
  EXPECT_TRUE(May(config, Cmp("ID", Op::kEqual, Scalar::Int64(2)), f));
  EXPECT_FALSE(May(config, Cmp("part", Op::kEqual, Scalar::String("b")), f));
  EXPECT_TRUE(May(config, Cmp("part", Op::kEqual, Scalar::String("a")), f));
  EXPECT_FALSE(May(config, ColumnPredicate::Compare({"s", "x"}, Op::kGreater, Scalar::Int64(7)), f));
  EXPECT_TRUE(May(config, ColumnPredicate::Compare({"s", "x"}, Op::kGreater, Scalar::Int64(6)), f));
  // A nested leaf's nullCount of 0 does not prove IS NULL false (the parent may be NULL).
  EXPECT_TRUE(May(config, ColumnPredicate::IsNull({"s", "x"}), f));
}

TEST(DataSkippingTest, UnusableConjunctsAreIgnoredAndUnknownColumnsRejected) {
  auto config = Config({Field("id", R"("long")"), Field("bin", R"("binary")"),
                        Field("arr", R"({"type":"array","elementType":"long","containsNull":true})")});
  SkippingPredicate p;
  p.conjuncts = {Cmp("bin", Op::kEqual, Scalar::Binary("x")),
                 Cmp("arr", Op::kEqual, Scalar::Int64(1)),
                 Cmp("id", Op::kEqual, Scalar::String("abc")),
                 Cmp("id", Op::kEqual, Scalar::Date(1))};
  auto filter = DataSkippingFilter::Make(config, p);
  ASSERT_TRUE(filter.ok()) << filter.status().ToString();
  EXPECT_EQ(filter->num_usable_conjuncts(), 0);
  EXPECT_EQ(filter->ignored().size(), 4u);
  EXPECT_TRUE(filter->MayMatch(FileWithStats(kIdStats)));

  p.conjuncts = {Cmp("nope", Op::kEqual, Scalar::Int64(1))};
  auto bad = DataSkippingFilter::Make(config, p);
  ASSERT_FALSE(bad.ok());
  EXPECT_TRUE(bad.status().IsInvalidArgument());
  EXPECT_THAT(bad.status().message(), HasSubstr("'nope'"));
  p.conjuncts = {ColumnPredicate::Compare({"id", "x"}, Op::kEqual, Scalar::Int64(1))};
  EXPECT_TRUE(DataSkippingFilter::Make(config, p).status().IsInvalidArgument());
}

TEST(DataSkippingTest, ToString) {
  SkippingPredicate p;
  EXPECT_EQ(p.ToString(), "TRUE");
  p.conjuncts = {Cmp("id", Op::kGreaterOrEqual, Scalar::Int64(3)),
                 ColumnPredicate::In({"s", "x"}, {Scalar::String("a"), Scalar::Int64(2)}),
                 ColumnPredicate::IsNull({"d"})};
  EXPECT_EQ(p.ToString(), "id >= 3 AND s.x IN ('a', 2) AND d IS NULL");
}

}  // namespace
}  // namespace medallion::delta
