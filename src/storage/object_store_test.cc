#include "storage/object_store.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace medallion::storage {
namespace {

TEST(ObjectStoreValidateKeyTest, AcceptsRelativeKeys) {
  for (std::string key :
       {"a", "a/b", "sales/orders/_delta_log/00000000000000000000.json", ".hidden", "a/.b", "..a",
        "a..", "a/...", "sp ace", "x=1/y=2/part.parquet", "\xc3\xa9", "a\\b"}) {
    EXPECT_TRUE(ValidateKey(key).ok()) << key << ": " << ValidateKey(key).ToString();
  }
}

TEST(ObjectStoreValidateKeyTest, RejectsKeysThatCouldEscapeOrAreAmbiguous) {
  for (const std::string& key : std::vector<std::string>{
           "", "/", "/etc/passwd", "../x", "a/../../b", "a/..", "..", ".", "./a", "a/./b", "a//b",
           "a/", "//", std::string("a\0b", 3), std::string(1, '\0')}) {
    Status st = ValidateKey(key);
    EXPECT_TRUE(st.IsInvalidArgument()) << testing::PrintToString(key) << ": " << st.ToString();
  }
}

TEST(ObjectStoreValidateKeyTest, MessagesNameTheKeyAndTheProblem) {
  EXPECT_EQ(ValidateKey("a//b").message(), "key 'a//b' has an empty segment");
  EXPECT_EQ(ValidateKey("/etc/passwd").message(),
            "key '/etc/passwd' starts with '/' (keys are relative)");
  EXPECT_EQ(ValidateKey("a/../../b").message(), "key 'a/../../b' has a '.' or '..' segment");
  EXPECT_EQ(ValidateKey("").message(), "key '' is empty");
  EXPECT_EQ(ValidateKey(std::string("a\0b", 3)).message(), "key 'a\\0b' contains a NUL byte");
}

TEST(ObjectStoreValidatePrefixTest, AcceptsKeysFoldersAndPartialNames) {
  for (std::string prefix : {"", "a", "a/", "a/b", "_delta_log/0000000000000000000", "a/.", "a/..",
                             ".", "..", "tbl/_delta_log/"}) {
    EXPECT_TRUE(ValidatePrefix(prefix).ok()) << prefix << ": " << ValidatePrefix(prefix).ToString();
  }
}

TEST(ObjectStoreValidatePrefixTest, RejectsEscapes) {
  for (const std::string& prefix :
       std::vector<std::string>{"/", "/etc", "../", "../x", "a/../../b", "a//b", "a//", "./x",
                                "a/../", std::string("a\0", 2), std::string("a/\0", 3)}) {
    Status st = ValidatePrefix(prefix);
    EXPECT_TRUE(st.IsInvalidArgument()) << testing::PrintToString(prefix) << ": " << st.ToString();
  }
  EXPECT_EQ(ValidatePrefix("../x").message(), "list prefix '../x' has a '.' or '..' segment");
}

TEST(ObjectStoreJoinKeyTest, JoinsWithOneSlash) {
  EXPECT_EQ(JoinKey("a", "b/c"), "a/b/c");
  EXPECT_EQ(JoinKey("a/", "b"), "a/b");
  EXPECT_EQ(JoinKey("a", "/b"), "a/b");
  EXPECT_EQ(JoinKey("a//", "//b"), "a/b");
  EXPECT_EQ(JoinKey("", "b"), "b");
  EXPECT_EQ(JoinKey("a", ""), "a");
  EXPECT_EQ(JoinKey("", ""), "");
  EXPECT_EQ(JoinKey("sales/orders", "_delta_log/00000000000000000000.json"),
            "sales/orders/_delta_log/00000000000000000000.json");
}

}  // namespace
}  // namespace medallion::storage
