#include "delta/deletion_vector.h"

#include <algorithm>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "delta/actions.h"
#include "delta/log_segment.h"
#include "delta/test_util.h"
#include "delta/z85.h"
#include "storage/local_object_store.h"
#include "storage/memory_object_store.h"

namespace medallion::delta {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

TEST(Z85Test, RoundTripsAndRejectsBadInput) {
  const std::string bytes("\x86\x4F\xD2\x6F\xB5\x59\xF7\x5B", 8);
  auto text = Z85Encode(bytes);
  ASSERT_TRUE(text.ok());
  EXPECT_EQ(*text, "HelloWorld");  // the example of ZeroMQ RFC 32
  EXPECT_EQ(*Z85Decode("HelloWorld"), bytes);
  EXPECT_TRUE(Z85Decode("Hell").status().IsInvalidArgument());
  EXPECT_TRUE(Z85Decode("Hell\"").status().IsInvalidArgument());
  EXPECT_TRUE(Z85Decode("%%%%%").status().IsInvalidArgument());  // > 2^32 - 1
  EXPECT_TRUE(Z85Encode("abc").status().IsInvalidArgument());
}

TEST(DeletionVectorTest, UniqueId) {
  DeletionVectorDescriptor dv{"u", "ab^-aqEH.-t@S}K{vb[*k^", 4, 40, 6, std::nullopt};
  EXPECT_EQ(dv.UniqueId(), "uab^-aqEH.-t@S}K{vb[*k^@4");
  dv.offset.reset();
  EXPECT_EQ(dv.UniqueId(), "uab^-aqEH.-t@S}K{vb[*k^");
}

TEST(DeletionVectorTest, RelativePathFromUuid) {
  // PROTOCOL.md, "JSON Example 1".
  DeletionVectorDescriptor dv{"u", "ab^-aqEH.-t@S}K{vb[*k^", 4, 40, 6, std::nullopt};
  auto p = DeletionVectorRelativePath(dv);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(*p, "ab/deletion_vector_d2c639aa-8816-431a-aaf6-d3fe2512ff61.bin");
  dv.path_or_inline_dv = "^-aqEH.-t@S}K{vb[*k^";  // no prefix
  EXPECT_EQ(*DeletionVectorRelativePath(dv),
            "deletion_vector_d2c639aa-8816-431a-aaf6-d3fe2512ff61.bin");
  dv.path_or_inline_dv = "short";
  EXPECT_TRUE(DeletionVectorRelativePath(dv).status().IsInvalidArgument());
  dv.storage_type = "i";
  EXPECT_TRUE(DeletionVectorRelativePath(dv).status().IsInvalidArgument());
}

TEST(DeletionVectorTest, InlineExampleFromTheSpec) {
  // PROTOCOL.md, "JSON Example 3 - Inline".
  storage::MemoryObjectStore store;
  DeletionVectorDescriptor dv{"i", "wi5b=000010000siXQKl0rr91000f55c8Xg0@@D72lkbi5=-{L",
                              std::nullopt, 40, 6, std::nullopt};
  auto rows = ReadDeletionVector(store, "t", dv);
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  EXPECT_THAT(*rows, ElementsAre(3, 4, 7, 11, 18, 29));
  dv.cardinality = 5;
  auto wrong = ReadDeletionVector(store, "t", dv);
  EXPECT_TRUE(wrong.status().IsCorruption());
  EXPECT_THAT(wrong.status().message(), HasSubstr("cardinality 5"));
}

TEST(DeletionVectorTest, EncodeDecodeRoundTripAcrossBuckets) {
  const std::vector<uint64_t> rows = {0, 1, 2, 65535, 65536, 1000000, (5ull << 32) | 7,
                                      (5ull << 32) | 8, (0x7fffffffull << 32) | 0xffffffffull};
  auto bytes = EncodeRoaringBitmapArray(rows);
  ASSERT_TRUE(bytes.ok());
  auto back = DecodeRoaringBitmapArray(*bytes, "test");
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, rows);
  EXPECT_TRUE(EncodeRoaringBitmapArray({1ull << 63}).status().IsInvalidArgument());
  auto empty = DecodeRoaringBitmapArray(*EncodeRoaringBitmapArray({}), "empty");
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->empty());
}

TEST(DeletionVectorTest, DecodeErrorsAreCorruption) {
  auto bytes = *EncodeRoaringBitmapArray({1, 2, 3});
  std::string bad_magic = bytes;
  bad_magic[3] ^= 0x10;
  auto r = DecodeRoaringBitmapArray(bad_magic, "dv.bin");
  EXPECT_TRUE(r.status().IsCorruption());
  EXPECT_THAT(r.status().message(), HasSubstr("deletion vector dv.bin: bad magic number"));
  EXPECT_TRUE(DecodeRoaringBitmapArray(bytes.substr(0, bytes.size() - 2), "dv.bin")
                  .status()
                  .IsCorruption());
  EXPECT_TRUE(DecodeRoaringBitmapArray(bytes + "x", "dv.bin").status().IsCorruption());
  EXPECT_TRUE(DecodeRoaringBitmapArray("abc", "dv.bin").status().IsCorruption());
}

TEST(DeletionVectorTest, Crc32) {
  EXPECT_EQ(Crc32("123456789"), 0xCBF43926u);
  EXPECT_EQ(Crc32(""), 0u);
}

