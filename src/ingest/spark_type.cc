#include "ingest/spark_type.h"

#include <fmt/format.h>

#include <cctype>

#include "common/macros.h"
#include "engine/sql_text.h"

namespace medallion::ingest {
namespace {

enum class Kind { kWord, kQuotedName, kNumber, kString, kSymbol, kEnd };

struct Token {
  Kind kind;
  std::string text;  // unquoted for kQuotedName and kString
};

Result<std::vector<Token>> Tokenize(std::string_view text) {
  std::vector<Token> tokens;
  size_t i = 0;
  while (i < text.size()) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    if (std::isspace(c)) {
      ++i;
    } else if (std::isalpha(c) || c == '_') {
      size_t start = i;
      while (i < text.size() &&
             (std::isalnum(static_cast<unsigned char>(text[i])) || text[i] == '_')) {
        ++i;
      }
      tokens.push_back({Kind::kWord, std::string(text.substr(start, i - start))});
    } else if (std::isdigit(c)) {
      size_t start = i;
      while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) ++i;
      tokens.push_back({Kind::kNumber, std::string(text.substr(start, i - start))});
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
      tokens.push_back({quote == '`' ? Kind::kQuotedName : Kind::kString, std::move(value)});
    } else {
      tokens.push_back({Kind::kSymbol, std::string(1, static_cast<char>(c))});
      ++i;
    }
  }
  tokens.push_back({Kind::kEnd, ""});
  return tokens;
}

std::string Upper(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
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

  Result<int> ParseNumber() {
    if (Peek().kind != Kind::kNumber) return Error("expected a number");
    std::string digits = Next().text;
    if (digits.size() > 4) return Error("number too large");
    return std::stoi(digits);
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

  Result<std::string> ParseType() {
    if (Peek().kind != Kind::kWord) return Error("expected a type name");
    std::string name = Upper(Next().text);
    if (name == "ARRAY") {
      RETURN_NOT_OK(Expect('<'));
      ASSIGN_OR_RETURN(std::string element, ParseType());
      RETURN_NOT_OK(Expect('>'));
      return element + "[]";
    }
    if (name == "MAP") {
      RETURN_NOT_OK(Expect('<'));
      ASSIGN_OR_RETURN(std::string key, ParseType());
      RETURN_NOT_OK(Expect(','));
      ASSIGN_OR_RETURN(std::string value, ParseType());
      RETURN_NOT_OK(Expect('>'));
      return fmt::format("MAP({}, {})", key, value);
    }
    if (name == "STRUCT") {
      RETURN_NOT_OK(Expect('<'));
      if (PeekSymbol('>')) return Error("a STRUCT needs at least one field");
      std::string out = "STRUCT(";
      bool first = true;
      while (true) {
        ASSIGN_OR_RETURN(std::string field, ParseName());
        if (PeekSymbol(':')) Next();
        ASSIGN_OR_RETURN(std::string type, ParseType());
        RETURN_NOT_OK(SkipColumnModifiers());
        if (!first) out += ", ";
        first = false;
        out += engine::QuoteIdentifier(field) + " " + type;
        if (PeekSymbol(',')) {
          Next();
          continue;
        }
        RETURN_NOT_OK(Expect('>'));
        return out + ")";
      }
    }
    if (name == "DECIMAL" || name == "DEC" || name == "NUMERIC") {
      int precision = 10;
      int scale = 0;
      if (PeekSymbol('(')) {
        Next();
        ASSIGN_OR_RETURN(precision, ParseNumber());
        if (PeekSymbol(',')) {
          Next();
          ASSIGN_OR_RETURN(scale, ParseNumber());
        }
        RETURN_NOT_OK(Expect(')'));
      }
      if (precision < 1 || precision > 38 || scale > precision) {
        return Status::InvalidArgument(
            fmt::format("DECIMAL({},{}) is out of range (precision 1-38, scale <= precision) in "
                        "\"{}\"",
                        precision, scale, text_));
      }
      return fmt::format("DECIMAL({},{})", precision, scale);
    }
    if (name == "VARCHAR" || name == "CHAR") {
      if (PeekSymbol('(')) {
        Next();
        RETURN_NOT_OK(ParseNumber().status());
        RETURN_NOT_OK(Expect(')'));
      }
      return std::string("VARCHAR");
    }
    static const std::pair<const char*, const char*> kSimple[] = {
        {"STRING", "VARCHAR"},
        {"INT", "INTEGER"},
        {"INTEGER", "INTEGER"},
        {"BIGINT", "BIGINT"},
        {"LONG", "BIGINT"},
        {"SMALLINT", "SMALLINT"},
        {"SHORT", "SMALLINT"},
        {"TINYINT", "TINYINT"},
        {"BYTE", "TINYINT"},
        {"DOUBLE", "DOUBLE"},
        {"FLOAT", "FLOAT"},
        {"REAL", "FLOAT"},
        {"BOOLEAN", "BOOLEAN"},
        {"DATE", "DATE"},
        {"TIMESTAMP", "TIMESTAMP WITH TIME ZONE"},
        {"TIMESTAMP_LTZ", "TIMESTAMP WITH TIME ZONE"},
        {"TIMESTAMP_NTZ", "TIMESTAMP"},
        {"BINARY", "BLOB"},
        {"VARIANT", "JSON"},
    };
    for (const auto& [spark, duckdb] : kSimple) {
      if (name == spark) return std::string(duckdb);
    }
    return Status::InvalidArgument(fmt::format(
        "unknown Spark type {} in \"{}\" (supported: STRING, INT, BIGINT, SMALLINT, TINYINT, "
        "DOUBLE, FLOAT, DECIMAL(p,s), BOOLEAN, DATE, TIMESTAMP, TIMESTAMP_NTZ, BINARY, VARIANT, "
        "ARRAY<t>, MAP<k,v>, STRUCT<...>)",
        name, text_));
  }

 private:
  std::string_view text_;
  std::vector<Token> tokens_;
  size_t pos_ = 0;
};

}  // namespace

Result<std::string> SparkTypeToDuckDb(std::string_view spark_type) {
  ASSIGN_OR_RETURN(std::vector<Token> tokens, Tokenize(spark_type));
  Parser parser(spark_type, std::move(tokens));
  ASSIGN_OR_RETURN(std::string type, parser.ParseType());
  if (!parser.AtEnd()) return parser.Error("unexpected text after the type");
  return type;
}

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
    ASSIGN_OR_RETURN(std::string type, parser.ParseType());
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
