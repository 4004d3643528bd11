// The tables a DuckDB query reads, found by DuckDB's own parser (json_serialize_sql), so that
// references inside subqueries, joins, CTEs and set operations are all found and nothing inside a
// string or comment is mistaken for one. The pipeline graph uses this to learn each query's inputs
// (../shared/DESIGN.md, "One pipeline run", step 2) and to replace them by the views that read the
// right Delta snapshot.
//
// Thread-safety: as for Connection (the parse runs on it).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "engine/database.h"

namespace medallion::engine {

// One base-table reference in a query (DuckDB's BASE_TABLE table ref).
struct TableReference {
  std::string catalog;  // "" when not written
  std::string schema;   // "" when not written
  std::string table;
  std::string alias;    // "" when the query gives none
  size_t begin = 0;     // byte range of the (possibly qualified) name in the SQL text
  size_t end = 0;
};

// The base-table references of one SELECT query (DuckDB SQL), in text order, without references
// to the query's own CTEs (a one-part name equal to a CTE name defined anywhere in the query).
// Table functions (read_parquet(...)) and subqueries are not base tables and are not listed.
// InvalidArgument with DuckDB's parser message for text that does not parse or is not one query.
Result<std::vector<TableReference>> FindTableReferences(Connection& conn, std::string_view sql);
// The same for several queries in one DuckDB statement (much cheaper than one call per query):
// one result per query, in order. The outer error is DuckDB's, for the statement as a whole.
Result<std::vector<Result<std::vector<TableReference>>>> FindTableReferences(
    Connection& conn, const std::vector<std::string>& sqls);

// `sql` with each reference's name range replaced by `replacements[i]` (same order and length as
// `refs`); a reference without an alias also gets ` AS "<table>"`, so qualified column references
// (`orders.id`) still bind.
std::string ReplaceTableReferences(std::string_view sql, const std::vector<TableReference>& refs,
                                   const std::vector<std::string>& replacements);

}  // namespace medallion::engine
