#include "storage/fault_injecting_object_store.h"

#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "storage/memory_object_store.h"
#include "storage/test_util.h"

namespace medallion::storage {
namespace {

using Op = FaultInjectingObjectStore::Operation;
using Action = FaultInjectingObjectStore::Action;

class FaultInjectingObjectStoreTest : public ::testing::Test {
 protected:
  MemoryObjectStore base_;
  FaultInjectingObjectStore store_{&base_};
};

TEST_F(FaultInjectingObjectStoreTest, WithoutFaultsCallsPassThrough) {
  ASSERT_OK(store_.Write("a", "1"));
  EXPECT_EQ(*base_.Read("a"), "1");
  EXPECT_EQ(*store_.Read("a"), "1");
  EXPECT_TRUE(store_.PutIfAbsent("a", "2").IsAlreadyExists());
  EXPECT_TRUE(store_.Read("b").status().IsNotFound());
  EXPECT_EQ(store_.Describe(), "memory://");
  EXPECT_TRUE(store_.LocalPath("a").status().IsNotSupported());
  EXPECT_EQ(store_.InjectedFaultCount(), 0);
}

TEST_F(FaultInjectingObjectStoreTest, FailsTheNthCallOverall) {
  store_.FailNthCall(3, Status::IOError("boom"));
  EXPECT_OK(store_.Write("k1", "1"));      // 1
  EXPECT_TRUE(store_.Read("k1").ok());     // 2
  Status third = store_.Write("k2", "2");  // 3
  EXPECT_EQ(third, Status::IOError("boom")) << "the programmed status, exactly";
  EXPECT_TRUE(base_.Read("k2").status().IsNotFound()) << "a failed call never reaches the store";
  EXPECT_OK(store_.Write("k2", "2"));  // 4: one-shot
  EXPECT_EQ(store_.InjectedFaultCount(), 1);
}

TEST_F(FaultInjectingObjectStoreTest, FailsTheNthCallOfAnOperation) {
  store_.FailNthCall(Op::kPutIfAbsent, 2, Status::Conflict("lost"));
  EXPECT_OK(store_.PutIfAbsent("log/0", "a"));
  EXPECT_OK(store_.Write("x", "other operations do not count"));
  EXPECT_TRUE(store_.List("log/").ok());
  EXPECT_TRUE(store_.PutIfAbsent("log/1", "b").IsConflict());
  EXPECT_OK(store_.PutIfAbsent("log/1", "b"));
  EXPECT_EQ(*store_.Read("log/1"), "b");
}

TEST_F(FaultInjectingObjectStoreTest, FaultsCountFromWhenTheyAreAdded) {
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(store_.Head("x").status().IsNotFound());
  store_.FailNthCall(Op::kHead, 1, Status::IOError("next"));
  EXPECT_TRUE(store_.Head("x").status().IsIOError());
}

TEST_F(FaultInjectingObjectStoreTest, EveryKindOfCallCanFail) {
  ASSERT_OK(store_.Write("k", "v"));
  for (int op = 0; op < FaultInjectingObjectStore::kNumOperations; ++op) {
    store_.FailNthCall(static_cast<Op>(op), 1, Status::IOError("injected"));
  }
  EXPECT_TRUE(store_.List("").status().IsIOError());
  EXPECT_TRUE(store_.Read("k").status().IsIOError());
  EXPECT_TRUE(store_.ReadRange("k", 0, 1).status().IsIOError());
  EXPECT_TRUE(store_.Write("k", "w").IsIOError());
  EXPECT_TRUE(store_.PutIfAbsent("n", "p").IsIOError());
  EXPECT_TRUE(store_.Delete("k").IsIOError());
  EXPECT_TRUE(store_.Head("k").status().IsIOError());
  EXPECT_EQ(*base_.Read("k"), "v");
  EXPECT_FALSE(base_.Head("n").ok());
  EXPECT_EQ(store_.InjectedFaultCount(), 7);
}

TEST_F(FaultInjectingObjectStoreTest, FailAfterWriteLeavesTheData) {
  store_.FailAfterWrite(Op::kPutIfAbsent);
  Status put = store_.PutIfAbsent("_delta_log/00000000000000000003.json", "commit 3");
  EXPECT_TRUE(put.IsIOError()) << put.ToString();
  EXPECT_EQ(*store_.Read("_delta_log/00000000000000000003.json"), "commit 3")
      << "the write happened; only the reply was lost";
  // A retry now finds the committer's own object in place.
  EXPECT_TRUE(
      store_.PutIfAbsent("_delta_log/00000000000000000003.json", "commit 3").IsAlreadyExists());

  store_.FailAfterWrite(Op::kWrite);
  EXPECT_TRUE(store_.Write("_last_checkpoint", "{\"version\":3}").IsIOError());
  EXPECT_EQ(*base_.Read("_last_checkpoint"), "{\"version\":3}");

  store_.FailAfterWrite(Op::kDelete);
  EXPECT_TRUE(store_.Delete("_last_checkpoint").IsIOError());
  EXPECT_TRUE(base_.Read("_last_checkpoint").status().IsNotFound());
}

TEST_F(FaultInjectingObjectStoreTest, FailAfterReturnsTheFaultEvenWhenTheStoreRefused) {
  ASSERT_OK(store_.Write("taken", "old"));
  store_.FailAfterWrite(Op::kPutIfAbsent);
  EXPECT_TRUE(store_.PutIfAbsent("taken", "new").IsIOError()) << "the reply was lost either way";
  EXPECT_EQ(*store_.Read("taken"), "old");
}

TEST_F(FaultInjectingObjectStoreTest, PartialWriteLeavesAPrefix) {
  const std::string commit = "{\"add\":{\"path\":\"part-0.parquet\"}}\n{\"commitInfo\":{}}\n";
  store_.PartialWrite(Op::kPutIfAbsent, 1, 10);
  Status put = store_.PutIfAbsent("_delta_log/00000000000000000001.json", commit);
  EXPECT_TRUE(put.IsIOError()) << put.ToString();
  EXPECT_EQ(*store_.Read("_delta_log/00000000000000000001.json"), commit.substr(0, 10));

  store_.PartialWrite(Op::kWrite, 2, 3);
  ASSERT_OK(store_.Write("w", "complete"));
  EXPECT_TRUE(store_.Write("w", "interrupted").IsIOError());
  EXPECT_EQ(*store_.Read("w"), "int");

  store_.PartialWrite(Op::kWrite, 1, 1000);
  EXPECT_TRUE(store_.Write("short", "abc").IsIOError());
  EXPECT_EQ(*store_.Read("short"), "abc") << "capped at the data's size";

  store_.PartialWrite(Op::kWrite, 1, 0);
  EXPECT_TRUE(store_.Write("zero", "abc").IsIOError());
  EXPECT_EQ(*store_.Read("zero"), "") << "an empty object, as a crash right after create leaves";
}

TEST_F(FaultInjectingObjectStoreTest, PartialWriteFaultIgnoresOtherOperations) {
  FaultInjectingObjectStore::Fault fault;
  fault.action = Action::kPartialWrite;  // any operation: only writes can be partial
  fault.partial_bytes = 2;
  store_.AddFault(fault);
  EXPECT_TRUE(store_.Read("x").status().IsNotFound());
  EXPECT_TRUE(store_.List("").ok());
  EXPECT_TRUE(store_.Write("x", "xyz").IsIOError());
  EXPECT_EQ(*store_.Read("x"), "xy");
}

TEST_F(FaultInjectingObjectStoreTest, KeyPrefixSelectsCalls) {
  FaultInjectingObjectStore::Fault fault;
  fault.operation = Op::kPutIfAbsent;
  fault.key_prefix = "tbl/_delta_log/";
  fault.times = FaultInjectingObjectStore::kEveryCall;
  fault.status = Status::IOError("log unavailable");
  store_.AddFault(fault);
  EXPECT_OK(store_.PutIfAbsent("tbl/part-0.parquet", "data"));
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(store_.PutIfAbsent("tbl/_delta_log/0.json", "c"), Status::IOError("log unavailable"));
  }
  EXPECT_OK(store_.Write("tbl/_delta_log/0.json", "c")) << "another operation";
  store_.ClearFaults();
  EXPECT_TRUE(store_.PutIfAbsent("tbl/_delta_log/0.json", "c").IsAlreadyExists());
}

TEST_F(FaultInjectingObjectStoreTest, TimesSelectsARun) {
  FaultInjectingObjectStore::Fault fault;
  fault.operation = Op::kRead;
  fault.nth = 2;
  fault.times = 3;
  store_.AddFault(fault);
  ASSERT_OK(base_.Write("k", "v"));
  std::vector<bool> ok;
  for (int i = 0; i < 6; ++i) ok.push_back(store_.Read("k").ok());
  EXPECT_EQ(ok, (std::vector<bool>{true, false, false, false, true, true}));
}

TEST_F(FaultInjectingObjectStoreTest, EarliestFaultWinsAndAllCount) {
  store_.FailNthCall(Op::kRead, 2, Status::IOError("first"));
  store_.FailNthCall(Op::kRead, 2, Status::Corruption("second"));
  store_.FailNthCall(Op::kRead, 3, Status::NotFound("third"));
  ASSERT_OK(base_.Write("k", "v"));
  EXPECT_TRUE(store_.Read("k").ok());
  EXPECT_EQ(store_.Read("k").status(), Status::IOError("first"));
  EXPECT_EQ(store_.Read("k").status(), Status::NotFound("third"))
      << "'second' wore out on the call 'first' took";
  EXPECT_TRUE(store_.Read("k").ok());
}

TEST_F(FaultInjectingObjectStoreTest, CountsCallsPerOperation) {
  ASSERT_OK(store_.Write("a", "1"));
  ASSERT_OK(store_.Write("b", "2"));
  (void)store_.PutIfAbsent("a", "x");
  (void)store_.Read("a");
  (void)store_.Read("missing");
  (void)store_.ReadRange("a", 0, 1);
  (void)store_.List("");
  (void)store_.Head("a");
  (void)store_.Delete("b");
  (void)store_.LocalPath("a");
  store_.FailNthCall(Op::kRead, 1, Status::IOError("x"));
  (void)store_.Read("a");
  EXPECT_EQ(store_.CallCount(Op::kWrite), 2);
  EXPECT_EQ(store_.CallCount(Op::kPutIfAbsent), 1);
  EXPECT_EQ(store_.CallCount(Op::kRead), 3) << "failed calls count too";
  EXPECT_EQ(store_.CallCount(Op::kReadRange), 1);
  EXPECT_EQ(store_.CallCount(Op::kList), 1);
  EXPECT_EQ(store_.CallCount(Op::kHead), 1);
  EXPECT_EQ(store_.CallCount(Op::kDelete), 1);
  EXPECT_EQ(store_.TotalCallCount(), 10) << "LocalPath is not counted";
  EXPECT_EQ(store_.InjectedFaultCount(), 1);
  store_.ResetCounters();
  EXPECT_EQ(store_.TotalCallCount(), 0);
  EXPECT_EQ(store_.InjectedFaultCount(), 0);
}

TEST_F(FaultInjectingObjectStoreTest, OperationNames) {
  EXPECT_EQ(FaultInjectingObjectStore::OperationName(Op::kList), "List");
  EXPECT_EQ(FaultInjectingObjectStore::OperationName(Op::kPutIfAbsent), "PutIfAbsent");
  EXPECT_EQ(FaultInjectingObjectStore::OperationName(Op::kHead), "Head");
}

TEST(FaultInjectingObjectStoreOwnershipTest, OwnsAStoreGivenByUniquePtr) {
  auto memory = std::make_unique<MemoryObjectStore>();
  MemoryObjectStore* raw = memory.get();
  FaultInjectingObjectStore store(std::move(memory));
  EXPECT_EQ(store.base(), raw);
  ASSERT_OK(store.Write("k", "v"));
  EXPECT_EQ(*raw->Read("k"), "v");
}  // ASan/LSan check that the owned store is freed

TEST(FaultInjectingObjectStoreConcurrencyTest, TheNthCallFailsOnceAmongManyThreads) {
  MemoryObjectStore base;
  FaultInjectingObjectStore store(&base);
  constexpr int kThreads = 4;
  constexpr int kCallsPerThread = 1000;
  store.FailNthCall(Op::kWrite, 1234, Status::IOError("the one"));
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kCallsPerThread; ++i) {
        std::string key = "t" + std::to_string(t) + "/" + std::to_string(i);
        if (!store.Write(key, "x").ok()) failures.fetch_add(1);
        if (!store.Read(key).ok()) failures.fetch_add(1);  // the failed write's key is absent
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(failures.load(), 2) << "the failed Write, and the Read of the key it did not write";
  EXPECT_EQ(store.CallCount(Op::kWrite), kThreads * kCallsPerThread);
  EXPECT_EQ(store.InjectedFaultCount(), 1);
  auto listed = base.List("");
  ASSERT_OK(listed);
  EXPECT_EQ(listed->size(), static_cast<size_t>(kThreads * kCallsPerThread - 1));
}

}  // namespace
}  // namespace medallion::storage
