#include "ingest/source_file.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include "storage/test_util.h"

namespace medallion::ingest {
namespace {

namespace fs = std::filesystem;

class SourceFileTest : public ::testing::Test {
 protected:
  void Write(const std::string& relative, const std::string& content) {
    fs::path path = fs::path(dir_.path()) / relative;
    fs::create_directories(path.parent_path());
    std::ofstream(path, std::ios::binary) << content;
  }
  std::vector<std::string> List(const std::string& path, const std::string& glob_filter = "",
                                bool recursive = true) {
    FileSourceOptions options;
    options.path = path;
    options.path_glob_filter = glob_filter;
    options.recursive = recursive;
    auto files = ListSourceFiles(options);
    EXPECT_TRUE(files.ok()) << files.status().ToString();
    std::vector<std::string> out;
    if (!files.ok()) return out;
    for (const SourceFile& file : *files) {
      out.push_back(file.path.substr(dir_.path().size() + 1));
    }
    return out;
  }
  std::string Root() const { return dir_.path(); }

  storage::TempFolder dir_;
};

TEST_F(SourceFileTest, FolderIsListedRecursivelySortedWithoutHiddenFiles) {
  Write("b.csv", "x");
  Write("a.csv", "x");
  Write("sub/c.csv", "x");
  Write("sub/deeper/d.csv", "x");
  Write("_SUCCESS", "");
  Write(".hidden.csv", "x");
  Write("_delta_log/0.json", "{}");
  Write(".staging/e.csv", "x");
  Write("_part=1/f.csv", "x");  // a partition-like folder is not hidden
  Write("g.csv._COPYING_", "x");
  EXPECT_EQ(List(Root()), (std::vector<std::string>{"_part=1/f.csv", "a.csv", "b.csv",
                                                    "sub/c.csv", "sub/deeper/d.csv"}));
  EXPECT_EQ(List(Root() + "/", "", /*recursive=*/false),
            (std::vector<std::string>{"a.csv", "b.csv"}));
}

TEST_F(SourceFileTest, PathGlobFilterAppliesToFileNames) {
  Write("a.csv", "x");
  Write("a.json", "x");
  Write("sub/b.csv", "x");
  Write("sub.csv/c.txt", "x");
  EXPECT_EQ(List(Root(), "*.csv"), (std::vector<std::string>{"a.csv", "sub/b.csv"}));
  EXPECT_EQ(List(Root(), "*.{json,txt}"), (std::vector<std::string>{"a.json", "sub.csv/c.txt"}));
}

TEST_F(SourceFileTest, GlobPathsMatchComponentByComponent) {
  Write("2024/01/a.csv", "x");
  Write("2024/02/b.csv", "x");
  Write("2024/02/deep/c.csv", "x");
  Write("2025/01/d.csv", "x");
  Write("2024/01/e.json", "x");
  EXPECT_EQ(List(Root() + "/2024/*/*.csv"),
            (std::vector<std::string>{"2024/01/a.csv", "2024/02/b.csv"}));
  // A matched folder contributes everything under it.
  EXPECT_EQ(List(Root() + "/*/02"),
            (std::vector<std::string>{"2024/02/b.csv", "2024/02/deep/c.csv"}));
  EXPECT_EQ(List(Root() + "/{2024/01,2025/01}/*.csv"),
            (std::vector<std::string>{"2024/01/a.csv", "2025/01/d.csv"}));
  EXPECT_EQ(List(Root() + "/202[5-9]"), (std::vector<std::string>{"2025/01/d.csv"}));
}

TEST_F(SourceFileTest, SingleFileSizeAndModificationTime) {
  Write("_odd_name.csv", "hello");
  std::string path = Root() + "/_odd_name.csv";
  struct timespec times[2] = {{1700000000, 123456789}, {1700000000, 123456789}};
  ASSERT_EQ(::utimensat(AT_FDCWD, path.c_str(), times, 0), 0);
  FileSourceOptions options;
  options.path = path;
  ASSERT_OK_AND_ASSIGN(std::vector<SourceFile> files, ListSourceFiles(options));
  ASSERT_EQ(files.size(), 1u);
  EXPECT_EQ(files[0].path, path);
  EXPECT_EQ(files[0].size, 5);
  EXPECT_EQ(files[0].modification_time, 1700000000123456);
}

TEST_F(SourceFileTest, MissingPathIsNotFound) {
  FileSourceOptions options;
  options.path = Root() + "/nope";
  EXPECT_TRUE(ListSourceFiles(options).status().IsNotFound());
  options.path = Root() + "/nope/*.csv";
  EXPECT_TRUE(ListSourceFiles(options).status().IsNotFound());
}

TEST(GlobMatchTest, Syntax) {
  EXPECT_TRUE(GlobMatch("*.csv", "a.csv"));
  EXPECT_FALSE(GlobMatch("*.csv", "a.csv.gz"));
  EXPECT_TRUE(GlobMatch("a?c", "abc"));
  EXPECT_FALSE(GlobMatch("a?c", "ac"));
  EXPECT_TRUE(GlobMatch("[abc]x", "bx"));
  EXPECT_TRUE(GlobMatch("[a-c]x", "cx"));
  EXPECT_FALSE(GlobMatch("[^a]x", "ax"));
  EXPECT_TRUE(GlobMatch("[^a]x", "zx"));
  EXPECT_TRUE(GlobMatch("{ab,cd}.txt", "cd.txt"));
  EXPECT_TRUE(GlobMatch("{ab,c{de,fh}}", "cfh"));
  EXPECT_FALSE(GlobMatch("{ab,c{de,fh}}", "cxx"));
  EXPECT_TRUE(GlobMatch("\\*", "*"));
  EXPECT_FALSE(GlobMatch("\\*", "a"));
  EXPECT_TRUE(GlobMatch("*", ""));
  EXPECT_TRUE(GlobMatch("a*b*c", "axxbyyc"));
}

}  // namespace
}  // namespace medallion::ingest
