// Partition values: from the strings in `add.partitionValues` to typed scalars (PROTOCOL.md,
// "Partition Value Serialization").
//
// Accepted forms per type (an absent value or "" is NULL for every type):
//   string                 the text as is
//   byte/short/integer/long  a decimal integer in the type's range ("-12")
//   float/double           a decimal number, "NaN", "Infinity", "-Infinity"
//   decimal(p,s)           a decimal number with at most p digits, at most s after the point; kept
//                          as its exact text
//   boolean                "true" / "false" (any case)
//   date                   "YYYY-MM-DD"
//   timestamp              "YYYY-MM-DD HH:MM:SS[.ffffff]" (interpreted as UTC), or ISO-8601
//                          "YYYY-MM-DDTHH:MM:SS[.ffffff](Z|+HH:MM|-HH:MM)"
//   timestamp_ntz          "YYYY-MM-DD HH:MM:SS[.ffffff]" or with 'T'; no zone
//   binary                 the bytes of the string as is
// Nested types cannot be partition columns.
//
// Errors: InvalidArgument naming the column, the value and the type ("partition column 'd': '2021-13-01'
// is not a valid date").
//
// Thread-safety: pure functions.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "common/result.h"
#include "delta/scalar.h"
#include "delta/schema.h"

namespace medallion::delta {

Result<Scalar> ParsePartitionValue(const std::optional<std::string>& value, const DataType& type,
                                   std::string_view column);

// Timestamp text -> microseconds since the epoch. `allow_zone`: accept a trailing 'Z' or offset
// (and apply it); without one the time is taken as UTC (or as zone-less for timestamp_ntz).
// InvalidArgument (without a column name) when unparsable.
Result<int64_t> ParseTimestampMicros(std::string_view text, bool allow_zone);
// "YYYY-MM-DD" -> days since 1970-01-01. InvalidArgument when unparsable.
Result<int64_t> ParseDateDays(std::string_view text);

}  // namespace medallion::delta