// A DV file as writers lay it out: version byte, then per DV a big-endian size, data, CRC.
std::string DvFile(const std::string& bitmap, uint32_t crc) {
  std::string out(1, '\x01');
  auto be32 = [&](uint32_t v) {
    for (int i = 3; i >= 0; --i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
  };
  be32(static_cast<uint32_t>(bitmap.size()));
  out += bitmap;
  be32(crc);
  return out;
}

TEST(DeletionVectorTest, ReadsFromFilesAndChecksChecksumAndSize) {
  storage::MemoryObjectStore store;
  const std::string bitmap = *EncodeRoaringBitmapArray({2, 5, 9});
  const std::string uuid_z85 = "^-aqEH.-t@S}K{vb[*k^";
  const std::string key = "t/ab/deletion_vector_d2c639aa-8816-431a-aaf6-d3fe2512ff61.bin";
  ASSERT_TRUE(store.Write(key, DvFile(bitmap, Crc32(bitmap))).ok());
  DeletionVectorDescriptor dv{"u", "ab" + uuid_z85, 1, static_cast<int32_t>(bitmap.size()), 3,
                              std::nullopt};
  auto rows = ReadDeletionVector(store, "t", dv);
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  EXPECT_THAT(*rows, ElementsAre(2, 5, 9));

  // 'p' with a relative path works too.
  DeletionVectorDescriptor p{"p", "ab/deletion_vector_d2c639aa-8816-431a-aaf6-d3fe2512ff61.bin", 1,
                             static_cast<int32_t>(bitmap.size()), 3, std::nullopt};
  EXPECT_TRUE(ReadDeletionVector(store, "t", p).ok());
  DeletionVectorDescriptor remote{"p", "s3://bucket/dv.bin", 1, 10, 3, std::nullopt};
  EXPECT_TRUE(ReadDeletionVector(store, "t", remote).status().IsNotSupported());

  ASSERT_TRUE(store.Write(key, DvFile(bitmap, Crc32(bitmap) ^ 1)).ok());
  auto bad_crc = ReadDeletionVector(store, "t", dv);
  EXPECT_TRUE(bad_crc.status().IsCorruption());
  EXPECT_THAT(bad_crc.status().message(), HasSubstr(key));
  EXPECT_THAT(bad_crc.status().message(), HasSubstr("checksum mismatch"));

  // Another DV follows in the same file, so reading one byte too many still succeeds.
  ASSERT_TRUE(store.Write(key, DvFile(bitmap, Crc32(bitmap)) + DvFile(bitmap, Crc32(bitmap))).ok());
  dv.size_in_bytes += 1;
  auto bad_size = ReadDeletionVector(store, "t", dv);
  EXPECT_TRUE(bad_size.status().IsCorruption());
  EXPECT_THAT(bad_size.status().message(), HasSubstr("differs from the descriptor's sizeInBytes"));

  dv.size_in_bytes -= 1;
  dv.path_or_inline_dv = "zz" + uuid_z85;
  EXPECT_TRUE(ReadDeletionVector(store, "t", dv).status().IsNotFound());
  dv.storage_type = "q";
  EXPECT_TRUE(ReadDeletionVector(store, "t", dv).status().IsInvalidArgument());
}

// Every DV referenced by the golden tables' JSON commits decodes, with the cardinality the log
// records.
TEST(DeletionVectorGoldenTest, GoldenTablesDecode) {
  auto dir = testing::GoldenDir();
  if (!dir) GTEST_SKIP() << testing::kSkipNoGolden;
  auto store = storage::LocalObjectStore::Make(*dir);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  int checked = 0;
  for (const char* table : {"dv-partitioned-with-checkpoint", "dv-with-columnmapping",
                            "log-replay-dv-key-cases"}) {
    const std::string root = std::string(table) + "/delta";
    auto listing = ListLog(**store, root);
    ASSERT_TRUE(listing.ok()) << listing.status().ToString();
    for (const auto& commit : listing->commits) {
      auto data = (*store)->Read(commit.meta.key);
      ASSERT_TRUE(data.ok());
      auto actions = ParseActions(*data, commit.meta.key);
      ASSERT_TRUE(actions.ok()) << actions.status().ToString();
      for (const auto& a : *actions) {
        const auto* add = std::get_if<AddFile>(&a);
        if (!add || !add->deletion_vector) continue;
        auto rows = ReadDeletionVector(**store, root, *add->deletion_vector);
        ASSERT_TRUE(rows.ok()) << table << ": " << rows.status().ToString();
        EXPECT_EQ(static_cast<int64_t>(rows->size()), add->deletion_vector->cardinality);
        EXPECT_TRUE(std::is_sorted(rows->begin(), rows->end()));
        ++checked;
      }
    }
  }
  EXPECT_GT(checked, 5);

  // log-replay-dv-key-cases deletes ids 0, 7 and 14 of a 50-row file written in id order.
  const std::string root = "log-replay-dv-key-cases/delta";
  DeletionVectorDescriptor last{"u", "^jP?.<zvDfIGb{C.FPij", 1, 38, 3, std::nullopt};
  auto rows = ReadDeletionVector(**store, root, last);
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  EXPECT_THAT(*rows, ElementsAre(0, 7, 14));
}

}  // namespace
}  // namespace medallion::delta
