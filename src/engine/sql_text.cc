#include "engine/sql_text.h"

namespace medallion::engine {
namespace {
std::string Quote(std::string_view text, char quote) {
  std::string out;
  out.reserve(text.size() + 2);
  out += quote;
  for (char c : text) {
    if (c == quote) out += quote;
    out += c;
  }
  out += quote;
  return out;
}
}  // namespace

std::string QuoteString(std::string_view text) { return Quote(text, '\''); }
std::string QuoteIdentifier(std::string_view name) { return Quote(name, '"'); }

}  // namespace medallion::engine
