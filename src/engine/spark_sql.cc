#include "common/text.h"
#include "engine/spark_sql.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/macros.h"
#include "engine/sql_lexer.h"
#include "engine/sql_text.h"

namespace medallion::engine {
namespace {

constexpr size_t kNone = std::numeric_limits<size_t>::max();

std::string Upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

bool IsSimpleName(std::string_view s) {
  if (s.empty() || !(std::isalpha(static_cast<unsigned char>(s[0])) || s[0] == '_')) return false;
  for (char c : s) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_')) return false;
  }
  return true;
}

// A JSON string: "..." with \" \\ and control characters escaped.
std::string JsonQuote(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      out += fmt::format("\\u{:04x}", static_cast<int>(c));
    } else {
      out += c;
    }
  }
  return out + "\"";
}

void AppendUtf8(uint32_t cp, std::string& out) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

std::optional<uint32_t> ParseHex(std::string_view s) {
  uint32_t v = 0;
  for (char c : s) {
    int d = std::isdigit(static_cast<unsigned char>(c)) ? c - '0'
            : (c >= 'a' && c <= 'f')                    ? c - 'a' + 10
            : (c >= 'A' && c <= 'F')                    ? c - 'A' + 10
                                                        : -1;
    if (d < 0) return std::nullopt;
    v = v * 16 + static_cast<uint32_t>(d);
  }
  return v;
}

