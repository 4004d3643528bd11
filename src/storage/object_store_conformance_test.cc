// The ObjectStore contract (object_store.h), checked against every implementation.
//
// A new implementation joins by adding a StoreKind to kStoreKinds at the bottom.

#include <gtest/gtest.h>

#include <atomic>
#include <barrier>
#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <ostream>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "storage/fault_injecting_object_store.h"
#include "storage/local_object_store.h"
#include "storage/memory_object_store.h"
#include "storage/object_store.h"
#include "storage/test_util.h"

namespace medallion::storage {
namespace {

struct StoreKind {
  std::string name;
  // A new, empty store; `folder` is a fresh temporary folder it may use.
  std::function<Result<std::unique_ptr<ObjectStore>>(const std::string& folder)> make;
};

// Test names and failure messages show the kind by name.
void PrintTo(const StoreKind& kind, std::ostream* os) { *os << kind.name; }

class ObjectStoreConformanceTest : public ::testing::TestWithParam<StoreKind> {
 protected:
  void SetUp() override {
    auto made = GetParam().make(folder_.path());
    ASSERT_TRUE(made.ok()) << made.status().ToString();
    store_ = std::move(made).ValueOrDie();
  }

  std::vector<std::string> ListKeys(std::string_view prefix) {
    auto listed = store_->List(prefix);
    EXPECT_TRUE(listed.ok()) << "List('" << prefix << "'): " << listed.status().ToString();
    std::vector<std::string> keys;
    if (listed.ok()) {
      for (const ObjectMeta& meta : *listed) keys.push_back(meta.key);
    }
    return keys;
  }

  void WriteAll(const std::vector<std::string>& keys) {
    for (const std::string& key : keys) {
      ASSERT_OK(store_->Write(key, "data of " + key));
    }
  }

