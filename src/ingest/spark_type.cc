#include "ingest/spark_type.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <string>
#include <utility>

#include "common/macros.h"
#include "engine/spark_sql.h"

namespace medallion::ingest {
namespace {

enum class Kind { kWord, kQuotedName, kNumber, kString, kSymbol, kEnd };

struct Token {
  Kind kind;
  std::string text;  // unquoted for kQuotedName and kString
  size_t begin = 0;  // the token's bytes in the column list, quotes included
  size_t end = 0;
};

Result<std::vector<Token>> Tokenize(std::string_view text) {
  std::vector<Token> tokens;
  size_t i = 0;
  while (i < text.size()) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    size_t start = i;
    if (std::isspace(c)) {
      ++i;
      continue;
    }
    if (std::isalpha(c) || c == '_') {
      while (i < text.size() &&
             (std::isalnum(static_cast<unsigned char>(text[i])) || text[i] == '_')) {
        ++i;
      }
      tokens.push_back({Kind::kWord, std::string(text.substr(start, i - start)), start, i});
    } else if (std::isdigit(c)) {
      while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) ++i;
      tokens.push_back({Kind::kNumber, std::string(text.substr(start, i - start)), start, i});
    } else if (c == '`' || c == '\'' || c == '"') {
      char quote = static_cast<char>(c);
      std::string value;
      ++i;
      bool closed = false;
      while (i < text.size()) {
        if (text[i] == quote) {
          if (i + 1 < text.size() && text[i + 1] == quote) {
            value += quote;
            i += 2;
            continue;
          }
          closed = true;
          ++i;
          break;
        }
        if (text[i] == '\\' && quote != '`' && i + 1 < text.size()) ++i;
        value += text[i++];
      }
      if (!closed) {
        return Status::InvalidArgument(fmt::format("unterminated quote in \"{}\"", text));
      }
      tokens.push_back(
          {quote == '`' ? Kind::kQuotedName : Kind::kString, std::move(value), start, i});
    } else {
      ++i;
      tokens.push_back({Kind::kSymbol, std::string(1, static_cast<char>(c)), start, i});
    }
  }
  tokens.push_back({Kind::kEnd, "", text.size(), text.size()});
  return tokens;
}

std::string Upper(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

// DuckDB type text as engine::TranslateSparkType writes it -> as DESCRIBE prints it. Only type
// words are respelled: "quoted" STRUCT field names are copied as they are.
std::string DescribeSpelling(std::string_view type) {
  static const std::pair<std::string_view, std::string_view> kAliases[] = {
      {"TIMESTAMPTZ", "TIMESTAMP WITH TIME ZONE"},
  };
  std::string out;
  size_t i = 0;
  while (i < type.size()) {
    char c = type[i];
    if (c == '"') {  // a quoted name, "" inside it
      size_t start = i++;
      while (i < type.size()) {
        if (type[i] == '"' && !(i + 1 < type.size() && type[i + 1] == '"')) break;
        i += type[i] == '"' ? 2 : 1;
      }
      i = std::min(i + 1, type.size());
      out += type.substr(start, i - start);
    } else if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
      size_t start = i;
      while (i < type.size() &&
             (std::isalnum(static_cast<unsigned char>(type[i])) || type[i] == '_')) {
        ++i;
      }
      std::string_view word = type.substr(start, i - start);
      std::string_view spelled = word;
      for (const auto& [alias, name] : kAliases) {
        if (Upper(word) == alias) spelled = name;
      }
      out += spelled;
    } else {
      out += c;
      ++i;
    }
  }
  return out;
}

class Parser {
 public:
  Parser(std::string_view text, std::vector<Token> tokens)
      : text_(text), tokens_(std::move(tokens)) {}

  const Token& Peek() const { return tokens_[pos_]; }
  Token Next() { return tokens_[pos_ < tokens_.size() - 1 ? pos_++ : pos_]; }
  bool AtEnd() const { return Peek().kind == Kind::kEnd; }
  bool PeekSymbol(char symbol) const {
    return Peek().kind == Kind::kSymbol && Peek().text[0] == symbol;
  }
  bool PeekWord(std::string_view word) const {
    return Peek().kind == Kind::kWord && Upper(Peek().text) == word;
  }

