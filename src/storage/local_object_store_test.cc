// What LocalObjectStore adds to the ObjectStore contract (the contract itself is checked by
// object_store_conformance_test.cc): root URIs, temporary files, folder limits, and put-if-absent
// atomicity across processes.
#include "storage/local_object_store.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "storage/test_util.h"

namespace medallion::storage {
namespace {

namespace fs = std::filesystem;

std::vector<std::string> ListKeys(ObjectStore& store, std::string_view prefix) {
  std::vector<std::string> keys;
  auto listed = store.List(prefix);
  EXPECT_TRUE(listed.ok()) << listed.status().ToString();
  if (listed.ok()) {
    for (const ObjectMeta& meta : *listed) keys.push_back(meta.key);
  }
  return keys;
}

void WriteFile(const std::string& path, std::string_view data) {
  fs::create_directories(fs::path(path).parent_path());
  std::ofstream out(path, std::ios::binary);
  out << data;
}

// ---- root URIs ----

TEST(LocalObjectStoreTest, PlainPathIsCreatedWithItsParents) {
  TempFolder folder;
  std::string root = folder.path() + "/a/b/lake";
  ASSERT_OK_AND_ASSIGN(auto store, LocalObjectStore::Make(root));
  EXPECT_EQ(store->root(), root);
  EXPECT_TRUE(fs::is_directory(root));
  EXPECT_EQ(*store->LocalPath("t/_delta_log/0.json"), root + "/t/_delta_log/0.json");
  ASSERT_OK_AND_ASSIGN(auto again, LocalObjectStore::Make(root));  // an existing root is fine
  EXPECT_EQ(again->root(), root);
}

TEST(LocalObjectStoreTest, RelativePathIsMadeAbsolute) {
  TempFolder folder;
  std::string cwd = fs::current_path();
  fs::current_path(folder.path());
  auto store = LocalObjectStore::Make("./rel//lake/");
  fs::current_path(cwd);
  ASSERT_OK(store);
  EXPECT_EQ((*store)->root(), folder.path() + "/rel/lake");
  EXPECT_TRUE(fs::is_directory(folder.path() + "/rel/lake"));
}

TEST(LocalObjectStoreTest, PathIsNormalized) {
  TempFolder folder;
  ASSERT_OK_AND_ASSIGN(auto store, LocalObjectStore::Make(folder.path() + "//x/./y///"));
  EXPECT_EQ(store->root(), folder.path() + "/x/y");
}

TEST(LocalObjectStoreTest, FileUriIsPercentDecoded) {
  TempFolder folder;
  ASSERT_OK_AND_ASSIGN(auto store,
                       LocalObjectStore::Make("file://" + folder.path() + "/my%20lake%231%2Fx"));
  EXPECT_EQ(store->root(), folder.path() + "/my lake#1/x");
  EXPECT_TRUE(fs::is_directory(folder.path() + "/my lake#1/x"));
  ASSERT_OK(store->Write("k", "v"));
  EXPECT_EQ(*store->Read("k"), "v");
}

TEST(LocalObjectStoreTest, FileUriForms) {
  TempFolder folder;
  ASSERT_OK_AND_ASSIGN(auto localhost, LocalObjectStore::Make("file://localhost" + folder.path()));
  EXPECT_EQ(localhost->root(), folder.path());
  ASSERT_OK_AND_ASSIGN(auto one_slash, LocalObjectStore::Make("file:" + folder.path() + "/one"));
  EXPECT_EQ(one_slash->root(), folder.path() + "/one");
  ASSERT_OK_AND_ASSIGN(auto upper_hex,
                       LocalObjectStore::Make("file://" + folder.path() + "/%c3%A9"));
  EXPECT_EQ(upper_hex->root(), folder.path() + "/\xc3\xa9");
}

TEST(LocalObjectStoreTest, OtherSchemesAndBadUrisAreInvalidArguments) {
  for (std::string uri : {"", "s3://bucket/lake", "abfss://c@acct.dfs.core.windows.net/lake",
                          "http://host/x", "memory://", "file://server/share/lake",
                          "file:relative/lake", "file://", "file://localhost", "file:///a%2",
                          "file:///a%zz/b", "file:///a%00b", "file:///a?b=1", "file:///a#frag"}) {
    SCOPED_TRACE(uri);
    auto store = LocalObjectStore::Make(uri);
    EXPECT_TRUE(store.status().IsInvalidArgument()) << store.status().ToString();
  }
  auto scheme = LocalObjectStore::Make("s3://bucket/lake");
  EXPECT_NE(scheme.status().message().find("'s3'"), std::string::npos) << scheme.status().message();
}

TEST(LocalObjectStoreTest, RootThatIsAFileIsRejected) {
  TempFolder folder;
  WriteFile(folder.path() + "/file", "x");
  EXPECT_TRUE(LocalObjectStore::Make(folder.path() + "/file").status().IsInvalidArgument());
  EXPECT_FALSE(LocalObjectStore::Make(folder.path() + "/file/below").ok());
}

TEST(LocalObjectStoreTest, DescribeIsAFileUriThatRoundTrips) {
  TempFolder folder;
  std::string root = folder.path() + "/a b%c#d\xc3\xa9";
  ASSERT_OK_AND_ASSIGN(auto store, LocalObjectStore::Make(root));
  std::string uri = store->Describe();
  EXPECT_TRUE(uri.starts_with("file:///")) << uri;
  EXPECT_TRUE(uri.ends_with("/a%20b%25c%23d%C3%A9")) << uri;
  ASSERT_OK_AND_ASSIGN(auto reopened, LocalObjectStore::Make(uri));
  EXPECT_EQ(reopened->root(), root);
}

TEST(LocalObjectStoreTest, FileSystemRootAsRoot) {
  ASSERT_OK_AND_ASSIGN(auto store, LocalObjectStore::Make("file:///"));
  EXPECT_EQ(store->root(), "/");
  EXPECT_EQ(*store->LocalPath("x/y"), "/x/y");
  EXPECT_EQ(store->Describe(), "file:///");
}

// ---- what lives in the folder ----

TEST(LocalObjectStoreTest, TemporaryFilesAreNotListedButOtherDotFilesAre) {
  TempFolder folder;
  ASSERT_OK_AND_ASSIGN(auto store, LocalObjectStore::Make(folder.path()));
  const std::string& root = store->root();
  WriteFile(root + "/t/_delta_log/.medallion-tmp-00000000000000000001.json.42.0.abcdef", "{");
  WriteFile(root + "/.medallion-tmp-x", "partial");
  WriteFile(root + "/t/_delta_log/.00000000000000000000.crc", "crc");
  WriteFile(root + "/t/_delta_log/00000000000000000000.json", "{}");
  WriteFile(root + "/.hidden/x", "x");
  EXPECT_EQ(ListKeys(*store, ""),
            (std::vector<std::string>{".hidden/x", "t/_delta_log/.00000000000000000000.crc",
                                      "t/_delta_log/00000000000000000000.json"}));
  EXPECT_EQ(ListKeys(*store, "t/_delta_log/.medallion-tmp-"), std::vector<std::string>{});
  EXPECT_EQ(ListKeys(*store, "t/_delta_log/0"),
            std::vector<std::string>{"t/_delta_log/00000000000000000000.json"});
}

TEST(LocalObjectStoreTest, WritesLeaveNoTemporaryFiles) {
  TempFolder folder;
  ASSERT_OK_AND_ASSIGN(auto store, LocalObjectStore::Make(folder.path()));
  for (int i = 0; i < 5; ++i) {
    ASSERT_OK(store->Write("w/obj", "version " + std::to_string(i)));
    Status put = store->PutIfAbsent("p/obj", "attempt " + std::to_string(i));
    EXPECT_TRUE(i == 0 ? put.ok() : put.IsAlreadyExists()) << put.ToString();
  }
  EXPECT_FALSE(store->Write("w/obj/below", "x").ok());
  std::vector<std::string> files;
  for (const auto& entry : fs::recursive_directory_iterator(folder.path())) {
    if (entry.is_regular_file()) files.push_back(fs::relative(entry.path(), folder.path()));
  }
  std::sort(files.begin(), files.end());
  EXPECT_EQ(files, (std::vector<std::string>{"p/obj", "w/obj"}));
}

TEST(LocalObjectStoreTest, FilesWrittenByOthersAreObjects) {
  TempFolder folder;
  ASSERT_OK_AND_ASSIGN(auto store, LocalObjectStore::Make(folder.path()));
  WriteFile(folder.path() + "/spark/_delta_log/00000000000000000000.json", "{\"commitInfo\":{}}");
  EXPECT_EQ(ListKeys(*store, "spark/_delta_log/"),
            std::vector<std::string>{"spark/_delta_log/00000000000000000000.json"});
  EXPECT_EQ(*store->Read("spark/_delta_log/00000000000000000000.json"), "{\"commitInfo\":{}}");
  EXPECT_TRUE(
      store->PutIfAbsent("spark/_delta_log/00000000000000000000.json", "{}").IsAlreadyExists());
}

TEST(LocalObjectStoreTest, AKeyCannotBeBothAnObjectAndAFolder) {
  TempFolder folder;
  ASSERT_OK_AND_ASSIGN(auto store, LocalObjectStore::Make(folder.path()));
  ASSERT_OK(store->Write("file", "x"));
  EXPECT_TRUE(store->Write("file/below", "y").IsIOError());
  EXPECT_TRUE(store->PutIfAbsent("file/below", "y").IsIOError());
  EXPECT_TRUE(store->Read("file/below").status().IsNotFound());
  ASSERT_OK(store->Write("dir/below", "y"));
  EXPECT_TRUE(store->Write("dir", "x").IsIOError());
  Status put = store->PutIfAbsent("dir", "x");
  EXPECT_TRUE(put.IsIOError()) << "not AlreadyExists: no object 'dir' exists; " << put.ToString();
  EXPECT_TRUE(store->Read("dir").status().IsNotFound());
  EXPECT_TRUE(store->Delete("dir").IsNotFound());
  EXPECT_EQ(*store->Read("dir/below"), "y");
}

TEST(LocalObjectStoreTest, SymbolicLinks) {
  TempFolder folder;
  ASSERT_OK_AND_ASSIGN(auto store, LocalObjectStore::Make(folder.path() + "/store"));
  ASSERT_OK(store->Write("real/file", "data"));
  ASSERT_EQ(::symlink("real/file", (store->root() + "/file-link").c_str()), 0);
  ASSERT_EQ(::symlink("real", (store->root() + "/dir-link").c_str()), 0);
  ASSERT_EQ(::symlink("nowhere", (store->root() + "/dangling").c_str()), 0);
  EXPECT_EQ(ListKeys(*store, ""), (std::vector<std::string>{"file-link", "real/file"}))
      << "links to files are objects; links to folders are not descended";
  EXPECT_EQ(*store->Read("file-link"), "data");
  EXPECT_EQ(*store->Read("dir-link/file"), "data") << "a path through a link is followed";
}

TEST(LocalObjectStoreTest, WithoutSyncTheContractHolds) {
  TempFolder folder;
  ASSERT_OK_AND_ASSIGN(
      auto store, LocalObjectStore::Make(folder.path(), LocalObjectStoreOptions{.sync = false}));
  ASSERT_OK(store->Write("a/b", "1"));
  ASSERT_OK(store->PutIfAbsent("a/c", "2"));
  EXPECT_TRUE(store->PutIfAbsent("a/c", "3").IsAlreadyExists());
  EXPECT_EQ(*store->Read("a/c"), "2");
  ASSERT_OK(store->Delete("a/b"));
  EXPECT_EQ(ListKeys(*store, "a/"), std::vector<std::string>{"a/c"});
}

// ---- several processes on one folder ----

std::string ChildPayload(int child, int key) {
  std::string payload = "child " + std::to_string(child) + " key " + std::to_string(key) + "\n";
  payload.append(300 + static_cast<size_t>(child) * 500, static_cast<char>('A' + child));
  return payload;
}

std::string RaceKey(int key) {
  char name[64];
  std::snprintf(name, sizeof(name), "t/_delta_log/%020d.json", key);
  return name;
}

// Runs in a forked child: no GoogleTest, only an exit code. 0: done, wins written to `report`.
[[noreturn]] void RaceChild(int child, int keys, const std::string& root, const std::string& report,
                            int go_fd) {
  char byte;
  while (::read(go_fd, &byte, 1) < 0 && errno == EINTR) {
  }  // returns 0 once the parent closes its end: everyone starts together
  auto store = LocalObjectStore::Make(root);
  if (!store.ok()) ::_exit(2);
  std::string wins;
  for (int key = 0; key < keys; ++key) {
    Status st = (*store)->PutIfAbsent(RaceKey(key), ChildPayload(child, key));
    if (st.ok()) {
      wins += std::to_string(key) + "\n";
    } else if (!st.IsAlreadyExists()) {
      ::_exit(3);
    }
  }
  int fd = ::open(report.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) ::_exit(4);
  if (::write(fd, wins.data(), wins.size()) != static_cast<ssize_t>(wins.size())) ::_exit(5);
  ::close(fd);
  ::_exit(0);
}

TEST(LocalObjectStoreTest, PutIfAbsentIsAtomicAcrossProcesses) {
  constexpr int kChildren = 4;
  constexpr int kKeys = 100;
  TempFolder folder;
  std::string root = folder.path() + "/store";
  ASSERT_OK_AND_ASSIGN(auto store, LocalObjectStore::Make(root));
  int go[2];
  ASSERT_EQ(::pipe(go), 0);
  std::vector<pid_t> children;
  for (int child = 0; child < kChildren; ++child) {
    pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      ::close(go[1]);
      RaceChild(child, kKeys, root, folder.path() + "/wins-" + std::to_string(child), go[0]);
    }
    children.push_back(pid);
  }
  ::close(go[0]);
  ::close(go[1]);  // start
  for (pid_t pid : children) {
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFEXITED(status)) << "child " << pid << " died";
    EXPECT_EQ(WEXITSTATUS(status), 0) << "child " << pid;
  }
  std::map<int, std::vector<int>> winners;
  for (int child = 0; child < kChildren; ++child) {
    std::ifstream report(folder.path() + "/wins-" + std::to_string(child));
    ASSERT_TRUE(report.good());
    for (int key; report >> key;) winners[key].push_back(child);
  }
  for (int key = 0; key < kKeys; ++key) {
    SCOPED_TRACE("key " + std::to_string(key));
    ASSERT_EQ(winners[key].size(), 1u) << "exactly one winner";
    EXPECT_EQ(*store->Read(RaceKey(key)), ChildPayload(winners[key][0], key));
  }
  EXPECT_EQ(ListKeys(*store, "t/_delta_log/").size(), static_cast<size_t>(kKeys));
}

}  // namespace
}  // namespace medallion::storage
