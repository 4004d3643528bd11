// FilePath: the `path` of an add, remove or cdc action (and of a sidecar or a 'p' deletion vector),
// decoded.
//
// PROTOCOL.md, "Add File and Remove File": a path is a URI reference (RFC 2396): either relative to
// the table root and percent-encoded ("a%20b/part-0.parquet" is the file "a b/part-0.parquet"), or
// absolute: a URI with a scheme ("file:/abs/p", "file:///abs/p", "s3://bucket/p") or, as some
// writers produce, a bare absolute path ("/abs/p"). The same file may be written in several of
// these spellings across a log (see the golden tables canonicalized-paths-*), so log replay keys
// files by `CanonicalKey`, under which all spellings of one file are equal.
//
// Thread-safety: plain values and pure functions.
#pragma once

#include <string>
#include <string_view>

#include "common/result.h"

namespace medallion::delta {

// "%41b" -> "Ab". InvalidArgument naming `what` for a truncated or non-hex escape, or an escaped
// NUL. A '+' stays a '+' (URI paths, unlike form data, do not encode spaces as '+').
Result<std::string> PercentDecode(std::string_view text, std::string_view what = "path");

// Percent-encodes every byte that is not unreserved in RFC 3986 (ALPHA / DIGIT / "-._~") and not
// '/', in uppercase hex: the spelling writers use for new relative paths.
std::string PercentEncodePath(std::string_view path);

struct FilePath {
  enum class Kind {
    kRelative,  // relative to the table root; `path` is decoded, '/'-separated
    kLocal,     // an absolute local path ("/abs/p"), from "file:" URIs or bare absolute paths
    kRemote,    // another scheme; `path` is the whole URI, with its escapes decoded
  };
  Kind kind = Kind::kRelative;
  std::string path;

  // The replay key: the decoded relative path for kRelative, "file://" + path for kLocal, the
  // decoded URI for kRemote. Distinct kinds never collide (relative paths have no scheme).
  std::string CanonicalKey() const;
};

// Parses and decodes a log path. InvalidArgument for an empty path, a bad percent escape, or a
// "file:" URI naming a remote host ("file://host/p"; "file://localhost/p" is local).
Result<FilePath> ParseFilePath(std::string_view uri);

}  // namespace medallion::delta