// The value of a Spark '...' or "..." literal (the token text, quotes included), with Spark's
// escapes (SparkParserUtils.unescapeSQLString): \0 \b \n \r \t \Z, \uXXXX, \UXXXXXXXX, the
// octal \[01]oo, \% and \_ kept with their backslash (for LIKE), any other \x -> x; plus the
// doubled quote that the lexer accepts. InvalidArgument for a NUL character, which DuckDB SQL
// text cannot carry.
Result<std::string> SparkStringValue(const Token& token) {
  std::string_view t = token.text;
  char q = t.front();
  std::string out;
  size_t last = t.size() - 1;  // the closing quote
  for (size_t i = 1; i < last;) {
    char c = t[i];
    if (c == q && i + 1 < last && t[i + 1] == q) {
      out += q;
      i += 2;
      continue;
    }
    if (c != '\\' || i + 1 >= last) {
      out += c;
      ++i;
      continue;
    }
    char n = t[i + 1];
    if (n == 'u' && i + 6 <= last) {
      if (auto cp = ParseHex(t.substr(i + 2, 4))) {
        uint32_t code = *cp;
        i += 6;
        // A UTF-16 surrogate pair written as two \u escapes.
        if (code >= 0xD800 && code < 0xDC00 && i + 6 <= last && t[i] == '\\' && t[i + 1] == 'u') {
          if (auto low = ParseHex(t.substr(i + 2, 4)); low && *low >= 0xDC00 && *low < 0xE000) {
            code = 0x10000 + ((code - 0xD800) << 10) + (*low - 0xDC00);
            i += 6;
          }
        }
        AppendUtf8(code, out);
        continue;
      }
    }
    if (n == 'U' && i + 10 <= last) {
      if (auto cp = ParseHex(t.substr(i + 2, 8)); cp && *cp <= 0x10FFFF) {
        AppendUtf8(*cp, out);
        i += 10;
        continue;
      }
    }
    if ((n == '0' || n == '1') && i + 4 <= last && t[i + 2] >= '0' && t[i + 2] <= '7' &&
        t[i + 3] >= '0' && t[i + 3] <= '7') {
      AppendUtf8(static_cast<uint32_t>((n - '0') * 64 + (t[i + 2] - '0') * 8 + (t[i + 3] - '0')),
                 out);
      i += 4;
      continue;
    }
    switch (n) {
      case '0':
        out += '\0';
        break;
      case 'b':
        out += '\b';
        break;
      case 'n':
        out += '\n';
        break;
      case 'r':
        out += '\r';
        break;
      case 't':
        out += '\t';
        break;
      case 'Z':
        out += '\x1A';
        break;
      case '%':
        out += "\\%";
        break;
      case '_':
        out += "\\_";
        break;
      default:
        out += n;
        break;
    }
    i += 2;
  }
  if (out.find('\0') != std::string::npos) {
    return Status::InvalidArgument(fmt::format(
        "line {}: a NUL character (\\0) in a string literal is not supported", token.line));
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Types

// A parsed Spark data type.
struct SparkType {
  enum class Kind { kScalar, kArray, kMap, kStruct };
  Kind kind = Kind::kScalar;
  std::string scalar;                                     // kScalar: the DuckDB type
  std::vector<SparkType> children;                        // kArray: element; kMap: key, value
  std::vector<std::pair<std::string, SparkType>> fields;  // kStruct

  std::string ToDuckDb() const {
    switch (kind) {
      case Kind::kScalar:
        return scalar;
      case Kind::kArray:
        return children[0].ToDuckDb() + "[]";
      case Kind::kMap:
        return fmt::format("MAP({}, {})", children[0].ToDuckDb(), children[1].ToDuckDb());
      case Kind::kStruct: {
        std::string out = "STRUCT(";
        for (size_t i = 0; i < fields.size(); ++i) {
          if (i > 0) out += ", ";
          out += QuoteIdentifier(fields[i].first) + " " + fields[i].second.ToDuckDb();
        }
        return out + ")";
      }
    }
    return scalar;
  }

  // The structure argument of DuckDB's json_transform.
  std::string ToJsonStructure() const {
    switch (kind) {
      case Kind::kArray:
        return "[" + children[0].ToJsonStructure() + "]";
      case Kind::kStruct: {
        std::string out = "{";
        for (size_t i = 0; i < fields.size(); ++i) {
          if (i > 0) out += ",";
          out += JsonQuote(fields[i].first) + ":" + fields[i].second.ToJsonStructure();
        }
        return out + "}";
      }
      default:
        return JsonQuote(ToDuckDb());
    }
  }
};

// Spark scalar type names (upper case) -> DuckDB types. DECIMAL, VARCHAR/CHAR and INTERVAL take
// arguments and are handled by the parser.
const std::map<std::string, std::string>& ScalarTypes() {
  static const auto* types = new std::map<std::string, std::string>{
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
      {"TIMESTAMP", "TIMESTAMPTZ"},
      {"TIMESTAMP_LTZ", "TIMESTAMPTZ"},
      {"TIMESTAMP_NTZ", "TIMESTAMP"},
      {"BINARY", "BLOB"},
      // Semi-structured values. A string cast to VARIANT is parsed as JSON text here, where Spark
      // keeps it a string.
      {"VARIANT", "JSON"},
  };
  return *types;
}

// A recursive-descent parser of Spark type text over significant tokens. Text that is not a Spark
// type (an unknown name, a syntax error) is NotFound, so SQL translation can leave DuckDB-only
// types alone; a Spark type with invalid parameters (DECIMAL(40,2)) is InvalidArgument.
class TypeParser {
 public:
  TypeParser(std::vector<Token> tokens, std::string_view text)
      : tokens_(std::move(tokens)), text_(text) {}

  bool AtEnd() const { return pos_ >= tokens_.size(); }

  Result<SparkType> ParseType() {
    if (AtEnd() || tokens_[pos_].kind != TokenKind::kWord) return Fail("expected a type name");
    std::string name = Upper(tokens_[pos_].text);
    ++pos_;
    SparkType type;
    if (name == "ARRAY" || name == "MAP" || name == "STRUCT") {
      RETURN_NOT_OK(Expect('<'));
      if (name == "ARRAY") {
        type.kind = SparkType::Kind::kArray;
        ASSIGN_OR_RETURN(SparkType element, ParseType());
        type.children.push_back(std::move(element));
      } else if (name == "MAP") {
        type.kind = SparkType::Kind::kMap;
        ASSIGN_OR_RETURN(SparkType key, ParseType());
        RETURN_NOT_OK(Expect(','));
        ASSIGN_OR_RETURN(SparkType value, ParseType());
        type.children.push_back(std::move(key));
        type.children.push_back(std::move(value));
      } else {
        type.kind = SparkType::Kind::kStruct;
        ASSIGN_OR_RETURN(type.fields, ParseFields('>'));
      }
      RETURN_NOT_OK(Expect('>'));
      return type;
    }
    if (name == "DECIMAL" || name == "DEC" || name == "NUMERIC") {
      int64_t precision = 10, scale = 0;
      if (IsSymbol('(')) {
        ++pos_;
        ASSIGN_OR_RETURN(precision, Integer());
        if (IsSymbol(',')) {
          ++pos_;
          ASSIGN_OR_RETURN(scale, Integer());
        }
        RETURN_NOT_OK(Expect(')'));
      }
      if (precision < 1 || precision > 38 || scale < 0 || scale > precision) {
        return Status::InvalidArgument(
            fmt::format("Spark type '{}': DECIMAL({}, {}) is out of range (precision 1..38, scale "
                        "0..precision)",
                        text_, precision, scale));
      }
      type.scalar = fmt::format("DECIMAL({},{})", precision, scale);
      return type;
    }
    if (name == "VARCHAR" || name == "CHAR" || name == "CHARACTER") {
      if (IsSymbol('(')) {
        ++pos_;
        RETURN_NOT_OK(Integer().status());
        RETURN_NOT_OK(Expect(')'));
      }
      type.scalar = "VARCHAR";
      return type;
    }
    if (name == "INTERVAL") {
      // INTERVAL [YEAR | MONTH | DAY | HOUR | MINUTE | SECOND] [TO ...]
      static const char* kUnits[] = {"YEAR", "MONTH", "DAY", "HOUR", "MINUTE", "SECOND", "TO"};
      while (!AtEnd() && tokens_[pos_].kind == TokenKind::kWord &&
             std::any_of(std::begin(kUnits), std::end(kUnits),
                         [&](const char* u) { return IsKeyword(tokens_[pos_], u); })) {
        ++pos_;
      }
      type.scalar = "INTERVAL";
      return type;
    }
    auto it = ScalarTypes().find(name);
    if (it == ScalarTypes().end()) {
      return Status::NotFound(
          fmt::format("Spark type '{}': unknown type name '{}'", text_, tokens_[pos_ - 1].text));
    }
    type.scalar = it->second;
    return type;
  }

  // name [:] type [NOT NULL] [COMMENT '...'], ... up to `terminator` (or the end when it is 0).
  Result<std::vector<std::pair<std::string, SparkType>>> ParseFields(char terminator) {
    std::vector<std::pair<std::string, SparkType>> fields;
    while (true) {
      if (AtEnd()) return Fail("expected a field name");
      const Token& t = tokens_[pos_];
      std::string name;
      if (t.kind == TokenKind::kWord) {
        name = std::string(t.text);
      } else if (t.kind == TokenKind::kBacktick) {
        name = Unquote(t);
      } else {
        return Fail("expected a field name");
      }
      ++pos_;
      if (IsSymbol(':')) ++pos_;
      ASSIGN_OR_RETURN(SparkType type, ParseType());
      if (!AtEnd() && IsKeyword(tokens_[pos_], "NOT") && pos_ + 1 < tokens_.size() &&
          IsKeyword(tokens_[pos_ + 1], "NULL")) {
        pos_ += 2;
      }
      if (!AtEnd() && IsKeyword(tokens_[pos_], "COMMENT") && pos_ + 1 < tokens_.size() &&
          (tokens_[pos_ + 1].kind == TokenKind::kString ||
           tokens_[pos_ + 1].kind == TokenKind::kDoubleQuoted)) {  // "..." is a string in Spark
        pos_ += 2;
      }
      fields.emplace_back(std::move(name), std::move(type));
      if (IsSymbol(',')) {
        ++pos_;
        continue;
      }
      if ((terminator == 0 && AtEnd()) || IsSymbol(terminator)) return fields;
      return Fail(terminator == 0 ? "expected ',' or the end" : "expected ',' or '>'");
    }
  }

 private:
  bool IsSymbol(char c) const {
    return !AtEnd() && tokens_[pos_].kind == TokenKind::kSymbol && tokens_[pos_].text.size() == 1 &&
           tokens_[pos_].text[0] == c;
  }
  Status Expect(char c) {
    if (!IsSymbol(c)) return Fail(fmt::format("expected '{}'", c));
    ++pos_;
    return Status::OK();
  }
  Result<int64_t> Integer() {
    if (AtEnd() || tokens_[pos_].kind != TokenKind::kNumber) return Fail("expected a number");
    std::string_view s = tokens_[pos_].text;
    int64_t v = 0;
    for (char c : s) {
      if (!std::isdigit(static_cast<unsigned char>(c)) || v > 1000000)
        return Fail("expected a number");
      v = v * 10 + (c - '0');
    }
    ++pos_;
    return v;
  }
  // NotFound: the text is not a Spark type (it may be DuckDB's, e.g. STRUCT(a INT)).
  Status Fail(std::string_view what) const {
    std::string at = AtEnd() ? "the end" : fmt::format("'{}'", tokens_[pos_].text);
    return Status::NotFound(fmt::format("Spark type '{}': {} at {}", text_, what, at));
  }

  std::vector<Token> tokens_;
  std::string_view text_;
  size_t pos_ = 0;
};

// The significant tokens of type text (lexed on its own).
Result<std::vector<Token>> TypeTokens(std::string_view text) {
  ASSIGN_OR_RETURN(std::vector<Token> all, LexSql(text));
  std::vector<Token> out;
  for (const Token& t : all) {
    if (t.kind != TokenKind::kSpace && t.kind != TokenKind::kComment) out.push_back(t);
  }
  return out;
}

Result<SparkType> ParseSparkType(std::string_view text) {
  ASSIGN_OR_RETURN(std::vector<Token> tokens, TypeTokens(text));
  TypeParser parser(std::move(tokens), text);
  ASSIGN_OR_RETURN(SparkType type, parser.ParseType());
  if (!parser.AtEnd()) {
    return Status::NotFound(fmt::format("Spark type '{}': unexpected text after the type", text));
  }
  return type;
}

// A from_json schema: a type (STRUCT<...>, ARRAY<...>, MAP<...>) or a DDL field list such as
// "a INT, b STRING".
Result<SparkType> ParseSparkSchema(std::string_view text) {
  ASSIGN_OR_RETURN(std::vector<Token> tokens, TypeTokens(text));
  bool is_type = tokens.size() >= 2 && tokens[1].kind == TokenKind::kSymbol &&
                 tokens[1].text == "<" &&
                 (IsKeyword(tokens[0], "STRUCT") || IsKeyword(tokens[0], "ARRAY") ||
                  IsKeyword(tokens[0], "MAP"));
  if (is_type) return ParseSparkType(text);
  TypeParser parser(std::move(tokens), text);
  SparkType type;
  type.kind = SparkType::Kind::kStruct;
  ASSIGN_OR_RETURN(type.fields, parser.ParseFields(0));
  return type;
}

// ---------------------------------------------------------------------------------------------
// Java DateTimeFormatter patterns (Spark's "Datetime Patterns") -> DuckDB strftime/strptime.

constexpr const char* kSupportedPatternLetters =
    "y, yy, yyyy, M, MM, MMM, MMMM (and L), d, dd, D, DDD, H, HH, h, hh, m, mm, s, ss, SSS, "
    "SSSSSS, SSSSSSSSS, a, E, EEE, EEEE, X, XX, XXX, x, xx, xxx, Z, z, VV and 'quoted text'";

// A run of one pattern letter and its strftime / strptime equivalent. Zones print as the session
// time zone, which medallion fixes at UTC; strptime parses them.
struct PatternLetter {
  char letter;
  size_t min_count, max_count;
  const char* format;
  const char* parse;  // nullptr: as `format`
};
constexpr PatternLetter kPatternLetters[] = {
    {'y', 1, 1, "%Y", nullptr},  {'y', 2, 2, "%y", nullptr},  {'y', 3, 4, "%Y", nullptr},
    {'M', 1, 1, "%-m", nullptr}, {'M', 2, 2, "%m", nullptr},  {'M', 3, 3, "%b", nullptr},
    {'M', 4, 4, "%B", nullptr},  {'L', 1, 1, "%-m", nullptr}, {'L', 2, 2, "%m", nullptr},
    {'L', 3, 3, "%b", nullptr},  {'L', 4, 4, "%B", nullptr},  {'d', 1, 1, "%-d", nullptr},
    {'d', 2, 2, "%d", nullptr},  {'D', 1, 1, "%-j", nullptr}, {'D', 3, 3, "%j", nullptr},
    {'H', 1, 1, "%-H", nullptr}, {'H', 2, 2, "%H", nullptr},  {'h', 1, 1, "%-I", nullptr},
    {'h', 2, 2, "%I", nullptr},  {'m', 1, 1, "%-M", nullptr}, {'m', 2, 2, "%M", nullptr},
    {'s', 1, 1, "%-S", nullptr}, {'s', 2, 2, "%S", nullptr},  {'S', 3, 3, "%g", nullptr},
    {'S', 6, 6, "%f", nullptr},  {'S', 9, 9, "%n", nullptr},  {'a', 1, 1, "%p", nullptr},
    {'E', 1, 3, "%a", nullptr},  {'E', 4, 4, "%A", nullptr},  {'X', 1, 3, "Z", "%z"},
    {'x', 1, 1, "+00", "%z"},    {'x', 2, 2, "+0000", "%z"},  {'x', 3, 3, "+00:00", "%z"},
    {'Z', 1, 3, "+0000", "%z"},  {'z', 1, 3, "UTC", "%Z"},    {'V', 2, 2, "UTC", "%Z"},
};

struct DuckPattern {
  std::string format;
  bool zone_at_end = false;  // parsing: the pattern ends with an X zone (which may be 'Z')
};

// `parse`: for strptime rather than strftime. InvalidArgument naming `function` and `line` for a
// letter that has no equivalent.
Result<DuckPattern> ConvertJavaPattern(std::string_view function, std::string_view pattern,
                                       bool parse, size_t line) {
  DuckPattern result;
  std::string& out = result.format;
  auto unsupported = [&](std::string_view what) {
    return Status::InvalidArgument(
        fmt::format("line {}: {}: {} in pattern '{}' is not supported; supported: {}", line,
                    function, what, pattern, kSupportedPatternLetters));
  };
  size_t i = 0;
  const size_t n = pattern.size();
  while (i < n) {
    char c = pattern[i];
    if (c == '\'') {
      if (i + 1 < n && pattern[i + 1] == '\'') {
        out += '\'';
        i += 2;
        continue;
      }
      size_t j = i + 1;
      std::string literal;
      while (j < n) {
        if (pattern[j] == '\'') {
          if (j + 1 < n && pattern[j + 1] == '\'') {
            literal += '\'';
            j += 2;
            continue;
          }
          break;
        }
        literal += pattern[j++];
      }
      if (j >= n) return unsupported("an unterminated quote");
      for (char l : literal) out += l == '%' ? std::string("%%") : std::string(1, l);
      i = j + 1;
      result.zone_at_end = false;
      continue;
    }
    if (!std::isalpha(static_cast<unsigned char>(c))) {
      out += c == '%' ? std::string("%%") : std::string(1, c);
      ++i;
      result.zone_at_end = false;
      continue;
    }
    size_t j = i;
    while (j < n && pattern[j] == c) ++j;
    const size_t count = j - i;
    const PatternLetter* letter = nullptr;
    for (const PatternLetter& l : kPatternLetters) {
      if (l.letter == c && count >= l.min_count && count <= l.max_count) letter = &l;
    }
    if (letter == nullptr) return unsupported(fmt::format("'{}'", pattern.substr(i, count)));
    out += parse && letter->parse != nullptr ? letter->parse : letter->format;
    result.zone_at_end = parse && c == 'X';
    i = j;
  }
  return result;
}

// ---------------------------------------------------------------------------------------------
// The translator

bool IsSpace(const Token& t) { return t.kind == TokenKind::kSpace; }
bool IsSignificant(const Token& t) {
  return t.kind != TokenKind::kSpace && t.kind != TokenKind::kComment;
}
bool IsIdentifierToken(const Token& t) {
  return t.kind == TokenKind::kWord || t.kind == TokenKind::kBacktick;
}
bool IsStringToken(const Token& t) {
  return t.kind == TokenKind::kString || t.kind == TokenKind::kDoubleQuoted;
}

// Keywords that end a column's type in a CREATE TABLE/VIEW column list.
bool EndsColumnType(const Token& t) {
  static const char* kWords[] = {"NOT",       "NULL",       "COMMENT",    "DEFAULT",
                                 "GENERATED", "PRIMARY",    "CONSTRAINT", "MASK",
                                 "CHECK",     "REFERENCES", "UNIQUE",     "COLLATE"};
  return std::any_of(std::begin(kWords), std::end(kWords),
                     [&](const char* w) { return IsKeyword(t, w); });
}

class Translator {
 public:
  explicit Translator(std::vector<Token> tokens) : t_(std::move(tokens)) {}

  Result<std::string> Run() {
    RETURN_NOT_OK(MatchBrackets());
    return Range(0, t_.size());
  }

 private:
  struct Arg {
    size_t begin, end;  // token range, without the separating commas
    std::string sql;    // translated, without surrounding spaces
  };
  struct Call {
    std::string name;   // as written
    std::string lower;  // lower case
    size_t name_index, open, close;
    size_t end;  // the token after the call (a handler may consume more, e.g. a FILTER clause)
    size_t line;
    std::vector<Arg> args;
  };
  using Handler = Result<std::string> (Translator::*)(Call&);

  static const std::map<std::string, Handler>& Handlers();

  // ---- token helpers

  bool Sym(size_t i, char c) const {
    return i < t_.size() && t_[i].kind == TokenKind::kSymbol && t_[i].text.size() == 1 &&
           t_[i].text[0] == c;
  }
  bool Word(size_t i, std::string_view keyword) const {
    return i < t_.size() && IsKeyword(t_[i], keyword);
  }
  bool Adjacent(size_t a, size_t b) const {
    return a < t_.size() && b < t_.size() && t_[a].offset + t_[a].text.size() == t_[b].offset;
  }
  // The first significant token in [i, end), or `end`.
  size_t NextSig(size_t i, size_t end) const {
    while (i < end && !IsSignificant(t_[i])) ++i;
    return i;
  }
  // The last significant token before i, or kNone.
  size_t PrevSig(size_t i) const {
    while (i > 0) {
      --i;
      if (IsSignificant(t_[i])) return i;
    }
    return kNone;
  }
  // The raw text of tokens [a, b).
  std::string Raw(size_t a, size_t b) const {
    std::string out;
    for (size_t i = a; i < b && i < t_.size(); ++i) out += t_[i].text;
    return out;
  }
  Status Error(size_t i, std::string_view message) const {
    size_t line = i < t_.size() ? t_[i].line : (t_.empty() ? 1 : t_.back().line);
    return Status::InvalidArgument(fmt::format("line {}: {}", line, message));
  }

  // For every ( [ {: the index of its closing bracket.
  Status MatchBrackets() {
    match_.assign(t_.size(), kNone);
    std::vector<size_t> stack;
    for (size_t i = 0; i < t_.size(); ++i) {
      if (Sym(i, '(') || Sym(i, '[') || Sym(i, '{')) {
        stack.push_back(i);
      } else if (Sym(i, ')') || Sym(i, ']') || Sym(i, '}')) {
        char open = t_[i].text[0] == ')' ? '(' : t_[i].text[0] == ']' ? '[' : '{';
        if (stack.empty() || !Sym(stack.back(), open)) {
          return Error(i, fmt::format("unbalanced '{}'", t_[i].text));
        }
        match_[stack.back()] = i;
        stack.pop_back();
      }
    }
    if (!stack.empty())
      return Error(stack.back(), fmt::format("unclosed '{}'", t_[stack.back()].text));
    return Status::OK();
  }

  // Splits [begin, end) at top-level commas.
  std::vector<std::pair<size_t, size_t>> Split(size_t begin, size_t end) const {
    std::vector<std::pair<size_t, size_t>> parts;
    size_t start = begin;
    for (size_t i = begin; i < end; ++i) {
      if (match_[i] != kNone) {
        i = match_[i];
      } else if (Sym(i, ',')) {
        parts.emplace_back(start, i);
        start = i + 1;
      }
    }
    if (NextSig(begin, end) < end || !parts.empty()) parts.emplace_back(start, end);
    return parts;
  }

  // The translation of [begin, end) without surrounding spaces (a trailing -- comment keeps its
  // line break).
  Result<std::string> Trimmed(size_t begin, size_t end) {
    while (begin < end && IsSpace(t_[begin])) ++begin;
    while (end > begin && IsSpace(t_[end - 1])) --end;
    ASSIGN_OR_RETURN(std::string out, Range(begin, end));
    if (end > begin && t_[end - 1].kind == TokenKind::kComment &&
        t_[end - 1].text.starts_with("--")) {
      out += '\n';
    }
    return out;
  }

  // The only significant token of an argument, or kNone.
  size_t SingleToken(const Arg& a) const {
    size_t f = NextSig(a.begin, a.end);
    if (f >= a.end || NextSig(f + 1, a.end) < a.end) return kNone;
    return f;
  }
  // A string literal argument ('...', "..." or r'...'): its value.
  Result<std::optional<std::string>> LiteralString(const Arg& a) const {
    size_t f = NextSig(a.begin, a.end);
    if (f >= a.end) return std::optional<std::string>();
    size_t last = f;
    if (IsRawPrefix(f)) last = f + 1;
    if (NextSig(last + 1, a.end) < a.end) return std::optional<std::string>();
    if (last != f) return std::optional<std::string>(RawValue(last));
    if (!IsStringToken(t_[f])) return std::optional<std::string>();
    ASSIGN_OR_RETURN(std::string v, SparkStringValue(t_[f]));
    return std::optional<std::string>(std::move(v));
  }
  // An integer literal argument (with an optional sign).
  std::optional<int64_t> LiteralInt(const Arg& a) const {
    size_t f = NextSig(a.begin, a.end);
    bool negative = false;
    if (Sym(f, '-') || Sym(f, '+')) {
      negative = Sym(f, '-');
      f = NextSig(f + 1, a.end);
    }
    if (f >= a.end || t_[f].kind != TokenKind::kNumber || NextSig(f + 1, a.end) < a.end) {
      return std::nullopt;
    }
    int64_t v = 0;
    for (char c : t_[f].text) {
      if (!std::isdigit(static_cast<unsigned char>(c)) || v > (int64_t{1} << 50))
        return std::nullopt;
      v = v * 10 + (c - '0');
    }
    return negative ? -v : v;
  }
  // Whether an argument needs no parentheses inside a larger expression: one token, an identifier
  // chain, a call, or a parenthesized expression.
  bool IsAtomic(const Arg& a) const {
    size_t f = NextSig(a.begin, a.end);
    if (f >= a.end) return true;
    size_t i = f;
    if (Sym(i, '(')) {
      i = match_[i] + 1;
    } else if (IsIdentifierToken(t_[i])) {
      while (Sym(i + 1, '.') && i + 2 < a.end && IsIdentifierToken(t_[i + 2])) i += 2;
      size_t p = NextSig(i + 1, a.end);
      i = Sym(p, '(') ? match_[p] + 1 : i + 1;
    } else {
      ++i;
    }
    while (Sym(i, '[')) i = match_[i] + 1;
    return NextSig(i, a.end) >= a.end;
  }
  std::string P(const Arg& a) const { return IsAtomic(a) ? a.sql : "(" + a.sql + ")"; }

  bool IsRawPrefix(size_t i) const {
    return i + 1 < t_.size() && t_[i].kind == TokenKind::kWord &&
           (t_[i].text == "r" || t_[i].text == "R") && IsStringToken(t_[i + 1]) &&
           Adjacent(i, i + 1);
  }
  std::string RawValue(size_t i) const {
    std::string_view t = t_[i].text;
    return std::string(t.substr(1, t.size() - 2));
  }

  // A ``delta.`/path` `` style reference: the backticks are kept for the session to resolve.
  bool IsFileReference(size_t i) const {
    if (i < 2 || !Sym(i - 1, '.') || !Adjacent(i - 1, i) || !Adjacent(i - 2, i - 1)) return false;
    static const char* kFormats[] = {"delta", "parquet", "json", "csv", "text", "orc", "avro"};
    bool format = std::any_of(std::begin(kFormats), std::end(kFormats),
                              [&](const char* f) { return Word(i - 2, f); });
    return format && !(i >= 3 && Sym(i - 3, '.') && Adjacent(i - 3, i - 2));
  }
  std::string IdentifierSql(size_t i) const {
    if (t_[i].kind == TokenKind::kBacktick && !IsFileReference(i))
      return QuoteIdentifier(Unquote(t_[i]));
    return std::string(t_[i].text);
  }

  // Spark's "..." is a string, but a double-quoted token where only a table name or a qualified
  // name can stand (after FROM / JOIN / INTO / TABLE, or next to a '.') is read as an identifier.
  bool DoubleQuotedIsIdentifier(size_t i) const {
    if ((i > 0 && Sym(i - 1, '.') && Adjacent(i - 1, i)) ||
        (Sym(i + 1, '.') && Adjacent(i, i + 1))) {
      return true;
    }
    size_t p = PrevSig(i);
    return p != kNone &&
           (Word(p, "FROM") || Word(p, "JOIN") || Word(p, "INTO") || Word(p, "TABLE"));
  }

  Result<std::string> StringSql(size_t i) const {
    const Token& t = t_[i];
    if (t.kind == TokenKind::kString && t.text.find('\\') == std::string_view::npos) {
      return std::string(t.text);
    }
    ASSIGN_OR_RETURN(std::string value, SparkStringValue(t));
    return QuoteString(value);
  }

  // 10L, 5S, 3Y, 1.5D, 2F, 1.0BD: Spark's typed numeric literals.
  static std::string NumberSql(std::string_view text) {
    std::string upper = Upper(text);
    auto numeric = [](std::string_view s) {
      if (s.empty() || !std::isdigit(static_cast<unsigned char>(s[0]))) return false;
      bool dot = false, exp = false;
      for (size_t i = 0; i < s.size(); ++i) {
        char c = s[i];
        if (std::isdigit(static_cast<unsigned char>(c))) continue;
        if (c == '.' && !dot && !exp) {
          dot = true;
        } else if (c == 'E' && !exp && i + 1 < s.size()) {
          exp = true;
        } else {
          return false;
        }
      }
      return true;
    };
    if (upper.ends_with("BD") && numeric(upper.substr(0, upper.size() - 2))) {
      return std::string(text.substr(0, text.size() - 2));
    }
    static const std::map<char, const char*> kSuffixes = {
        {'L', "BIGINT"}, {'S', "SMALLINT"}, {'Y', "TINYINT"}, {'D', "DOUBLE"}, {'F', "FLOAT"}};
    if (upper.size() > 1) {
      auto it = kSuffixes.find(upper.back());
      std::string_view number = text.substr(0, text.size() - 1);
      if (it != kSuffixes.end() && numeric(Upper(number))) {
        return fmt::format("CAST({} AS {})", number, it->second);
      }
    }
    return std::string(text);
  }

  // ---- the walk

  Result<std::string> Range(size_t begin, size_t end) {
    std::string out;
    size_t i = begin;
    while (i < end) {
      ASSIGN_OR_RETURN(i, Step(i, end, out));
    }
    return out;
  }

  Result<size_t> Step(size_t i, size_t end, std::string& out) {
    const Token& tok = t_[i];
    switch (tok.kind) {
      case TokenKind::kSpace:
      case TokenKind::kComment:
      case TokenKind::kDollar:
        out += tok.text;
        return i + 1;
      case TokenKind::kNumber:
        statement_start_ = false;
        out += NumberSql(tok.text);
        return i + 1;
      case TokenKind::kString:
      case TokenKind::kDoubleQuoted: {
        statement_start_ = false;
        if (tok.kind == TokenKind::kDoubleQuoted && DoubleQuotedIsIdentifier(i)) {
          return Operand(i, end, out);
        }
        // Adjacent literals are one string in Spark ('a' 'b' = 'ab').
        size_t last = i;
        while (true) {
          size_t k = last + 1;
          while (k < end && IsSpace(t_[k])) ++k;
          if (k == last + 1 || k >= end || !IsStringToken(t_[k])) break;
          last = k;
        }
        if (last == i) {
          ASSIGN_OR_RETURN(std::string s, StringSql(i));
          out += s;
          return i + 1;
        }
        std::string value;
        for (size_t k = i; k <= last; ++k) {
          if (!IsStringToken(t_[k])) continue;
          ASSIGN_OR_RETURN(std::string part, SparkStringValue(t_[k]));
          value += part;
        }
        out += QuoteString(value);
        return last + 1;
      }
      case TokenKind::kBacktick:
        statement_start_ = false;
        return Operand(i, end, out);
      case TokenKind::kSymbol:
        return Symbol(i, end, out);
      case TokenKind::kWord:
        return WordStep(i, end, out);
    }
    out += tok.text;
    return i + 1;
  }

  Result<size_t> Symbol(size_t i, size_t end, std::string& out) {
    statement_start_ = Sym(i, ';');
    if (Sym(i, ':') && Sym(i + 1, ':') && Adjacent(i, i + 1)) {
      size_t k = NextSig(i + 2, end);
      if (k >= end || t_[k].kind != TokenKind::kWord) {
        out += "::";
        return i + 2;
      }
      size_t type_end = TypeEnd(k, end);
      ASSIGN_OR_RETURN(std::string type, TypeSql(k, type_end));
      out += "::" + Raw(i + 2, k) + type;
      return type_end;
    }
    if (Sym(i, '=') && Sym(i + 1, '=') && Adjacent(i, i + 1)) {
      out += "=";
      return i + 2;
    }
    if (Sym(i, '<') && Sym(i + 1, '=') && Sym(i + 2, '>') && Adjacent(i, i + 1) &&
        Adjacent(i + 1, i + 2)) {
      out += " IS NOT DISTINCT FROM ";
      return i + 3;
    }
    if (Sym(i, '(')) {
      size_t close = match_[i];
      ASSIGN_OR_RETURN(std::string inner, Range(i + 1, close));
      return Suffixes("(" + inner + ")", close + 1, end, out);
    }
    out += t_[i].text;
    return i + 1;
  }

  Result<size_t> WordStep(size_t i, size_t end, std::string& out) {
    const bool at_start = statement_start_;
    statement_start_ = false;
    if (at_start && Word(i, "CREATE")) return Create(i, end, out);
    if (IsRawPrefix(i) && i + 1 < end) {
      out += QuoteString(RawValue(i + 1));
      return i + 2;
    }
    size_t next = NextSig(i + 1, end);
    size_t prev = PrevSig(i);
    // A name after '.' is qualified (a user function); after INTO / TABLE / UPDATE / VIEW it is a
    // table with a column list.
    bool call = next < end && Sym(next, '(') &&
                !(prev != kNone && (Sym(prev, '.') || Word(prev, "INTO") || Word(prev, "TABLE") ||
                                    Word(prev, "UPDATE") || Word(prev, "VIEW")));
    if (Word(i, "LATERAL") && Word(next, "VIEW")) return LateralView(i, next, end, out);
    // `x RLIKE (p)`: the operator, not the two-argument function.
    if (call && (Word(i, "RLIKE") || Word(i, "REGEXP")) &&
        Split(next + 1, match_[next]).size() < 2) {
      call = false;
    }
    if (!call) {
      if ((Word(i, "TIMESTAMP") || Word(i, "TIMESTAMP_LTZ") || Word(i, "TIMESTAMP_NTZ")) &&
          next < end && t_[next].kind == TokenKind::kString) {
        out += Word(i, "TIMESTAMP_NTZ") ? "TIMESTAMP" : "TIMESTAMPTZ";
        return i + 1;
      }
      if (Word(i, "RLIKE") || Word(i, "REGEXP")) return RLike(i, end, out);
      if (Word(i, "LIKE") || Word(i, "ILIKE")) return Like(i, end, out);
      if (Word(i, "DIV")) {
        out += "//";
        return i + 1;
      }
      return Operand(i, end, out);
    }
    if (Word(i, "CAST") || Word(i, "TRY_CAST")) return Cast(i, next, end, out);

    Call c;
    c.name = std::string(t_[i].text);
    c.lower = AsciiLower(c.name);
    c.name_index = i;
    c.open = next;
    c.close = match_[next];
    c.end = c.close + 1;
    c.line = t_[i].line;
    const auto& handlers = Handlers();
    auto it = handlers.find(c.lower);
    if (it == handlers.end()) {
      ASSIGN_OR_RETURN(std::string inner, Range(c.open + 1, c.close));
      return Suffixes(c.name + Raw(i + 1, c.open) + "(" + inner + ")", c.end, end, out);
    }
    for (auto [b, e] : Split(c.open + 1, c.close)) {
      ASSIGN_OR_RETURN(std::string sql, Trimmed(b, e));
      c.args.push_back({b, e, std::move(sql)});
    }
    ASSIGN_OR_RETURN(std::string sql, (this->*(it->second))(c));
    return Suffixes(std::move(sql), c.end, end, out);
  }

  // An identifier chain a.`b`.c starting at i, then its suffixes.
  Result<size_t> Operand(size_t i, size_t end, std::string& out) {
    std::string text = IdentifierSql(i);
    size_t j = i;
    while (Sym(j + 1, '.') && j + 2 < end && Adjacent(j, j + 1) && Adjacent(j + 1, j + 2) &&
           (IsIdentifierToken(t_[j + 2]) || t_[j + 2].kind == TokenKind::kDoubleQuoted)) {
      text += "." + (t_[j + 2].kind == TokenKind::kDoubleQuoted ? std::string(t_[j + 2].text)
                                                                : IdentifierSql(j + 2));
      j += 2;
    }
    return Suffixes(std::move(text), j + 1, end, out);
  }

  // What may follow an operand: [index] (0-based in Spark), :json.path, .field.
  Result<size_t> Suffixes(std::string operand, size_t j, size_t end, std::string& out) {
    while (j < end && j > 0) {
      if (Sym(j, '[') && Adjacent(j - 1, j) && match_[j] < end && !Word(j - 1, "ARRAY")) {
        size_t close = match_[j];
        Arg index{j + 1, close, ""};
        ASSIGN_OR_RETURN(index.sql, Trimmed(j + 1, close));
        size_t single = SingleToken(index);
        bool slice = false;
        for (size_t k = j + 1; k < close; ++k) {
          if (match_[k] != kNone)
            k = match_[k];
          else if (Sym(k, ':'))
            slice = true;
        }
        if (NextSig(j + 1, close) >= close || slice) {
          operand += "[" + index.sql + "]";  // DuckDB's T[] type syntax or a [a:b] slice
        } else if (single != kNone && IsStringToken(t_[single])) {
          operand += "[" + index.sql + "]";  // a map key or struct field
        } else if (auto n = LiteralInt(index)) {
          operand += fmt::format("[{}]", *n + 1);
        } else {
          operand += "[(" + index.sql + ") + 1]";
        }
        j = close + 1;
        continue;
      }
      if (Sym(j, ':') && !Sym(j + 1, ':') && Adjacent(j - 1, j) && Adjacent(j, j + 1) &&
          (IsIdentifierToken(t_[j + 1]) || Sym(j + 1, '['))) {
        ASSIGN_OR_RETURN(j, JsonPath(j + 1, end, operand));
        continue;
      }
      if (Sym(j, '.') && Adjacent(j - 1, j) && j + 1 < end && Adjacent(j, j + 1) &&
          IsIdentifierToken(t_[j + 1]) && !Sym(NextSig(j + 2, end), '(')) {
        operand += "." + IdentifierSql(j + 1);
        j += 2;
        continue;
      }
      break;
    }
    out += operand;
    return j;
  }

  // Databricks' `col:path` (docs: "JSON path expression"); `k` is the first path token.
  Result<size_t> JsonPath(size_t k, size_t end, std::string& operand) {
    std::string path = "$";
    bool wildcard = false;
    auto add_key = [&](const std::string& key) {
      if (IsSimpleName(key)) {
        path += "." + key;
      } else {
        std::string escaped;
        for (char c : key) {
          if (c == '"' || c == '\\') escaped += '\\';
          escaped += c;
        }
        path += ".\"" + escaped + "\"";
      }
    };
    bool first = true;
    while (k < end) {
      if (first && IsIdentifierToken(t_[k])) {
        add_key(t_[k].kind == TokenKind::kBacktick ? Unquote(t_[k]) : std::string(t_[k].text));
        ++k;
      } else if (!first && Sym(k, '.') && k + 1 < end && Adjacent(k, k + 1) &&
                 IsIdentifierToken(t_[k + 1])) {
        add_key(t_[k + 1].kind == TokenKind::kBacktick ? Unquote(t_[k + 1])
                                                       : std::string(t_[k + 1].text));
        k += 2;
      } else if (Sym(k, '[') && Adjacent(k - 1, k)) {
        size_t close = match_[k];
        Arg element{k + 1, close, ""};
        size_t single = SingleToken(element);
        ASSIGN_OR_RETURN(auto key, LiteralString(element));
        if (key) {
          add_key(*key);
        } else if (auto n = LiteralInt(element); n && *n >= 0) {
          path += fmt::format("[{}]", *n);
        } else if (single != kNone && Sym(single, '*')) {
          path += "[*]";
          wildcard = true;
        } else {
          return Error(k, "JSON path: [...] takes a string literal, an index or *");
        }
        k = close + 1;
      } else {
        break;
      }
      first = false;
    }
    std::string json = "TRY_CAST(" + operand + " AS JSON)";
    operand = wildcard ? fmt::format("CAST(to_json(json_extract({}, {})) AS VARCHAR)", json,
                                     QuoteString(path))
                       : fmt::format("json_extract_string({}, {})", json, QuoteString(path));
    return k;
  }

  // The end of a type that starts at word k (after `::`): a name, with <...> or (...) after it.
  size_t TypeEnd(size_t k, size_t end) const {
    size_t next = NextSig(k + 1, end);
    if ((Word(k, "ARRAY") || Word(k, "MAP") || Word(k, "STRUCT")) && Sym(next, '<')) {
      int depth = 0;
      for (size_t i = next; i < end; ++i) {
        if (match_[i] != kNone) {
          i = match_[i];
        } else if (Sym(i, '<')) {
          ++depth;
        } else if (Sym(i, '>') && --depth == 0) {
          return i + 1;
        }
      }
      return end;
    }
    if (Sym(next, '(')) return match_[next] + 1;
    return k + 1;
  }

  // The DuckDB type for Spark type tokens [b, e); a type unknown to Spark is kept as written.
  Result<std::string> TypeSql(size_t b, size_t e) {
    std::string text = Raw(b, e);
    auto type = ParseSparkType(text);
    if (type.ok()) return type->ToDuckDb();
    if (!type.status().IsNotFound()) return Error(b, type.status().message());
    std::string kept;
    for (size_t k = b; k < e; ++k)
      kept += IsIdentifierToken(t_[k]) ? IdentifierSql(k) : std::string(t_[k].text);
    return kept;
  }

  // CAST(expr AS type) / TRY_CAST(expr AS type).
  Result<size_t> Cast(size_t i, size_t open, size_t end, std::string& out) {
    size_t close = match_[open];
    size_t as = kNone;
    for (size_t k = open + 1; k < close; ++k) {
      if (match_[k] != kNone) {
        k = match_[k];
      } else if (Word(k, "AS")) {
        as = k;
      }
    }
    if (as == kNone) {
      ASSIGN_OR_RETURN(std::string inner, Range(open + 1, close));
      return Suffixes(std::string(t_[i].text) + Raw(i + 1, open) + "(" + inner + ")", close + 1,
                      end, out);
    }
    ASSIGN_OR_RETURN(std::string expr, Trimmed(open + 1, as));
    size_t type_begin = NextSig(as + 1, close);
    size_t type_end = close;
    while (type_end > type_begin && !IsSignificant(t_[type_end - 1])) --type_end;
    ASSIGN_OR_RETURN(std::string type, TypeSql(type_begin, type_end));
    if (IsIntegral(type) && IsFractional(open + 1, as)) expr = "trunc(" + expr + ")";
    return Suffixes(fmt::format("{}({} AS {})", t_[i].text, expr, type), close + 1, end, out);
  }

  static bool IsIntegral(std::string_view duckdb_type) {
    return duckdb_type == "TINYINT" || duckdb_type == "SMALLINT" || duckdb_type == "INTEGER" ||
           duckdb_type == "BIGINT";
  }

  // Whether [b, e) is an expression that may have a fraction, which Spark truncates when it is
  // cast to an integer type and DuckDB rounds: arithmetic, a decimal literal, or a call of a
  // function that returns a fraction (avg, sqrt, ...). A plain column is left alone: its type is
  // not known here.
  bool IsFractional(size_t b, size_t e) const {
    static const char* kFunctions[] = {"avg",
                                       "mean",
                                       "sum",
                                       "stddev",
                                       "stddev_pop",
                                       "stddev_samp",
                                       "variance",
                                       "var_pop",
                                       "var_samp",
                                       "percentile",
                                       "percentile_approx",
                                       "approx_percentile",
                                       "median",
                                       "try_divide",
                                       "sqrt",
                                       "cbrt",
                                       "pow",
                                       "power",
                                       "exp",
                                       "ln",
                                       "log",
                                       "log2",
                                       "log10",
                                       "rand",
                                       "random",
                                       "bround"};
    size_t first = NextSig(b, e);
    if (Sym(first, '(') && NextSig(match_[first] + 1, e) >= e)
      return IsFractional(first + 1, match_[first]);
    for (size_t k = first; k < e; ++k) {
      if (match_[k] != kNone) {
        k = match_[k];
        continue;
      }
      if (Sym(k, '/') || Sym(k, '*') || Sym(k, '%')) return true;
      if ((Sym(k, '+') || Sym(k, '-')) && k != first) return true;
      if (t_[k].kind == TokenKind::kNumber &&
          t_[k].text.find_first_of(".eE") != std::string_view::npos) {
        return true;
      }
      if (t_[k].kind == TokenKind::kWord && Sym(NextSig(k + 1, e), '(') &&
          std::any_of(std::begin(kFunctions), std::end(kFunctions),
                      [&](const char* f) { return Word(k, f); })) {
        return true;
      }
    }
    return false;
  }

  // `x [NOT] RLIKE p` / `x REGEXP p`: Spark matches anywhere in x; DuckDB's SIMILAR TO matches the
  // whole string, so the pattern is wrapped in (?s:.*)(?:p)(?s:.*).
  Result<size_t> RLike(size_t i, size_t end, std::string& out) {
    size_t k = NextSig(i + 1, end);
    if (k >= end) return Error(i, fmt::format("{} needs a pattern", Upper(t_[i].text)));
    std::string pattern;
    size_t after;
    if (IsStringToken(t_[k]) || IsRawPrefix(k)) {
      std::string value;
      if (IsRawPrefix(k)) {
        value = RawValue(k + 1);
        after = k + 2;
      } else {
        ASSIGN_OR_RETURN(value, SparkStringValue(t_[k]));
        after = k + 1;
      }
      pattern = QuoteString("(?s:.*)(?:" + value + ")(?s:.*)");
    } else {
      if (Sym(k, '(')) {
        after = match_[k] + 1;
      } else if (IsIdentifierToken(t_[k])) {
        size_t j = k;
        while (Sym(j + 1, '.') && j + 2 < end && IsIdentifierToken(t_[j + 2])) j += 2;
        size_t p = NextSig(j + 1, end);
        after = Sym(p, '(') ? match_[p] + 1 : j + 1;
      } else {
        return Error(
            k, fmt::format("{}: the pattern must be a string literal, a column or a function call",
                           Upper(t_[i].text)));
      }
      ASSIGN_OR_RETURN(std::string sql, Trimmed(k, after));
      pattern = "('(?s:.*)(?:' || " + sql + " || ')(?s:.*)')";
    }
    out += "SIMILAR TO" + Raw(i + 1, k) + pattern;
    return after;
  }

  // LIKE with a literal pattern that holds '\': Spark's escape character is '\'; DuckDB has
  // none unless ESCAPE says so.
  Result<size_t> Like(size_t i, size_t end, std::string& out) {
    out += t_[i].text;
    size_t k = NextSig(i + 1, end);
    if (k < end && IsStringToken(t_[k]) && !Word(NextSig(k + 1, end), "ESCAPE")) {
      ASSIGN_OR_RETURN(std::string value, SparkStringValue(t_[k]));
      if (value.find('\\') != std::string::npos) {
        out += Raw(i + 1, k) + QuoteString(value) + " ESCAPE '\\'";
        return k + 1;
      }
    }
    return i + 1;
  }

  // LATERAL VIEW [OUTER] explode|explode_outer|posexplode|posexplode_outer(x) [t] AS c1, ... ->
  // CROSS JOIN LATERAL (SELECT unnest(x) AS c1 ...) t, or LEFT JOIN ... ON true for OUTER. The
  // number of column aliases tells an array (col; pos, col) from a map (key, value; pos, key,
  // value).
  Result<size_t> LateralView(size_t i, size_t view, size_t end, std::string& out) {
    size_t k = NextSig(view + 1, end);
    bool outer = false;
    if (Word(k, "OUTER")) {
      outer = true;
      k = NextSig(k + 1, end);
    }
    size_t open = NextSig(k + 1, end);
    if (k >= end || t_[k].kind != TokenKind::kWord || !Sym(open, '(')) {
      return Error(i, "LATERAL VIEW: expected a generator call such as explode(column)");
    }
    std::string generator = AsciiLower(t_[k].text);
    if (generator.ends_with("_outer")) {
      outer = true;
      generator.resize(generator.size() - 6);
    }
    if (generator != "explode" && generator != "posexplode") {
      return Error(k, fmt::format("LATERAL VIEW {}: only explode, explode_outer, posexplode and "
                                  "posexplode_outer are supported",
                                  t_[k].text));
    }
    size_t close = match_[open];
    auto parts = Split(open + 1, close);
    if (parts.size() != 1)
      return Error(k, fmt::format("LATERAL VIEW {} takes 1 argument", t_[k].text));
    ASSIGN_OR_RETURN(std::string x, Trimmed(parts[0].first, parts[0].second));
    // [table_alias] AS column_alias [, ...] (Spark's LATERAL VIEW clause).
    size_t alias = NextSig(close + 1, end);
    size_t after = close + 1;
    std::string table_alias;
    if (alias < end && IsIdentifierToken(t_[alias]) && !Word(alias, "AS")) {
      table_alias = " " + IdentifierSql(alias);
      after = alias + 1;
    }
    std::vector<std::string> columns;
    size_t as = NextSig(after, end);
    if (Word(as, "AS")) {
      size_t c = NextSig(as + 1, end);
      while (c < end && IsIdentifierToken(t_[c])) {
        columns.push_back(IdentifierSql(c));
        after = c + 1;
        size_t comma = NextSig(c + 1, end);
        if (!Sym(comma, ',')) break;
        c = NextSig(comma + 1, end);
      }
    }
    const bool pos = generator == "posexplode";
    const size_t n = columns.size();
    const bool map = pos ? n == 3 : n == 2;
    if (n != 0 && n != (pos ? 2u : 1u) && !map) {
      return Error(k, fmt::format("LATERAL VIEW {}: expected {} column aliases", t_[k].text,
                                  pos ? "2 (array) or 3 (map)" : "1 (array) or 2 (map)"));
    }
    auto name = [&](size_t index, const char* fallback) {
      return index < n ? columns[index] : std::string(fallback);
    };
    std::vector<std::string> items;
    size_t next_name = 0;
    if (pos) {
      std::string count = map ? "cardinality(" + x + ")" : "len(" + x + ")";
      items.push_back(
          fmt::format("unnest(range(coalesce({}, 0))) AS {}", count, name(next_name++, "pos")));
    }
    if (map) {
      items.push_back(fmt::format("unnest(map_keys({})) AS {}", x, name(next_name, "key")));
      items.push_back(fmt::format("unnest(map_values({})) AS {}", x, name(next_name + 1, "value")));
    } else {
      items.push_back(fmt::format("unnest({}) AS {}", x, name(next_name, "col")));
    }
    std::string select;
    for (size_t j = 0; j < items.size(); ++j) select += (j > 0 ? ", " : "") + items[j];
    out += fmt::format("{} JOIN LATERAL (SELECT {}){}{}", outer ? "LEFT" : "CROSS", select,
                       table_alias, outer ? " ON true" : "");
    return after;
  }

  // CREATE ... TABLE|VIEW name (column list): the column types are Spark types.
  Result<size_t> Create(size_t i, size_t end, std::string& out) {
    static const char* kModifiers[] = {"OR",           "REPLACE",  "REFRESH",   "TEMP",
                                       "TEMPORARY",    "GLOBAL",   "STREAMING", "LIVE",
                                       "MATERIALIZED", "EXTERNAL", "PRIVATE"};
    size_t k = NextSig(i + 1, end);
    while (k < end && std::any_of(std::begin(kModifiers), std::end(kModifiers),
                                  [&](const char* w) { return Word(k, w); })) {
      k = NextSig(k + 1, end);
    }
    size_t open = kNone;
    if (Word(k, "TABLE") || Word(k, "VIEW")) {
      k = NextSig(k + 1, end);
      if (Word(k, "IF")) {
        k = NextSig(k + 1, end);
        if (Word(k, "NOT")) k = NextSig(k + 1, end);
        if (Word(k, "EXISTS")) k = NextSig(k + 1, end);
      }
      if (k < end && (IsIdentifierToken(t_[k]) || t_[k].kind == TokenKind::kDoubleQuoted)) {
        while (Sym(k + 1, '.') && k + 2 < end) k += 2;
        size_t p = NextSig(k + 1, end);
        if (Sym(p, '(')) open = p;
      }
    }
    if (open == kNone) {
      out += t_[i].text;
      return i + 1;
    }
    for (size_t k = i; k < open; ++k) {
      out += IsIdentifierToken(t_[k]) ? IdentifierSql(k) : std::string(t_[k].text);
    }
    out += "(";
    size_t close = match_[open];
    auto parts = SplitColumns(open + 1, close);
    for (size_t p = 0; p < parts.size(); ++p) {
      if (p > 0) out += ",";
      ASSIGN_OR_RETURN(std::string column, ColumnDefinition(parts[p].first, parts[p].second));
      out += column;
    }
    out += ")";
    return close + 1;
  }

  // Splits a column list at top-level commas, outside <...> of types.
  std::vector<std::pair<size_t, size_t>> SplitColumns(size_t begin, size_t end) const {
    std::vector<std::pair<size_t, size_t>> parts;
    size_t start = begin;
    int angle = 0;
    for (size_t i = begin; i < end; ++i) {
      if (match_[i] != kNone) {
        i = match_[i];
      } else if (Sym(i, '<')) {
        ++angle;
      } else if (Sym(i, '>') && angle > 0) {
        --angle;
      } else if (Sym(i, ',') && angle == 0) {
        parts.emplace_back(start, i);
        start = i + 1;
      }
    }
    parts.emplace_back(start, end);
    return parts;
  }

  Result<std::string> ColumnDefinition(size_t b, size_t e) {
    size_t name = NextSig(b, e);
    static const char* kConstraints[] = {"CONSTRAINT", "PRIMARY", "FOREIGN", "CHECK", "UNIQUE"};
    if (name >= e || !IsIdentifierToken(t_[name]) ||
        std::any_of(std::begin(kConstraints), std::end(kConstraints),
                    [&](const char* w) { return Word(name, w); })) {
      return Range(b, e);
    }
    size_t type_begin = NextSig(name + 1, e);
    size_t type_end = type_begin;
    for (size_t k = type_begin; k < e; ++k) {
      if (match_[k] != kNone) {
        k = match_[k];
        type_end = k + 1;
        continue;
      }
      if (EndsColumnType(t_[k])) break;
      if (IsSignificant(t_[k])) type_end = k + 1;
    }
    std::string out = Raw(b, name) + IdentifierSql(name) + Raw(name + 1, type_begin);
    if (type_end > type_begin) {
      ASSIGN_OR_RETURN(std::string type, TypeSql(type_begin, type_end));
      out += type;
    }
    ASSIGN_OR_RETURN(std::string rest, Range(type_end, e));
    return out + rest;
  }

  // ---- function handlers

  Status ArgCount(const Call& c, size_t min, size_t max) const {
    if (c.args.size() >= min && c.args.size() <= max) return Status::OK();
    std::string expected = min == max     ? std::to_string(min)
                           : max == kNone ? fmt::format("at least {}", min)
                                          : fmt::format("{} to {}", min, max);
    return Status::InvalidArgument(fmt::format("line {}: {} takes {} argument{}, got {}", c.line,
                                               c.name, expected, (min == 1 && max == 1) ? "" : "s",
                                               c.args.size()));
  }
  Status Unsupported(const Call& c, std::string_view what) const {
    return Status::InvalidArgument(fmt::format("line {}: {}: {}", c.line, c.name, what));
  }
  // The pattern argument of a datetime function: a string literal.
  Result<std::string> PatternArg(const Call& c, size_t index) const {
    ASSIGN_OR_RETURN(auto pattern, LiteralString(c.args[index]));
    if (!pattern) {
      return Unsupported(c, fmt::format("the pattern must be a string literal (got {}); supported "
                                        "pattern letters: {}",
                                        c.args[index].sql, kSupportedPatternLetters));
    }
    return *pattern;
  }
  // try_strptime of argument 0 with a Java pattern.
  Result<std::string> ParseWithPattern(const Call& c, const std::string& pattern) const {
    ASSIGN_OR_RETURN(DuckPattern p, ConvertJavaPattern(c.name, pattern, /*parse=*/true, c.line));
    std::string input = "CAST(" + c.args[0].sql + " AS VARCHAR)";
    if (p.zone_at_end) input = "regexp_replace(" + input + ", '[Zz]$', '+00:00')";
    return fmt::format("try_strptime({}, {})", input, QuoteString(p.format));
  }

  Result<std::string> Keep(Call& c) {
    std::string out = c.name + "(";
    for (size_t i = 0; i < c.args.size(); ++i) out += (i > 0 ? ", " : "") + c.args[i].sql;
    return out + ")";
  }

  Result<std::string> CurrentTimestamp(Call& c) {
    RETURN_NOT_OK(ArgCount(c, 0, 0));
    return std::string("current_timestamp");
  }
  Result<std::string> CurrentDate(Call& c) {
    RETURN_NOT_OK(ArgCount(c, 0, 0));
    return std::string("current_date");
  }
  Result<std::string> DateFormat(Call& c) {
    RETURN_NOT_OK(ArgCount(c, 2, 2));
    ASSIGN_OR_RETURN(std::string pattern, PatternArg(c, 1));
    ASSIGN_OR_RETURN(DuckPattern p, ConvertJavaPattern(c.name, pattern, false, c.line));
    // A DATE is formatted as it is (strftime prints its time as 00:00:00); anything else as a
    // TIMESTAMP, not TIMESTAMPTZ: a TIMESTAMP argument then needs no conversion per row, a
    // TIMESTAMPTZ one is converted to the session time zone by the cast, as Spark formats in the
    // session time zone, and a string is parsed. typeof() is constant: DuckDB keeps one branch
    // (a cast of each DATE to TIMESTAMP made the call 3x slower).
    return fmt::format(
        "CASE WHEN typeof({0}) = 'DATE' THEN strftime(TRY_CAST({0} AS DATE), {1}) ELSE "
        "strftime(TRY_CAST({0} AS TIMESTAMP), {1}) END",
        c.args[0].sql, QuoteString(p.format));
  }
  Result<std::string> ToDate(Call& c) {
    RETURN_NOT_OK(ArgCount(c, 1, 2));
    if (c.args.size() == 1) return fmt::format("TRY_CAST({} AS DATE)", c.args[0].sql);
    ASSIGN_OR_RETURN(std::string pattern, PatternArg(c, 1));
    ASSIGN_OR_RETURN(std::string parsed, ParseWithPattern(c, pattern));
    return fmt::format("CAST({} AS DATE)", parsed);
  }
  Result<std::string> ToTimestamp(Call& c) {
    RETURN_NOT_OK(ArgCount(c, 1, 2));
    if (c.args.size() == 1) return fmt::format("TRY_CAST({} AS TIMESTAMPTZ)", c.args[0].sql);
    ASSIGN_OR_RETURN(std::string pattern, PatternArg(c, 1));
    ASSIGN_OR_RETURN(std::string parsed, ParseWithPattern(c, pattern));
    return fmt::format("CAST({} AS TIMESTAMPTZ)", parsed);
  }
  Result<std::string> FromUnixtime(Call& c) {
    RETURN_NOT_OK(ArgCount(c, 1, 2));
    std::string pattern = "yyyy-MM-dd HH:mm:ss";
    if (c.args.size() == 2) {
      ASSIGN_OR_RETURN(pattern, PatternArg(c, 1));
    }
    ASSIGN_OR_RETURN(DuckPattern p, ConvertJavaPattern(c.name, pattern, false, c.line));
    return fmt::format("strftime(to_timestamp(floor({})), {})", c.args[0].sql,
                       QuoteString(p.format));
  }
  Result<std::string> UnixTimestamp(Call& c) {
    RETURN_NOT_OK(ArgCount(c, 0, 2));
    if (c.args.empty()) return std::string("CAST(floor(epoch(current_timestamp)) AS BIGINT)");
    std::string pattern = "yyyy-MM-dd HH:mm:ss";
    if (c.args.size() == 2) {
      ASSIGN_OR_RETURN(pattern, PatternArg(c, 1));
    }
    ASSIGN_OR_RETURN(std::string parsed, ParseWithPattern(c, pattern));
    return fmt::format("spark_unix_timestamp({}, {})", c.args[0].sql, parsed);
  }
  Result<std::string> DateAdd(Call& c) {
    RETURN_NOT_OK(ArgCount(c, 2, 2));
    return fmt::format("CAST(TRY_CAST({} AS DATE) {} CAST({} AS INTEGER) AS DATE)", c.args[0].sql,
                       c.lower == "date_sub" ? "-" : "+", c.args[1].sql);
  }
  // datediff(end, start): days. datediff / date_diff / timestampdiff / timediff(unit, start, end):
  // whole elapsed units, as DuckDB's date_sub counts them.
  Result<std::string> DateDiff(Call& c) {
    if (c.args.size() == 3 || c.lower == "timestampdiff" || c.lower == "timediff") {
      RETURN_NOT_OK(ArgCount(c, 3, 3));
      size_t unit_token = SingleToken(c.args[0]);
      ASSIGN_OR_RETURN(auto unit, LiteralString(c.args[0]));
      if (!unit && unit_token != kNone && t_[unit_token].kind == TokenKind::kWord) {
        unit = std::string(t_[unit_token].text);
      }
      static const char* kUnits[] = {"MICROSECOND", "MILLISECOND", "SECOND", "MINUTE",  "HOUR",
                                     "DAY",         "WEEK",        "MONTH",  "QUARTER", "YEAR"};
      if (!unit || std::none_of(std::begin(kUnits), std::end(kUnits),
                                [&](const char* u) { return Upper(*unit) == u; })) {
        return Unsupported(c, fmt::format("the unit must be one of MICROSECOND, MILLISECOND, "
                                          "SECOND, MINUTE, HOUR, DAY, WEEK, MONTH, QUARTER, YEAR "
                                          "(got {})",
                                          c.args[0].sql));
      }
      return fmt::format("date_sub({}, TRY_CAST({} AS TIMESTAMPTZ), TRY_CAST({} AS TIMESTAMPTZ))",
                         QuoteString(AsciiLower(*unit)), c.args[1].sql, c.args[2].sql);
    }
    RETURN_NOT_OK(ArgCount(c, 2, 2));
    return fmt::format("CAST(TRY_CAST({} AS DATE) - TRY_CAST({} AS DATE) AS INTEGER)",
                       c.args[0].sql, c.args[1].sql);
  }
  Result<std::string> AddMonths(Call& c) {
    RETURN_NOT_OK(ArgCount(c, 2, 2));
    return fmt::format("CAST(TRY_CAST({} AS DATE) + to_months(CAST({} AS INTEGER)) AS DATE)",
                       c.args[0].sql, c.args[1].sql);
  }
  // year(x), hour(x), ...: Spark accepts strings, dates and timestamps.
  Result<std::string> DatePart(Call& c) {
    RETURN_NOT_OK(ArgCount(c, 1, 1));
    const bool time = c.lower == "hour" || c.lower == "minute" || c.lower == "second";
    std::string value =
        fmt::format("TRY_CAST({} AS {})", c.args[0].sql, time ? "TIMESTAMPTZ" : "DATE");
    if (c.lower == "dayofweek") return fmt::format("(dayofweek({}) + 1)", value);
    std::string function = c.lower == "dayofmonth" ? "day" : c.lower;
    return fmt::format("{}({})", function, value);
  }
  Result<std::string> DateTrunc(Call& c) {
    RETURN_NOT_OK(ArgCount(c, 2, 2));
    ASSIGN_OR_RETURN(auto unit, LiteralString(c.args[0]));
    if (!unit) return Keep(c);
    static const std::map<std::string, std::string> kUnits = {{"YEAR", "year"},
                                                              {"YYYY", "year"},
                                                              {"YY", "year"},
                                                              {"QUARTER", "quarter"},
                                                              {"MONTH", "month"},
                                                              {"MM", "month"},
                                                              {"MON", "month"},
                                                              {"WEEK", "week"},
                                                              {"DAY", "day"},
                                                              {"DD", "day"},
                                                              {"HOUR", "hour"},
                                                              {"MINUTE", "minute"},
                                                              {"SECOND", "second"},
                                                              {"MILLISECOND", "millisecond"},
                                                              {"MICROSECOND", "microsecond"}};
    auto it = kUnits.find(Upper(*unit));
    if (it == kUnits.end()) {
      return Unsupported(
          c, fmt::format("unknown unit '{}'; supported: YEAR, YYYY, YY, QUARTER, MONTH, "
                         "MM, MON, WEEK, DAY, DD, HOUR, MINUTE, SECOND, MILLISECOND, "
                         "MICROSECOND",
                         *unit));
    }
    return fmt::format("date_trunc({}, TRY_CAST({} AS TIMESTAMPTZ))", QuoteString(it->second),
                       c.args[1].sql);
  }
  // trunc(date, 'MM'): Spark's date truncation (DuckDB's trunc is numeric, kept for other uses).
  Result<std::string> Trunc(Call& c) {
    if (c.args.size() != 2) return Keep(c);
    ASSIGN_OR_RETURN(auto unit, LiteralString(c.args[1]));
    if (!unit) return Keep(c);
    static const std::map<std::string, std::string> kUnits = {
        {"YEAR", "year"},   {"YYYY", "year"}, {"YY", "year"},   {"QUARTER", "quarter"},
        {"MONTH", "month"}, {"MM", "month"},  {"MON", "month"}, {"WEEK", "week"}};
    auto it = kUnits.find(Upper(*unit));
    if (it == kUnits.end()) {
      return Unsupported(c, fmt::format("unknown unit '{}'; supported: YEAR, YYYY, YY, QUARTER, "
                                        "MONTH, MM, MON, WEEK",
                                        *unit));
    }
    return fmt::format("CAST(date_trunc({}, TRY_CAST({} AS DATE)) AS DATE)",
                       QuoteString(it->second), c.args[0].sql);
  }
  Result<std::string> Concat(Call& c) {
    if (c.args.empty()) return std::string("''");
    std::string out = "(";
    for (size_t i = 0; i < c.args.size(); ++i) out += (i > 0 ? " || " : "") + P(c.args[i]);
    return out + ")";
  }
  Result<std::string> Nvl(Call& c) {
    RETURN_NOT_OK(ArgCount(c, 2, 2));
    return fmt::format("coalesce({}, {})", c.args[0].sql, c.args[1].sql);
  }
  Result<std::string> Nvl2(Call& c) {
    RETURN_NOT_OK(ArgCount(c, 3, 3));
    return fmt::format("CASE WHEN {} IS NOT NULL THEN {} ELSE {} END", P(c.args[0]), c.args[1].sql,
                       c.args[2].sql);
  }
  Result<std::string> IsNull(Call& c) {
    RETURN_NOT_OK(ArgCount(c, 1, 1));
    return fmt::format("({} IS {}NULL)", P(c.args[0]), c.lower == "isnotnull" ? "NOT " : "");
  }
  Result<std::string> Nanvl(Call& c) {
    RETURN_NOT_OK(ArgCount(c, 2, 2));
    return fmt::format("CASE WHEN isnan({}) THEN {} ELSE {} END", c.args[0].sql, c.args[1].sql,
                       c.args[0].sql);
  }
  Result<std::string> RegexpExtract(Call& c) {
    RETURN_NOT_OK(ArgCount(c, 2, 3));
    return fmt::format("{}({}, {}, {})", c.lower, c.args[0].sql, c.args[1].sql,
                       c.args.size() == 3 ? c.args[2].sql : "1");
  }
  Result<std::string> RegexpReplace(Call& c) {
    RETURN_NOT_OK(ArgCount(c, 3, 4));
    std::string replacement;
    ASSIGN_OR_RETURN(auto literal, LiteralString(c.args[2]));
    if (literal) {
      // Java's replacement syntax ($1, \$) -> RE2's (\1, and \\ for a backslash).
      std::string r;
      const std::string& s = *literal;
      for (size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '\\' && i + 1 < s.size()) {
          ++i;
          r += s[i] == '\\' ? std::string("\\\\") : std::string(1, s[i]);
        } else if (s[i] == '$' && i + 1 < s.size() &&
                   std::isdigit(static_cast<unsigned char>(s[i + 1]))) {
          r += '\\';
          r += s[++i];
        } else if (s[i] == '$' && i + 1 < s.size() && s[i + 1] == '{') {
          return Unsupported(c, "named group references (${name}) are not supported; use $1..$9");
        } else if (s[i] == '\\') {
          r += "\\\\";
        } else {
          r += s[i];
        }
      }
      replacement = QuoteString(r);
    } else {
      replacement = fmt::format("spark_java_replacement({})", c.args[2].sql);
    }
    if (c.args.size() == 4) {
      return fmt::format("spark_regexp_replace({}, {}, {}, {})", c.args[0].sql, c.args[1].sql,
                         replacement, c.args[3].sql);
    }
    return fmt::format("regexp_replace({}, {}, {}, 'g')", c.args[0].sql, c.args[1].sql,
                       replacement);
  }
  Result<std::string> RegexpLike(Call& c) {
    RETURN_NOT_OK(ArgCount(c, 2, 2));
    return fmt::format("regexp_matches({}, {})", c.args[0].sql, c.args[1].sql);
  }
  Result<std::string> SplitFn(Call& c) {
    RETURN_NOT_OK(ArgCount(c, 2, 3));
    if (c.args.size() == 2) {
      return fmt::format("string_split_regex({}, {})", c.args[0].sql, c.args[1].sql);
    }
    return fmt::format("spark_split({}, {}, {})", c.args[0].sql, c.args[1].sql, c.args[2].sql);
  }
  // substring(s, pos[, len]) and substring(s FROM pos [FOR len]).
  Result<std::string> Substring(Call& c) {
    if (c.args.size() == 1) {
      size_t from = kNone, for_ = kNone;
      const Arg& a = c.args[0];
      for (size_t k = a.begin; k < a.end; ++k) {
        if (match_[k] != kNone) {
          k = match_[k];
        } else if (Word(k, "FROM") && from == kNone) {
          from = k;
        } else if (Word(k, "FOR") && from != kNone) {
          for_ = k;
        }
      }
      if (from != kNone) {
        ASSIGN_OR_RETURN(std::string s, Trimmed(a.begin, from));
        ASSIGN_OR_RETURN(std::string pos, Trimmed(from + 1, for_ == kNone ? a.end : for_));
        if (for_ == kNone) return fmt::format("spark_substring({}, {})", s, pos);
        ASSIGN_OR_RETURN(std::string len, Trimmed(for_ + 1, a.end));
        return fmt::format("spark_substring({}, {}, {})", s, pos, len);
      }
    }
    RETURN_NOT_OK(ArgCount(c, 2, 3));
    return fmt::format("spark_substring({})", JoinArgs(c));
  }
  std::string JoinArgs(const Call& c) const {
    std::string out;
    for (size_t i = 0; i < c.args.size(); ++i) out += (i > 0 ? ", " : "") + c.args[i].sql;
    return out;
  }
  // locate(substr, str[, pos]); position(substr, str[, pos]) (position(a IN b) is kept).
  Result<std::string> Locate(Call& c) {
    if (c.args.size() == 1) return Keep(c);
    RETURN_NOT_OK(ArgCount(c, 2, 3));
    if (c.args.size() == 2) return fmt::format("instr({}, {})", c.args[1].sql, c.args[0].sql);
    return fmt::format("spark_locate({})", JoinArgs(c));
  }
  Result<std::string> Pad(Call& c) {
    RETURN_NOT_OK(ArgCount(c, 2, 3));
    return fmt::format("spark_{}({}, {}, {})", c.lower, c.args[0].sql, c.args[1].sql,
                       c.args.size() == 3 ? c.args[2].sql : "' '");
  }
  Result<std::string> Initcap(Call& c) {
    RETURN_NOT_OK(ArgCount(c, 1, 1));
    return fmt::format("spark_initcap({})", c.args[0].sql);
  }
  Result<std::string> Bround(Call& c) {
    RETURN_NOT_OK(ArgCount(c, 1, 2));
    return fmt::format("round_even({}, {})", c.args[0].sql,
                       c.args.size() == 2 ? c.args[1].sql : "0");
  }
  Result<std::string> Sha2(Call& c) {
    RETURN_NOT_OK(ArgCount(c, 2, 2));
    auto bits = LiteralInt(c.args[1]);
    if (!bits) return Unsupported(c, "the bit length must be an integer literal (0 or 256)");
    if (*bits == 0 || *bits == 256) return fmt::format("sha256({})", c.args[0].sql);
    if (*bits == 224 || *bits == 384 || *bits == 512) {
      return Unsupported(c, fmt::format("SHA-{} is not available (DuckDB has SHA-256 only); "
                                        "supported bit lengths: 0, 256",
                                        *bits));
    }
    return Unsupported(c, fmt::format("bit length {} is not one of 0, 224, 256, 384, 512", *bits));
  }
  Result<std::string> Sha1(Call& c) {
    RETURN_NOT_OK(ArgCount(c, 1, 1));
    return fmt::format("sha1({})", c.args[0].sql);
  }
  // collect_list / collect_set / array_agg: DuckDB's list() keeps NULLs, Spark's skips them.
  Result<std::string> Collect(Call& c) {
    RETURN_NOT_OK(ArgCount(c, 1, 1));
    const Arg& a = c.args[0];
    size_t first = NextSig(a.begin, a.end);
    bool distinct = c.lower == "collect_set";
    Arg value = a;
    if (Word(first, "DISTINCT")) {
      distinct = true;
      value.begin = first + 1;
      ASSIGN_OR_RETURN(value.sql, Trimmed(first + 1, a.end));
    }
    std::string condition = P(value) + " IS NOT NULL";
    size_t filter = NextSig(c.close + 1, t_.size());
    size_t paren = NextSig(filter + 1, t_.size());
    if (Word(filter, "FILTER") && Sym(paren, '(')) {
      size_t where = NextSig(paren + 1, match_[paren]);
      if (Word(where, "WHERE")) {
        ASSIGN_OR_RETURN(std::string own, Trimmed(where + 1, match_[paren]));
        condition = "(" + own + ") AND " + condition;
        c.end = match_[paren] + 1;
      }
    }
    return fmt::format("list({}{}) FILTER (WHERE {})", distinct ? "DISTINCT " : "", value.sql,
                       condition);
  }
  Result<std::string> Explode(Call& c) {
    RETURN_NOT_OK(ArgCount(c, 1, 1));
    return fmt::format("unnest({})", c.args[0].sql);
  }
  Result<std::string> ExplodeOuter(Call& c) {
    RETURN_NOT_OK(ArgCount(c, 1, 1));
    return fmt::format("unnest(CASE WHEN len({0}) > 0 THEN {0} ELSE [NULL] END)", c.args[0].sql);
  }
  // Functions DuckDB has under another name.
  Result<std::string> Rename(Call& c) {
    static const std::map<std::string, std::string> kNames = {{"iff", "if"},
                                                              {"startswith", "starts_with"},
                                                              {"endswith", "ends_with"},
                                                              {"array_max", "list_max"},
                                                              {"array_min", "list_min"}};
    return fmt::format("{}({})", kNames.at(c.lower), JoinArgs(c));
  }
  Result<std::string> ArraySize(Call& c) {
    RETURN_NOT_OK(ArgCount(c, 1, 1));
    return fmt::format("CAST(len({}) AS INTEGER)", c.args[0].sql);
  }
  Result<std::string> ArrayJoin(Call& c) {
    RETURN_NOT_OK(ArgCount(c, 2, 3));
    if (c.args.size() == 2)
      return fmt::format("array_to_string({}, {})", c.args[0].sql, c.args[1].sql);
    return fmt::format("array_to_string(list_transform({}, lambda x: coalesce(x, {})), {})",
                       c.args[0].sql, c.args[2].sql, c.args[1].sql);
  }
  Result<std::string> SortArray(Call& c) {
    RETURN_NOT_OK(ArgCount(c, 1, 2));
    std::string ascending = c.args.size() == 2 ? c.args[1].sql : "true";
    return fmt::format(
        "CASE WHEN {1} THEN list_sort({0}, 'ASC', 'NULLS FIRST') "
        "ELSE list_sort({0}, 'DESC', 'NULLS LAST') END",
        c.args[0].sql, ascending);
  }
  Result<std::string> Rand(Call& c) {
    if (!c.args.empty()) return Unsupported(c, "a seed is not supported; use rand()");
    return std::string("random()");
  }
  Result<std::string> TryDivide(Call& c) {
    RETURN_NOT_OK(ArgCount(c, 2, 2));
    return fmt::format("CASE WHEN {1} = 0 THEN NULL ELSE {0} / {1} END", P(c.args[0]),
                       P(c.args[1]));
  }
  Result<std::string> Size(Call& c) {
    RETURN_NOT_OK(ArgCount(c, 1, 1));
    const std::string& a = c.args[0].sql;
    if (a.starts_with("[") || a.starts_with("string_split_regex(") ||
        a.starts_with("spark_split(") || a.starts_with("list(")) {
      return fmt::format("coalesce(CAST(len({}) AS INTEGER), -1)", a);
    }
    if (a.starts_with("MAP {"))
      return fmt::format("coalesce(CAST(cardinality({}) AS INTEGER), -1)", a);
    return fmt::format("spark_size({})", a);
  }
  Result<std::string> Array(Call& c) { return "[" + JoinArgs(c) + "]"; }
  Result<std::string> Map(Call& c) {
    if (c.args.size() % 2 != 0)
      return Unsupported(c, "takes key, value pairs (an even number of arguments)");
    std::string out = "MAP {";
    for (size_t i = 0; i < c.args.size(); i += 2) {
      out += fmt::format("{}{}: {}", i > 0 ? ", " : "", c.args[i].sql, c.args[i + 1].sql);
    }
    return out + "}";
  }
  Result<std::string> ElementAt(Call& c) {
    RETURN_NOT_OK(ArgCount(c, 2, 2));
    return fmt::format("{}[{}]", P(c.args[0]), c.args[1].sql);
  }
  Result<std::string> NamedStruct(Call& c) {
    if (c.args.empty() || c.args.size() % 2 != 0) {
      return Unsupported(c, "takes name, value pairs ('a', x, 'b', y, ...)");
    }
    std::string out = "struct_pack(";
    for (size_t i = 0; i < c.args.size(); i += 2) {
      ASSIGN_OR_RETURN(auto name, LiteralString(c.args[i]));
      if (!name)
        return Unsupported(
            c, fmt::format("field names must be string literals (got {})", c.args[i].sql));
      out +=
          fmt::format("{}{} := {}", i > 0 ? ", " : "", QuoteIdentifier(*name), c.args[i + 1].sql);
    }
    return out + ")";
  }
  // struct(a, b AS x, f(c)): fields named after columns and aliases, col<n> otherwise.
  Result<std::string> Struct(Call& c) {
    if (c.args.empty()) return Unsupported(c, "needs at least one field");
    std::string out = "struct_pack(";
    for (size_t i = 0; i < c.args.size(); ++i) {
      const Arg& a = c.args[i];
      std::string name = fmt::format("col{}", i + 1);
      std::string value = a.sql;
      size_t last = a.end;
      while (last > a.begin && !IsSignificant(t_[last - 1])) --last;
      size_t before = last > a.begin ? PrevSig(last - 1) : kNone;
      size_t first = NextSig(a.begin, a.end);
      if (last > a.begin && before != kNone && before >= a.begin && Word(before, "AS") &&
          IsIdentifierToken(t_[last - 1])) {
        name = t_[last - 1].kind == TokenKind::kBacktick ? Unquote(t_[last - 1])
                                                         : std::string(t_[last - 1].text);
        ASSIGN_OR_RETURN(value, Trimmed(a.begin, before));
      } else if (first < a.end && IsIdentifierToken(t_[first])) {
        size_t k = first;
        while (Sym(k + 1, '.') && k + 2 < a.end && IsIdentifierToken(t_[k + 2])) k += 2;
        if (NextSig(k + 1, a.end) >= a.end) {
          name = t_[k].kind == TokenKind::kBacktick ? Unquote(t_[k]) : std::string(t_[k].text);
        }
      }
      out += fmt::format("{}{} := {}", i > 0 ? ", " : "", QuoteIdentifier(name), value);
    }
    return out + ")";
  }
  Result<std::string> GetJsonObject(Call& c) {
    RETURN_NOT_OK(ArgCount(c, 2, 2));
    std::string json = "TRY_CAST(" + c.args[0].sql + " AS JSON)";
    ASSIGN_OR_RETURN(auto path, LiteralString(c.args[1]));
    if (!path) return fmt::format("json_extract_string({}, {})", json, c.args[1].sql);
    ASSIGN_OR_RETURN(auto converted, SparkJsonPath(c, *path));
    if (converted.second) {
      return fmt::format("CAST(to_json(json_extract({}, {})) AS VARCHAR)", json,
                         QuoteString(converted.first));
    }
    return fmt::format("json_extract_string({}, {})", json, QuoteString(converted.first));
  }
  // Spark's JSON path ($.a, $['a'], $.a[0], [*]) -> DuckDB's; second: whether it has a wildcard.
  Result<std::pair<std::string, bool>> SparkJsonPath(const Call& c, std::string_view path) const {
    if (path.empty() || path[0] != '$')
      return Unsupported(c, fmt::format("JSON path '{}' must start with $", path));
    std::string out = "$";
    bool wildcard = false;
    size_t i = 1;
    while (i < path.size()) {
      if (path[i] == '.') {
        size_t j = i + 1;
        while (j < path.size() && path[j] != '.' && path[j] != '[') ++j;
        std::string_view key = path.substr(i + 1, j - i - 1);
        if (key == "*") {
          out += ".*";
          wildcard = true;
        } else if (IsSimpleName(key)) {
          out += "." + std::string(key);
        } else {
          out += ".\"" + std::string(key) + "\"";
        }
        i = j;
      } else if (path[i] == '[') {
        size_t j = path.find(']', i);
        if (j == std::string_view::npos)
          return Unsupported(c, fmt::format("JSON path '{}': unclosed [", path));
        std::string_view inner = path.substr(i + 1, j - i - 1);
        if (inner.size() >= 2 && inner.front() == '\'' && inner.back() == '\'') {
          out += ".\"" + std::string(inner.substr(1, inner.size() - 2)) + "\"";
        } else {
          if (inner == "*") wildcard = true;
          out += "[" + std::string(inner) + "]";
        }
        i = j + 1;
      } else {
        return Unsupported(c, fmt::format("JSON path '{}': unexpected '{}'", path, path[i]));
      }
    }
    return std::make_pair(out, wildcard);
  }
  Result<std::string> FromJson(Call& c) {
    if (c.args.size() == 3) return Unsupported(c, "options (the third argument) are not supported");
    RETURN_NOT_OK(ArgCount(c, 2, 2));
    ASSIGN_OR_RETURN(auto schema, LiteralString(c.args[1]));
    if (!schema) {
      return Unsupported(
          c, fmt::format("the schema must be a string literal such as 'a INT, b STRING' "
                         "or 'STRUCT<a: INT>' (got {})",
                         c.args[1].sql));
    }
    auto type = ParseSparkSchema(*schema);
    if (!type.ok()) return Unsupported(c, type.status().message());
    return fmt::format("json_transform(TRY_CAST({} AS JSON), {})", c.args[0].sql,
                       QuoteString(type->ToJsonStructure()));
  }
  Result<std::string> ToJson(Call& c) {
    if (c.args.size() == 2)
      return Unsupported(c, "options (the second argument) are not supported");
    RETURN_NOT_OK(ArgCount(c, 1, 1));
    // Spark leaves out NULL struct fields (ignoreNullFields); a JSON merge patch drops them.
    return fmt::format("CAST(json_merge_patch('{{}}', to_json({})) AS VARCHAR)", c.args[0].sql);
  }
  Result<std::string> Uuid(Call& c) {
    RETURN_NOT_OK(ArgCount(c, 0, 0));
    return std::string("CAST(uuid() AS VARCHAR)");
  }
  Result<std::string> PercentileApprox(Call& c) {
    RETURN_NOT_OK(ArgCount(c, 2, 3));
    return fmt::format("quantile_disc({}, {})", c.args[0].sql, c.args[1].sql);
  }
  Result<std::string> Percentile(Call& c) {
    if (c.args.size() == 3) return Unsupported(c, "the frequency argument is not supported");
    RETURN_NOT_OK(ArgCount(c, 2, 2));
    return fmt::format("quantile_cont({}, {})", c.args[0].sql, c.args[1].sql);
  }
  Result<std::string> Replace(Call& c) {
    RETURN_NOT_OK(ArgCount(c, 2, 3));
    return fmt::format("replace({}, {}, {})", c.args[0].sql, c.args[1].sql,
                       c.args.size() == 3 ? c.args[2].sql : "''");
  }
  // string(x), int(x), ...: Spark's cast functions.
  Result<std::string> CastFunction(Call& c) {
    RETURN_NOT_OK(ArgCount(c, 1, 1));
    ASSIGN_OR_RETURN(SparkType type, ParseSparkType(c.lower));
    std::string value = c.args[0].sql;
    if (IsIntegral(type.ToDuckDb()) && IsFractional(c.args[0].begin, c.args[0].end)) {
      value = "trunc(" + value + ")";
    }
    return fmt::format("CAST({} AS {})", value, type.ToDuckDb());
  }

  std::vector<Token> t_;
  std::vector<size_t> match_;
  bool statement_start_ = true;
};

const std::map<std::string, Translator::Handler>& Translator::Handlers() {
  using T = Translator;
  static const auto* handlers = new std::map<std::string, Handler>{
      {"current_timestamp", &T::CurrentTimestamp},
      {"current_date", &T::CurrentDate},
      {"date_format", &T::DateFormat},
      {"to_date", &T::ToDate},
      {"to_timestamp", &T::ToTimestamp},
      {"try_to_timestamp", &T::ToTimestamp},
      {"from_unixtime", &T::FromUnixtime},
      {"unix_timestamp", &T::UnixTimestamp},
      {"to_unix_timestamp", &T::UnixTimestamp},
      {"date_add", &T::DateAdd},
      {"date_sub", &T::DateAdd},
      {"datediff", &T::DateDiff},
      {"date_diff", &T::DateDiff},
      {"timestampdiff", &T::DateDiff},
      {"timediff", &T::DateDiff},
      {"add_months", &T::AddMonths},
      {"year", &T::DatePart},
      {"quarter", &T::DatePart},
      {"month", &T::DatePart},
      {"day", &T::DatePart},
      {"dayofmonth", &T::DatePart},
      {"dayofyear", &T::DatePart},
      {"weekofyear", &T::DatePart},
      {"dayofweek", &T::DatePart},
      {"hour", &T::DatePart},
      {"minute", &T::DatePart},
      {"second", &T::DatePart},
      {"date_trunc", &T::DateTrunc},
      {"trunc", &T::Trunc},
      {"concat", &T::Concat},
      {"nvl", &T::Nvl},
      {"nvl2", &T::Nvl2},
      {"isnull", &T::IsNull},
      {"isnotnull", &T::IsNull},
      {"nanvl", &T::Nanvl},
      {"regexp_extract", &T::RegexpExtract},
      {"regexp_extract_all", &T::RegexpExtract},
      {"regexp_replace", &T::RegexpReplace},
      {"regexp_like", &T::RegexpLike},
      {"rlike", &T::RegexpLike},
      {"regexp", &T::RegexpLike},
      {"split", &T::SplitFn},
      {"substring", &T::Substring},
      {"substr", &T::Substring},
      {"locate", &T::Locate},
      {"position", &T::Locate},
      {"lpad", &T::Pad},
      {"rpad", &T::Pad},
      {"initcap", &T::Initcap},
      {"bround", &T::Bround},
      {"sha2", &T::Sha2},
      {"sha", &T::Sha1},
      {"collect_list", &T::Collect},
      {"collect_set", &T::Collect},
      {"array_agg", &T::Collect},
      {"explode", &T::Explode},
      {"explode_outer", &T::ExplodeOuter},
      {"size", &T::Size},
      {"cardinality", &T::Size},
      {"array", &T::Array},
      {"map", &T::Map},
      {"element_at", &T::ElementAt},
      {"named_struct", &T::NamedStruct},
      {"struct", &T::Struct},
      {"get_json_object", &T::GetJsonObject},
      {"from_json", &T::FromJson},
      {"to_json", &T::ToJson},
      {"uuid", &T::Uuid},
      {"percentile_approx", &T::PercentileApprox},
      {"approx_percentile", &T::PercentileApprox},
      {"percentile", &T::Percentile},
      {"replace", &T::Replace},
      {"iff", &T::Rename},
      {"startswith", &T::Rename},
      {"endswith", &T::Rename},
      {"array_max", &T::Rename},
      {"array_min", &T::Rename},
      {"array_size", &T::ArraySize},
      {"array_join", &T::ArrayJoin},
      {"sort_array", &T::SortArray},
      {"rand", &T::Rand},
      {"random", &T::Rand},
      {"try_divide", &T::TryDivide},
      {"string", &T::CastFunction},
      {"int", &T::CastFunction},
      {"bigint", &T::CastFunction},
      {"smallint", &T::CastFunction},
      {"tinyint", &T::CastFunction},
      {"double", &T::CastFunction},
      {"float", &T::CastFunction},
      {"boolean", &T::CastFunction},
      {"date", &T::CastFunction},
      {"timestamp", &T::CastFunction},
      {"binary", &T::CastFunction},
  };
  return *handlers;
}

// The helper macros. Spark semantics each implements are in docs/spark_functions.md.
constexpr const char* kMacros = R"sql(
CREATE OR REPLACE TEMP MACRO spark_substring_range(s, start0, len) AS
  CASE WHEN s IS NULL OR start0 IS NULL OR len IS NULL THEN NULL
       WHEN start0 + len <= greatest(start0, 0) THEN ''
       ELSE substring(s, greatest(start0, 0) + 1, start0 + len - greatest(start0, 0)) END;
CREATE OR REPLACE TEMP MACRO spark_substring_from(s, pos) AS
  CASE WHEN s IS NULL OR pos IS NULL THEN NULL
       ELSE substring(s, greatest(CASE WHEN pos > 0 THEN pos - 1 WHEN pos < 0 THEN length(s) + pos
                                       ELSE 0 END, 0) + 1) END;
CREATE OR REPLACE TEMP MACRO spark_substring(s, pos) AS
    spark_substring_from(CAST(s AS VARCHAR), pos),
  (s, pos, len) AS spark_substring_range(
      CAST(s AS VARCHAR),
      CASE WHEN pos > 0 THEN pos - 1 WHEN pos < 0 THEN length(CAST(s AS VARCHAR)) + pos ELSE 0 END,
      len);
CREATE OR REPLACE TEMP MACRO spark_locate_in(sub, s, pos) AS
  CASE WHEN pos IS NULL OR pos < 1 THEN 0
       WHEN sub IS NULL OR s IS NULL THEN NULL
       WHEN instr(substring(s, pos), sub) = 0 THEN 0
       ELSE instr(substring(s, pos), sub) + pos - 1 END;
CREATE OR REPLACE TEMP MACRO spark_locate(sub, s, pos) AS
  spark_locate_in(CAST(sub AS VARCHAR), CAST(s AS VARCHAR), pos);
CREATE OR REPLACE TEMP MACRO spark_pad(s, n, p, left_side) AS
  CASE WHEN s IS NULL OR n IS NULL OR p IS NULL THEN NULL
       WHEN n <= 0 THEN ''
       WHEN p = '' OR n <= length(s) THEN substring(s, 1, n)
       WHEN left_side THEN lpad(s, n, p)
       ELSE rpad(s, n, p) END;
CREATE OR REPLACE TEMP MACRO spark_lpad(s, n, p) AS spark_pad(CAST(s AS VARCHAR), n, p, true);
CREATE OR REPLACE TEMP MACRO spark_rpad(s, n, p) AS spark_pad(CAST(s AS VARCHAR), n, p, false);
CREATE OR REPLACE TEMP MACRO spark_initcap(s) AS
  CASE WHEN s IS NULL THEN NULL
       ELSE array_to_string(
                list_transform(string_split(lower(CAST(s AS VARCHAR)), ' '),
                               lambda w: upper(left(w, 1)) || substring(w, 2)),
                ' ') END;
CREATE OR REPLACE TEMP MACRO spark_split_rest(parts, seps, lim) AS
  CASE WHEN len(parts) <= lim THEN parts
       ELSE parts[1:lim - 1] ||
            [array_to_string(list_transform(range(lim, len(parts) + 1),
                                            lambda i: parts[i] || coalesce(seps[i], '')), '')] END;
CREATE OR REPLACE TEMP MACRO spark_split(s, re, lim) AS
  CASE WHEN s IS NULL OR re IS NULL OR lim IS NULL THEN NULL
       WHEN lim <= 0 THEN string_split_regex(s, re)
       WHEN lim = 1 THEN [s]
       ELSE spark_split_rest(string_split_regex(s, re), regexp_extract_all(s, re), lim) END;
CREATE OR REPLACE TEMP MACRO spark_size(x) AS
  CASE WHEN x IS NULL THEN -1
       WHEN json_type(to_json(x)) = 'OBJECT' THEN CAST(len(json_keys(to_json(x))) AS INTEGER)
       ELSE CAST(json_array_length(to_json(x)) AS INTEGER) END;
CREATE OR REPLACE TEMP MACRO spark_java_replacement(r) AS
  regexp_replace(r, '\$(\d)', '\\\1', 'g');
CREATE OR REPLACE TEMP MACRO spark_regexp_replace(s, re, rep, pos) AS
  CASE WHEN pos <= 1 THEN regexp_replace(s, re, rep, 'g')
       ELSE substring(s, 1, pos - 1) || regexp_replace(substring(s, pos), re, rep, 'g') END;
CREATE OR REPLACE TEMP MACRO spark_unix_timestamp(x, parsed) AS
  CAST(floor(epoch(CASE WHEN typeof(x) = 'VARCHAR' THEN CAST(parsed AS TIMESTAMPTZ)
                        ELSE TRY_CAST(x AS TIMESTAMPTZ) END)) AS BIGINT);
)sql";

}  // namespace

Result<std::string> TranslateSparkSql(std::string_view spark_sql) {
  ASSIGN_OR_RETURN(std::vector<Token> tokens, LexSql(spark_sql));
  Translator translator(std::move(tokens));
  return translator.Run();
}

Result<std::string> TranslateSparkType(std::string_view spark_type) {
  auto type = ParseSparkType(spark_type);
  if (!type.ok()) return Status::InvalidArgument(type.status().message());
  return type->ToDuckDb();
}

bool CallsSparkFunctions(std::string_view translated_sql) {
  // DuckDB resolves function names ignoring case.
  return AsciiLower(translated_sql).find("spark_") != std::string::npos;
}

Status RegisterSparkFunctions(Connection& conn, MacroScope scope) {
  std::string macros = kMacros;
  if (scope == MacroScope::kDatabase) {
    const std::string temp = "CREATE OR REPLACE TEMP MACRO";
    for (size_t at = macros.find(temp); at != std::string::npos; at = macros.find(temp, at)) {
      macros.replace(at, temp.size(), "CREATE OR REPLACE MACRO");
    }
  }
  return conn.Execute(macros).WithContext("registering the spark_* macros");
}

}  // namespace medallion::engine
