// Database and Connection: RAII wrappers over DuckDB's C API (duckdb.h), the SQL executor under
// every medallion module that runs queries (docs/architecture.md, "engine").
//
// A Database is one DuckDB instance (in memory or a file); a Connection is a session on it with its
// own transaction state. DuckDB errors become Status values carrying DuckDB's message:
//   parser/binder/catalog/conversion/constraint errors -> InvalidArgument,
//   I/O and HTTP errors -> IOError, not-implemented -> NotSupported, transaction conflicts -> Conflict,
//   interrupts -> Cancelled, out-of-memory -> IOError, everything else -> Internal.
//
// Thread-safety: a Database may be shared by many threads, each with its own Connection; a single
// Connection must not be used by two threads at once (DuckDB's rule), except Interrupt().
// Lifetimes: a Connection must not outlive its Database; results and prepared statements must not
// outlive their Connection.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "common/result.h"
#include "engine/query_result.h"

namespace medallion::engine {

class Connection;
class PreparedStatement;
class Appender;

struct DatabaseOptions {
  // A database file, or empty for an in-memory database (medallion's default: Delta tables, not
  // DuckDB files, hold the data).
  std::string path;
  // DuckDB's `memory_limit` ("4GB", "75%"); empty keeps DuckDB's default (80% of RAM).
  std::string memory_limit;
  // Worker threads; 0 keeps DuckDB's default (the number of cores).
  int threads = 0;
  // Where operators spill when memory_limit is reached; empty keeps DuckDB's default.
  std::string temp_directory;
  // Any other DuckDB configuration option (name -> value), applied at open.
  std::map<std::string, std::string> settings;
};

class Database {
 public:
  // Opens (creates) the database. InvalidArgument for a bad option (DuckDB's message), IOError when
  // the file cannot be opened.
  static Result<std::unique_ptr<Database>> Open(const DatabaseOptions& options = {});
  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  Result<std::unique_ptr<Connection>> Connect();

  // The DuckDB library's version, e.g. "v1.4.4".
  static std::string LibraryVersion();

  struct Impl;

 private:
  explicit Database(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

class Connection {
 public:
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Runs one or more ';'-separated statements; returns the last one's result, fully materialized.
  Result<QueryResult> Query(std::string_view sql);
  // Runs statements whose results are not needed.
  Status Execute(std::string_view sql);

  // Prepares one statement with `?` or `$1` parameters.
  Result<std::unique_ptr<PreparedStatement>> Prepare(std::string_view sql);

  // The columns (name, type) one SELECT would return, found by binding it: nothing is read or
  // executed (cheaper than a view plus `LIMIT 0`). Errors as Query's for the same statement.
  Result<std::vector<std::pair<std::string, ColumnType>>> Describe(std::string_view select_sql);

  // An appender into an existing table ("schema" may be empty for the default schema).
  Result<std::unique_ptr<Appender>> MakeAppender(std::string_view schema, std::string_view table);

  // Asks a running query on this connection to stop; it then fails with Cancelled. Any thread.
  void Interrupt();

  struct Impl;
  Impl& impl() { return *impl_; }

 private:
  friend class Database;
  explicit Connection(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// A prepared statement; parameters are numbered from 1, as in DuckDB.
class PreparedStatement {
 public:
  ~PreparedStatement();
  PreparedStatement(const PreparedStatement&) = delete;
  PreparedStatement& operator=(const PreparedStatement&) = delete;

  size_t parameter_count() const;
  // InvalidArgument for an index out of range or a value DuckDB cannot bind.
  Status BindNull(size_t index);
  Status Bind(size_t index, bool value);
  Status Bind(size_t index, int64_t value);
  Status Bind(size_t index, int value) { return Bind(index, static_cast<int64_t>(value)); }
  Status Bind(size_t index, double value);
  Status Bind(size_t index, std::string_view value);  // VARCHAR
  Status Bind(size_t index, const char* value) { return Bind(index, std::string_view(value)); }
  Status BindBlob(size_t index, std::string_view bytes);
  Status ClearBindings();

  Result<QueryResult> Execute();

  struct Impl;

 private:
  friend class Connection;
  explicit PreparedStatement(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Appends rows to a table in bulk (DuckDB's Appender). Values go column by column, then EndRow.
// Rows become visible at Flush or Close (also called by the destructor, whose error is logged).
class Appender {
 public:
  ~Appender();
  Appender(const Appender&) = delete;
  Appender& operator=(const Appender&) = delete;

  Status AppendNull();
  Status Append(bool value);
  Status Append(int64_t value);
  Status Append(int value) { return Append(static_cast<int64_t>(value)); }
  Status Append(double value);
  Status Append(std::string_view value);
  Status Append(const char* value) { return Append(std::string_view(value)); }
  Status EndRow();
  Status Flush();
  Status Close();

  struct Impl;

 private:
  friend class Connection;
  explicit Appender(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace medallion::engine
