// Query results as text, for the integration tests' assertions (test-only, header only).
//
// Every helper runs `sql` on `session`, records a failure naming the query when it fails, and
// then returns an empty or -1 result. Thread-safety: as the Session.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "engine/session.h"

namespace medallion::testutil {

// One "a|b|..." line per row, in the query's order.
inline std::vector<std::string> RowsOf(engine::Session& session, const std::string& sql) {
  std::vector<std::string> rows;
  auto result = session.Query(sql);
  EXPECT_TRUE(result.ok()) << result.status().ToString() << "\n" << sql;
  if (!result.ok()) return rows;
  for (size_t r = 0; r < result->row_count(); ++r) {
    std::string row;
    for (size_t c = 0; c < result->column_count(); ++c) {
      row += (c ? "|" : "") + result->GetText(c, r);
    }
    rows.push_back(row);
  }
  return rows;
}

// Every row as "a,b;" in one text, in the query's order.
inline std::string TextOf(engine::Session& session, const std::string& sql) {
  auto r = session.Query(sql);
  EXPECT_TRUE(r.ok()) << sql << ": " << r.status().ToString();
  std::string out;
  if (!r.ok()) return out;
  for (size_t i = 0; i < r->row_count(); ++i) {
    for (size_t c = 0; c < r->column_count(); ++c) out += (c ? "," : "") + r->GetText(c, i);
    out += ";";
  }
  return out;
}

// The first column of the first row, an integer (a count).
inline int64_t CountOf(engine::Session& session, const std::string& sql) {
  auto r = session.Query(sql);
  EXPECT_TRUE(r.ok()) << sql << ": " << r.status().ToString();
  return r.ok() ? *r->GetInt64(0, 0) : -1;
}

// `actual` and `expected` (relations) hold the same rows, as multisets.
inline void ExpectSameMultiset(engine::Session& session, const std::string& actual,
                               const std::string& expected) {
  EXPECT_EQ(CountOf(session, "SELECT count(*) FROM " + actual),
            CountOf(session, "SELECT count(*) FROM " + expected));
  EXPECT_EQ(CountOf(session, "SELECT count(*) FROM (SELECT * FROM " + expected +
                                 " EXCEPT ALL SELECT * FROM " + actual + ")"),
            0);
  EXPECT_EQ(CountOf(session, "SELECT count(*) FROM (SELECT * FROM " + actual +
                                 " EXCEPT ALL SELECT * FROM " + expected + ")"),
            0);
}

}  // namespace medallion::testutil
