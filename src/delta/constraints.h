// The row constraints of a Delta table: CHECK constraints and column invariants (PROTOCOL.md,
// "CHECK Constraints", "Column Invariants").
//
//   - A CHECK constraint is a table property `delta.constraints.<name>` whose value is a boolean
//     Spark SQL expression over the table's columns. Delta Lake stores the name in lower case
//     (ALTER TABLE ... ADD CONSTRAINT DateCheck ... writes `delta.constraints.datecheck`), so names
//     compare ignoring case.
//   - A column invariant is the column metadata key `delta.invariants`, whose value is JSON text
//     `{"expression": {"expression": "<SQL>"}}` (a plain SQL string is accepted too, as the older
//     protocol text allows). Delta Lake names it `EXPRESSION(<SQL>)` in its errors; so do we.
//
// Every row a writer adds must make every expression true: false or NULL aborts the write (Delta
// Lake's CheckDeltaInvariant, unlike SQL's CHECK, which lets NULL pass). The protocol core sees no
// rows: engine/delta_constraints.h evaluates the expressions.
//
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "delta/actions.h"

namespace medallion::delta {

inline constexpr std::string_view kCheckConstraintPrefix = "delta.constraints.";
inline constexpr std::string_view kInvariantsKey = "delta.invariants";

struct RowConstraint {
  enum class Kind { kCheck, kInvariant };
  Kind kind = Kind::kCheck;
  std::string name;        // the property's suffix (CHECK), or "EXPRESSION(<expression>)"
  std::string expression;  // Spark SQL, as stored
  std::string column;      // kInvariant: the column's dotted path
};

// The table property key of CHECK constraint `name`: "delta.constraints." + lower-case name.
std::string CheckConstraintKey(std::string_view name);

// Every constraint of `metadata`: the CHECK constraints ordered by name, then the invariants in
// schema order (nested fields included). InvalidArgument for a malformed schema, an empty
// expression or an invariant whose JSON has no expression.expression string.
Result<std::vector<RowConstraint>> TableConstraints(const Metadata& metadata);

}  // namespace medallion::delta
