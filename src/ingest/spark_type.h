// Spark SQL type text -> DuckDB type text, for the `schema` and `schemaHints` options of
// read_files / Auto Loader (Databricks, "read_files table-valued function", options `schema` and
// `schemaHints`; "Configure schema inference and evolution in Auto Loader", "Override schema
// inference with schema hints").
//
// A column list is Spark's DDL form: `name type [NOT NULL] [COMMENT 'text'], ...`, names plain or
// `backticked`. Types map as follows (the DuckDB spelling is what DESCRIBE prints, so types from
// hints and from Parquet files compare equal):
//   STRING, VARCHAR(n), CHAR(n)        -> VARCHAR
//   INT, INTEGER                        -> INTEGER
//   BIGINT, LONG                        -> BIGINT
//   SMALLINT, SHORT / TINYINT, BYTE     -> SMALLINT / TINYINT
//   DOUBLE / FLOAT, REAL                -> DOUBLE / FLOAT
//   DECIMAL, DEC, NUMERIC [(p[, s])]    -> DECIMAL(p,s)   (Spark's default precision: (10,0))
//   BOOLEAN                             -> BOOLEAN
//   DATE                                -> DATE
//   TIMESTAMP, TIMESTAMP_LTZ            -> TIMESTAMP WITH TIME ZONE   (an instant, as in Spark)
//   TIMESTAMP_NTZ                       -> TIMESTAMP                  (wall clock)
//   BINARY                              -> BLOB
//   VARIANT                             -> JSON
//   ARRAY<t>                            -> t[]
//   MAP<k, v>                           -> MAP(k, v)
//   STRUCT<a: t, b t, ...>              -> STRUCT("a" t, "b" t)
// Nested hints (`a.b INT`, `arr.element INT`, `m.key INT`) are NotSupported.
//
// Errors: InvalidArgument naming the offending text for a syntax error or an unknown type name.
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "ingest/source_schema.h"

namespace medallion::ingest {

// One Spark type ("DECIMAL(10, 2)", "array<struct<a: int>>") as DuckDB type text.
Result<std::string> SparkTypeToDuckDb(std::string_view spark_type);

// A Spark DDL column list ("a INT, `b c` DECIMAL(10,2) NOT NULL, d STRING COMMENT 'x'") as
// columns with DuckDB types, in order. An empty or blank list gives no columns. InvalidArgument for
// a duplicate name (compared case-insensitively, as Spark does).
Result<std::vector<SourceColumn>> ParseSparkColumnList(std::string_view ddl);

}  // namespace medallion::ingest
