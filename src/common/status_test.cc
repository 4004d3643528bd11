#include "common/status.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "common/logging.h"
#include "common/macros.h"
#include "common/result.h"

namespace medallion {
namespace {

TEST(StatusTest, DefaultIsOk) {
  Status s;
  EXPECT_TRUE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kOk);
  EXPECT_EQ(s.message(), "");
  EXPECT_EQ(s.ToString(), "OK");
}

TEST(StatusTest, EveryFactoryCarriesItsCode) {
  EXPECT_TRUE(Status::InvalidArgument("x").IsInvalidArgument());
  EXPECT_TRUE(Status::NotFound("x").IsNotFound());
  EXPECT_TRUE(Status::AlreadyExists("x").IsAlreadyExists());
  EXPECT_TRUE(Status::IOError("x").IsIOError());
  EXPECT_TRUE(Status::Corruption("x").IsCorruption());
  EXPECT_TRUE(Status::NotSupported("x").IsNotSupported());
  EXPECT_TRUE(Status::Conflict("x").IsConflict());
  EXPECT_TRUE(Status::Cancelled("x").IsCancelled());
  EXPECT_TRUE(Status::Internal("x").IsInternal());
  EXPECT_EQ(Status::Conflict("lost to v3").ToString(), "Conflict: lost to v3");
}

TEST(StatusTest, CodesAreStable) {
  // Persisted in run records: renumbering breaks old records.
  EXPECT_EQ(static_cast<int>(StatusCode::kInvalidArgument), 1);
  EXPECT_EQ(static_cast<int>(StatusCode::kConflict), 7);
  EXPECT_EQ(static_cast<int>(StatusCode::kInternal), 9);
}

TEST(StatusTest, ContextChainsOutermostFirst) {
  Status s = Status::Corruption("missing metaData action")
                 .WithContext("version 42")
                 .WithContext("table silver.orders");
  EXPECT_TRUE(s.IsCorruption());
  EXPECT_EQ(s.message(), "table silver.orders: version 42: missing metaData action");
  EXPECT_TRUE(Status::OK().WithContext("ignored").ok());
}

TEST(StatusTest, FromErrnoNamesTheCause) {
  Status s = Status::FromErrno(ENOENT, "open /no/such");
  EXPECT_TRUE(s.IsIOError());
  EXPECT_EQ(s.message(), "open /no/such: No such file or directory");
}

TEST(StatusTest, Equality) {
  EXPECT_EQ(Status::NotFound("a"), Status::NotFound("a"));
  EXPECT_FALSE(Status::NotFound("a") == Status::NotFound("b"));
  EXPECT_FALSE(Status::NotFound("a") == Status::IOError("a"));
}

Result<int> Half(int x) {
  if (x % 2 != 0) return Status::InvalidArgument(std::to_string(x) + " is odd");
  return x / 2;
}

Result<int> Quarter(int x) {
  ASSIGN_OR_RETURN(int half, Half(x));
  ASSIGN_OR_RETURN_CTX(int quarter, Half(half), "second halving");
  return quarter;
}

Status CheckQuarter(int x) {
  RETURN_NOT_OK(Quarter(x));
  RETURN_NOT_OK_CTX(Status::OK(), "never added");
  return Status::OK();
}

Status AlwaysFailsWithContext() {
  RETURN_NOT_OK_CTX(Status::IOError("disk full"), "writing part-0001.parquet");
  return Status::OK();
}

TEST(ResultTest, ValueAndError) {
  Result<int> ok = Half(8);
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(*ok, 4);
  EXPECT_TRUE(ok.status().ok());

  Result<int> bad = Half(3);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().ToString(), "InvalidArgument: 3 is odd");
  EXPECT_EQ(std::move(bad).ValueOr(-1), -1);
}

TEST(ResultTest, MacrosPropagateAndAddContext) {
  EXPECT_EQ(*Quarter(8), 2);
  EXPECT_EQ(Quarter(3).status().message(), "3 is odd");
  EXPECT_EQ(Quarter(6).status().message(), "second halving: 3 is odd");
  EXPECT_TRUE(CheckQuarter(8).ok());
  EXPECT_TRUE(CheckQuarter(6).IsInvalidArgument());
  EXPECT_EQ(AlwaysFailsWithContext().message(), "writing part-0001.parquet: disk full");
}

TEST(ResultTest, OkStatusIsNotAValue) {
  Result<int> r{Status::OK()};
  EXPECT_FALSE(r.ok());
  EXPECT_TRUE(r.status().IsInternal());
}

TEST(ResultTest, MoveOnlyValuesAndConversion) {
  struct Base {
    virtual ~Base() = default;
    virtual int Id() const { return 1; }
  };
  struct Derived : Base {
    int Id() const override { return 2; }
  };
  Result<std::unique_ptr<Derived>> derived = std::make_unique<Derived>();
  Result<std::unique_ptr<Base>> base = std::move(derived);
  ASSERT_TRUE(base.ok());
  EXPECT_EQ((*base)->Id(), 2);
  Result<std::unique_ptr<Base>> err = Result<std::unique_ptr<Derived>>(Status::NotFound("x"));
  EXPECT_TRUE(err.status().IsNotFound());
}

TEST(ResultTest, WithContext) {
  EXPECT_EQ(Half(5).WithContext("column qty").status().message(), "column qty: 5 is odd");
  EXPECT_EQ(*Half(4).WithContext("unused"), 2);
}

TEST(ResultDeathTest, ValueOfErrorAborts) {
  EXPECT_DEATH({ (void)*Half(1); }, "value of an error Result accessed: InvalidArgument: 1 is odd");
}

TEST(LoggingTest, LevelsByName) {
  EXPECT_TRUE(SetLogLevel("debug").ok());
  EXPECT_TRUE(Logger().should_log(spdlog::level::debug));
  EXPECT_TRUE(SetLogLevel("off").ok());
  EXPECT_FALSE(Logger().should_log(spdlog::level::err));
  Status bad = SetLogLevel("loud");
  EXPECT_TRUE(bad.IsInvalidArgument());
  EXPECT_NE(bad.message().find("loud"), std::string::npos);
  EXPECT_TRUE(SetLogLevel("warn").ok());
}

}  // namespace
}  // namespace medallion
