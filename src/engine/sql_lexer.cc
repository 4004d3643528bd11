#include "engine/sql_lexer.h"

#include <cctype>

#include <fmt/format.h>

namespace medallion::engine {

Result<std::vector<Token>> LexSql(std::string_view sql) {
  std::vector<Token> tokens;
  size_t i = 0, line = 1;
  auto push = [&](TokenKind kind, size_t start) {
    // `line` only advances here, so it is still the token's first line.
    tokens.push_back({kind, sql.substr(start, i - start), start, line});
    for (size_t k = start; k < i; ++k) line += sql[k] == '\n';
  };
  auto unterminated = [&](const char* what, size_t start_line) {
    return Status::InvalidArgument(fmt::format("line {}: unterminated {}", start_line, what));
  };
  while (i < sql.size()) {
    size_t start = i;
    char c = sql[i];
    size_t start_line = line;
    if (std::isspace(static_cast<unsigned char>(c))) {
      while (i < sql.size() && std::isspace(static_cast<unsigned char>(sql[i]))) ++i;
      push(TokenKind::kSpace, start);
    } else if (c == '-' && i + 1 < sql.size() && sql[i + 1] == '-') {
      while (i < sql.size() && sql[i] != '\n') ++i;
      push(TokenKind::kComment, start);
    } else if (c == '/' && i + 1 < sql.size() && sql[i + 1] == '*') {
      size_t end = sql.find("*/", i + 2);
      if (end == std::string_view::npos) return unterminated("/* comment", start_line);
      i = end + 2;
      push(TokenKind::kComment, start);
    } else if (c == '$' && i + 1 < sql.size() && sql[i + 1] == '$') {
      size_t end = sql.find("$$", i + 2);
      if (end == std::string_view::npos) return unterminated("$$ body", start_line);
      i = end + 2;
      push(TokenKind::kDollar, start);
    } else if (c == '\'' || c == '"' || c == '`') {
      ++i;
      while (true) {
        if (i >= sql.size()) {
          return unterminated(c == '`' ? "` identifier" : (c == '"' ? "\" quote" : "' string"), start_line);
        }
        if (sql[i] == '\\' && c != '`' && i + 1 < sql.size()) {
          i += 2;
          continue;
        }
        if (sql[i] == c) {
          if (i + 1 < sql.size() && sql[i + 1] == c) {
            i += 2;
            continue;
          }
          ++i;
          break;
        }
        ++i;
      }
      push(c == '`' ? TokenKind::kBacktick : (c == '"' ? TokenKind::kDoubleQuoted : TokenKind::kString), start);
    } else if (std::isdigit(static_cast<unsigned char>(c))) {
      while (i < sql.size() && (std::isalnum(static_cast<unsigned char>(sql[i])) || sql[i] == '.')) ++i;
      push(TokenKind::kNumber, start);
    } else if (std::isalpha(static_cast<unsigned char>(c)) || c == '_' || static_cast<unsigned char>(c) >= 0x80) {
      while (i < sql.size() && (std::isalnum(static_cast<unsigned char>(sql[i])) || sql[i] == '_' ||
                                sql[i] == '$' || static_cast<unsigned char>(sql[i]) >= 0x80)) {
        ++i;
      }
      push(TokenKind::kWord, start);
    } else {
      ++i;
      push(TokenKind::kSymbol, start);
    }
  }
  return tokens;
}

std::string Unquote(const Token& token) {
  std::string_view t = token.text;
  if (t.size() < 2 || (token.kind != TokenKind::kString && token.kind != TokenKind::kBacktick &&
                       token.kind != TokenKind::kDoubleQuoted)) {
    return std::string(t);
  }
  char q = t.front();
  std::string out;
  for (size_t i = 1; i + 1 < t.size(); ++i) {
    if (t[i] == q && i + 2 < t.size() && t[i + 1] == q) {
      out += q;
      ++i;
    } else if (t[i] == '\\' && q != '`' && i + 2 < t.size()) {
      out += t[++i];
    } else {
      out += t[i];
    }
  }
  return out;
}

bool IsKeyword(const Token& token, std::string_view keyword) {
  if (token.kind != TokenKind::kWord || token.text.size() != keyword.size()) return false;
  for (size_t i = 0; i < keyword.size(); ++i) {
    if (std::toupper(static_cast<unsigned char>(token.text[i])) !=
        std::toupper(static_cast<unsigned char>(keyword[i]))) {
      return false;
    }
  }
  return true;
}

}  // namespace medallion::engine
