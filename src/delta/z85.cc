#include "delta/z85.h"

#include <array>
#include <cstdint>
#include <string>

namespace medallion::delta {
namespace {

constexpr std::string_view kAlphabet =
    "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#";
static_assert(kAlphabet.size() == 85);

// Character -> digit value, -1 for characters outside the alphabet.
constexpr std::array<int8_t, 256> MakeDecodeTable() {
  std::array<int8_t, 256> table{};
  for (auto& v : table) v = -1;
  for (size_t i = 0; i < kAlphabet.size(); ++i) {
    table[static_cast<unsigned char>(kAlphabet[i])] = static_cast<int8_t>(i);
  }
  return table;
}
constexpr std::array<int8_t, 256> kDecode = MakeDecodeTable();

}  // namespace

Result<std::string> Z85Decode(std::string_view text) {
  if (text.size() % 5 != 0) {
    return Status::InvalidArgument("z85: length " + std::to_string(text.size()) +
                                   " is not a multiple of 5");
  }
  std::string out;
  out.reserve(text.size() / 5 * 4);
  for (size_t i = 0; i < text.size(); i += 5) {
    uint64_t value = 0;
    for (size_t j = 0; j < 5; ++j) {
      const int8_t digit = kDecode[static_cast<unsigned char>(text[i + j])];
      if (digit < 0) {
        return Status::InvalidArgument("z85: invalid character at offset " +
                                       std::to_string(i + j));
      }
      value = value * 85 + static_cast<uint64_t>(digit);
    }
    if (value > 0xFFFFFFFFull) {
      return Status::InvalidArgument("z85: group at offset " + std::to_string(i) +
                                     " overflows 32 bits");
    }
    out.push_back(static_cast<char>((value >> 24) & 0xFF));
    out.push_back(static_cast<char>((value >> 16) & 0xFF));
    out.push_back(static_cast<char>((value >> 8) & 0xFF));
    out.push_back(static_cast<char>(value & 0xFF));
  }
  return out;
}

Result<std::string> Z85Encode(std::string_view bytes) {
  if (bytes.size() % 4 != 0) {
    return Status::InvalidArgument("z85: length " + std::to_string(bytes.size()) +
                                   " is not a multiple of 4");
  }
  std::string out;
  out.reserve(bytes.size() / 4 * 5);
  for (size_t i = 0; i < bytes.size(); i += 4) {
    uint32_t value = 0;
    for (size_t j = 0; j < 4; ++j) {
      value = (value << 8) | static_cast<unsigned char>(bytes[i + j]);
    }
    char group[5];
    for (int j = 4; j >= 0; --j) {
      group[j] = kAlphabet[value % 85];
      value /= 85;
    }
    out.append(group, 5);
  }
  return out;
}

}  // namespace medallion::delta
