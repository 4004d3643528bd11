#include "delta/deletion_vector.h"

#include <roaring/roaring.h>

#include <array>
#include <cstring>
#include <memory>
#include <string>

#include "common/macros.h"
#include "delta/file_path.h"
#include "delta/z85.h"

namespace medallion::delta {
namespace {

uint32_t ReadLe32(const char* p) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return v;
}
uint64_t ReadLe64(const char* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return v;
}
uint32_t ReadBe32(const char* p) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return v;
}
void AppendLe32(std::string& out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
}
void AppendLe64(std::string& out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
}

constexpr std::array<uint32_t, 256> MakeCrcTable() {
  std::array<uint32_t, 256> table{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
    table[i] = c;
  }
  return table;
}
constexpr std::array<uint32_t, 256> kCrcTable = MakeCrcTable();

struct RoaringDeleter {
  void operator()(roaring_bitmap_t* r) const { roaring_bitmap_free(r); }
};
using RoaringPtr = std::unique_ptr<roaring_bitmap_t, RoaringDeleter>;

std::string FormatUuid(std::string_view b) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out.push_back('-');
    const auto u = static_cast<unsigned char>(b[i]);
    out.push_back(kHex[u >> 4]);
    out.push_back(kHex[u & 0xF]);
  }
  return out;
}

// The store key of a DV file, and a name for messages.
Result<std::string> DvFileKey(storage::ObjectStore& store, std::string_view table_root,
                              const DeletionVectorDescriptor& dv) {
  if (dv.storage_type == "u") {
    ASSIGN_OR_RETURN(std::string rel, DeletionVectorRelativePath(dv));
    return storage::JoinKey(table_root, rel);
  }
  // 'p'
  ASSIGN_OR_RETURN(FilePath path, ParseFilePath(dv.path_or_inline_dv));
  if (path.kind == FilePath::Kind::kRelative) return storage::JoinKey(table_root, path.path);
  if (path.kind == FilePath::Kind::kLocal) {
    auto root_local = store.LocalPath(table_root);
    if (root_local.ok()) {
      std::string prefix = *root_local;
      while (prefix.size() > 1 && prefix.back() == '/') prefix.pop_back();
      prefix += '/';
      if (path.path.compare(0, prefix.size(), prefix) == 0) {
        return storage::JoinKey(table_root, path.path.substr(prefix.size()));
      }
    }
  }
  return Status::NotSupported("deletion vector at '" + dv.path_or_inline_dv +
                              "' lies outside the table's store " + store.Describe());
}

Status BitmapCorruption(std::string_view source, const std::string& what) {
  return Status::Corruption("deletion vector " + std::string(source) + ": " + what);
}

// Appends the values of a portable 32-bit Roaring bitmap at `data` (at most `max` bytes), each
// with `high` as its upper 32 bits; the bitmap's size in *used.
Status AppendBitmap(const char* data, size_t max, uint64_t high, std::vector<uint64_t>* out,
                    size_t* used, std::string_view source, uint64_t index) {
  const size_t size = roaring_bitmap_portable_deserialize_size(data, max);
  if (size == 0) {
    return BitmapCorruption(source, "malformed 32-bit bitmap in bucket " + std::to_string(index));
  }
  RoaringPtr bitmap(roaring_bitmap_portable_deserialize_safe(data, max));
  if (!bitmap) {
    return BitmapCorruption(source, "malformed 32-bit bitmap in bucket " + std::to_string(index));
  }
  const uint64_t n = roaring_bitmap_get_cardinality(bitmap.get());
  std::vector<uint32_t> low(n);
  roaring_bitmap_to_uint32_array(bitmap.get(), low.data());
  out->reserve(out->size() + n);
  for (uint32_t v : low) out->push_back((high << 32) | v);
  *used = size;
  return Status::OK();
}

