#include "delta/partition_value.h"

#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <string>

#include "common/macros.h"

namespace medallion::delta {
namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// Reads exactly `n` digits at `pos`.
bool ReadDigits(std::string_view s, size_t& pos, size_t n, int64_t* out) {
  if (pos + n > s.size()) return false;
  int64_t v = 0;
  for (size_t i = 0; i < n; ++i) {
    if (!IsDigit(s[pos + i])) return false;
    v = v * 10 + (s[pos + i] - '0');
  }
  pos += n;
  *out = v;
  return true;
}

bool IsLeap(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }
int64_t DaysInMonth(int64_t y, int64_t m) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && IsLeap(y) ? 29 : kDays[m - 1];
}

// Parses [+-]YYYY[Y...]-MM-DD at `pos`; leaves pos after it.
bool ParseDatePart(std::string_view s, size_t& pos, int64_t* days) {
  bool negative = false;
  if (pos < s.size() && (s[pos] == '-' || s[pos] == '+')) {
    negative = s[pos] == '-';
    ++pos;
  }
  size_t start = pos;
  int64_t year = 0;
  while (pos < s.size() && IsDigit(s[pos]) && pos - start < 9) year = year * 10 + (s[pos++] - '0');
  if (pos - start < 4) return false;
  if (negative) year = -year;
  int64_t month = 0, day = 0;
  if (pos >= s.size() || s[pos++] != '-') return false;
  if (!ReadDigits(s, pos, 2, &month) || month < 1 || month > 12) return false;
  if (pos >= s.size() || s[pos++] != '-') return false;
  if (!ReadDigits(s, pos, 2, &day) || day < 1 || day > DaysInMonth(year, month)) return false;
  *days = DaysFromCivil(year, month, day);
  return true;
}

std::string Trim(std::string_view s) {
  size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return std::string(s.substr(b, e - b));
}

Status Bad(std::string_view column, std::string_view value, std::string_view type) {
  return Status::InvalidArgument("partition column '" + std::string(column) + "': '" +
                                 std::string(value) + "' is not a valid " + std::string(type));
}

// Validates decimal text against (precision, scale).
bool ValidDecimal(std::string_view s, int32_t precision, int32_t scale) {
  size_t pos = 0;
  if (pos < s.size() && (s[pos] == '-' || s[pos] == '+')) ++pos;
  int int_digits = 0, frac_digits = 0;
  bool seen_digit = false;
  while (pos < s.size() && IsDigit(s[pos])) {
    if (int_digits > 0 || s[pos] != '0') ++int_digits;
    seen_digit = true;
    ++pos;
  }
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    while (pos < s.size() && IsDigit(s[pos])) {
      ++frac_digits;
      seen_digit = true;
      ++pos;
    }
  }
  if (!seen_digit || pos != s.size()) return false;
  if (frac_digits > scale) {
    // Trailing zeros beyond the scale are harmless ("1.50" for decimal(3,1)).
    size_t end = s.size();
    int extra = frac_digits - scale;
    for (int i = 0; i < extra; ++i) {
      if (s[--end] != '0') return false;
    }
  }
  return int_digits <= precision - scale;
}

}  // namespace

Result<int64_t> ParseDateDays(std::string_view text) {
  const std::string t = Trim(text);
  size_t pos = 0;
  int64_t days = 0;
  if (!ParseDatePart(t, pos, &days) || pos != t.size()) {
    return Status::InvalidArgument("'" + std::string(text) + "' is not a date (YYYY-MM-DD)");
  }
  return days;
}

Result<int64_t> ParseTimestampMicros(std::string_view text, bool allow_zone) {
  const std::string t = Trim(text);
  auto bad = [&]() {
    return Status::InvalidArgument("'" + std::string(text) + "' is not a timestamp (" +
                                   (allow_zone ? "YYYY-MM-DD HH:MM:SS[.ffffff][Z]"
                                               : "YYYY-MM-DD HH:MM:SS[.ffffff]") +
                                   ")");
  };
  size_t pos = 0;
  int64_t days = 0;
  if (!ParseDatePart(t, pos, &days)) return bad();
  int64_t hour = 0, minute = 0, second = 0, micros = 0;
  if (pos < t.size()) {
    if (t[pos] != ' ' && t[pos] != 'T') return bad();
    ++pos;
    if (!ReadDigits(t, pos, 2, &hour) || hour > 23) return bad();
    if (pos >= t.size() || t[pos++] != ':') return bad();
    if (!ReadDigits(t, pos, 2, &minute) || minute > 59) return bad();
    if (pos < t.size() && t[pos] == ':') {
      ++pos;
      if (!ReadDigits(t, pos, 2, &second) || second > 59) return bad();
      if (pos < t.size() && t[pos] == '.') {
        ++pos;
        int digits = 0;
        while (pos < t.size() && IsDigit(t[pos])) {
          if (digits < 6) micros = micros * 10 + (t[pos] - '0');
          ++digits;
          ++pos;
        }
        if (digits == 0) return bad();
        for (int d = digits; d < 6; ++d) micros *= 10;
      }
    }
  }
  int64_t offset_seconds = 0;
  if (pos < t.size()) {
    if (!allow_zone) return bad();
    if (t[pos] == 'Z' || t[pos] == 'z') {
      ++pos;
    } else if (t[pos] == '+' || t[pos] == '-') {
      const int sign = t[pos] == '-' ? -1 : 1;
      ++pos;
      int64_t oh = 0, om = 0;
      if (!ReadDigits(t, pos, 2, &oh) || oh > 18) return bad();
      if (pos < t.size() && t[pos] == ':') ++pos;
      if (pos < t.size() && !ReadDigits(t, pos, 2, &om)) return bad();
      offset_seconds = sign * (oh * 3600 + om * 60);
    } else {
      return bad();
    }
    if (pos != t.size()) return bad();
  }
  const int64_t seconds = days * 86400 + hour * 3600 + minute * 60 + second - offset_seconds;
  return seconds * 1000000 + micros;
}

