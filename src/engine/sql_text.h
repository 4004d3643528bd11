// Quoting helpers for SQL text that engine/ and its callers build.
//
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>

namespace medallion::engine {

// 'it''s': a SQL string literal.
std::string QuoteString(std::string_view text);
// "my ""col""": a SQL identifier, always quoted (so keywords and odd characters are safe).
std::string QuoteIdentifier(std::string_view name);

}  // namespace medallion::engine