// The older "native" RoaringBitmapArray layout (magic 1681511376, used by the example in
// PROTOCOL.md): a 4-byte bitmap count, then per bitmap a 4-byte size and a portable 32-bit bitmap
// whose values get the bitmap's index as upper 32 bits. The integers' byte order follows the
// magic number's.
Result<std::vector<uint64_t>> DecodeNativeBitmapArray(std::string_view bytes, bool little_endian,
                                                      std::string_view source) {
  auto read32 = [&](size_t pos) {
    return little_endian ? ReadLe32(bytes.data() + pos) : ReadBe32(bytes.data() + pos);
  };
  if (bytes.size() < 8) return BitmapCorruption(source, "truncated");
  const uint32_t count = read32(4);
  size_t pos = 8;
  std::vector<uint64_t> out;
  for (uint32_t i = 0; i < count; ++i) {
    if (bytes.size() - pos < 4) return BitmapCorruption(source, "truncated bitmap header");
    const uint32_t size = read32(pos);
    pos += 4;
    if (bytes.size() - pos < size) return BitmapCorruption(source, "truncated bitmap");
    size_t used = 0;
    RETURN_NOT_OK(AppendBitmap(bytes.data() + pos, size, i, &out, &used, source, i));
    pos += size;
  }
  if (pos != bytes.size()) {
    return BitmapCorruption(source,
                            std::to_string(bytes.size() - pos) + " trailing bytes after the bitmap");
  }
  return out;
}

}  // namespace

std::string DeletionVectorDescriptor::UniqueId() const {
  std::string id = storage_type + path_or_inline_dv;
  if (offset.has_value()) {
    // Two appends, not `"@" + to_string(...)`: GCC 12 -O3 reports a false -Wrestrict on the latter.
    id += '@';
    id += std::to_string(*offset);
  }
  return id;
}

Result<std::string> DeletionVectorRelativePath(const DeletionVectorDescriptor& dv) {
  if (dv.storage_type != "u") {
    return Status::InvalidArgument("deletion vector of storage type '" + dv.storage_type +
                                   "' has no relative path");
  }
  const std::string& p = dv.path_or_inline_dv;
  if (p.size() < kZ85UuidLength) {
    return Status::InvalidArgument("deletion vector path '" + p + "' is shorter than " +
                                   std::to_string(kZ85UuidLength) + " characters");
  }
  const std::string prefix = p.substr(0, p.size() - kZ85UuidLength);
  auto uuid = Z85Decode(std::string_view(p).substr(p.size() - kZ85UuidLength));
  if (!uuid.ok()) {
    return uuid.status().WithContext("deletion vector path '" + p + "'");
  }
  std::string name = "deletion_vector_" + FormatUuid(*uuid) + ".bin";
  return prefix.empty() ? name : prefix + "/" + name;
}

uint32_t Crc32(std::string_view bytes) {
  uint32_t c = 0xFFFFFFFFu;
  for (char ch : bytes) c = kCrcTable[(c ^ static_cast<unsigned char>(ch)) & 0xFF] ^ (c >> 8);
  return c ^ 0xFFFFFFFFu;
}

Result<std::vector<uint64_t>> DecodeRoaringBitmapArray(std::string_view bytes,
                                                       std::string_view source) {
  auto corrupt = [&](const std::string& what) {
    return Status::Corruption("deletion vector " + std::string(source) + ": " + what);
  };
  if (bytes.size() < 12) return corrupt("truncated (" + std::to_string(bytes.size()) + " bytes)");
  const uint32_t magic = ReadLe32(bytes.data());
  if (magic == kNativeRoaringBitmapArrayMagic || ReadBe32(bytes.data()) == kNativeRoaringBitmapArrayMagic) {
    return DecodeNativeBitmapArray(bytes, magic == kNativeRoaringBitmapArrayMagic, source);
  }
  if (magic != kRoaringBitmapArrayMagic) {
    return corrupt("bad magic number " + std::to_string(magic) + " (expected " +
                   std::to_string(kRoaringBitmapArrayMagic) + ")");
  }
  const uint64_t num_buckets = ReadLe64(bytes.data() + 4);
  size_t pos = 12;
  std::vector<uint64_t> out;
  int64_t previous_key = -1;
  for (uint64_t b = 0; b < num_buckets; ++b) {
    if (bytes.size() - pos < 4) return corrupt("truncated bucket header");
    const uint32_t key = ReadLe32(bytes.data() + pos);
    pos += 4;
    if (key & 0x80000000u) return corrupt("bucket key " + std::to_string(key) + " has its top bit set");
    if (static_cast<int64_t>(key) <= previous_key) return corrupt("bucket keys not ascending");
    previous_key = key;
    size_t used = 0;
    RETURN_NOT_OK(AppendBitmap(bytes.data() + pos, bytes.size() - pos, key, &out, &used, source, b));
    pos += used;
  }
  if (pos != bytes.size()) {
    return corrupt(std::to_string(bytes.size() - pos) + " trailing bytes after the bitmap");
  }
  return out;
}

