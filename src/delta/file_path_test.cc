#include "delta/file_path.h"

#include <gtest/gtest.h>

namespace medallion::delta {
namespace {

TEST(FilePathTest, RelativePathsAreDecoded) {
  auto p = ParseFilePath("a%20b/part-0.parquet");
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->kind, FilePath::Kind::kRelative);
  EXPECT_EQ(p->path, "a b/part-0.parquet");
  EXPECT_EQ(ParseFilePath("special%20p@%23h")->path, "special p@#h");
  EXPECT_EQ(ParseFilePath("c2=+%20%253D%25250/x")->path, "c2=+ %3D%250/x");
  EXPECT_EQ(ParseFilePath("bar%2Dbar.snappy.parquet")->path, "bar-bar.snappy.parquet");
}

TEST(FilePathTest, AbsoluteSpellingsShareOneCanonicalKey) {
  const std::string expected = "file:///some/unqualified/with space/p@#h";
  for (const char* spelling :
       {"/some/unqualified/with%20space/p@%23h", "file:/some/unqualified/with%20space/p@%23h",
        "file:///some/unqualified/with%20space/p@%23h",
        "file://localhost/some/unqualified/with%20space/p@%23h"}) {
    auto p = ParseFilePath(spelling);
    ASSERT_TRUE(p.ok()) << spelling;
    EXPECT_EQ(p->kind, FilePath::Kind::kLocal) << spelling;
    EXPECT_EQ(p->path, "/some/unqualified/with space/p@#h") << spelling;
    EXPECT_EQ(p->CanonicalKey(), expected) << spelling;
  }
}

TEST(FilePathTest, OtherSchemesAreRemote) {
  auto p = ParseFilePath("s3://bucket/a%20b.parquet");
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->kind, FilePath::Kind::kRemote);
  EXPECT_EQ(p->path, "s3://bucket/a b.parquet");
}

TEST(FilePathTest, Errors) {
  EXPECT_TRUE(ParseFilePath("").status().IsInvalidArgument());
  EXPECT_TRUE(ParseFilePath("a%2").status().IsInvalidArgument());
  EXPECT_TRUE(ParseFilePath("a%zz").status().IsInvalidArgument());
  EXPECT_TRUE(ParseFilePath("a%00b").status().IsInvalidArgument());
  EXPECT_TRUE(ParseFilePath("file://otherhost/x").status().IsInvalidArgument());
}

TEST(FilePathTest, EncodeDecodeRoundTrip) {
  const std::string raw = "date=2021-01-01/a b#c%d/part-0.parquet";
  const std::string enc = PercentEncodePath(raw);
  EXPECT_EQ(enc, "date%3D2021-01-01/a%20b%23c%25d/part-0.parquet");
  EXPECT_EQ(*PercentDecode(enc), raw);
}

}  // namespace
}  // namespace medallion::delta
