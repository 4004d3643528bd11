// What MemoryObjectStore adds to the ObjectStore contract (checked by
// object_store_conformance_test.cc).
#include "storage/memory_object_store.h"

#include <gtest/gtest.h>

#include <string>

#include "storage/test_util.h"

namespace medallion::storage {
namespace {

TEST(MemoryObjectStoreTest, AKeyMayBeBothAnObjectAndAPrefix) {
  MemoryObjectStore store;
  ASSERT_OK(store.Write("a", "object"));
  ASSERT_OK(store.Write("a/b", "below"));
  auto listed = store.List("a");
  ASSERT_OK(listed);
  ASSERT_EQ(listed->size(), 2u);
  EXPECT_EQ((*listed)[0].key, "a");
  EXPECT_EQ((*listed)[1].key, "a/b");
}

TEST(MemoryObjectStoreTest, HasNoLocalPaths) {
  MemoryObjectStore store;
  ASSERT_OK(store.Write("a", "x"));
  EXPECT_TRUE(store.LocalPath("a").status().IsNotSupported());
  EXPECT_TRUE(store.LocalPath("../a").status().IsInvalidArgument());
  EXPECT_EQ(store.Describe(), "memory://");
}

TEST(MemoryObjectStoreTest, StoresAreIndependent) {
  MemoryObjectStore one;
  MemoryObjectStore two;
  ASSERT_OK(one.Write("k", "1"));
  EXPECT_TRUE(two.Read("k").status().IsNotFound());
}

}  // namespace
}  // namespace medallion::storage
