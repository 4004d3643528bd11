// RowTally: counts the rows of one query evaluation by a BIGINT key, from inside the query.
//
// A pipeline flow with expectations needs, from the evaluation that writes its rows, how many rows
// failed each expectation, how many were dropped and quarantined, and that every row was seen once
// (docs/architecture.md, "pipeline"). Evaluating the query a second time for the counts costs as
// much as the query (a DISTINCT and two joins in the flights silver table), and keeping its rows in
// a TEMP table costs a copy of them. A RowTally instead counts as the rows stream through the write:
//
//   RowTally tally;
//   COPY (SELECT ... FROM (SELECT *, <tally.Count("failed_bits")> AS k FROM q) WHERE k = 0) TO ...
//   tally.counts()  // {0: rows that passed, 1: rows that failed bit 0, ...}
//
// Count() is SQL calling the scalar function `__medallion_tally(id, key)` that Database::Open
// registers on every database: it returns `key` and counts it. DuckDB evaluates it once for each
// row that reaches the expression, never folds or moves it (it is registered volatile) and never
// skips a row that a filter above it tests; a caller that must be sure compares the counts with
// what it wrote (the pipeline compares the rows kept with the rows in the files).
//
// Errors: a NULL key, or an id of a RowTally that no longer exists, fails the query with an error
// naming the function.
//
// Thread-safety: DuckDB calls the function from its worker threads; counts are merged under a
// mutex once per vector of rows (2,048). counts() may be called at any time and from any thread;
// it sees every vector whose evaluation has finished. A RowTally must outlive the queries that use
// it; creating and destroying tallies is thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

namespace medallion::engine {

// The name of the function Count() calls.
inline constexpr std::string_view kRowTallyFunction = "__medallion_tally";

class RowTally {
 public:
  RowTally();
  ~RowTally();
  RowTally(const RowTally&) = delete;
  RowTally& operator=(const RowTally&) = delete;

  // SQL that evaluates to `key_sql` (a BIGINT expression, never NULL) and counts each row it is
  // evaluated on under that value.
  std::string Count(std::string_view key_sql) const;

  // Rows counted so far, per key value.
  std::map<int64_t, int64_t> counts() const;

 private:
  int64_t id_;
};

}  // namespace medallion::engine