Result<std::string> EncodeRoaringBitmapArray(const std::vector<uint64_t>& row_indexes) {
  std::string out;
  AppendLe32(out, kRoaringBitmapArrayMagic);
  // Group by the high 32 bits (row_indexes is ascending).
  std::vector<std::pair<uint32_t, std::vector<uint32_t>>> buckets;
  for (uint64_t v : row_indexes) {
    const uint64_t high = v >> 32;
    if (high & 0x80000000ull) {
      return Status::InvalidArgument("row index " + std::to_string(v) + " is too large for a DV");
    }
    if (buckets.empty() || buckets.back().first != high) {
      if (!buckets.empty() && buckets.back().first > high) {
        return Status::InvalidArgument("row indexes are not ascending");
      }
      buckets.emplace_back(static_cast<uint32_t>(high), std::vector<uint32_t>{});
    }
    buckets.back().second.push_back(static_cast<uint32_t>(v & 0xFFFFFFFFu));
  }
  AppendLe64(out, buckets.size());
  for (const auto& [key, values] : buckets) {
    AppendLe32(out, key);
    RoaringPtr bitmap(roaring_bitmap_of_ptr(values.size(), values.data()));
    roaring_bitmap_run_optimize(bitmap.get());
    const size_t size = roaring_bitmap_portable_size_in_bytes(bitmap.get());
    const size_t start = out.size();
    out.resize(start + size);
    roaring_bitmap_portable_serialize(bitmap.get(), out.data() + start);
  }
  return out;
}

Result<std::vector<uint64_t>> ReadDeletionVector(storage::ObjectStore& store,
                                                 std::string_view table_root,
                                                 const DeletionVectorDescriptor& dv) {
  std::vector<uint64_t> rows;
  std::string source;
  if (dv.storage_type == "i") {
    source = "inline deletion vector";
    ASSIGN_OR_RETURN_CTX(std::string bytes, Z85Decode(dv.path_or_inline_dv), source);
    if (dv.size_in_bytes < 0 || static_cast<size_t>(dv.size_in_bytes) > bytes.size()) {
      return Status::Corruption(source + ": sizeInBytes " + std::to_string(dv.size_in_bytes) +
                                " exceeds the " + std::to_string(bytes.size()) + " encoded bytes");
    }
    bytes.resize(dv.size_in_bytes);  // Z85 pads to a multiple of 4
    ASSIGN_OR_RETURN(rows, DecodeRoaringBitmapArray(bytes, source));
  } else if (dv.storage_type == "u" || dv.storage_type == "p") {
    ASSIGN_OR_RETURN(std::string key, DvFileKey(store, table_root, dv));
    source = key;
    const int64_t offset = dv.offset.value_or(0);
    if (dv.size_in_bytes < 0) {
      return Status::Corruption("deletion vector " + key + ": negative sizeInBytes");
    }
    const int64_t want = 4 + static_cast<int64_t>(dv.size_in_bytes) + 4;
    ASSIGN_OR_RETURN_CTX(std::string chunk, store.ReadRange(key, offset, want),
                         "deletion vector " + key);
    if (static_cast<int64_t>(chunk.size()) < want) {
      return Status::Corruption("deletion vector " + key + ": file ends after " +
                                std::to_string(chunk.size()) + " of " + std::to_string(want) +
                                " bytes at offset " + std::to_string(offset));
    }
    const uint32_t size = ReadBe32(chunk.data());
    if (size != static_cast<uint32_t>(dv.size_in_bytes)) {
      return Status::Corruption("deletion vector " + key + ": stored size " +
                                std::to_string(size) + " at offset " + std::to_string(offset) +
                                " differs from the descriptor's sizeInBytes " +
                                std::to_string(dv.size_in_bytes));
    }
    const std::string_view data(chunk.data() + 4, size);
    const uint32_t expected_crc = ReadBe32(chunk.data() + 4 + size);
    const uint32_t actual_crc = Crc32(data);
    if (expected_crc != actual_crc) {
      return Status::Corruption("deletion vector " + key + ": checksum mismatch at offset " +
                                std::to_string(offset));
    }
    ASSIGN_OR_RETURN(rows, DecodeRoaringBitmapArray(data, key));
  } else {
    return Status::InvalidArgument("deletion vector has unknown storage type '" +
                                   dv.storage_type + "'");
  }
  if (static_cast<int64_t>(rows.size()) != dv.cardinality) {
    return Status::Corruption("deletion vector " + source + ": holds " +
                              std::to_string(rows.size()) + " rows, descriptor says cardinality " +
                              std::to_string(dv.cardinality));
  }
  return rows;
}

}  // namespace medallion::delta
