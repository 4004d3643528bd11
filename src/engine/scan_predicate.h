// Scan predicates: the part of a query's WHERE that data skipping can use (delta/data_skipping.h),
// found by DuckDB's own parser (json_serialize_sql, as engine/sql_references.h does).
//
// ExtractScanPredicate looks at one SELECT statement whose top-level FROM is exactly one base table
// named `table_name` (the placeholder a caller put where the delta.`path` reference was). From its
// WHERE it keeps the top-level AND-conjuncts of these shapes, where `col` is a column of that table
// (`col`, `alias.col`, `table.col`, or a struct path `col.field`) and the values are literals:
//   col = v, col < v, col <= v, col > v, col >= v (either side), col BETWEEN a AND b,
//   col IN (v, ...), col IS NULL, col IS NOT NULL.
// Literals: integers, decimals (up to 18 digits), doubles, strings, booleans, NULL, and typed
// strings DATE '...', TIMESTAMP '...', TIMESTAMPTZ '...'. Everything else (OR, NOT, <>, functions
// of columns, subqueries, joins, set operations, a FROM that is not the table) contributes
// nothing; the result may be empty. The query must still apply its whole WHERE: the predicate only
// chooses files, conservatively. Column names are not checked against a schema here (a name that is
// not a table column, e.g. a select-list alias, must be dropped by the caller; RegisterDeltaScan
// does).
//
// TIMESTAMP '...' becomes a `timestamp` (UTC) literal, so it skips files of Delta `timestamp`
// columns only (not of timestamp_ntz or string columns, where DuckDB's comparison differs).
// Time zones: a string compared with a Delta `timestamp` column is read as UTC by data skipping.
// When the connection's TimeZone is not UTC, string literals that read as a date or timestamp are
// left out, since DuckDB would read them in the session's zone.
//
// Errors: only the connection's (json_serialize_sql could not run). SQL that does not parse gives
// an empty predicate (the query itself will report the error).
//
// Thread-safety: as for Connection.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/result.h"
#include "delta/data_skipping.h"
#include "engine/database.h"

namespace medallion::engine {

Result<delta::SkippingPredicate> ExtractScanPredicate(Connection& conn, std::string_view select_sql,
                                                      std::string_view table_name);

// The same, plus the top-level conjuncts `x = y` between two columns (as MERGE's ON condition has
// them: `t.id = s.id`), each side's column_names as written (qualifier included), so a caller that
// knows the aliases can tell the table's side from the other's.
struct ScanConditions {
  delta::SkippingPredicate predicate;
  std::vector<std::pair<std::vector<std::string>, std::vector<std::string>>> column_equalities;
};
Result<ScanConditions> ExtractScanConditions(Connection& conn, std::string_view select_sql,
                                             std::string_view table_name);

}  // namespace medallion::engine
