// Row constraints of Delta tables in the engine: checking the rows a write adds against the
// table's CHECK constraints and column invariants (delta/constraints.h; PROTOCOL.md, "CHECK
// Constraints", "Column Invariants"), and ALTER TABLE ... ADD / DROP CONSTRAINT as Delta Lake and
// Databricks implement them.
//
// CheckRowConstraints evaluates every constraint (its Spark SQL expression translated by
// engine/spark_sql.h) over the rows about to be written, in one scan. A row for which an
// expression is false or NULL fails the write with InvalidArgument, in Delta Lake's words plus a
// count of the rows that fail:
//   CHECK constraint positive (id > 0) violated by row with values:
//    - id : -1
//   (3 rows violate it)
// The values listed are those of the table's top-level columns the expression names. The callers
// check before committing, so a failed write leaves the table unchanged: WriteDelta
// (engine/delta_writer.h) and DELETE / UPDATE / MERGE (engine/delta_dml.h).
//
// AddCheckConstraint (ALTER TABLE t ADD CONSTRAINT name CHECK (expr)) checks that the expression is
// boolean and that every row of the latest snapshot satisfies it, then commits the table property
// delta.constraints.<lower-case name> = expr with operation "ADD CONSTRAINT" and
// operationParameters {name, expr}; the protocol moves to writer version 3 (or gains the
// checkConstraints feature) in the same commit. It reads the whole table, so a concurrent commit
// that adds or removes data makes it fail with Conflict. DropCheckConstraint commits the table
// without the property ("DROP CONSTRAINT", {name, expr}).
//
// Errors (messages name the table for ADD / DROP):
//   InvalidArgument: a violated constraint (above); "<n> rows in <table> violate the new CHECK
//     constraint (<expr>)"; "CHECK constraint '<name>' (<expr>) should be a boolean expression";
//   AlreadyExists: "Constraint '<name>' already exists. Please delete the old constraint first.
//     Old constraint: <expr>";
//   NotFound: "Cannot drop nonexistent constraint <name> from table <table>" (not with if_exists);
//     no table at the root;
//   Conflict from the commit; DuckDB's errors for an expression that does not parse or bind.
//
// Thread-safety: one call at a time per Connection (ADD registers a TEMP view named
// __medallion_constraint_scan and drops it).
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "delta/constraints.h"
#include "delta/parquet_handler.h"
#include "delta/schema.h"
#include "engine/database.h"
#include "storage/object_store.h"

namespace medallion::engine {

// Checks the rows of `rows` (a table or view name, or a parenthesized query, with the table's
// columns) against `constraints`; `fields` are the table's top-level columns (to list a failing
// row's values). OK when there are no constraints (nothing is run).
Status CheckRowConstraints(Connection& conn, std::string_view rows,
                           const std::vector<delta::RowConstraint>& constraints,
                           const std::vector<delta::StructField>& fields);

// The commit version of ALTER TABLE ... ADD CONSTRAINT `name` CHECK (`expression`).
Result<int64_t> AddCheckConstraint(Connection& conn, storage::ObjectStore& store,
                                   std::string_view table_root, delta::ParquetHandler& parquet,
                                   std::string_view name, std::string_view expression);

// The commit version of ALTER TABLE ... DROP CONSTRAINT [IF EXISTS] `name`; nullopt when
// `if_exists` and there is no such constraint (nothing is committed).
Result<std::optional<int64_t>> DropCheckConstraint(storage::ObjectStore& store,
                                                   std::string_view table_root,
                                                   delta::ParquetHandler& parquet,
                                                   std::string_view name, bool if_exists);

}  // namespace medallion::engine
