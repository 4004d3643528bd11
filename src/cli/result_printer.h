// Printing query results for people and for other programs (`medallion sql --format ...`).
//
//   table  aligned columns under a header, numbers right-aligned, NULL shown as NULL, and a footer
//          with the row count ("3 rows"); long results show the first and last rows (`max_rows`).
//   csv    RFC 4180: a header line, fields quoted when they hold a comma, quote or line break; NULL is
//          an empty field.
//   json   JSON Lines: one object per row, keys in column order; numbers and booleans bare, NULL as
//          null, nested LIST/STRUCT/MAP as JSON arrays/objects.
//
// Thread-safety: pure functions of their inputs.
#pragma once

#include <ostream>
#include <string_view>

#include "common/result.h"
#include "engine/query_result.h"

namespace medallion::cli {

enum class OutputFormat { kTable, kCsv, kJson };

// "table", "csv", "json" (also "jsonl"); InvalidArgument naming the accepted ones otherwise.
Result<OutputFormat> ParseOutputFormat(std::string_view name);

struct PrintOptions {
  OutputFormat format = OutputFormat::kTable;
  // Table format only: at most this many rows are printed (half from the top, half from the bottom,
  // with a "..." line between); 0 prints every row.
  size_t max_rows = 40;
};

void PrintResult(const engine::QueryResult& result, const PrintOptions& options, std::ostream& out);

}  // namespace medallion::cli
