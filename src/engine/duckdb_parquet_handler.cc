#include "engine/duckdb_parquet_handler.h"

#include <fmt/format.h>
#include <sys/stat.h>

#include "common/macros.h"
#include "engine/sql_text.h"

namespace medallion::engine {

Result<std::unique_ptr<DuckDbParquetHandler>> DuckDbParquetHandler::Make() {
  DatabaseOptions options;
  options.threads = 1;  // checkpoint reads are small and run alongside query work
  ASSIGN_OR_RETURN(auto db, Database::Open(options));
  return std::unique_ptr<DuckDbParquetHandler>(new DuckDbParquetHandler(std::move(db)));
}

Result<std::vector<std::string>> DuckDbParquetHandler::ReadRowsAsJson(
    const std::string& local_path, const std::vector<std::string>& columns) {
  struct stat st;
  if (::stat(local_path.c_str(), &st) != 0) {
    return Status::NotFound(fmt::format("Parquet file {} does not exist", local_path));
  }
  ASSIGN_OR_RETURN(auto conn, db_->Connect());
  std::string projection = "*";
  if (!columns.empty()) {
    // COLUMNS(lambda) keeps the requested columns the file has and skips the others.
    std::string list;
    for (const auto& c : columns) list += (list.empty() ? "" : ", ") + QuoteString(c);
    projection = fmt::format("COLUMNS(c -> list_contains([{}], c))", list);
  }
  std::string sql = fmt::format(
      "SELECT to_json(t)::VARCHAR FROM (SELECT {} FROM read_parquet({})) AS t", projection,
      QuoteString(local_path));
  auto result = conn->Query(sql);
  if (!result.ok()) {
    Status s = result.status();
    if (s.IsInvalidArgument() || s.IsIOError()) {
      return Status::Corruption(fmt::format("cannot read Parquet file {}: {}", local_path, s.message()));
    }
    return s;
  }
  std::vector<std::string> rows;
  rows.reserve(result->row_count());
  for (size_t r = 0; r < result->row_count(); ++r) {
    ASSIGN_OR_RETURN(std::string row, result->GetString(0, r));
    rows.push_back(std::move(row));
  }
  return rows;
}

}  // namespace medallion::engine
