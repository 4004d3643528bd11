#include "delta/scalar.h"

#include <cmath>
#include <cstdio>
#include <string>

namespace medallion::delta {

Scalar Scalar::Boolean(bool v) {
  Scalar s;
  s.kind_ = Kind::kBoolean;
  s.int_ = v ? 1 : 0;
  return s;
}
Scalar Scalar::Int64(int64_t v) {
  Scalar s;
  s.kind_ = Kind::kInt64;
  s.int_ = v;
  return s;
}
Scalar Scalar::Double(double v) {
  Scalar s;
  s.kind_ = Kind::kDouble;
  s.double_ = v;
  return s;
}
Scalar Scalar::String(std::string v) {
  Scalar s;
  s.kind_ = Kind::kString;
  s.string_ = std::move(v);
  return s;
}
Scalar Scalar::Binary(std::string bytes) {
  Scalar s;
  s.kind_ = Kind::kBinary;
  s.string_ = std::move(bytes);
  return s;
}
Scalar Scalar::Decimal(std::string text, int32_t precision, int32_t scale) {
  Scalar s;
  s.kind_ = Kind::kDecimal;
  s.string_ = std::move(text);
  s.precision_ = precision;
  s.scale_ = scale;
  return s;
}
Scalar Scalar::Date(int64_t days) {
  Scalar s;
  s.kind_ = Kind::kDate;
  s.int_ = days;
  return s;
}
Scalar Scalar::Timestamp(int64_t micros) {
  Scalar s;
  s.kind_ = Kind::kTimestamp;
  s.int_ = micros;
  return s;
}
Scalar Scalar::TimestampNtz(int64_t micros) {
  Scalar s;
  s.kind_ = Kind::kTimestampNtz;
  s.int_ = micros;
  return s;
}

bool Scalar::operator==(const Scalar& o) const {
  if (kind_ != o.kind_) return false;
  switch (kind_) {
    case Kind::kNull:
      return true;
    case Kind::kDouble:
      return double_ == o.double_ || (std::isnan(double_) && std::isnan(o.double_));
    case Kind::kString:
    case Kind::kBinary:
      return string_ == o.string_;
    case Kind::kDecimal:
      return string_ == o.string_ && precision_ == o.precision_ && scale_ == o.scale_;
    default:
      return int_ == o.int_;
  }
}

int64_t DaysFromCivil(int64_t y, int64_t m, int64_t d) {
  // Shift the year to start in March so the leap day is the last day of the year.
  y -= m <= 2 ? 1 : 0;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t year_of_era = y - era * 400;                               // [0, 399]
  const int64_t day_of_year = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;  // [0, 365]
  const int64_t day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
  return era * 146097 + day_of_era - 719468;
}

namespace {
void CivilFromDays(int64_t z, int64_t* y, int64_t* m, int64_t* d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const int64_t doe = z - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  *d = doy - (153 * mp + 2) / 5 + 1;
  *m = mp < 10 ? mp + 3 : mp - 9;
  *y = yoe + era * 400 + (*m <= 2 ? 1 : 0);
}
int64_t FloorDiv(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }
}  // namespace

std::string FormatDate(int64_t days) {
  int64_t y, m, d;
  CivilFromDays(days, &y, &m, &d);
  char buf[80];
  std::snprintf(buf, sizeof(buf), "%04lld-%02lld-%02lld", static_cast<long long>(y),
                static_cast<long long>(m), static_cast<long long>(d));
  return buf;
}

std::string FormatTimestampMicros(int64_t micros) {
  constexpr int64_t kMicrosPerDay = 86400LL * 1000000;
  const int64_t days = FloorDiv(micros, kMicrosPerDay);
  int64_t rem = micros - days * kMicrosPerDay;
  const int64_t hour = rem / 3600000000LL;
  rem %= 3600000000LL;
  const int64_t minute = rem / 60000000LL;
  rem %= 60000000LL;
  const int64_t second = rem / 1000000;
  const int64_t frac = rem % 1000000;
  auto two = [](int64_t v) {
    std::string t = std::to_string(v);
    return t.size() < 2 ? "0" + t : t;
  };
  std::string f = std::to_string(frac);
  f.insert(0, 6 - f.size(), '0');
  return FormatDate(days) + " " + two(hour) + ":" + two(minute) + ":" + two(second) + "." + f;
}

std::string Scalar::ToString() const {
  switch (kind_) {
    case Kind::kNull:
      return "NULL";
    case Kind::kBoolean:
      return int_ ? "true" : "false";
    case Kind::kInt64:
      return std::to_string(int_);
    case Kind::kDouble: {
      char buf[64];
      std::snprintf(buf, sizeof(buf), "%.17g", double_);
      return buf;
    }
    case Kind::kString:
      return "'" + string_ + "'";
    case Kind::kBinary: {
      static constexpr char kHex[] = "0123456789ABCDEF";
      std::string out = "X'";
      for (char c : string_) {
        out.push_back(kHex[static_cast<unsigned char>(c) >> 4]);
        out.push_back(kHex[static_cast<unsigned char>(c) & 0xF]);
      }
      return out + "'";
    }
    case Kind::kDecimal:
      return string_;
    case Kind::kDate:
      return "DATE " + FormatDate(int_);
    case Kind::kTimestamp:
      return "TIMESTAMP " + FormatTimestampMicros(int_) + "Z";
    case Kind::kTimestampNtz:
      return "TIMESTAMP_NTZ " + FormatTimestampMicros(int_);
  }
  return "?";
}

}  // namespace medallion::delta
