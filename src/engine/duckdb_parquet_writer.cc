#include "engine/duckdb_parquet_writer.h"

#include <fmt/format.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <random>
#include <sstream>

#include "common/macros.h"
#include "engine/delta_types.h"
#include "engine/sql_text.h"

namespace medallion::engine {
namespace {

std::string NextScratchBase(const std::string& folder) {
  static std::atomic<uint64_t> counter{0};
  return fmt::format("{}/.medallion-parquet-{}-{}-{:x}", folder, ::getpid(), counter++,
                     static_cast<uint64_t>(std::random_device{}()));
}

// Removes the scratch files however the write ends.
struct ScratchFiles {
  std::string json;
  std::string parquet;
  ~ScratchFiles() {
    std::remove(json.c_str());
    std::remove(parquet.c_str());
  }
};

}  // namespace

Result<std::unique_ptr<DuckDbParquetWriter>> DuckDbParquetWriter::Make(std::string scratch_folder) {
  if (scratch_folder.empty()) {
    const char* tmp = std::getenv("TMPDIR");
    scratch_folder = (tmp != nullptr && *tmp != '\0') ? tmp : "/tmp";
  }
  return std::unique_ptr<DuckDbParquetWriter>(new DuckDbParquetWriter(std::move(scratch_folder)));
}

Result<std::unique_ptr<Connection>> DuckDbParquetWriter::Connect() {
  std::lock_guard<std::mutex> lock(mu_);
  if (db_ == nullptr) {
    DatabaseOptions options;
    options.threads = 1;  // checkpoints are small; keeps row order trivially
    ASSIGN_OR_RETURN(db_, Database::Open(options));
  }
  return db_->Connect();
}

Result<std::string> DuckDbParquetWriter::WriteRowsAsParquet(
    const std::vector<std::string>& json_rows, const delta::Schema& schema) {
  std::string columns;
  std::string projection;
  for (const auto& f : schema.fields()) {
    std::string t = DuckDbTypeOf(*f.type);
    columns += (columns.empty() ? "" : ", ") + QuoteString(f.name) + ": " + QuoteString(t);
    projection += (projection.empty() ? "" : ", ") + QuoteIdentifier(f.name);
  }
  if (columns.empty()) return Status::InvalidArgument("a Parquet file needs at least one column");

  const std::string base = NextScratchBase(scratch_folder_);
  ScratchFiles scratch{base + ".json", base + ".parquet"};
  {
    std::ofstream out(scratch.json, std::ios::binary | std::ios::trunc);
    if (!out) return Status::FromErrno(errno, "create " + scratch.json);
    for (const auto& row : json_rows) out << row << '\n';
    out.flush();
    if (!out) return Status::FromErrno(errno, "write " + scratch.json);
  }
  ASSIGN_OR_RETURN(auto conn, Connect());
  std::string sql = fmt::format(
      "COPY (SELECT {} FROM read_json({}, format = 'newline_delimited', columns = {{{}}}, "
      "maximum_object_size = 1073741824)) TO {} (FORMAT parquet)",
      projection, QuoteString(scratch.json), columns, QuoteString(scratch.parquet));
  RETURN_NOT_OK_CTX(conn->Execute(sql), "writing Parquet");
  std::ifstream in(scratch.parquet, std::ios::binary);
  if (!in) return Status::FromErrno(errno, "open " + scratch.parquet);
  std::ostringstream bytes;
  bytes << in.rdbuf();
  return bytes.str();
}

}  // namespace medallion::engine
