// Helpers for delta/ unit tests: crafting logs in a MemoryObjectStore, a canned ParquetHandler, a
// store wrapper with chosen modification times, and the path of the golden tables.
#pragma once

#include <cstdio>
#include <filesystem>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "delta/log_segment.h"
#include "delta/parquet_handler.h"
#include "storage/object_store.h"

namespace medallion::delta::testing {

// /work/shared/data/delta-golden (../shared/data/delta-golden from the source tree), or nullopt
// when that folder is absent (tests then GTEST_SKIP).
inline std::optional<std::string> GoldenDir() {
#ifdef MEDALLION_SOURCE_DIR
  std::filesystem::path dir =
      std::filesystem::path(MEDALLION_SOURCE_DIR) / ".." / "shared" / "data" / "delta-golden";
  std::error_code ec;
  if (std::filesystem::is_directory(dir, ec)) {
    return std::filesystem::weakly_canonical(dir, ec).string();
  }
#endif
  return std::nullopt;
}

inline constexpr char kSkipNoGolden[] =
    "../shared/data/delta-golden is absent: golden-table tests need the shared data folder";

// "<root>/_delta_log/<name>".
inline std::string LogKey(const std::string& root, const std::string& name) {
  return LogPrefix(root) + name;
}

inline std::string CheckpointName(int64_t version) { return ClassicCheckpointFileName(version); }
inline std::string MultiPartName(int64_t version, int part, int parts) {
  char buf[96];
  std::snprintf(buf, sizeof(buf), "%020lld.checkpoint.%010d.%010d.parquet",
                static_cast<long long>(version), part, parts);
  return buf;
}

// Writes commit `version` of the table at `root` from action lines.
inline Status WriteCommit(storage::ObjectStore& store, const std::string& root, int64_t version,
                          const std::vector<std::string>& lines) {
  std::string data;
  for (const auto& l : lines) data += l + "\n";
  return store.Write(LogKey(root, CommitFileName(version)), data);
}

// Protocol (1,2) + a metaData with a one-column schema ("id" long) and optional extra config.
inline std::vector<std::string> CreateTableLines(const std::string& config_json = "{}",
                                                 const std::string& protocol_json =
                                                     R"({"minReaderVersion":1,"minWriterVersion":2})") {
  return {
      R"({"commitInfo":{"timestamp":1000,"operation":"CREATE TABLE"}})",
      R"({"protocol":)" + protocol_json + "}",
      R"({"metaData":{"id":"t-1","format":{"provider":"parquet","options":{}},"schemaString":"{\"type\":\"struct\",\"fields\":[{\"name\":\"id\",\"type\":\"long\",\"nullable\":true,\"metadata\":{}},{\"name\":\"p\",\"type\":\"string\",\"nullable\":true,\"metadata\":{}}]}","partitionColumns":[],"configuration":)" +
          config_json + R"(,"createdTime":1000}})",
  };
}

inline std::string AddLine(const std::string& path, int64_t size = 100) {
  return R"({"add":{"path":")" + path + R"(","partitionValues":{},"size":)" +
         std::to_string(size) + R"(,"modificationTime":1000,"dataChange":true}})";
}
inline std::string RemoveLine(const std::string& path) {
  return R"({"remove":{"path":")" + path + R"(","deletionTimestamp":2000,"dataChange":true}})";
}

// A ParquetHandler serving canned rows by path (the store key for a MemoryObjectStore).
class StubParquetHandler : public ParquetHandler {
 public:
  void Put(const std::string& path, std::vector<std::string> rows) {
    std::lock_guard<std::mutex> lock(mu_);
    files_[path] = std::move(rows);
  }
  Result<std::vector<std::string>> ReadRowsAsJson(const std::string& path,
                                                  const std::vector<std::string>&) override {
    std::lock_guard<std::mutex> lock(mu_);
    ++reads_;
    auto it = files_.find(path);
    if (it == files_.end()) return Status::NotFound("stub parquet: no file " + path);
    return it->second;
  }
  int reads() const { return reads_; }

 private:
  std::mutex mu_;
  std::map<std::string, std::vector<std::string>> files_;
  int reads_ = 0;
};

// Wraps a store and overrides the modification times that List and Head report.
class TimedStore : public storage::ObjectStore {
 public:
  explicit TimedStore(storage::ObjectStore& base) : base_(base) {}
  void SetTime(const std::string& key, int64_t ms) { times_[key] = ms; }

  Result<std::vector<storage::ObjectMeta>> List(std::string_view prefix) override {
    auto r = base_.List(prefix);
    if (!r.ok()) return r;
    for (auto& m : *r) Fix(m);
    return r;
  }
  Result<std::string> Read(std::string_view key) override { return base_.Read(key); }
  Result<std::string> ReadRange(std::string_view key, int64_t offset, int64_t length) override {
    return base_.ReadRange(key, offset, length);
  }
  Status Write(std::string_view key, std::string_view data) override {
    return base_.Write(key, data);
  }
  Status PutIfAbsent(std::string_view key, std::string_view data) override {
    return base_.PutIfAbsent(key, data);
  }
  Status Delete(std::string_view key) override { return base_.Delete(key); }
  Result<storage::ObjectMeta> Head(std::string_view key) override {
    auto r = base_.Head(key);
    if (r.ok()) Fix(*r);
    return r;
  }
  Result<std::string> LocalPath(std::string_view key) const override {
    return base_.LocalPath(key);
  }
  std::string Describe() const override { return base_.Describe(); }

 private:
  void Fix(storage::ObjectMeta& m) const {
    auto it = times_.find(m.key);
    if (it != times_.end()) m.modification_time = it->second;
  }
  storage::ObjectStore& base_;
  std::map<std::string, int64_t> times_;
};

}  // namespace medallion::delta::testing
