// ParsePipelineSql: a pipeline's SQL source files -> PipelineDefinitions (pipeline/definitions.h).
//
// The dialect is Databricks' "Lakeflow Declarative Pipelines SQL language reference" and what
// Apache Spark 4.1's Declarative Pipelines registers from SQL (SqlGraphRegistrationContext). Each
// file is split into statements at `;` outside quotes, comments and $$ bodies (engine/sql_lexer.h);
// a statement's line is that of its first token (comments and blank lines before it skipped).
// Keywords are case-insensitive. The statements:
//
//   SET key = value                   key may contain dots; the value is the rest of the
//                                     statement, trimmed, unquoted if it is one quoted literal
//   USE CATALOG c                     current catalog := c, current schema := "" (SDP clears it)
//   USE {SCHEMA | DATABASE | NAMESPACE} s, USE s    current schema := s; `c.s` sets both
//   CREATE [OR REFRESH] [PRIVATE | TEMPORARY] STREAMING TABLE name [(table spec)] [clauses]
//          [AS query | FLOW AUTO CDC [ONCE] FROM ... (AUTO CDC clauses)]
//   CREATE [OR REFRESH] [PRIVATE | TEMPORARY] MATERIALIZED VIEW name [(table spec)] [clauses]
//          AS query
//   CREATE [OR REPLACE] TEMPORARY VIEW name [(view columns and expectations)] [COMMENT 'c']
//          [TBLPROPERTIES (...)] AS query
//   CREATE [OR REPLACE] VIEW name [...same...] AS query                     (a catalog view)
//   CREATE FLOW name [COMMENT 'c'] AS INSERT [ONCE] INTO [ONCE] target BY NAME query
//   CREATE FLOW name [COMMENT 'c'] AS AUTO CDC [ONCE] INTO target FROM ... (AUTO CDC clauses)
//   APPLY CHANGES INTO target FROM ... (AUTO CDC clauses)     a flow named after the target
//
// Legacy spellings (DLT): LIVE TABLE = MATERIALIZED VIEW, STREAMING LIVE TABLE = STREAMING TABLE,
// TEMPORARY [STREAMING] LIVE VIEW and LIVE VIEW = TEMPORARY VIEW, and TEMPORARY on a table =
// PRIVATE. OR REPLACE is accepted wherever OR REFRESH is (Databricks' own examples use it). A
// `LIVE.` prefix (two-part names whose first part is LIVE) is dropped from every defined name,
// target and AUTO CDC source; query text is left as written.
//
// Table clauses, in any order, each at most once: PARTITIONED BY (col, ...) (plain columns),
// CLUSTER BY (col, ...) | CLUSTER BY AUTO | CLUSTER BY NONE (not with PARTITIONED BY),
// COMMENT 'text', TBLPROPERTIES ('k' = 'v', ...), USING DELTA. LOCATION, WITH ROW FILTER, column
// MASK, GENERATED and DEFAULT are NotSupported. The table spec holds column definitions
// `name TYPE [NOT NULL] [COMMENT 'c'] [PRIMARY KEY]` (TYPE as written, e.g. DECIMAL(10, 2),
// STRUCT<a: INT, b: STRING>), expectations `CONSTRAINT name EXPECT (condition) [ON VIOLATION
// {DROP ROW | FAIL UPDATE | QUARANTINE}]` (QUARANTINE is medallion's) and informational
// `[CONSTRAINT name] {PRIMARY KEY | FOREIGN KEY} ...`, which are accepted and ignored as
// Databricks does not enforce them. A spec with only constraints is valid; a view's columns
// carry no type.
//
// AUTO CDC clauses (Databricks "AUTO CDC INTO"), in any order, each at most once:
//   FROM STREAM(source) | FROM STREAM source | FROM source
//   KEYS (k, ...)                                              required
//   IGNORE NULL UPDATES [ON (cols) | ON * EXCEPT (cols)]
//   APPLY AS DELETE WHEN condition, APPLY AS TRUNCATE WHEN condition (not with SCD TYPE 2)
//   SEQUENCE BY expr | SEQUENCE BY STRUCT(a, b)                 required
//   COLUMNS (cols) | COLUMNS cols | COLUMNS * EXCEPT (cols)
//   STORED AS SCD TYPE {1 | 2}
//   TRACK HISTORY ON {(cols) | cols | * EXCEPT (cols)}         SCD TYPE 2 only
// An expression (a condition, SEQUENCE BY) ends where the next clause begins at parenthesis depth
// 0 (`APPLY AS DELETE WHEN op = 'DELETE' SEQUENCE BY ts`).
//
// Scope: as in SDP, each file starts from options.catalog / options.schema and no SETs; USE and
// SET apply to the rest of their file only. Every definition records the catalog, schema and
// SET values current at its statement; PipelineDefinitions::sql_conf collects every SET (a later
// SET of a key wins).
//
// ${key} substitution (Spark's VariableSubstitution): before a statement is parsed, each
// `${key}` (also `${spark:key}`, `${sparkconf:key}`, `${hiveconf:key}`) is replaced by the
// configuration value of key, else by the value of an earlier SET of key in the same file; an
// unknown key is left as written. Substitution is not recursive and applies everywhere in the
// statement, string literals included, as in Spark.
//
// Query text: the exact source of the query (after substitution), from its first token to the end
// of the statement, trailing whitespace and comments excluded. Names, table references and
// queries are not resolved or validated here (the dataflow graph does that).
//
// Errors: InvalidArgument (NotSupported for the unsupported clauses above), the message starting
// with "<file>:<line>: " (the line of the offending token where there is one), e.g.
//   bronze.sql:12: unsupported statement: INSERT INTO t (a pipeline source file holds ...)
//   silver.sql:4: AUTO CDC into customers: KEYS (...) is required
//   gold.sql:7: expected AS <query> or a clause (PARTITIONED BY, ...) after the materialized
//     view name, found 'SELEC'
//
// Thread-safety: a pure function.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "common/result.h"
#include "pipeline/definitions.h"

namespace medallion::pipeline {

// One source file.
struct SqlSource {
  std::string file;  // the name used in messages and SourceLocation (relative to the spec folder)
  std::string text;  // the file's SQL
};

// The spec defaults a parse starts from (PipelineSpec's fields of the same names).
struct ParseOptions {
  // The spec's configuration: the values of ${key}. Not copied into the definitions.
  std::map<std::string, std::string> configuration;
  // The current catalog and schema at the start of each file ("" if none).
  std::string catalog;
  std::string schema;
};

// Parses `sources` in order; definitions keep the file order. Errors as described above; the first
// error stops the parse.
Result<PipelineDefinitions> ParsePipelineSql(const std::vector<SqlSource>& sources,
                                             const ParseOptions& options);

}  // namespace medallion::pipeline