  TempFolder folder_;
  std::unique_ptr<ObjectStore> store_;
};

using Keys = std::vector<std::string>;

int64_t NowMillis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// ---- List ----

TEST_P(ObjectStoreConformanceTest, ListOfEmptyStoreIsEmpty) {
  EXPECT_EQ(ListKeys(""), Keys{});
  EXPECT_EQ(ListKeys("_delta_log/"), Keys{});
  EXPECT_EQ(ListKeys("no/such/folder/x"), Keys{});
}

TEST_P(ObjectStoreConformanceTest, ListIsSortedInByteOrderAcrossFolders) {
  // '-' (0x2d) < '/' (0x2f) < '0' (0x30): a per-folder walk in name order would put "a/b" first.
  // "z\xc3\xa9" (UTF-8 e-acute) sorts after "zz": bytes compare unsigned.
  // (No key is both an object and a folder: a local store cannot hold "a/b" and "a/b/c".)
  Keys keys = {"a0", "a/b", "a-b", "a/a/c", "B", "zz", "z\xc3\xa9", "a/b0", "a/c/d/e"};
  WriteAll(keys);
  Keys expected = {"B", "a-b", "a/a/c", "a/b", "a/b0", "a/c/d/e", "a0", "zz", "z\xc3\xa9"};
  EXPECT_EQ(ListKeys(""), expected);
  EXPECT_EQ(ListKeys("a/"), (Keys{"a/a/c", "a/b", "a/b0", "a/c/d/e"}));
  EXPECT_EQ(ListKeys("a/b/"), Keys{}) << "a/b is an object, not a folder";
}

TEST_P(ObjectStoreConformanceTest, ListPrefixNeedNotBeAWholeFolder) {
  Keys log = {
      "tbl/_delta_log/00000000000000000000.json",
      "tbl/_delta_log/00000000000000000001.json",
      "tbl/_delta_log/00000000000000000009.json",
      "tbl/_delta_log/00000000000000000010.checkpoint.parquet",
      "tbl/_delta_log/00000000000000000010.json",
      "tbl/_delta_log/_last_checkpoint",
      "tbl/part-00000.parquet",
      "tbl2/_delta_log/00000000000000000000.json",
  };
  WriteAll(log);
  EXPECT_EQ(
      ListKeys("tbl/_delta_log/0000000000000000000"),
      (Keys{"tbl/_delta_log/00000000000000000000.json", "tbl/_delta_log/00000000000000000001.json",
            "tbl/_delta_log/00000000000000000009.json"}));
  EXPECT_EQ(ListKeys("tbl/_delta_log/00000000000000000010."),
            (Keys{"tbl/_delta_log/00000000000000000010.checkpoint.parquet",
                  "tbl/_delta_log/00000000000000000010.json"}));
  EXPECT_EQ(ListKeys("tbl/_delta_log/").size(), 6u);
  EXPECT_EQ(ListKeys("tbl/_delta_log").size(), 6u);
  EXPECT_EQ(ListKeys("tbl/").size(), 7u);
  EXPECT_EQ(ListKeys("tbl").size(), 8u) << "'tbl' is also a prefix of 'tbl2/...'";
  EXPECT_EQ(ListKeys("tbl/part-"), (Keys{"tbl/part-00000.parquet"}));
  EXPECT_EQ(ListKeys("tbl/part-00000.parquet"), (Keys{"tbl/part-00000.parquet"}));
  EXPECT_EQ(ListKeys("tbl/part-00000.parquet/"), Keys{});
  EXPECT_EQ(ListKeys("tbl/part-00000.parquet/x"), Keys{});
  EXPECT_EQ(ListKeys("tbl/_delta_log/1"), Keys{});
  EXPECT_EQ(ListKeys("tbl3"), Keys{});
  EXPECT_EQ(ListKeys("t").size(), 8u);
}

Keys ListAfterKeys(ObjectStore& store, std::string_view prefix, std::string_view start_after) {
  auto listed = store.ListAfter(prefix, start_after);
  EXPECT_TRUE(listed.ok()) << "ListAfter('" << prefix << "', '" << start_after
                           << "'): " << listed.status().ToString();
  Keys keys;
  if (listed.ok()) {
    for (const ObjectMeta& meta : *listed) keys.push_back(meta.key);
  }
  return keys;
}

TEST_P(ObjectStoreConformanceTest, ListAfterListsTheKeysAfterTheBound) {
  Keys log = {
      "tbl/_delta_log/00000000000000000009.json",
      "tbl/_delta_log/00000000000000000010.checkpoint.parquet",
      "tbl/_delta_log/00000000000000000010.json",
      "tbl/_delta_log/00000000000000000011.json",
      "tbl/_delta_log/_last_checkpoint",
      "tbl/_delta_log/_sidecars/a.parquet",
      "tbl/part-00000.parquet",
  };
  WriteAll(log);
  // A bare version lists that version's files and everything after it.
  EXPECT_EQ(ListAfterKeys(*store_, "tbl/_delta_log/", "tbl/_delta_log/00000000000000000010"),
            (Keys{"tbl/_delta_log/00000000000000000010.checkpoint.parquet",
                  "tbl/_delta_log/00000000000000000010.json",
                  "tbl/_delta_log/00000000000000000011.json", "tbl/_delta_log/_last_checkpoint",
                  "tbl/_delta_log/_sidecars/a.parquet"}));
  // Strictly after: a bound equal to a key excludes it.
  EXPECT_EQ(ListAfterKeys(*store_, "tbl/_delta_log/0", "tbl/_delta_log/00000000000000000010.json"),
            (Keys{"tbl/_delta_log/00000000000000000011.json"}));
  // "" bounds nothing; a bound before the prefix bounds nothing; one after it leaves nothing.
  EXPECT_EQ(ListAfterKeys(*store_, "tbl/_delta_log/", ""), ListKeys("tbl/_delta_log/"));
  EXPECT_EQ(ListAfterKeys(*store_, "tbl/_delta_log/", "a"), ListKeys("tbl/_delta_log/"));
  EXPECT_EQ(ListAfterKeys(*store_, "tbl/_delta_log/", "tbl/_delta_log0"), Keys{});
  EXPECT_EQ(ListAfterKeys(*store_, "tbl/_delta_log/", "zzz"), Keys{});
  // The bound reaches into subfolders: keys of a folder that sorts before it still count.
  EXPECT_EQ(ListAfterKeys(*store_, "tbl/", "tbl/_delta_log/_sidecars/"),
            (Keys{"tbl/_delta_log/_sidecars/a.parquet", "tbl/part-00000.parquet"}));
  EXPECT_EQ(ListAfterKeys(*store_, "tbl/", "tbl/_delta_log."),
            (Keys{log.begin(), log.end()}))
      << "'.' < '/': every key under tbl/_delta_log/ sorts after tbl/_delta_log.";
  EXPECT_EQ(ListAfterKeys(*store_, "", "tbl/_delta_log0"), (Keys{"tbl/part-00000.parquet"}));
  EXPECT_EQ(ListAfterKeys(*store_, "tbl/_delta_log/", "tbl/_delta_log/_sidecars"),
            (Keys{"tbl/_delta_log/_sidecars/a.parquet"}));
}

TEST_P(ObjectStoreConformanceTest, ListAfterRejectsBadPrefixes) {
  EXPECT_TRUE(store_->ListAfter("../x", "").status().IsInvalidArgument());
  EXPECT_TRUE(store_->ListAfter("a//b/", "a").status().IsInvalidArgument());
}

TEST_P(ObjectStoreConformanceTest, ListDoesNotListFolders) {
  WriteAll({"x/y/z/object"});
  auto listed = store_->List("x");
  ASSERT_OK(listed);
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ((*listed)[0].key, "x/y/z/object");
}

TEST_P(ObjectStoreConformanceTest, ListReportsSizesAndModificationTimes) {
  int64_t before = NowMillis();
  ASSERT_OK(store_->Write("m/one", "1"));
  ASSERT_OK(store_->Write("m/three", "333"));
  ASSERT_OK(store_->Write("m/empty", ""));
  int64_t after = NowMillis();
  auto listed = store_->List("m/");
  ASSERT_OK(listed);
  ASSERT_EQ(listed->size(), 3u);
  EXPECT_EQ((*listed)[0].key, "m/empty");
  EXPECT_EQ((*listed)[0].size, 0);
  EXPECT_EQ((*listed)[1].key, "m/one");
  EXPECT_EQ((*listed)[1].size, 1);
  EXPECT_EQ((*listed)[2].key, "m/three");
  EXPECT_EQ((*listed)[2].size, 3);
  for (const ObjectMeta& meta : *listed) {
    // File systems keep coarse clocks; a generous window still catches seconds-for-ms mistakes.
    EXPECT_GE(meta.modification_time, before - 2000) << meta.key;
    EXPECT_LE(meta.modification_time, after + 2000) << meta.key;
  }
}

// ---- Read, ReadRange, Head ----

TEST_P(ObjectStoreConformanceTest, ReadReturnsWhatWasWritten) {
  ASSERT_OK(store_->Write("a/b.json", "{\"x\":1}"));
  auto data = store_->Read("a/b.json");
  ASSERT_OK(data);
  EXPECT_EQ(*data, "{\"x\":1}");
}

TEST_P(ObjectStoreConformanceTest, AbsentObjectIsNotFoundEverywhere) {
  ASSERT_OK(store_->Write("present/x", "x"));
  for (const std::string& key : std::vector<std::string>{"absent", "present/absent", "present",
                                                         "no/such/folder/x", "present/x/y"}) {
    SCOPED_TRACE(key);
    EXPECT_TRUE(store_->Read(key).status().IsNotFound()) << store_->Read(key).status().ToString();
    EXPECT_TRUE(store_->ReadRange(key, 0, 1).status().IsNotFound());
    EXPECT_TRUE(store_->Head(key).status().IsNotFound());
    EXPECT_TRUE(store_->Delete(key).IsNotFound());
  }
}

TEST_P(ObjectStoreConformanceTest, ReadRangeCases) {
  ASSERT_OK(store_->Write("r", "0123456789"));
  auto range = [&](int64_t offset, int64_t length) {
    return store_->ReadRange("r", offset, length);
  };
  EXPECT_EQ(*range(0, 10), "0123456789");
  EXPECT_EQ(*range(2, 3), "234");
  EXPECT_EQ(*range(7, 100), "789") << "clamped at the end";
  EXPECT_EQ(*range(0, 0), "");
  EXPECT_EQ(*range(10, 5), "") << "offset == size is the end, not beyond";
  EXPECT_EQ(*range(3, INT64_MAX), "3456789");
  EXPECT_TRUE(range(11, 1).status().IsInvalidArgument());
  EXPECT_TRUE(range(-1, 1).status().IsInvalidArgument());
  EXPECT_TRUE(range(0, -1).status().IsInvalidArgument());
  ASSERT_OK(store_->Write("empty", ""));
  EXPECT_EQ(*store_->ReadRange("empty", 0, 10), "");
  EXPECT_TRUE(store_->ReadRange("empty", 1, 1).status().IsInvalidArgument());
}

TEST_P(ObjectStoreConformanceTest, HeadReportsSize) {
  ASSERT_OK(store_->Write("h/obj", std::string(1000, 'h')));
  auto meta = store_->Head("h/obj");
  ASSERT_OK(meta);
  EXPECT_EQ(meta->key, "h/obj");
  EXPECT_EQ(meta->size, 1000);
  EXPECT_GT(meta->modification_time, 1'600'000'000'000) << "ms since the epoch";
  EXPECT_TRUE(store_->Head("h").status().IsNotFound()) << "a folder is not an object";
}

TEST_P(ObjectStoreConformanceTest, BinaryDataWithNulBytesRoundTrips) {
  std::string data;
  for (int round = 0; round < 4; ++round) {
    for (int b = 0; b < 256; ++b) data += static_cast<char>(b);
  }
  data += std::string(3, '\0');
  ASSERT_OK(store_->Write("bin/w", data));
  ASSERT_OK(store_->PutIfAbsent("bin/p", data));
  EXPECT_EQ(*store_->Read("bin/w"), data);
  EXPECT_EQ(*store_->Read("bin/p"), data);
  EXPECT_EQ(*store_->ReadRange("bin/p", 256, 256), data.substr(256, 256));
  EXPECT_EQ(store_->Head("bin/p")->size, static_cast<int64_t>(data.size()));
}

TEST_P(ObjectStoreConformanceTest, LargeObjectRoundTrips) {
  std::string data(3 << 20, '\0');
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>((i * 2654435761u) >> 13);
  ASSERT_OK(store_->Write("big", data));
  EXPECT_EQ(*store_->Read("big"), data);
  EXPECT_EQ(*store_->ReadRange("big", 1 << 20, 1 << 20), data.substr(1 << 20, 1 << 20));
}

TEST_P(ObjectStoreConformanceTest, EmptyObjects) {
  ASSERT_OK(store_->Write("e/w", ""));
  ASSERT_OK(store_->PutIfAbsent("e/p", ""));
  EXPECT_EQ(*store_->Read("e/w"), "");
  EXPECT_EQ(*store_->Read("e/p"), "");
  EXPECT_EQ(store_->Head("e/p")->size, 0);
  EXPECT_TRUE(store_->PutIfAbsent("e/p", "x").IsAlreadyExists()) << "an empty object exists";
  EXPECT_EQ(ListKeys("e/"), (Keys{"e/p", "e/w"}));
}

TEST_P(ObjectStoreConformanceTest, KeysWithUnusualCharacters) {
  Keys keys = {"sp ace/x y",
               "pct/%2F%00",
               "colon/a:b",
               "date=2024-01-01/part.parquet",
               "uni/\xe6\x97\xa5\xe6\x9c\xac",
               "dots/..x/.y/x..",
               "-/+/~"};
  WriteAll(keys);
  for (const std::string& key : keys) {
    EXPECT_EQ(*store_->Read(key), "data of " + key);
  }
  EXPECT_EQ(ListKeys("").size(), keys.size());
}

// ---- Write, PutIfAbsent, Delete ----

TEST_P(ObjectStoreConformanceTest, WriteReplaces) {
  ASSERT_OK(store_->Write("w", "a much longer first version"));
  ASSERT_OK(store_->Write("w", "short"));
  EXPECT_EQ(*store_->Read("w"), "short");
  EXPECT_EQ(store_->Head("w")->size, 5);
  EXPECT_EQ(ListKeys(""), Keys{"w"});
}

TEST_P(ObjectStoreConformanceTest, WriteCreatesParentFolders) {
  ASSERT_OK(store_->Write("a/b/c/d/e/f", "deep"));
  ASSERT_OK(store_->PutIfAbsent("p/q/r/s", "deep too"));
  EXPECT_EQ(*store_->Read("a/b/c/d/e/f"), "deep");
  EXPECT_EQ(*store_->Read("p/q/r/s"), "deep too");
}

TEST_P(ObjectStoreConformanceTest, PutIfAbsentNeverReplaces) {
  ASSERT_OK(store_->PutIfAbsent("_delta_log/00000000000000000000.json", "first"));
  Status second = store_->PutIfAbsent("_delta_log/00000000000000000000.json", "second!");
  EXPECT_TRUE(second.IsAlreadyExists()) << second.ToString();
  EXPECT_EQ(*store_->Read("_delta_log/00000000000000000000.json"), "first");

  ASSERT_OK(store_->Write("written", "by Write"));
  EXPECT_TRUE(store_->PutIfAbsent("written", "by PutIfAbsent").IsAlreadyExists());
  EXPECT_EQ(*store_->Read("written"), "by Write");
  EXPECT_EQ(ListKeys(""), (Keys{"_delta_log/00000000000000000000.json", "written"}));
}

TEST_P(ObjectStoreConformanceTest, DeleteRemoves) {
  ASSERT_OK(store_->Write("d/x", "x"));
  ASSERT_OK(store_->Write("d/y", "y"));
  ASSERT_OK(store_->Delete("d/x"));
  EXPECT_TRUE(store_->Read("d/x").status().IsNotFound());
  EXPECT_TRUE(store_->Head("d/x").status().IsNotFound());
  EXPECT_TRUE(store_->Delete("d/x").IsNotFound());
  EXPECT_EQ(ListKeys("d/"), Keys{"d/y"});
  ASSERT_OK(store_->PutIfAbsent("d/x", "again")) << "a deleted key can be created again";
  EXPECT_EQ(*store_->Read("d/x"), "again");
  ASSERT_OK(store_->Delete("d/x"));
  ASSERT_OK(store_->Delete("d/y"));
  EXPECT_EQ(ListKeys(""), Keys{});
}

TEST_P(ObjectStoreConformanceTest, LocalPathIsThePathOfTheObjectOrNotSupported) {
  ASSERT_OK(store_->Write("lp/x.parquet", "PAR1"));
  auto path = store_->LocalPath("lp/x.parquet");
  if (!path.ok()) {
    EXPECT_TRUE(path.status().IsNotSupported()) << path.status().ToString();
    return;
  }
  EXPECT_EQ(path->front(), '/');
  EXPECT_TRUE(path->ends_with("/lp/x.parquet")) << *path;
  EXPECT_EQ(std::filesystem::file_size(*path), 4u);
}

TEST_P(ObjectStoreConformanceTest, DescribeIsNotEmpty) { EXPECT_FALSE(store_->Describe().empty()); }

// ---- key validation ----

TEST_P(ObjectStoreConformanceTest, EveryMethodRejectsBadKeys) {
  std::vector<std::string> bad = {
      "",    "../x", "/etc/passwd", "a/../../b",           "a//b", "a/./b", "a/", ".", "..",
      "./a", "a/..", "//",          std::string("a\0b", 3)};
  for (const std::string& key : bad) {
    SCOPED_TRACE(testing::PrintToString(key));
    EXPECT_TRUE(store_->Read(key).status().IsInvalidArgument());
    EXPECT_TRUE(store_->ReadRange(key, 0, 1).status().IsInvalidArgument());
    EXPECT_TRUE(store_->Head(key).status().IsInvalidArgument());
    EXPECT_TRUE(store_->Write(key, "x").IsInvalidArgument());
    EXPECT_TRUE(store_->PutIfAbsent(key, "x").IsInvalidArgument());
    EXPECT_TRUE(store_->Delete(key).IsInvalidArgument());
    EXPECT_TRUE(store_->LocalPath(key).status().IsInvalidArgument());
  }
  // List takes a prefix: "" lists everything and "a/" is a folder, but escapes stay rejected.
  for (std::string prefix : {"../x", "/etc/passwd", "a/../../b", "a//b", "../", "a/./", "/"}) {
    SCOPED_TRACE(prefix);
    EXPECT_TRUE(store_->List(prefix).status().IsInvalidArgument());
  }
  EXPECT_TRUE(store_->List(std::string("a\0", 2)).status().IsInvalidArgument());
  EXPECT_EQ(ListKeys(""), Keys{});
  // Nothing escaped the store's root: the test folder holds at most the root folder.
  for (const auto& entry : std::filesystem::directory_iterator(folder_.path())) {
    EXPECT_EQ(entry.path().filename(), "store");
  }
}

// ---- concurrency ----

std::string Payload(int writer, int round) {
  // Distinct sizes per writer, so a mix or a truncation cannot pass for a whole payload.
  std::string payload =
      "writer " + std::to_string(writer) + " round " + std::to_string(round) + "\n";
  payload.append(512 + static_cast<size_t>(writer) * 700 + static_cast<size_t>(round % 7) * 13,
                 static_cast<char>('a' + writer));
  payload += '\0';
  return payload;
}

TEST_P(ObjectStoreConformanceTest, PutIfAbsentIsAtomicUnderConcurrentWriters) {
  constexpr int kThreads = 8;
  constexpr int kRounds = 200;
  std::vector<std::atomic<int>> wins(kRounds);
  std::vector<std::atomic<int>> winner(kRounds);
  // What each writer read back right after its attempt, win or lose.
  std::vector<std::vector<std::string>> seen(kRounds, std::vector<std::string>(kThreads));
  std::mutex errors_mu;
  std::vector<std::string> errors;
  std::barrier start(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int r = 0; r < kRounds; ++r) {
        std::string key = "race/_delta_log/" + std::to_string(r) + ".json";
        start.arrive_and_wait();
        Status st = store_->PutIfAbsent(key, Payload(t, r));
        if (st.ok()) {
          wins[r].fetch_add(1);
          winner[r].store(t);
        } else if (!st.IsAlreadyExists()) {
          std::lock_guard<std::mutex> lock(errors_mu);
          errors.push_back(key + ": " + st.ToString());
        }
        auto read = store_->Read(key);
        seen[r][t] = read.ok() ? *read : read.status().ToString();
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(errors, std::vector<std::string>{});
  for (int r = 0; r < kRounds; ++r) {
    SCOPED_TRACE("round " + std::to_string(r));
    ASSERT_EQ(wins[r].load(), 1) << "exactly one winner per key";
    std::string expected = Payload(winner[r].load(), r);
    auto stored = store_->Read("race/_delta_log/" + std::to_string(r) + ".json");
    ASSERT_OK(stored);
    ASSERT_EQ(*stored, expected) << "the winner's bytes, whole";
    for (int t = 0; t < kThreads; ++t) ASSERT_EQ(seen[r][t], expected) << "as read by " << t;
  }
  EXPECT_EQ(ListKeys("race/").size(), static_cast<size_t>(kRounds));
}

TEST_P(ObjectStoreConformanceTest, ConcurrentWritersCreateSharedFolders) {
  constexpr int kThreads = 8;
  constexpr int kKeysPerThread = 10;
  std::barrier start(kThreads);
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      start.arrive_and_wait();
      for (int i = 0; i < kKeysPerThread; ++i) {
        std::string leaf = std::to_string(t) + "-" + std::to_string(i);
        std::string folder = "new/" + std::to_string(i) + "/deep/";
        if (!store_->PutIfAbsent(folder + "p" + leaf, leaf).ok()) failures.fetch_add(1);
        if (!store_->Write(folder + "w" + leaf, leaf).ok()) failures.fetch_add(1);
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(ListKeys("new/").size(), static_cast<size_t>(2 * kThreads * kKeysPerThread));
}

TEST_P(ObjectStoreConformanceTest, ReadersNeverSeeATornWrite) {
  const std::string a(64 << 10, 'a');
  const std::string b(100 << 10, 'b');
  ASSERT_OK(store_->Write("flip", a));
  std::atomic<bool> done{false};
  std::atomic<int> torn{0};
  std::atomic<int> reads{0};
  std::vector<std::thread> readers;
  for (int i = 0; i < 3; ++i) {
    readers.emplace_back([&] {
      while (!done.load()) {
        auto data = store_->Read("flip");
        if (!data.ok() || (*data != a && *data != b)) torn.fetch_add(1);
        reads.fetch_add(1);
      }
    });
  }
  for (int i = 0; i < 40; ++i) {
    EXPECT_OK(store_->Write("flip", i % 2 == 0 ? b : a));
  }
  done.store(true);
  for (std::thread& reader : readers) reader.join();
  EXPECT_EQ(torn.load(), 0) << "of " << reads.load() << " reads";
}

// ---- the implementations ----

const StoreKind kStoreKinds[] = {
    {"Local",
     [](const std::string& folder) -> Result<std::unique_ptr<ObjectStore>> {
       return LocalObjectStore::Make(folder + "/store");
     }},
    {"Memory",
     [](const std::string&) -> Result<std::unique_ptr<ObjectStore>> {
       return std::unique_ptr<ObjectStore>(std::make_unique<MemoryObjectStore>());
     }},
    {"FaultInjectingMemoryWithoutFaults",
     [](const std::string&) -> Result<std::unique_ptr<ObjectStore>> {
       return std::unique_ptr<ObjectStore>(
           std::make_unique<FaultInjectingObjectStore>(std::make_unique<MemoryObjectStore>()));
     }},
};

INSTANTIATE_TEST_SUITE_P(AllStores, ObjectStoreConformanceTest, ::testing::ValuesIn(kStoreKinds),
                         [](const ::testing::TestParamInfo<StoreKind>& info) {
                           return info.param.name;
                         });

}  // namespace
}  // namespace medallion::storage
