#include "engine/value.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <limits>

#include "engine/duckdb_internal.h"

namespace medallion::engine {
namespace {

std::string Int128ToString(duckdb_hugeint h) {
  __int128 v = (static_cast<__int128>(h.upper) << 64) | static_cast<__int128>(h.lower);
  if (v == 0) return "0";
  bool negative = v < 0;
  unsigned __int128 u = negative ? -static_cast<unsigned __int128>(v) : static_cast<unsigned __int128>(v);
  std::string digits;
  while (u > 0) {
    digits.insert(digits.begin(), static_cast<char>('0' + static_cast<int>(u % 10)));
    u /= 10;
  }
  return negative ? "-" + digits : digits;
}

std::string FreeString(char* s) {
  std::string out = s != nullptr ? s : "";
  duckdb_free(s);
  return out;
}

}  // namespace

Value::Value() : impl_(std::make_shared<Impl>()) {}
Value::Value(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}

bool Value::is_null() const { return impl_->null; }
const ColumnType& Value::type() const { return impl_->type; }

#define MEDALLION_VALUE_REQUIRE(cond, wanted)                                               \
  do {                                                                                      \
    if (impl_->null) return Status::InvalidArgument(std::string("NULL is not ") + wanted);  \
    if (!(cond)) {                                                                          \
      return Status::InvalidArgument(fmt::format("{} value {} is not {}",                   \
                                                 impl_->type.ToString(), ToString(), wanted)); \
    }                                                                                       \
  } while (false)

Result<bool> Value::AsBool() const {
  MEDALLION_VALUE_REQUIRE(impl_->type.id == TypeId::kBoolean, "BOOLEAN");
  return duckdb_get_bool(impl_->handle->value);
}

Result<int64_t> Value::AsInt64() const {
  const ColumnType& t = impl_->type;
  MEDALLION_VALUE_REQUIRE(t.IsInteger() || (t.id == TypeId::kDecimal && t.decimal_scale == 0),
                          "an integer");
  duckdb_value v = impl_->handle->value;
  if (t.id == TypeId::kUBigInt) {
    uint64_t u = duckdb_get_uint64(v);
    MEDALLION_VALUE_REQUIRE(u <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max()),
                            "within BIGINT range");
    return static_cast<int64_t>(u);
  }
  if (t.id == TypeId::kHugeInt || t.id == TypeId::kDecimal) {
    duckdb_hugeint h = t.id == TypeId::kDecimal ? duckdb_get_decimal(v).value : duckdb_get_hugeint(v);
    bool fits = (h.upper == 0 && h.lower <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) ||
                (h.upper == -1 && h.lower >= (uint64_t{1} << 63));
    MEDALLION_VALUE_REQUIRE(fits, "within BIGINT range");
    return static_cast<int64_t>(h.lower);
  }
  return duckdb_get_int64(v);
}

Result<double> Value::AsDouble() const {
  MEDALLION_VALUE_REQUIRE(impl_->type.IsNumeric(), "numeric");
  if (impl_->type.id == TypeId::kDecimal) {
    return duckdb_decimal_to_double(duckdb_get_decimal(impl_->handle->value));
  }
  return duckdb_get_double(impl_->handle->value);
}

Result<std::string> Value::AsString() const {
  TypeId id = impl_->type.id;
  MEDALLION_VALUE_REQUIRE(id == TypeId::kVarchar || id == TypeId::kBlob, "VARCHAR or BLOB");
  if (id == TypeId::kBlob) {
    duckdb_blob blob = duckdb_get_blob(impl_->handle->value);
    std::string out(static_cast<const char*>(blob.data), blob.size);
    duckdb_free(blob.data);
    return out;
  }
  return FreeString(duckdb_get_varchar(impl_->handle->value));
}

Result<int32_t> Value::AsDateDays() const {
  MEDALLION_VALUE_REQUIRE(impl_->type.id == TypeId::kDate, "DATE");
  return duckdb_get_date(impl_->handle->value).days;
}

Result<int64_t> Value::AsEpochMicros() const {
  duckdb_value v = impl_->handle ? impl_->handle->value : nullptr;
  switch (impl_->type.id) {
    case TypeId::kTimestamp:
      if (!impl_->null) return duckdb_get_timestamp(v).micros;
      break;
    case TypeId::kTimestampTz:
      if (!impl_->null) return duckdb_get_timestamp_tz(v).micros;
      break;
    case TypeId::kTimestampMs:
      if (!impl_->null) return duckdb_get_timestamp_ms(v).millis * 1000;
      break;
    case TypeId::kTimestampS:
      if (!impl_->null) return duckdb_get_timestamp_s(v).seconds * 1000000;
      break;
    case TypeId::kTimestampNs:
      if (!impl_->null) return duckdb_get_timestamp_ns(v).nanos / 1000;
      break;
    default:
      break;
  }
  MEDALLION_VALUE_REQUIRE(false, "a TIMESTAMP");
  return 0;
}

