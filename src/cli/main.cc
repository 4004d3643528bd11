// The `medallion` command line. Subcommands register themselves here; each returns a process exit
// code (0 success, 1 the work failed, 2 bad usage). Errors go to stderr as "medallion: <message>".
#include <CLI/CLI.hpp>

#include <fstream>
#include <iostream>
#include <sstream>

#include "cli/result_printer.h"
#include "common/logging.h"
#include "common/macros.h"
#include "engine/database.h"
#include "engine/session.h"

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
  ASSIGN_OR_RETURN(auto session, engine::Session::Open(session_options));
  ASSIGN_OR_RETURN(auto result, session->Query(sql).WithContext(args.file.empty() ? "query" : args.file));
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
  if (sql->parsed()) {
    Status s = RunSql(sql_args);
    return s.ok() ? 0 : Fail(s);
  }
  std::cout << app.help();
  return 0;
}

}  // namespace medallion::cli

int main(int argc, char** argv) { return medallion::cli::Main(argc, argv); }
