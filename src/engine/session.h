// Session: medallion's SQL session, which is DuckDB plus Delta tables and the Spark SQL forms that
// Databricks users type (docs/compatibility.md lists them).
//
// Query() accepts one or more ';'-separated statements and, before DuckDB sees them, handles:
//   - Delta table references: delta.`/path/to/table`, optionally followed by
//     VERSION AS OF <n> or TIMESTAMP AS OF '<ts>' (Delta's time travel). The snapshot is loaded
//     with delta/ and registered as a temporary view (engine/delta_scan.h), and the reference is
//     replaced by the view's name;
//   - DESCRIBE HISTORY <table> [LIMIT n]: one row per commit, newest first, with Databricks'
//     columns (version, timestamp, operation, operationParameters, readVersion, isolationLevel,
//     isBlindAppend, operationMetrics, userMetadata, engineInfo);
//   - DESCRIBE DETAIL <table>: one row describing the table (format, id, name, description,
//     location, createdAt, lastModified, partitionColumns, numFiles, sizeInBytes, properties,
//     minReaderVersion, minWriterVersion, tableFeatures);
//   - writes to Delta tables (engine/delta_writer.h), each one commit, returning one row
//     (num_affected_rows, num_inserted_rows) as Databricks does:
//       CREATE [OR REPLACE] TABLE [IF NOT EXISTS] delta.`path` [USING DELTA]
//         [PARTITIONED BY (a, b)] [TBLPROPERTIES ('k' = 'v', ...)] AS <query>
//       INSERT INTO [TABLE] delta.`path` [BY NAME] <query>      (by position unless BY NAME)
//       INSERT OVERWRITE [TABLE] delta.`path` [BY NAME] <query>
//       INSERT INTO [TABLE] delta.`path` [BY NAME] REPLACE WHERE <predicate> <query>
//     where <query> starts with SELECT, WITH, VALUES, FROM or TABLE and may read Delta tables;
//   - DML on Delta tables (engine/delta_dml.h), each one commit, returning Databricks' row
//     (num_affected_rows; MERGE also num_updated_rows, num_deleted_rows, num_inserted_rows):
//       DELETE FROM delta.`path` [[AS] t] [WHERE <predicate>]
//       UPDATE delta.`path` [[AS] t] SET col = <expr>, ... [WHERE <predicate>]
//       MERGE INTO delta.`path` [[AS] t] USING (<query>) | delta.`path` | <table> [[AS] s]
//         ON <condition> WHEN MATCHED [AND <cond>] THEN UPDATE SET ... | UPDATE SET * | DELETE
//         WHEN NOT MATCHED [BY TARGET] [AND <cond>] THEN INSERT (cols) VALUES (...) | INSERT *
//         WHEN NOT MATCHED BY SOURCE [AND <cond>] THEN UPDATE SET ... | DELETE
//   - backtick-quoted identifiers, which become DuckDB's double-quoted ones;
//   - event_log('<pipeline>') in FROM: the pipeline's event log (pipeline/event_log.h), a Delta
//     table found through SessionOptions::resolve_event_log;
//   - with SessionOptions::dialect kSpark, Spark SQL functions, types and literals;
//   - ALTER TABLE <table> ADD CONSTRAINT <name> CHECK (<expr>) and ALTER TABLE <table> DROP
//     CONSTRAINT [IF EXISTS] <name> (engine/delta_constraints.h), returning no rows;
//   - maintenance commands (engine/delta_maintenance.h): VACUUM <table> [RETAIN n HOURS] [DRY RUN],
//     RESTORE [TABLE] <table> [TO] VERSION|TIMESTAMP AS OF ..., CREATE [OR REPLACE] TABLE <table>
//     [SHALLOW|DEEP] CLONE <table> [time travel], OPTIMIZE <table> [WHERE <partition predicate>]
//     (returning Databricks' path and metrics columns; ZORDER BY is NotSupported), SET
//     spark.databricks.delta.retentionDurationCheck.enabled = true|false, SET
//     spark.databricks.delta.optimize.maxFileSize = <bytes>, and the change data feed
//     table_changes('/path/to/table', start[, end]) in FROM, registered as a view.
// The session time zone defaults to UTC, as on Databricks, so a Delta `timestamp` prints in UTC.
//
// Errors: those of DuckDB (engine/database.h) and of snapshot loading (delta/snapshot.h), with the
// statement's line number as context; NotFound "no Delta table at <path>" for a missing folder.
//
// Thread-safety: one thread at a time (it owns one Connection).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "common/result.h"
#include "engine/database.h"
#include "engine/duckdb_parquet_handler.h"
#include "engine/duckdb_parquet_writer.h"
#include "engine/query_result.h"