Result<std::string> Value::DecimalUnscaled() const {
  MEDALLION_VALUE_REQUIRE(impl_->type.id == TypeId::kDecimal, "DECIMAL");
  return Int128ToString(duckdb_get_decimal(impl_->handle->value).value);
}

#undef MEDALLION_VALUE_REQUIRE

size_t Value::size() const {
  if (impl_->null) return 0;
  switch (impl_->type.id) {
    case TypeId::kList:
    case TypeId::kArray:
      return duckdb_get_list_size(impl_->handle->value);
    case TypeId::kStruct:
      return impl_->type.children.size();
    case TypeId::kMap:
      return duckdb_get_map_size(impl_->handle->value);
    default:
      return 0;
  }
}

namespace {
Value Wrap(duckdb_value v, const ColumnType& type) {
  auto impl = std::make_shared<Value::Impl>();
  impl->type = type;
  impl->handle = std::make_unique<ValueHandle>(v);
  impl->null = v == nullptr || duckdb_is_null_value(v);
  return Value(std::move(impl));
}
}  // namespace

Value Value::child(size_t i) const {
  if (i >= size()) return Value();
  if (impl_->type.id == TypeId::kStruct) {
    return Wrap(duckdb_get_struct_child(impl_->handle->value, i), impl_->type.children[i].second);
  }
  return Wrap(duckdb_get_list_child(impl_->handle->value, i), impl_->type.children[0].second);
}

std::string Value::child_name(size_t i) const {
  if (impl_->type.id != TypeId::kStruct || i >= impl_->type.children.size()) return "";
  return impl_->type.children[i].first;
}

Value Value::map_key(size_t i) const {
  if (impl_->type.id != TypeId::kMap || i >= size()) return Value();
  return Wrap(duckdb_get_map_key(impl_->handle->value, i), impl_->type.children[0].second);
}

Value Value::map_value(size_t i) const {
  if (impl_->type.id != TypeId::kMap || i >= size()) return Value();
  return Wrap(duckdb_get_map_value(impl_->handle->value, i), impl_->type.children[1].second);
}

std::string Value::ToString() const {
  if (impl_->null) return "NULL";
  return FreeString(duckdb_get_varchar(impl_->handle->value));
}

namespace {
void AppendJsonString(std::string_view text, std::string& out) {
  out += nlohmann::json(std::string(text)).dump(-1, ' ', false,
                                                nlohmann::json::error_handler_t::replace);
}

void AppendJson(const Value& v, std::string& out) {
  if (v.is_null()) {
    out += "null";
    return;
  }
  const ColumnType& t = v.type();
  switch (t.id) {
    case TypeId::kBoolean:
      out += *v.AsBool() ? "true" : "false";
      return;
    case TypeId::kFloat:
    case TypeId::kDouble: {
      double d = *v.AsDouble();
      if (std::isfinite(d)) {
        out += nlohmann::json(d).dump();
      } else {
        AppendJsonString(std::isnan(d) ? "NaN" : (d > 0 ? "Infinity" : "-Infinity"), out);
      }
      return;
    }
    case TypeId::kList:
    case TypeId::kArray:
      out += '[';
      for (size_t i = 0; i < v.size(); ++i) {
        if (i > 0) out += ',';
        AppendJson(v.child(i), out);
      }
      out += ']';
      return;
    case TypeId::kStruct:
      out += '{';
      for (size_t i = 0; i < v.size(); ++i) {
        if (i > 0) out += ',';
        AppendJsonString(v.child_name(i), out);
        out += ':';
        AppendJson(v.child(i), out);
      }
      out += '}';
      return;
    case TypeId::kMap: {
      bool string_keys = t.children.size() == 2 && t.children[0].second.id == TypeId::kVarchar;
      out += string_keys ? '{' : '[';
      for (size_t i = 0; i < v.size(); ++i) {
        if (i > 0) out += ',';
        if (string_keys) {
          AppendJsonString(*v.map_key(i).AsString(), out);
          out += ':';
          AppendJson(v.map_value(i), out);
        } else {
          out += "{\"key\":";
          AppendJson(v.map_key(i), out);
          out += ",\"value\":";
          AppendJson(v.map_value(i), out);
          out += '}';
        }
      }
      out += string_keys ? '}' : ']';
      return;
    }
    case TypeId::kVarchar:
      AppendJsonString(*v.AsString(), out);
      return;
    default:
      // Integers and decimals keep their exact digits as JSON numbers; other types are strings.
      if (t.IsInteger() || t.id == TypeId::kDecimal) {
        out += v.ToString();
      } else {
        AppendJsonString(v.ToString(), out);
      }
  }
}
}  // namespace

std::string Value::ToJson() const {
  std::string out;
  AppendJson(*this, out);
  return out;
}

}  // namespace medallion::engine
