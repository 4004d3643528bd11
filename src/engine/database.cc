#include "engine/database.h"

#include <fmt/format.h>

#include "common/logging.h"
#include "common/macros.h"
#include "engine/duckdb_internal.h"

namespace medallion::engine {

// ---- Database ----

struct Database::Impl {
  duckdb_database db = nullptr;
  ~Impl() {
    if (db != nullptr) duckdb_close(&db);
  }
};

Database::Database(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Database::~Database() = default;

std::string Database::LibraryVersion() { return duckdb_library_version(); }

Result<std::unique_ptr<Database>> Database::Open(const DatabaseOptions& options) {
  duckdb_config config = nullptr;
  if (duckdb_create_config(&config) == DuckDBError) {
    return Status::Internal("cannot create a DuckDB configuration");
  }
  std::map<std::string, std::string> settings = options.settings;
  if (!options.memory_limit.empty()) settings["memory_limit"] = options.memory_limit;
  if (options.threads > 0) settings["threads"] = std::to_string(options.threads);
  if (!options.temp_directory.empty()) settings["temp_directory"] = options.temp_directory;
  for (const auto& [name, value] : settings) {
    if (duckdb_set_config(config, name.c_str(), value.c_str()) == DuckDBError) {
      duckdb_destroy_config(&config);
      return Status::InvalidArgument(
          fmt::format("DuckDB rejected the setting {} = '{}'", name, value));
    }
  }
  auto impl = std::make_unique<Impl>();
  char* error = nullptr;
  const char* path = options.path.empty() ? nullptr : options.path.c_str();
  duckdb_state state = duckdb_open_ext(path, &impl->db, config, &error);
  duckdb_destroy_config(&config);
  if (state == DuckDBError) {
    std::string msg = error != nullptr ? error : "unknown error";
    duckdb_free(error);
    impl->db = nullptr;
    // DuckDB prefixes messages with the error class ("IO Error: ...", "Invalid Input Error: ...").
    StatusCode code = msg.starts_with("IO Error") ? StatusCode::kIOError : StatusCode::kInvalidArgument;
    return Status(code, fmt::format("cannot open DuckDB database '{}': {}",
                                    options.path.empty() ? ":memory:" : options.path, msg));
  }
  duckdb_connection conn = nullptr;
  if (duckdb_connect(impl->db, &conn) == DuckDBError) {
    return Status::Internal("cannot connect to the DuckDB database");
  }
  Status registered = RegisterRowTally(conn);
  duckdb_disconnect(&conn);
  RETURN_NOT_OK(registered);
  return std::unique_ptr<Database>(new Database(std::move(impl)));
}

// ---- Connection ----

struct Connection::Impl {
  duckdb_connection conn = nullptr;
  ~Impl() {
    if (conn != nullptr) duckdb_disconnect(&conn);
  }
};

Connection::Connection(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Connection::~Connection() = default;

Result<std::unique_ptr<Connection>> Database::Connect() {
  auto impl = std::make_unique<Connection::Impl>();
  if (duckdb_connect(impl_->db, &impl->conn) == DuckDBError) {
    return Status::Internal("cannot connect to the DuckDB database");
  }
  return std::unique_ptr<Connection>(new Connection(std::move(impl)));
}

Result<QueryResult> Connection::Query(std::string_view sql) {
  duckdb_result result;
  std::string text(sql);
  if (duckdb_query(impl_->conn, text.c_str(), &result) == DuckDBError) {
    Status status = StatusFromDuckDb(duckdb_result_error_type(&result), duckdb_result_error(&result));
    duckdb_destroy_result(&result);
    return status;
  }
  return MaterializeResult(result);
}

Status Connection::Execute(std::string_view sql) { return Query(sql).status(); }

void Connection::Interrupt() { duckdb_interrupt(impl_->conn); }

// ---- PreparedStatement ----

struct PreparedStatement::Impl {
  duckdb_prepared_statement stmt = nullptr;
  ~Impl() {
    if (stmt != nullptr) duckdb_destroy_prepare(&stmt);
  }
  Status Check(duckdb_state state, size_t index) const {
    if (state == DuckDBSuccess) return Status::OK();
    const char* error = duckdb_prepare_error(stmt);
    return Status::InvalidArgument(
        fmt::format("cannot bind parameter {}{}{}", index, error ? ": " : "", error ? error : ""));
  }
};

PreparedStatement::PreparedStatement(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
PreparedStatement::~PreparedStatement() = default;

Result<std::unique_ptr<PreparedStatement>> Connection::Prepare(std::string_view sql) {
  auto impl = std::make_unique<PreparedStatement::Impl>();
  std::string text(sql);
  if (duckdb_prepare(impl_->conn, text.c_str(), &impl->stmt) == DuckDBError) {
    const char* error = duckdb_prepare_error(impl->stmt);
    return Status::InvalidArgument(error != nullptr ? error : "cannot prepare statement");
  }
  return std::unique_ptr<PreparedStatement>(new PreparedStatement(std::move(impl)));
}

Result<std::vector<std::pair<std::string, ColumnType>>> Connection::Describe(
    std::string_view select_sql) {
  PreparedStatement::Impl prepared;
  std::string text(select_sql);
  if (duckdb_prepare(impl_->conn, text.c_str(), &prepared.stmt) == DuckDBError) {
    // The C API gives a prepare's error no type: the statement run as a query reports it typed.
    const char* error = duckdb_prepare_error(prepared.stmt);
    std::string message = error != nullptr ? error : "cannot bind the query";
    RETURN_NOT_OK(Query(fmt::format("SELECT * FROM ({}\n) LIMIT 0", select_sql)).status());
    return Status::InvalidArgument(std::move(message));
  }
  std::vector<std::pair<std::string, ColumnType>> columns;
  const idx_t count = duckdb_prepared_statement_column_count(prepared.stmt);
  for (idx_t c = 0; c < count; ++c) {
    const char* name = duckdb_prepared_statement_column_name(prepared.stmt, c);
    duckdb_logical_type type = duckdb_prepared_statement_column_logical_type(prepared.stmt, c);
    columns.emplace_back(name != nullptr ? name : "", ColumnTypeFromLogical(type));
    duckdb_destroy_logical_type(&type);
    duckdb_free(const_cast<char*>(name));
  }
  return columns;
}

size_t PreparedStatement::parameter_count() const { return duckdb_nparams(impl_->stmt); }

Status PreparedStatement::BindNull(size_t index) {
  return impl_->Check(duckdb_bind_null(impl_->stmt, index), index);
}
Status PreparedStatement::Bind(size_t index, bool value) {
  return impl_->Check(duckdb_bind_boolean(impl_->stmt, index, value), index);
}
Status PreparedStatement::Bind(size_t index, int64_t value) {
  return impl_->Check(duckdb_bind_int64(impl_->stmt, index, value), index);
}
Status PreparedStatement::Bind(size_t index, double value) {
  return impl_->Check(duckdb_bind_double(impl_->stmt, index, value), index);
}
Status PreparedStatement::Bind(size_t index, std::string_view value) {
  return impl_->Check(duckdb_bind_varchar_length(impl_->stmt, index, value.data(), value.size()),
                      index);
}
Status PreparedStatement::BindBlob(size_t index, std::string_view bytes) {
  return impl_->Check(duckdb_bind_blob(impl_->stmt, index, bytes.data(), bytes.size()), index);
}
Status PreparedStatement::ClearBindings() {
  return impl_->Check(duckdb_clear_bindings(impl_->stmt), 0);
}

Result<QueryResult> PreparedStatement::Execute() {
  duckdb_result result;
  if (duckdb_execute_prepared(impl_->stmt, &result) == DuckDBError) {
    Status status = StatusFromDuckDb(duckdb_result_error_type(&result), duckdb_result_error(&result));
    duckdb_destroy_result(&result);
    return status;
  }
  return MaterializeResult(result);
}

// ---- Appender ----

struct Appender::Impl {
  duckdb_appender appender = nullptr;
  std::string table;
  ~Impl() {
    if (appender != nullptr) duckdb_appender_destroy(&appender);
  }
  Status Check(duckdb_state state, const char* what) const {
    if (state == DuckDBSuccess) return Status::OK();
    duckdb_error_data error = duckdb_appender_error_data(appender);
    Status status = StatusFromDuckDb(duckdb_error_data_error_type(error),
                                     duckdb_error_data_message(error));
    duckdb_destroy_error_data(&error);
    return status.WithContext(fmt::format("appending to {}: {}", table, what));
  }
};

Appender::Appender(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Appender::~Appender() {
  if (impl_ && impl_->appender != nullptr) {
    Status status = Close();
    if (!status.ok()) MLOG_ERROR("closing appender: {}", status.ToString());
  }
}

Result<std::unique_ptr<Appender>> Connection::MakeAppender(std::string_view schema,
                                                           std::string_view table) {
  auto impl = std::make_unique<Appender::Impl>();
  std::string schema_name(schema), table_name(table);
  impl->table = schema.empty() ? table_name : schema_name + "." + table_name;
  if (duckdb_appender_create(impl_->conn, schema.empty() ? nullptr : schema_name.c_str(),
                             table_name.c_str(), &impl->appender) == DuckDBError) {
    return impl->Check(DuckDBError, "create");
  }
  return std::unique_ptr<Appender>(new Appender(std::move(impl)));
}

Status Appender::AppendNull() { return impl_->Check(duckdb_append_null(impl_->appender), "NULL"); }
Status Appender::Append(bool value) {
  return impl_->Check(duckdb_append_bool(impl_->appender, value), "BOOLEAN");
}
Status Appender::Append(int64_t value) {
  return impl_->Check(duckdb_append_int64(impl_->appender, value), "BIGINT");
}
Status Appender::Append(double value) {
  return impl_->Check(duckdb_append_double(impl_->appender, value), "DOUBLE");
}
Status Appender::Append(std::string_view value) {
  return impl_->Check(duckdb_append_varchar_length(impl_->appender, value.data(), value.size()),
                      "VARCHAR");
}
Status Appender::EndRow() { return impl_->Check(duckdb_appender_end_row(impl_->appender), "row"); }
Status Appender::Flush() { return impl_->Check(duckdb_appender_flush(impl_->appender), "flush"); }
Status Appender::Close() {
  if (impl_->appender == nullptr) return Status::OK();
  Status status = impl_->Check(duckdb_appender_close(impl_->appender), "close");
  duckdb_appender_destroy(&impl_->appender);
  impl_->appender = nullptr;
  return status;
}

}  // namespace medallion::engine
