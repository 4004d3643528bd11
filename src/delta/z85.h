// Z85: the base-85 text encoding of ZeroMQ RFC 32, which Delta uses to put binary data in JSON
// (PROTOCOL.md, "Deletion Vectors": `pathOrInlineDv` of inline DVs and the UUID of relative DV
// paths; "Statistics for Variant Columns").
//
// Every 4 bytes become 5 characters from a JSON-safe alphabet, most significant digit first. Z85
// itself only encodes whole 4-byte groups; callers that need other lengths pad (Delta records the
// unpadded size next to the text, e.g. `sizeInBytes`).
//
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>

#include "common/result.h"

namespace medallion::delta {

// The bytes that `text` encodes: text.size() / 5 * 4 of them.
// InvalidArgument when the length is not a multiple of 5, a character is outside the Z85 alphabet,
// or a 5-character group exceeds 2^32 - 1.
Result<std::string> Z85Decode(std::string_view text);

// The Z85 text of `bytes`, 5 characters per 4 bytes. InvalidArgument when bytes.size() is not a
// multiple of 4.
Result<std::string> Z85Encode(std::string_view bytes);

}  // namespace medallion::delta
