#include "storage/object_store.h"

#include <algorithm>
#include <string>
#include <string_view>
#include <utility>

#include "common/macros.h"

namespace medallion::storage {
namespace {

// The key as it may appear in a message: NUL bytes shown as "\0" so the text stays printable.
std::string Printable(std::string_view key) {
  std::string out;
  out.reserve(key.size());
  for (char c : key) {
    if (c == '\0') {
      out += "\\0";
    } else {
      out += c;
    }
  }
  return out;
}

Status BadKey(std::string_view what, std::string_view key, std::string_view problem) {
  std::string msg(what);
  msg += " '";
  msg += Printable(key);
  msg += "' ";
  msg += problem;
  return Status::InvalidArgument(std::move(msg));
}

// Checks `key` as a key; `what` ("key" or "list prefix") and `whole` name the input in messages.
Status CheckKey(std::string_view key, std::string_view what, std::string_view whole) {
  if (key.empty()) return BadKey(what, whole, "is empty");
  if (key.find('\0') != std::string_view::npos) return BadKey(what, whole, "contains a NUL byte");
  if (key.front() == '/') return BadKey(what, whole, "starts with '/' (keys are relative)");
  size_t start = 0;
  while (true) {
    size_t end = key.find('/', start);
    std::string_view segment =
        key.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start);
    if (segment.empty()) return BadKey(what, whole, "has an empty segment");
    if (segment == "." || segment == "..") {
      return BadKey(what, whole, "has a '.' or '..' segment");
    }
    if (end == std::string_view::npos) break;
    start = end + 1;
  }
  return Status::OK();
}

}  // namespace

Result<std::vector<ObjectMeta>> ObjectStore::ListAfter(std::string_view prefix,
                                                       std::string_view start_after) {
  ASSIGN_OR_RETURN(std::vector<ObjectMeta> listed, List(prefix));
  if (start_after.empty()) return listed;
  // Sorted: the keys to keep are a suffix.
  auto first = std::upper_bound(
      listed.begin(), listed.end(), start_after,
      [](std::string_view bound, const ObjectMeta& meta) { return bound < meta.key; });
  listed.erase(listed.begin(), first);
  return listed;
}

Status ValidateKey(std::string_view key) { return CheckKey(key, "key", key); }

Status ValidatePrefix(std::string_view prefix) {
  if (prefix.empty()) return Status::OK();
  if (prefix.find('\0') != std::string_view::npos) {
    return BadKey("list prefix", prefix, "contains a NUL byte");
  }
  if (prefix.front() == '/') {
    return BadKey("list prefix", prefix, "starts with '/' (keys are relative)");
  }
  size_t last_slash = prefix.rfind('/');
  if (last_slash == std::string_view::npos) return Status::OK();
  return CheckKey(prefix.substr(0, last_slash), "list prefix", prefix);
}

std::string JoinKey(std::string_view a, std::string_view b) {
  while (!a.empty() && a.back() == '/') a.remove_suffix(1);
  while (!b.empty() && b.front() == '/') b.remove_prefix(1);
  if (a.empty()) return std::string(b);
  if (b.empty()) return std::string(a);
  std::string out;
  out.reserve(a.size() + 1 + b.size());
  out += a;
  out += '/';
  out += b;
  return out;
}

}  // namespace medallion::storage
