#include "engine/sql_lexer.h"

#include <gtest/gtest.h>

namespace medallion::engine {
namespace {

std::vector<std::pair<TokenKind, std::string>> Kinds(std::string_view sql) {
  auto tokens = LexSql(sql);
  EXPECT_TRUE(tokens.ok()) << tokens.status().ToString();
  std::vector<std::pair<TokenKind, std::string>> out;
  for (const auto& t : *tokens) {
    if (t.kind != TokenKind::kSpace) out.emplace_back(t.kind, std::string(t.text));
  }
  return out;
}

TEST(SqlLexerTest, QuotesCommentsAndSymbols) {
  auto k = Kinds("SELECT `a b`, 'it''s;', \"x\" -- c;\n/* ; */ FROM t;$$ ; $$ 1.5");
  std::vector<std::pair<TokenKind, std::string>> want = {
      {TokenKind::kWord, "SELECT"},      {TokenKind::kBacktick, "`a b`"},
      {TokenKind::kSymbol, ","},         {TokenKind::kString, "'it''s;'"},
      {TokenKind::kSymbol, ","},         {TokenKind::kDoubleQuoted, "\"x\""},
      {TokenKind::kComment, "-- c;"},    {TokenKind::kComment, "/* ; */"},
      {TokenKind::kWord, "FROM"},        {TokenKind::kWord, "t"},
      {TokenKind::kSymbol, ";"},         {TokenKind::kDollar, "$$ ; $$"},
      {TokenKind::kNumber, "1.5"}};
  EXPECT_EQ(k, want);
}

TEST(SqlLexerTest, LinesAreCounted) {
  auto tokens = *LexSql("a\n'b\nc'\n  d");
  EXPECT_EQ(tokens[0].line, 1u);
  EXPECT_EQ(tokens[2].line, 2u);  // the string starts on line 2
  EXPECT_EQ(tokens.back().line, 4u);
}

TEST(SqlLexerTest, UnterminatedQuotesNameTheLine) {
  auto r = LexSql("SELECT 1;\nSELECT 'oops");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "line 2: unterminated ' string");
  EXPECT_EQ(LexSql("/* x").status().message(), "line 1: unterminated /* comment");
  EXPECT_EQ(LexSql("`x").status().message(), "line 1: unterminated ` identifier");
}

TEST(SqlLexerTest, UnquoteAndKeywords) {
  auto tokens = *LexSql("`a``b` 'it''s' 'x\\'y' select");
  EXPECT_EQ(Unquote(tokens[0]), "a`b");
  EXPECT_EQ(Unquote(tokens[2]), "it's");
  EXPECT_EQ(Unquote(tokens[4]), "x'y");
  EXPECT_TRUE(IsKeyword(tokens[6], "SELECT"));
  EXPECT_FALSE(IsKeyword(tokens[6], "SELEC"));
}

}  // namespace
}  // namespace medallion::engine