namespace medallion::delta {
struct SkippingPredicate;
}  // namespace medallion::delta

namespace medallion::engine {

struct SessionOptions {
  DatabaseOptions database;
  // DuckDB's TimeZone setting; Databricks' default session time zone is UTC.
  std::string time_zone = "UTC";
  // The SQL dialect of queries. kSpark translates Spark SQL (engine/spark_sql.h: Spark functions
  // and types, "..." as a string literal, `expr:path` JSON access) after the Delta references are
  // resolved, so Databricks queries run unchanged; kDuckDb passes DuckDB SQL through.
  enum class Dialect { kDuckDb, kSpark };
  Dialect dialect = Dialect::kDuckDb;
  // Resolves event_log('<pipeline>') (Databricks' table-valued function) to the folder of that
  // pipeline's event log Delta table; unset: event_log(...) takes the folder itself.
  std::function<Result<std::string>(std::string_view pipeline)> resolve_event_log;
};

class Session {
 public:
  static Result<std::unique_ptr<Session>> Open(const SessionOptions& options = {});

  // Runs the statements in order and returns the last one's result. InvalidArgument when the text
  // holds no statement.
  Result<QueryResult> Query(std::string_view sql);

  Connection& connection() { return *conn_; }

  // A parsed delta.`path` reference with optional time travel (defined in session.cc).
  struct TableRef;

 private:
  Session(SessionOptions options, std::unique_ptr<Database> db, std::unique_ptr<Connection> conn,
          std::unique_ptr<DuckDbParquetHandler> parquet)
      : options_(std::move(options)),
        db_(std::move(db)),
        conn_(std::move(conn)),
        parquet_(std::move(parquet)) {}

  Result<QueryResult> RunStatement(std::string_view sql_text, size_t first_line);
  // `skip`: the query's data-skipping predicate for this reference (engine/delta_scan.h); null:
  // every active file.
  Result<std::string> RegisterTable(const TableRef& ref,
                                    const delta::SkippingPredicate* skip = nullptr);
  Result<QueryResult> DescribeHistory(const TableRef& ref, int64_t limit);
  Result<QueryResult> DescribeDetail(const TableRef& ref);

  // --- Maintenance commands and the change data feed (session.cc, the maintenance block) ---
  // table_changes('path', start[, end]) (defined in session.cc).
 public:
  struct ChangesRef;

 private:
  // VACUUM, RESTORE, CREATE ... CLONE, OPTIMIZE and their settings; nullopt when `text` is none
  // of them.
  Result<std::optional<QueryResult>> RunMaintenanceStatement(std::string_view text,
                                                             size_t first_line);
  Result<std::string> RegisterChanges(const ChangesRef& ref);
  // spark.databricks.delta.retentionDurationCheck.enabled
  bool retention_check_ = true;
  // spark.databricks.delta.optimize.maxFileSize (bytes); unset: 1 GB
  std::optional<int64_t> optimize_max_file_size_;
  // --- end of the maintenance block ---

  // --- Writing (session.cc, the write block; engine/delta_writer.h) ---
  // CREATE [OR REPLACE] TABLE ... AS <query>, INSERT INTO / OVERWRITE [... REPLACE WHERE] on a
  // Delta table; nullopt when `text` is none of them.
  Result<std::optional<QueryResult>> RunWriteStatement(std::string_view text, size_t first_line);
  // A piece of a statement (a query, a predicate) as DuckDB SQL: Delta references registered as
  // views, table_changes(...) expanded, backticks as double quotes.
  // `skip` applies to every delta.`path` reference in `sql` (given only when there is one).
  Result<std::string> RewriteSql(std::string_view sql,
                                 const delta::SkippingPredicate* skip = nullptr);
  // Writes checkpoints for the session's commits; made on first use.
  std::unique_ptr<DuckDbParquetWriter> checkpoint_writer_;
  // --- end of the write block ---

  // --- DML (session.cc, the DML block; engine/delta_dml.h) ---
  // DELETE FROM, UPDATE and MERGE INTO on a Delta table; nullopt when `text` is none of them.
  Result<std::optional<QueryResult>> RunDmlStatement(std::string_view text, size_t first_line);
  // --- end of the DML block ---

  SessionOptions options_;
  std::unique_ptr<Database> db_;
  std::unique_ptr<Connection> conn_;
  std::unique_ptr<DuckDbParquetHandler> parquet_;
  int next_view_ = 0;
};

}  // namespace medallion::engine
