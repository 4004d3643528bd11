// The parsed form of a pipeline's SQL source files: the datasets (streaming tables, materialized
// views, views) and flows that Lakeflow Declarative Pipelines / Spark Declarative Pipelines SQL
// defines. Produced by ParsePipelineSql (pipeline/sql_parser.h); consumed by the dataflow graph
// (pipeline/dataflow_graph.h).
//
// The statements and their meaning follow Databricks' "Lakeflow Declarative Pipelines SQL language
// reference" (CREATE STREAMING TABLE, CREATE MATERIALIZED VIEW, CREATE FLOW, CREATE VIEW, SET, USE)
// and Apache Spark's Declarative Pipelines guide. Query bodies are kept as Spark SQL text, exactly
// as written (after ${key} substitution); translating them to DuckDB is the engine's job.
//
// Names: `name` fields hold the identifier as written with quotes removed and any `LIVE.` prefix
// dropped; a qualified name keeps its parts ("sales.orders", "main.sales.orders"). The catalog and
// schema current at the statement (from USE CATALOG / USE SCHEMA, else the spec's) are recorded
// beside it, so the graph can resolve one-part names.
//
// Thread-safety: plain values.
#pragma once

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace medallion::pipeline {

// Where a definition came from, for error messages ("bronze.sql:12").
struct SourceLocation {
  std::string file;  // path as given in the spec's libraries (relative to the spec's folder)
  size_t line = 0;   // 1-based line of the statement's first token
};

// CONSTRAINT <name> EXPECT (<condition>) [ON VIOLATION {DROP ROW | FAIL UPDATE | QUARANTINE}].
// Without ON VIOLATION a failing row is kept and counted (a warning). QUARANTINE is medallion's:
// failing rows go to `<table>_quarantine` with the names of the expectations they failed.
struct Expectation {
  enum class Action { kWarn, kDrop, kFail, kQuarantine };
  std::string name;
  std::string condition;  // Spark SQL boolean expression, as written
  Action action = Action::kWarn;
};

// A column in a dataset's optional column list: `name type [NOT NULL] [COMMENT '...']`.
struct ColumnDefinition {
  std::string name;
  std::string type;  // Spark SQL type text, as written (e.g. "DECIMAL(10, 2)", "STRING")
  bool not_null = false;
  std::optional<std::string> comment;
};

enum class DatasetKind {
  kStreamingTable,    // CREATE [OR REFRESH] STREAMING TABLE (legacy: STREAMING LIVE TABLE)
  kMaterializedView,  // CREATE [OR REFRESH] MATERIALIZED VIEW (legacy: LIVE TABLE)
  kTemporaryView,     // CREATE TEMPORARY [LIVE] VIEW: not persisted, inlined into its readers
  kView,              // CREATE VIEW: a catalog view over its query, not materialized
};

struct DatasetDefinition {
  DatasetKind kind = DatasetKind::kStreamingTable;
  std::string name;
  std::string catalog;  // current catalog at the statement ("" if none)
  std::string schema;   // current schema at the statement ("" if none)
  bool is_private = false;  // PRIVATE: not published to the catalog
  std::vector<ColumnDefinition> columns;
  std::vector<Expectation> expectations;
  std::vector<std::string> partition_by;
  std::vector<std::string> cluster_by;
  bool cluster_by_auto = false;  // CLUSTER BY AUTO (cluster_by is then empty)
  std::optional<std::string> comment;
  std::map<std::string, std::string> table_properties;
  // The AS query (Spark SQL). Absent for a streaming table that only flows write to.
  std::optional<std::string> query;
  // The SET values in effect at this statement: the earlier SET statements of the same file (SDP
  // scopes SET to its file and applies it to the definitions that follow). The spec's
  // configuration is not repeated here.
  std::map<std::string, std::string> sql_conf;
  SourceLocation location;
};

// A set of columns: `(a, b)` or `* EXCEPT (a, b)`.
struct ColumnSelection {
  bool all_except = false;           // true: every column except `columns`
  std::vector<std::string> columns;  // as written, unquoted
};

// The clauses of AUTO CDC / APPLY CHANGES (Databricks, "AUTO CDC INTO"). Expressions are Spark SQL.
struct AutoCdcDefinition {
  std::string source;                     // the X of FROM STREAM(X) / STREAM X / X, unquoted
  bool source_is_stream = true;           // false for FROM X without STREAM (AUTO CDC ONCE)
  std::vector<std::string> keys;          // KEYS (k1, ...)
  bool ignore_null_updates = false;       // IGNORE NULL UPDATES
  std::optional<ColumnSelection> ignore_null_updates_on;  // ... ON cols | * EXCEPT (cols)
  std::optional<std::string> apply_as_delete_when;
  std::optional<std::string> apply_as_truncate_when;
  std::vector<std::string> sequence_by;   // SEQUENCE BY e -> {e}; SEQUENCE BY STRUCT(a, b) -> {a, b}
  std::optional<ColumnSelection> columns; // COLUMNS ...
  int scd_type = 1;                       // STORED AS SCD TYPE 1 | 2
  std::optional<ColumnSelection> track_history_on;  // TRACK HISTORY ON ... (SCD type 2 only)
};

// A flow writes into a streaming table:
//   - CREATE FLOW <name> AS INSERT [ONCE] INTO <target> BY NAME <query>: an append flow;
//   - CREATE FLOW <name> AS AUTO CDC [ONCE] INTO <target> FROM ..., APPLY CHANGES INTO <target>
//     FROM ... (named after the target), and CREATE STREAMING TABLE t ... FLOW AUTO CDC FROM ...
//     (named after the table): an AUTO CDC flow.
// A dataset defined with AS <query> also gets an implicit append flow, named after the dataset;
// that one is not listed here (the graph makes it).
struct FlowDefinition {
  enum class Kind { kAppend, kAutoCdc };
  Kind kind = Kind::kAppend;
  std::string name;
  std::string target;   // the dataset written, as written (qualified or not)
  std::string catalog;  // current catalog/schema at the statement
  std::string schema;
  bool once = false;    // INSERT ONCE / AUTO CDC ONCE: runs once, and again on full refresh
  std::string query;    // kAppend: the Spark SQL query
  std::optional<AutoCdcDefinition> auto_cdc;  // kAutoCdc
  std::optional<std::string> comment;         // CREATE FLOW f COMMENT '...'
  std::map<std::string, std::string> sql_conf;  // as DatasetDefinition::sql_conf
  SourceLocation location;
};

// Everything the SQL files of one pipeline define, in file order.
struct PipelineDefinitions {
  std::vector<DatasetDefinition> datasets;
  std::vector<FlowDefinition> flows;
  // SET k = v statements, in order of appearance (a later SET of a key wins). These are Spark
  // configuration values for queries (e.g. spark.sql.session.timeZone); ${key} substitution uses
  // the spec's configuration, then these.
  std::map<std::string, std::string> sql_conf;
};

}  // namespace medallion::pipeline
