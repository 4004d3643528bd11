// The `medallion` command line. Subcommands register themselves here; each returns a process exit
// code (0 success, 1 the work failed, 2 bad usage). Errors go to stderr as "medallion: <message>".
#include <CLI/CLI.hpp>

#include <fmt/format.h>

#include <filesystem>
#include <fstream>
#include <optional>
#include <iostream>
#include <sstream>

#include "cli/pipeline_commands.h"
#include "cli/result_printer.h"
#include "common/logging.h"
#include "common/macros.h"
#include "engine/database.h"
#include "engine/session.h"
#include "pipeline/pipeline_update.h"

namespace medallion::cli {
namespace {

constexpr const char* kVersion = "0.1.0";

int Fail(const Status& status) {
  std::cerr << "medallion: " << status.ToString() << '\n';
  return 1;
}

struct SqlArgs {
  std::string sql;
  std::string file;
  std::string format = "table";
  size_t max_rows = 40;
  std::string memory_limit;
  int threads = 0;
  std::string dialect = "duckdb";
};

Status RunSql(const SqlArgs& args) {
  ASSIGN_OR_RETURN(OutputFormat format, ParseOutputFormat(args.format));
  std::string sql = args.sql;
  if (!args.file.empty()) {
    std::ifstream in(args.file);
    if (!in) return Status::NotFound("cannot open SQL file " + args.file);
    std::stringstream buffer;
    buffer << in.rdbuf();
    sql = buffer.str();
  }
  if (sql.find_first_not_of(" \t\r\n;") == std::string::npos) {
    return Status::InvalidArgument("no SQL given (pass a statement or -f FILE)");
  }
  engine::SessionOptions session_options;
  session_options.database.memory_limit = args.memory_limit;
  session_options.database.threads = args.threads;
  if (args.dialect == "spark") {
    session_options.dialect = engine::SessionOptions::Dialect::kSpark;
  } else if (args.dialect != "duckdb") {
    return Status::InvalidArgument("--dialect must be duckdb or spark, not " + args.dialect);
  }
  session_options.resolve_event_log = [](std::string_view name) -> Result<std::string> {
    ASSIGN_OR_RETURN(auto folder, pipeline::FindEventLog(name, std::filesystem::current_path()));
    return folder.string();
  };
  ASSIGN_OR_RETURN(auto session, engine::Session::Open(session_options));
  ASSIGN_OR_RETURN(auto result, session->Query(sql).WithContext(args.file.empty() ? "query" : args.file));
  PrintOptions options;
  options.format = format;
  options.max_rows = args.max_rows;
  PrintResult(result, options, std::cout);
  return Status::OK();
}

// `medallion table <command> PATH ...`: thin wrappers that run the same SQL as `medallion sql`.
struct TableArgs {
  std::string path;
  std::string target;  // clone
  std::string format = "table";
  size_t max_rows = 40;
  int64_t limit = 0;  // history
  std::optional<double> retain_hours;
  bool dry_run = false;
  std::optional<int64_t> version;
  std::string timestamp;
  bool shallow = false;
  bool replace = false;
  std::string where;  // optimize: a partition predicate
};

std::string DeltaRef(const std::string& path) {
  std::string escaped;
  for (char c : path) escaped += c == '`' ? std::string("``") : std::string(1, c);
  return "delta.`" + escaped + "`";
}

std::string Quoted(const std::string& text) {
  std::string out = "'";
  for (char c : text) out += c == '\'' ? std::string("''") : std::string(1, c);
  return out + "'";
}

Result<std::string> TableSql(const std::string& command, const TableArgs& a) {
  std::string as_of;
  if (a.version && !a.timestamp.empty()) {
    return Status::InvalidArgument("give --version or --timestamp, not both");
  }
  if (a.version) as_of = " VERSION AS OF " + std::to_string(*a.version);
  if (!a.timestamp.empty()) as_of = " TIMESTAMP AS OF " + Quoted(a.timestamp);
  if (command == "history") {
    return "DESCRIBE HISTORY " + DeltaRef(a.path) +
           (a.limit > 0 ? " LIMIT " + std::to_string(a.limit) : "");
  }
  if (command == "detail") return "DESCRIBE DETAIL " + DeltaRef(a.path);
  if (command == "vacuum") {
    std::string sql = "VACUUM " + DeltaRef(a.path);
    if (a.retain_hours) sql += fmt::format(" RETAIN {} HOURS", *a.retain_hours);
    if (a.dry_run) sql += " DRY RUN";
    return sql;
  }
  if (command == "optimize") {
    return "OPTIMIZE " + DeltaRef(a.path) + (a.where.empty() ? "" : " WHERE " + a.where);
  }
  if (command == "restore") {
    if (as_of.empty()) return Status::InvalidArgument("restore needs --version or --timestamp");
    return "RESTORE TABLE " + DeltaRef(a.path) + " TO" + as_of;
  }
  if (command == "clone") {
    return std::string(a.replace ? "CREATE OR REPLACE TABLE " : "CREATE TABLE ") +
           DeltaRef(a.target) + (a.shallow ? " SHALLOW" : " DEEP") + " CLONE " +
           DeltaRef(a.path) + as_of;
  }
  return Status::InvalidArgument("unknown table command " + command);
}

Status RunTable(const std::string& command, const TableArgs& args) {
  ASSIGN_OR_RETURN(OutputFormat format, ParseOutputFormat(args.format));
  ASSIGN_OR_RETURN(std::string sql, TableSql(command, args));
  ASSIGN_OR_RETURN(auto session, engine::Session::Open());
  ASSIGN_OR_RETURN(auto result, session->Query(sql).WithContext("table " + command));
  PrintOptions options;
  options.format = format;
  options.max_rows = args.max_rows;
  PrintResult(result, options, std::cout);
  return Status::OK();
}

}  // namespace

int Main(int argc, char** argv) {
  CLI::App app{"medallion: a lakehouse engine for Delta Lake tables and declarative SQL pipelines"};
  app.require_subcommand(0, 1);
  bool version = false;
  app.add_flag("--version", version, "Print medallion's and DuckDB's versions");
  std::string log_level;
  app.add_option("--log-level", log_level, "trace, debug, info, warn (default), error or off");

  SqlArgs sql_args;
  CLI::App* sql = app.add_subcommand(
      "sql", "Run SQL (DuckDB SQL plus delta.`path` tables, time travel, DESCRIBE HISTORY/DETAIL)");
  sql->add_option("statement", sql_args.sql, "SQL text (one or more ';'-separated statements)");
  sql->add_option("-f,--file", sql_args.file, "Read the SQL from a file");
  sql->add_option("--format", sql_args.format, "Output format: table (default), csv or json");
  sql->add_option("--max-rows", sql_args.max_rows, "Table format: rows shown at most (0 = all)");
  sql->add_option("--memory-limit", sql_args.memory_limit, "DuckDB memory limit, e.g. 4GB");
  sql->add_option("--threads", sql_args.threads, "Worker threads (default: all cores)");
  sql->add_option("--dialect", sql_args.dialect,
                  "duckdb (default): DuckDB SQL; spark: Spark SQL as on Databricks");

  auto run_pipeline_command = AddPipelineCommands(app);

  TableArgs table_args;
  CLI::App* table = app.add_subcommand("table", "Inspect and maintain a Delta table");
  table->require_subcommand(1);
  std::vector<CLI::App*> table_commands;
  auto add_table_command = [&](const char* name, const char* help) {
    CLI::App* c = table->add_subcommand(name, help);
    c->add_option("path", table_args.path, "The table folder")->required();
    c->add_option("--format", table_args.format, "Output format: table (default), csv or json");
    c->add_option("--max-rows", table_args.max_rows, "Table format: rows shown at most (0 = all)");
    table_commands.push_back(c);
    return c;
  };
  add_table_command("history", "The table's commits, newest first (DESCRIBE HISTORY)")
      ->add_option("--limit", table_args.limit, "At most this many commits");
  add_table_command("detail", "The table's description (DESCRIBE DETAIL)");
  CLI::App* vacuum = add_table_command(
      "vacuum", "Delete files no longer needed by versions within the retention period (VACUUM)");
  vacuum->add_option("--retain-hours", table_args.retain_hours,
                     "Retention in hours (default: delta.deletedFileRetentionDuration)");
  vacuum->add_flag("--dry-run", table_args.dry_run, "List the files without deleting them");
  CLI::App* optimize = add_table_command(
      "optimize", "Compact small files into larger ones without changing the rows (OPTIMIZE)");
  optimize->add_option("--where", table_args.where,
                       "Only partitions matching this predicate on partition columns");
  CLI::App* restore = add_table_command("restore", "Restore an older version (RESTORE TABLE)");
  CLI::App* clone = add_table_command("clone", "Clone a table (CREATE TABLE ... CLONE)");
  clone->add_option("target", table_args.target, "The new table's folder")->required();
  clone->add_flag("--shallow", table_args.shallow, "Refer to the source's files instead of copying");
  clone->add_flag("--replace", table_args.replace, "Replace a table at the target");
  for (CLI::App* c : {restore, clone}) {
    c->add_option("--version", table_args.version, "Version of the source");
    c->add_option("--timestamp", table_args.timestamp, "Time of the source ('YYYY-MM-DD[ HH:MM:SS]')");
  }

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  if (!log_level.empty()) {
    if (Status s = SetLogLevel(log_level); !s.ok()) {
      std::cerr << "medallion: " << s.ToString() << '\n';
      return 2;
    }
  }
  if (version) {
    std::cout << "medallion " << kVersion << " (DuckDB " << engine::Database::LibraryVersion() << ")\n";
    return 0;
  }
  for (CLI::App* c : table_commands) {
    if (c->parsed()) {
      Status s = RunTable(c->get_name(), table_args);
      return s.ok() ? 0 : Fail(s);
    }
  }
  if (sql->parsed()) {
    Status s = RunSql(sql_args);
    return s.ok() ? 0 : Fail(s);
  }
  if (int code = run_pipeline_command(); code >= 0) return code;
  std::cout << app.help();
  return 0;
}

}  // namespace medallion::cli

int main(int argc, char** argv) { return medallion::cli::Main(argc, argv); }
