// Deletion vectors: which rows of a data file are logically deleted (PROTOCOL.md, "Deletion
// Vectors", "Deletion Vector Format", "Deletion Vector File Storage Format").
//
// An add or remove action may carry a `DeletionVectorDescriptor`. The rows it names (0-based row
// indexes within the Parquet file) must not be returned by a scan. The DV itself is a
// "RoaringBitmapArray": a 4-byte little-endian magic number 1681511377, then a 64-bit Roaring bitmap
// in the portable format (an 8-byte bucket count, then per bucket a 4-byte key, the high 32 bits of
// its values, followed by a portable 32-bit Roaring bitmap of the low 32 bits). It is stored
//   'i' inline: `pathOrInlineDv` is the Z85 text of the bitmap bytes;
//   'u' in a file relative to the table root: `pathOrInlineDv` is an optional random prefix then the
//       20-character Z85 text of a UUID; the file is `<prefix>/deletion_vector_<uuid>.bin`;
//   'p' in a file at an absolute path URI, `pathOrInlineDv`.
// In a DV file, at `offset` (absent means 0) are a 4-byte big-endian size, the bitmap bytes, and a
// 4-byte big-endian CRC-32 of those bytes.
//
// Thread-safety: descriptors are plain values; the functions may be called from any thread (the
// store must be thread-safe, as every ObjectStore is).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "storage/object_store.h"

namespace medallion::delta {

// The magic number that opens every serialized RoaringBitmapArray.
inline constexpr uint32_t kRoaringBitmapArrayMagic = 1681511377;
// The magic number of the older "native" layout, which readers also accept (the inline example in
// PROTOCOL.md uses it): a bitmap count, then per bitmap its size and a 32-bit portable bitmap.
inline constexpr uint32_t kNativeRoaringBitmapArrayMagic = 1681511376;
// Length of the Z85 text of a UUID (16 bytes) at the end of a 'u' `pathOrInlineDv`.
inline constexpr size_t kZ85UuidLength = 20;

// PROTOCOL.md, "Deletion Vector Descriptor Schema".
struct DeletionVectorDescriptor {
  std::string storage_type;             // "u", "i" or "p"
  std::string path_or_inline_dv;        // see the header comment
  std::optional<int32_t> offset;        // bytes into the DV file; absent for 'i' (read as 0 else)
  int32_t size_in_bytes = 0;            // the bitmap's size, before Z85 encoding for 'i'
  int64_t cardinality = 0;              // number of deleted rows
  std::optional<int64_t> max_row_index;  // written by some writers; informational

  // PROTOCOL.md, "Derived Fields": "<storageType><pathOrInlineDv>" plus "@<offset>" when an offset
  // is present. Identifies the DV in log replay's file key.
  std::string UniqueId() const;

  bool operator==(const DeletionVectorDescriptor&) const = default;
};

// For storage type 'u': the DV file relative to the table root, "<prefix>/deletion_vector_<uuid>.bin"
// (no prefix folder when the prefix is empty). InvalidArgument when the descriptor is not 'u' or its
// `pathOrInlineDv` is shorter than 20 characters or not valid Z85.
Result<std::string> DeletionVectorRelativePath(const DeletionVectorDescriptor& dv);

// Decodes a serialized RoaringBitmapArray (magic number included) into its values in ascending
// order; the older native layout (kNativeRoaringBitmapArrayMagic) is accepted too. `source` names
// where the bytes came from, for messages.
// Corruption naming `source`: a wrong magic number, a truncated or malformed bitmap, a bucket key
// with its top bit set, or trailing bytes.
Result<std::vector<uint64_t>> DecodeRoaringBitmapArray(std::string_view bytes,
                                                       std::string_view source);

// Serializes ascending row indexes as a RoaringBitmapArray (for writers and tests). Duplicates are
// collapsed. InvalidArgument when an index's high 32 bits have the top bit set.
Result<std::string> EncodeRoaringBitmapArray(const std::vector<uint64_t>& row_indexes);

// CRC-32 (IEEE 802.3, the zlib polynomial), as used after each DV in a DV file.
uint32_t Crc32(std::string_view bytes);

// Reads the deleted row indexes of `dv` (ascending) for a table whose root is the store key
// `table_root`. Does I/O for 'u' and 'p' (one ReadRange).
// - 'p' paths must lie inside the store (under store.LocalPath(table_root)'s file system prefix or
//   be a relative store path); others are NotSupported.
// Errors: Corruption naming the DV file (or "inline deletion vector") for a bad magic number, a size
//   that differs from the descriptor's, a checksum mismatch, a malformed bitmap, or a cardinality
//   that differs from the descriptor's; NotFound when the DV file is missing; InvalidArgument for an
//   unknown storage type; NotSupported as above; IOError from the store.
Result<std::vector<uint64_t>> ReadDeletionVector(storage::ObjectStore& store,
                                                 std::string_view table_root,
                                                 const DeletionVectorDescriptor& dv);

}  // namespace medallion::delta
