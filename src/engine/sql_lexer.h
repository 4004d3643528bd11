// A lexer for Spark SQL text, enough to find statements and rewrite table references without
// parsing the grammar: it knows quotes ('..', "..", `..`), comments (-- and /* */), Databricks'
// $$-quoted bodies, numbers, words and punctuation, and keeps every byte so text can be rebuilt.
//
// Thread-safety: pure functions.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace medallion::engine {

enum class TokenKind {
  kWord,        // identifier or keyword: letters, digits, _ (and $ inside)
  kBacktick,    // `quoted identifier` (text includes the backticks)
  kDoubleQuoted,// "..." (an identifier in DuckDB, a string in Spark's default mode)
  kString,      // '...' (text includes the quotes; '' and \' escapes kept)
  kDollar,      // $$ ... $$
  kNumber,
  kSymbol,      // one punctuation character, e.g. ; . , ( ) = @
  kSpace,       // whitespace
  kComment,     // -- ... or /* ... */
};

struct Token {
  TokenKind kind;
  std::string_view text;  // a view into the lexed SQL
  size_t offset;          // byte offset in the SQL
  size_t line;            // 1-based line of the token's first byte
};

// InvalidArgument naming the line for an unterminated quote or comment.
Result<std::vector<Token>> LexSql(std::string_view sql);

// The unquoted content of a string or backtick token ('it''s' -> it's, `a``b` -> a`b).
std::string Unquote(const Token& token);

// Case-insensitive keyword test for a kWord token.
bool IsKeyword(const Token& token, std::string_view keyword);

}  // namespace medallion::engine
