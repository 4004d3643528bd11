// Helpers for delta/ write-path unit tests (transaction, checkpoint writer): table metadata and
// file actions, and a stand-in for Parquet that keeps rows as text, so checkpoints can be written
// and read back without DuckDB.
//
// Test-only: include from *_test.cc files.
#pragma once

#include <fstream>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "delta/actions.h"
#include "delta/parquet_handler.h"
#include "delta/parquet_writer.h"
#include "storage/object_store.h"

namespace medallion::delta::testing {

// A schemaString with the given (name, type) top-level columns, all nullable.
inline std::string SchemaJson(const std::vector<std::pair<std::string, std::string>>& columns) {
  std::string s = R"({"type":"struct","fields":[)";
  for (size_t i = 0; i < columns.size(); ++i) {
    if (i > 0) s += ",";
    s += R"({"name":")" + columns[i].first + R"(","type":")" + columns[i].second +
         R"(","nullable":true,"metadata":{}})";
  }
  return s + "]}";
}

// Metadata of a table with columns id long, p string, partitioned as given.
inline Metadata TestMetadata(StringMap configuration = {},
                             std::vector<std::string> partition_columns = {}) {
  Metadata m;
  m.id = "11111111-2222-4333-8444-555555555555";
  m.schema_string = SchemaJson({{"id", "long"}, {"p", "string"}});
  m.partition_columns = std::move(partition_columns);
  m.configuration = std::move(configuration);
  m.created_time = 1000;
  return m;
}

inline AddFile TestAdd(const std::string& path, int64_t size = 100) {
  AddFile a;
  a.path = path;
  a.size = size;
  a.modification_time = 1000;
  a.data_change = true;
  a.stats = R"({"numRecords":10})";
  return a;
}

inline RemoveFile TestRemove(const std::string& path, bool data_change = true) {
  RemoveFile r;
  r.path = path;
  r.data_change = data_change;
  r.size = 100;
  return r;
}

// "Parquet" as text: a marker line, then the rows, one per line. Writes through ParquetWriter;
// reads (ParquetHandler) a path that is a key of `store` (stores without local paths) or a local
// file. Projection is ignored: each row holds one action anyway.
class TextParquet : public ParquetHandler, public ParquetWriter {
 public:
  static constexpr char kMarker[] = "TEXT-PARQUET";
  explicit TextParquet(storage::ObjectStore* store) : store_(store) {}

  Result<std::string> WriteRowsAsParquet(const std::vector<std::string>& json_rows,
                                         const Schema&) override {
    std::string out = std::string(kMarker) + "\n";
    for (const auto& r : json_rows) out += r + "\n";
    return out;
  }

  Result<std::vector<std::string>> ReadRowsAsJson(const std::string& path,
                                                  const std::vector<std::string>&) override {
    std::string data;
    auto r = store_->Read(path);
    if (r.ok()) {
      data = std::move(*r);
    } else {
      std::ifstream in(path, std::ios::binary);
      if (!in) return Status::NotFound("no file " + path);
      std::stringstream ss;
      ss << in.rdbuf();
      data = ss.str();
    }
    std::vector<std::string> rows;
    std::istringstream lines(data);
    std::string line;
    if (!std::getline(lines, line) || line != kMarker) {
      return Status::Corruption(path + " is not a text-parquet file");
    }
    while (std::getline(lines, line)) {
      if (!line.empty()) rows.push_back(line);
    }
    return rows;
  }

 private:
  storage::ObjectStore* store_;
};

}  // namespace medallion::delta::testing