Result<Scalar> ParsePartitionValue(const std::optional<std::string>& value, const DataType& type,
                                   std::string_view column) {
  if (!value || value->empty()) return Scalar::Null();
  const std::string& v = *value;
  switch (type.kind()) {
    case TypeKind::kString:
      return Scalar::String(v);
    case TypeKind::kBinary:
      return Scalar::Binary(v);
    case TypeKind::kBoolean: {
      std::string lower = Trim(v);
      for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      if (lower == "true") return Scalar::Boolean(true);
      if (lower == "false") return Scalar::Boolean(false);
      return Bad(column, v, "boolean");
    }
    case TypeKind::kByte:
    case TypeKind::kShort:
    case TypeKind::kInteger:
    case TypeKind::kLong: {
      const std::string t = Trim(v);
      if (t.empty()) return Bad(column, v, type.Name());
      errno = 0;
      char* end = nullptr;
      const long long n = std::strtoll(t.c_str(), &end, 10);
      if (errno != 0 || end != t.c_str() + t.size()) return Bad(column, v, type.Name());
      int64_t lo = std::numeric_limits<int64_t>::min(), hi = std::numeric_limits<int64_t>::max();
      if (type.kind() == TypeKind::kByte) lo = -128, hi = 127;
      if (type.kind() == TypeKind::kShort) lo = -32768, hi = 32767;
      if (type.kind() == TypeKind::kInteger) {
        lo = std::numeric_limits<int32_t>::min();
        hi = std::numeric_limits<int32_t>::max();
      }
      if (n < lo || n > hi) return Bad(column, v, type.Name() + " (out of range)");
      return Scalar::Int64(n);
    }
    case TypeKind::kFloat:
    case TypeKind::kDouble: {
      const std::string t = Trim(v);
      if (t == "NaN") return Scalar::Double(std::nan(""));
      if (t == "Infinity" || t == "+Infinity") {
        return Scalar::Double(std::numeric_limits<double>::infinity());
      }
      if (t == "-Infinity") return Scalar::Double(-std::numeric_limits<double>::infinity());
      if (t.empty()) return Bad(column, v, type.Name());
      char* end = nullptr;
      const double d = std::strtod(t.c_str(), &end);
      if (end != t.c_str() + t.size() || std::isnan(d) || std::isinf(d)) {
        return Bad(column, v, type.Name());
      }
      return Scalar::Double(d);
    }
    case TypeKind::kDecimal: {
      const std::string t = Trim(v);
      if (!ValidDecimal(t, type.precision(), type.scale())) return Bad(column, v, type.Name());
      return Scalar::Decimal(t, type.precision(), type.scale());
    }
    case TypeKind::kDate: {
      auto days = ParseDateDays(v);
      if (!days.ok()) return Bad(column, v, "date");
      return Scalar::Date(*days);
    }
    case TypeKind::kTimestamp: {
      auto micros = ParseTimestampMicros(v, /*allow_zone=*/true);
      if (!micros.ok()) return Bad(column, v, "timestamp");
      return Scalar::Timestamp(*micros);
    }
    case TypeKind::kTimestampNtz: {
      auto micros = ParseTimestampMicros(v, /*allow_zone=*/false);
      if (!micros.ok()) return Bad(column, v, "timestamp_ntz");
      return Scalar::TimestampNtz(*micros);
    }
    case TypeKind::kStruct:
    case TypeKind::kArray:
    case TypeKind::kMap:
      break;
  }
  return Status::InvalidArgument("partition column '" + std::string(column) + "' has type " +
                                 type.ToString() + ", which cannot be a partition column");
}

}  // namespace medallion::delta
