// Data skipping: which of a snapshot's files may hold rows matching a simple predicate, decided
// from each file's partition values and per-file statistics alone (PROTOCOL.md, "Per-file
// Statistics", "Partition Value Serialization", "Column Mapping").
//
// A SkippingPredicate is a conjunction (AND) of column predicates, each on one primitive column
// named by its logical path ({"a"} or {"s", "x"} for the struct field s.x):
//   col = v, col < v, col <= v, col > v, col >= v     (SkippingOp::kEqual ... kGreaterOrEqual)
//   col IN (v1, ..., vn)                              (kIn; NULL list entries never match)
//   col IS NULL, col IS NOT NULL                      (kIsNull, kIsNotNull)
// with SQL semantics: a comparison with NULL is never true, so a file where the column is NULL in
// every row cannot match `col = v`. Literals are Scalars (delta/scalar.h) and are compared with the
// column's type the way a SQL engine casts them: integers, decimals and doubles as numbers (as
// doubles when either side is a double, otherwise exactly); a kString literal against a
// non-string column is read as that type's text (ParsePartitionValue: '2024-01-31' for a date,
// '2024-01-31 10:00:00' for a timestamp, taken as UTC without a zone); strings by their UTF-8
// bytes (as Spark and DuckDB compare them); booleans false < true. A conjunct whose literal does not
// fit the column's type (e.g. 'abc' against a long), or whose column is binary or nested
// (struct/array/map), is ignored: it never causes a file to be skipped (see ignored()).
//
// The decision is conservative: a file is skipped only when no row of it can match. A file is kept
// when its statistics are missing or unparsable, when a column has no statistics (not among the
// indexed columns), or when a bound is absent. Bounds are widened where writers cut them:
//   - string maxValues may be cut to a prefix (Spark: 32 characters, a cut max may carry a U+10FFFF
//     tie-breaker): a max that may be cut bounds only "strings starting with the prefix";
//   - timestamps in statistics are truncated to milliseconds: bounds are widened by 1 ms;
//   - float statistics are widened by one float ulp (a float printed as decimal text);
//   - tightBounds = false (deletion vectors): min/max are still bounds; nullCount is used only in
//     its two meaningful cases, 0 and numRecords.
// nullCount == numRecords means the column is NULL in every row: such a file is skipped by every
// comparison and IN, and by IS NOT NULL; nullCount == 0 skips it for IS NULL (top-level columns
// only). Partition columns are decided exactly from partitionValues (NULL partitions included).
// Under column mapping, partitionValues and statistics use physical names; the filter maps them.
//
// Usage (e.g. choosing the files a MERGE must rewrite for touched keys):
//   SkippingPredicate p;
//   p.conjuncts.push_back(ColumnPredicate::In({"key"}, {Scalar::Int64(3), Scalar::Int64(9)}));
//   ASSIGN_OR_RETURN(FileSelection sel, SelectFiles(*snapshot, p));
//   // sel.files: the files that may hold key 3 or 9; sel.considered / sel.kept for logs.
//
// Errors: InvalidArgument when a predicate names a column that is not in the table's schema (the
// message names the column), or a path that descends into a non-struct field. Unparsable
// statistics or partition values are not errors: the file is kept.
//
// Thread-safety: the predicate types are plain values; a DataSkippingFilter is immutable after Make
// and MayMatch may be called from any thread. The filter copies what it needs from the table
// configuration, which need not outlive it. FileSelection points into the file vector it was
// selected from (the snapshot's files()), which must outlive it.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "delta/actions.h"
#include "delta/scalar.h"
#include "delta/schema.h"
#include "delta/snapshot.h"
#include "delta/table_configuration.h"

namespace medallion::delta {

enum class SkippingOp {
  kEqual,
  kLess,
  kLessOrEqual,
  kGreater,
  kGreaterOrEqual,
  kIn,
  kIsNull,
  kIsNotNull,
};

// One conjunct: `column op values`.
struct ColumnPredicate {
  std::vector<std::string> column;  // logical path, top-level name first; matched ignoring case
  SkippingOp op = SkippingOp::kEqual;
  // kEqual..kGreaterOrEqual: exactly one value; kIn: the list (may be empty: never true); kIsNull,
  // kIsNotNull: none.
  std::vector<Scalar> values;

  static ColumnPredicate Compare(std::vector<std::string> column, SkippingOp op, Scalar value);
  static ColumnPredicate In(std::vector<std::string> column, std::vector<Scalar> values);
  static ColumnPredicate IsNull(std::vector<std::string> column);
  static ColumnPredicate IsNotNull(std::vector<std::string> column);

  // A readable form for logs and tests: "id = 42", "s.x IN (1, 2)", "d IS NULL".
  std::string ToString() const;
};

// A conjunction of column predicates; empty: every file may match.
struct SkippingPredicate {
  std::vector<ColumnPredicate> conjuncts;

  bool empty() const { return conjuncts.empty(); }
  // "id = 42 AND p IS NULL" ("TRUE" when empty).
  std::string ToString() const;
};

// A predicate bound to a table's schema, partitioning and column mapping.
class DataSkippingFilter {
 public:
  // Resolves the columns. InvalidArgument as in the header comment.
  static Result<DataSkippingFilter> Make(const TableConfiguration& config,
                                         const SkippingPredicate& predicate);

  // Whether `file` may hold a row for which every conjunct is true. Reads file.partition_values
  // and file.stats; never fails (what it cannot read keeps the file).
  bool MayMatch(const AddFile& file) const;

  // Conjuncts that take part in skipping, and those ignored, with why ("id = 'abc': literal is not
  // a long"), for logs.
  int64_t num_usable_conjuncts() const { return static_cast<int64_t>(conjuncts_.size()); }
  const std::vector<std::string>& ignored() const { return ignored_; }

  // Internal: a resolved conjunct (defined in data_skipping.cc).
  struct Bound;

 private:
  DataSkippingFilter() = default;

  std::vector<std::shared_ptr<const Bound>> conjuncts_;
  std::vector<std::string> ignored_;
};

// The files of a table that may match, in their original order, with counts for logs and
// benchmarks.
struct FileSelection {
  std::vector<const AddFile*> files;  // points into the vector selected from
  int64_t considered = 0;             // files looked at
  int64_t kept = 0;                   // == files.size()
  int64_t skipped() const { return considered - kept; }
};

// The snapshot's active files that may match `predicate` (all of them for an empty predicate).
// Errors of DataSkippingFilter::Make.
Result<FileSelection> SelectFiles(const Snapshot& snapshot, const SkippingPredicate& predicate);
// The same over an explicit list of a table's files, read with `config`.
Result<FileSelection> SelectFiles(const TableConfiguration& config,
                                  const std::vector<AddFile>& files,
                                  const SkippingPredicate& predicate);

// The file's numRecords from its statistics ("Per-file Statistics"): physical records, rows a
// deletion vector marks deleted included. nullopt without statistics, or when they are malformed
// or lack numRecords.
std::optional<int64_t> NumRecords(const AddFile& file);

}  // namespace medallion::delta
