// Scalar: one typed value of a Delta primitive type, as partition values and per-file statistics
// carry them (PROTOCOL.md, "Partition Value Serialization", "Per-file Statistics").
//
// Representation per kind (all Delta integer types widen to int64):
//   kNull                       no value
//   kBoolean                    bool_value()
//   kInt64                      int64_value()  (byte, short, integer, long)
//   kDouble                     double_value() (float, double)
//   kString                     string_value() (UTF-8 text)
//   kBinary                     string_value() (raw bytes)
//   kDecimal                    string_value() (exact decimal text, e.g. "-12.340"), precision(),
//                               scale()
//   kDate                       int64_value()  days since 1970-01-01
//   kTimestamp                  int64_value()  microseconds since 1970-01-01 00:00:00 UTC
//   kTimestampNtz               int64_value()  microseconds since 1970-01-01 00:00:00, no zone
//
// Thread-safety: an immutable value.
#pragma once

#include <cstdint>
#include <string>

namespace medallion::delta {

class Scalar {
 public:
  enum class Kind {
    kNull,
    kBoolean,
    kInt64,
    kDouble,
    kString,
    kBinary,
    kDecimal,
    kDate,
    kTimestamp,
    kTimestampNtz,
  };

  Scalar() = default;  // null
  static Scalar Null() { return Scalar(); }
  static Scalar Boolean(bool v);
  static Scalar Int64(int64_t v);
  static Scalar Double(double v);
  static Scalar String(std::string v);
  static Scalar Binary(std::string bytes);
  static Scalar Decimal(std::string text, int32_t precision, int32_t scale);
  static Scalar Date(int64_t days_since_epoch);
  static Scalar Timestamp(int64_t micros_since_epoch);
  static Scalar TimestampNtz(int64_t micros_since_epoch);

  Kind kind() const { return kind_; }
  bool is_null() const { return kind_ == Kind::kNull; }
  bool bool_value() const { return int_ != 0; }
  int64_t int64_value() const { return int_; }
  double double_value() const { return double_; }
  const std::string& string_value() const { return string_; }
  int32_t precision() const { return precision_; }
  int32_t scale() const { return scale_; }

  // A readable form for messages and tests: "NULL", "true", "42", "1.5", "'abc'", "X'0A0B'",
  // "12.30", "DATE 2021-09-08", "TIMESTAMP 2021-09-08 11:11:11.000000Z",
  // "TIMESTAMP_NTZ 2021-09-08 11:11:11.000000".
  std::string ToString() const;

  bool operator==(const Scalar& other) const;

 private:
  Kind kind_ = Kind::kNull;
  int64_t int_ = 0;
  double double_ = 0;
  std::string string_;
  int32_t precision_ = 0;
  int32_t scale_ = 0;
};

// Calendar helpers (proleptic Gregorian, UTC), shared with statistics parsing.
// Days since 1970-01-01 of a civil date (month 1..12, day 1..31; not range-checked).
int64_t DaysFromCivil(int64_t year, int64_t month, int64_t day);
// "YYYY-MM-DD" of days since 1970-01-01.
std::string FormatDate(int64_t days_since_epoch);
// "YYYY-MM-DD HH:MM:SS.ffffff" of microseconds since the epoch.
std::string FormatTimestampMicros(int64_t micros_since_epoch);

}  // namespace medallion::delta
