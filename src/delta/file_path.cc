#include "delta/file_path.h"

#include <cctype>
#include <string>

#include "common/macros.h"

namespace medallion::delta {
namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Length of the URI scheme at the start of `uri` (without the ':'), or 0 when there is none.
// A scheme is ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) followed by ':' (RFC 3986, 3.1). One
// letter followed by ':' is taken for a scheme too (there are no Windows drive letters here).
size_t SchemeLength(std::string_view uri) {
  if (uri.empty() || !std::isalpha(static_cast<unsigned char>(uri[0]))) return 0;
  for (size_t i = 1; i < uri.size(); ++i) {
    const char c = uri[i];
    if (c == ':') return i;
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '+' && c != '-' && c != '.') return 0;
  }
  return 0;
}

}  // namespace

Result<std::string> PercentDecode(std::string_view text, std::string_view what) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c != '%') {
      out.push_back(c);
      continue;
    }
    if (i + 2 >= text.size()) {
      return Status::InvalidArgument(std::string(what) + " '" + std::string(text) +
                                     "': truncated percent escape");
    }
    const int hi = HexValue(text[i + 1]);
    const int lo = HexValue(text[i + 2]);
    if (hi < 0 || lo < 0) {
      return Status::InvalidArgument(std::string(what) + " '" + std::string(text) +
                                     "': invalid percent escape '" +
                                     std::string(text.substr(i, 3)) + "'");
    }
    const char decoded = static_cast<char>(hi * 16 + lo);
    if (decoded == '\0') {
      return Status::InvalidArgument(std::string(what) + " '" + std::string(text) +
                                     "': escaped NUL");
    }
    out.push_back(decoded);
    i += 2;
  }
  return out;
}

std::string PercentEncodePath(std::string_view path) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(path.size());
  for (char c : path) {
    const auto u = static_cast<unsigned char>(c);
    if (std::isalnum(u) || c == '-' || c == '.' || c == '_' || c == '~' || c == '/') {
      out.push_back(c);
    } else {
      out.push_back('%');
      out.push_back(kHex[u >> 4]);
      out.push_back(kHex[u & 0xF]);
    }
  }
  return out;
}

std::string FilePath::CanonicalKey() const {
  switch (kind) {
    case Kind::kRelative:
      return path;
    case Kind::kLocal:
      return "file://" + path;
    case Kind::kRemote:
      return path;
  }
  return path;
}

Result<FilePath> ParseFilePath(std::string_view uri) {
  if (uri.empty()) return Status::InvalidArgument("empty file path");
  FilePath out;
  const size_t scheme_len = SchemeLength(uri);
  if (scheme_len == 0) {
    ASSIGN_OR_RETURN(out.path, PercentDecode(uri));
    out.kind = uri[0] == '/' ? FilePath::Kind::kLocal : FilePath::Kind::kRelative;
    if (out.kind == FilePath::Kind::kLocal) {
      // "//x" is a network path reference in URI terms; treat leading slashes as one.
      while (out.path.size() > 1 && out.path[1] == '/') out.path.erase(0, 1);
    }
    return out;
  }
  std::string scheme(uri.substr(0, scheme_len));
  for (auto& c : scheme) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  std::string_view rest = uri.substr(scheme_len + 1);
  if (scheme != "file") {
    out.kind = FilePath::Kind::kRemote;
    ASSIGN_OR_RETURN(out.path, PercentDecode(uri));
    return out;
  }
  // file:/p, file:///p, file://localhost/p
  if (rest.substr(0, 2) == "//") {
    rest.remove_prefix(2);
    const size_t slash = rest.find('/');
    const std::string_view host = rest.substr(0, slash);
    if (!host.empty() && host != "localhost") {
      return Status::InvalidArgument("file URI '" + std::string(uri) + "' names a remote host");
    }
    rest = slash == std::string_view::npos ? std::string_view() : rest.substr(slash);
  }
  if (rest.empty() || rest[0] != '/') {
    return Status::InvalidArgument("file URI '" + std::string(uri) + "' has no absolute path");
  }
  out.kind = FilePath::Kind::kLocal;
  ASSIGN_OR_RETURN(out.path, PercentDecode(rest));
  while (out.path.size() > 1 && out.path[1] == '/') out.path.erase(0, 1);
  return out;
}

}  // namespace medallion::delta