  Status Error(std::string_view what) const {
    const Token& token = Peek();
    std::string near = token.kind == Kind::kEnd ? "the end" : "'" + token.text + "'";
    return Status::InvalidArgument(fmt::format("{} near {} in \"{}\"", what, near, text_));
  }

  Status Expect(char symbol) {
    if (!PeekSymbol(symbol)) return Error(fmt::format("expected '{}'", symbol));
    Next();
    return Status::OK();
  }

  Result<std::string> ParseName() {
    if (Peek().kind != Kind::kWord && Peek().kind != Kind::kQuotedName) {
      return Error("expected a column name");
    }
    return Next().text;
  }

  // [NOT NULL] [COMMENT 'text'], in any order, ignored: the schema has no nullability.
  Status SkipColumnModifiers() {
    while (true) {
      if (PeekWord("NOT")) {
        Next();
        if (!PeekWord("NULL")) return Error("expected NULL after NOT");
        Next();
      } else if (PeekWord("COMMENT")) {
        Next();
        if (Peek().kind != Kind::kString) return Error("expected a string after COMMENT");
        Next();
      } else {
        return Status::OK();
      }
    }
  }

  // The type of column `column`: the text up to the next ',', NOT or COMMENT outside brackets (or
  // the end), mapped by engine::TranslateSparkType and spelled as DESCRIBE prints it.
  Result<std::string> ParseType(std::string_view column) {
    size_t first = pos_;
    int depth = 0;
    while (!AtEnd()) {
      if (Peek().kind == Kind::kSymbol) {
        char c = Peek().text[0];
        if (c == '<' || c == '(') {
          ++depth;
        } else if ((c == '>' || c == ')') && depth > 0) {
          --depth;
        } else if (c == ',' && depth == 0) {
          break;
        }
      } else if (depth == 0 && (PeekWord("NOT") || PeekWord("COMMENT"))) {
        break;
      }
      Next();
    }
    if (pos_ == first) return Error("expected a type name");
    size_t begin = tokens_[first].begin;
    std::string_view spark = text_.substr(begin, tokens_[pos_ - 1].end - begin);
    auto type = engine::TranslateSparkType(spark);
    if (!type.ok()) {
      return Status::InvalidArgument(
          fmt::format("column {}: {} in \"{}\"", column, type.status().message(), text_));
    }
    return DescribeSpelling(*type);
  }

 private:
  std::string_view text_;
  std::vector<Token> tokens_;
  size_t pos_ = 0;
};

}  // namespace

Result<std::vector<SourceColumn>> ParseSparkColumnList(std::string_view ddl) {
  ASSIGN_OR_RETURN(std::vector<Token> tokens, Tokenize(ddl));
  Parser parser(ddl, std::move(tokens));
  std::vector<SourceColumn> columns;
  while (!parser.AtEnd()) {
    ASSIGN_OR_RETURN(std::string name, parser.ParseName());
    if (parser.PeekSymbol('.')) {
      return Status::NotSupported(fmt::format(
          "nested schema hints ({}.…) are not supported in \"{}\"; give the whole column's type",
          name, ddl));
    }
    if (parser.PeekSymbol(':')) parser.Next();
    ASSIGN_OR_RETURN(std::string type, parser.ParseType(name));
    RETURN_NOT_OK(parser.SkipColumnModifiers());
    for (const SourceColumn& existing : columns) {
      if (EqualsIgnoreCase(existing.name, name)) {
        return Status::InvalidArgument(
            fmt::format("column {} appears twice in \"{}\"", name, ddl));
      }
    }
    columns.push_back({std::move(name), std::move(type)});
    if (parser.AtEnd()) break;
    RETURN_NOT_OK(parser.Expect(','));
  }
  return columns;
}

}  // namespace medallion::ingest
