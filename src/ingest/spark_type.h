// Spark DDL column lists -> columns with DuckDB types, for the `schema` and `schemaHints` options
// of read_files / Auto Loader (Databricks, "read_files table-valued function", options `schema`
// and `schemaHints`; "Configure schema inference and evolution in Auto Loader", "Override schema
// inference with schema hints").
//
// A column list is Spark's DDL form: `name [:] type [NOT NULL] [COMMENT 'text'], ...`, names plain
// or `backticked`. Each type is mapped by engine::TranslateSparkType (engine/spark_sql.h has the
// type table: STRING -> VARCHAR, TIMESTAMP -> an instant, VARIANT -> JSON, STRUCT<a: INT> ->
// STRUCT("a" INTEGER), ...), then spelled as DuckDB's DESCRIBE prints it (TIMESTAMPTZ -> TIMESTAMP
// WITH TIME ZONE, also inside nested types), so types from hints and types DuckDB infers from
// files compare equal. NOT NULL and COMMENT are accepted and dropped: the schema has no
// nullability. Nested hints (`a.b INT`, `arr.element INT`, `m.key INT`) are NotSupported.
//
// Errors: InvalidArgument naming the offending text for a syntax error, an unknown type name, an
// out-of-range DECIMAL or a duplicate column.
// Thread-safety: pure functions.
#pragma once

#include <string_view>
#include <vector>

#include "common/result.h"
#include "ingest/source_schema.h"

namespace medallion::ingest {

// A Spark DDL column list ("a INT, `b c` DECIMAL(10,2) NOT NULL, d STRING COMMENT 'x'") as
// columns with DuckDB types in DESCRIBE's spelling, in order. An empty or blank list gives no
// columns. InvalidArgument for a duplicate name (compared case-insensitively, as Spark does).
Result<std::vector<SourceColumn>> ParseSparkColumnList(std::string_view ddl);

}  // namespace medallion::ingest
