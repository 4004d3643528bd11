#include "engine/duckdb_internal.h"

#include <algorithm>
#include <string_view>

namespace medallion::engine {

Status StatusFromDuckDb(duckdb_error_type type, const char* message) {
  std::string msg = message != nullptr ? message : "unknown DuckDB error";
  switch (type) {
    case DUCKDB_ERROR_IO:
    case DUCKDB_ERROR_HTTP:
    case DUCKDB_ERROR_NETWORK:
    case DUCKDB_ERROR_PERMISSION:
    case DUCKDB_ERROR_OUT_OF_MEMORY:
      return Status::IOError(std::move(msg));
    case DUCKDB_ERROR_NOT_IMPLEMENTED:
    case DUCKDB_ERROR_MISSING_EXTENSION:
    case DUCKDB_ERROR_AUTOLOAD:
      return Status::NotSupported(std::move(msg));
    case DUCKDB_ERROR_TRANSACTION:
      return Status::Conflict(std::move(msg));
    case DUCKDB_ERROR_INTERRUPT:
      return Status::Cancelled(std::move(msg));
    case DUCKDB_ERROR_INTERNAL:
    case DUCKDB_ERROR_FATAL:
    case DUCKDB_ERROR_NULL_POINTER:
    case DUCKDB_ERROR_SERIALIZATION:
      return Status::Internal(std::move(msg));
    default:
      return Status::InvalidArgument(std::move(msg));
  }
}

namespace {

TypeId TypeIdFrom(duckdb_type t) {
  switch (t) {
    case DUCKDB_TYPE_BOOLEAN: return TypeId::kBoolean;
    case DUCKDB_TYPE_TINYINT: return TypeId::kTinyInt;
    case DUCKDB_TYPE_SMALLINT: return TypeId::kSmallInt;
    case DUCKDB_TYPE_INTEGER: return TypeId::kInteger;
    case DUCKDB_TYPE_BIGINT: return TypeId::kBigInt;
    case DUCKDB_TYPE_HUGEINT: return TypeId::kHugeInt;
    case DUCKDB_TYPE_UTINYINT: return TypeId::kUTinyInt;
    case DUCKDB_TYPE_USMALLINT: return TypeId::kUSmallInt;
    case DUCKDB_TYPE_UINTEGER: return TypeId::kUInteger;
    case DUCKDB_TYPE_UBIGINT: return TypeId::kUBigInt;
    case DUCKDB_TYPE_FLOAT: return TypeId::kFloat;
    case DUCKDB_TYPE_DOUBLE: return TypeId::kDouble;
    case DUCKDB_TYPE_DECIMAL: return TypeId::kDecimal;
    case DUCKDB_TYPE_VARCHAR: return TypeId::kVarchar;
    case DUCKDB_TYPE_BLOB: return TypeId::kBlob;
    case DUCKDB_TYPE_DATE: return TypeId::kDate;
    case DUCKDB_TYPE_TIME: return TypeId::kTime;
    case DUCKDB_TYPE_TIMESTAMP: return TypeId::kTimestamp;
    case DUCKDB_TYPE_TIMESTAMP_TZ: return TypeId::kTimestampTz;
    case DUCKDB_TYPE_TIMESTAMP_MS: return TypeId::kTimestampMs;
    case DUCKDB_TYPE_TIMESTAMP_NS: return TypeId::kTimestampNs;
    case DUCKDB_TYPE_TIMESTAMP_S: return TypeId::kTimestampS;
    case DUCKDB_TYPE_INTERVAL: return TypeId::kInterval;
    case DUCKDB_TYPE_UUID: return TypeId::kUuid;
    case DUCKDB_TYPE_LIST: return TypeId::kList;
    case DUCKDB_TYPE_STRUCT: return TypeId::kStruct;
    case DUCKDB_TYPE_MAP: return TypeId::kMap;
    case DUCKDB_TYPE_ARRAY: return TypeId::kArray;
    case DUCKDB_TYPE_ENUM: return TypeId::kEnum;
    case DUCKDB_TYPE_SQLNULL: return TypeId::kSqlNull;
    case DUCKDB_TYPE_INVALID: return TypeId::kInvalid;
    default: return TypeId::kOther;
  }
}

struct LogicalTypeHandle {
  duckdb_logical_type type;
  explicit LogicalTypeHandle(duckdb_logical_type t) : type(t) {}
  ~LogicalTypeHandle() { duckdb_destroy_logical_type(&type); }
  LogicalTypeHandle(const LogicalTypeHandle&) = delete;
  LogicalTypeHandle& operator=(const LogicalTypeHandle&) = delete;
};

std::string_view StringAt(duckdb_vector vector, idx_t row) {
  auto* strings = static_cast<duckdb_string_t*>(duckdb_vector_get_data(vector));
  duckdb_string_t& s = strings[row];
  if (duckdb_string_is_inlined(s)) return {s.value.inlined.inlined, s.value.inlined.length};
  return {s.value.pointer.ptr, s.value.pointer.length};
}

duckdb_hugeint ReadDecimalUnscaled(duckdb_vector vector, duckdb_logical_type type, idx_t row) {
  void* data = duckdb_vector_get_data(vector);
  duckdb_hugeint h{};
  int64_t v = 0;
  switch (duckdb_decimal_internal_type(type)) {
    case DUCKDB_TYPE_SMALLINT: v = static_cast<int16_t*>(data)[row]; break;
    case DUCKDB_TYPE_INTEGER: v = static_cast<int32_t*>(data)[row]; break;
    case DUCKDB_TYPE_BIGINT: v = static_cast<int64_t*>(data)[row]; break;
    default: return static_cast<duckdb_hugeint*>(data)[row];
  }
  h.lower = static_cast<uint64_t>(v);
  h.upper = v < 0 ? -1 : 0;
  return h;
}

duckdb_value MakeDuckValue(duckdb_vector vector, duckdb_logical_type type, idx_t row) {
  uint64_t* validity = duckdb_vector_get_validity(vector);
  if (validity != nullptr && !duckdb_validity_row_is_valid(validity, row)) {
    return duckdb_create_null_value();
  }
  void* data = duckdb_vector_get_data(vector);
  switch (duckdb_get_type_id(type)) {
    case DUCKDB_TYPE_BOOLEAN: return duckdb_create_bool(static_cast<bool*>(data)[row]);
    case DUCKDB_TYPE_TINYINT: return duckdb_create_int8(static_cast<int8_t*>(data)[row]);
    case DUCKDB_TYPE_SMALLINT: return duckdb_create_int16(static_cast<int16_t*>(data)[row]);
    case DUCKDB_TYPE_INTEGER: return duckdb_create_int32(static_cast<int32_t*>(data)[row]);
    case DUCKDB_TYPE_BIGINT: return duckdb_create_int64(static_cast<int64_t*>(data)[row]);
    case DUCKDB_TYPE_HUGEINT: return duckdb_create_hugeint(static_cast<duckdb_hugeint*>(data)[row]);
    case DUCKDB_TYPE_UHUGEINT:
      return duckdb_create_uhugeint(static_cast<duckdb_uhugeint*>(data)[row]);
    case DUCKDB_TYPE_UTINYINT: return duckdb_create_uint8(static_cast<uint8_t*>(data)[row]);
    case DUCKDB_TYPE_USMALLINT: return duckdb_create_uint16(static_cast<uint16_t*>(data)[row]);
    case DUCKDB_TYPE_UINTEGER: return duckdb_create_uint32(static_cast<uint32_t*>(data)[row]);
    case DUCKDB_TYPE_UBIGINT: return duckdb_create_uint64(static_cast<uint64_t*>(data)[row]);
    case DUCKDB_TYPE_FLOAT: return duckdb_create_float(static_cast<float*>(data)[row]);
    case DUCKDB_TYPE_DOUBLE: return duckdb_create_double(static_cast<double*>(data)[row]);
    case DUCKDB_TYPE_DATE: return duckdb_create_date(static_cast<duckdb_date*>(data)[row]);
    case DUCKDB_TYPE_TIME: return duckdb_create_time(static_cast<duckdb_time*>(data)[row]);
    case DUCKDB_TYPE_TIME_TZ:
      return duckdb_create_time_tz_value(static_cast<duckdb_time_tz*>(data)[row]);
    case DUCKDB_TYPE_TIMESTAMP:
      return duckdb_create_timestamp(static_cast<duckdb_timestamp*>(data)[row]);
    case DUCKDB_TYPE_TIMESTAMP_TZ:
      return duckdb_create_timestamp_tz(static_cast<duckdb_timestamp*>(data)[row]);
    case DUCKDB_TYPE_TIMESTAMP_S:
      return duckdb_create_timestamp_s(static_cast<duckdb_timestamp_s*>(data)[row]);
    case DUCKDB_TYPE_TIMESTAMP_MS:
      return duckdb_create_timestamp_ms(static_cast<duckdb_timestamp_ms*>(data)[row]);
    case DUCKDB_TYPE_TIMESTAMP_NS:
      return duckdb_create_timestamp_ns(static_cast<duckdb_timestamp_ns*>(data)[row]);
    case DUCKDB_TYPE_INTERVAL:
      return duckdb_create_interval(static_cast<duckdb_interval*>(data)[row]);
    case DUCKDB_TYPE_VARCHAR: {
      std::string_view s = StringAt(vector, row);
      return duckdb_create_varchar_length(s.data(), s.size());
    }
    case DUCKDB_TYPE_BLOB: {
      std::string_view s = StringAt(vector, row);
      return duckdb_create_blob(reinterpret_cast<const uint8_t*>(s.data()), s.size());
    }
    case DUCKDB_TYPE_UUID: {
      // Stored as a hugeint with the top bit flipped (so that signed order is UUID order).
      duckdb_hugeint h = static_cast<duckdb_hugeint*>(data)[row];
      duckdb_uhugeint u{h.lower, static_cast<uint64_t>(h.upper) ^ (uint64_t{1} << 63)};
      return duckdb_create_uuid(u);
    }
    case DUCKDB_TYPE_DECIMAL: {
      duckdb_decimal d{duckdb_decimal_width(type), duckdb_decimal_scale(type),
                       ReadDecimalUnscaled(vector, type, row)};
      return duckdb_create_decimal(d);
    }
    case DUCKDB_TYPE_ENUM: {
      uint64_t index = 0;
      switch (duckdb_enum_internal_type(type)) {
        case DUCKDB_TYPE_UTINYINT: index = static_cast<uint8_t*>(data)[row]; break;
        case DUCKDB_TYPE_USMALLINT: index = static_cast<uint16_t*>(data)[row]; break;
        default: index = static_cast<uint32_t*>(data)[row]; break;
      }
      return duckdb_create_enum_value(type, index);
    }
    case DUCKDB_TYPE_LIST:
    case DUCKDB_TYPE_MAP: {
      auto& entry = static_cast<duckdb_list_entry*>(data)[row];
      duckdb_vector child = duckdb_list_vector_get_child(vector);
      if (duckdb_get_type_id(type) == DUCKDB_TYPE_LIST) {
        LogicalTypeHandle child_type(duckdb_list_type_child_type(type));
        std::vector<duckdb_value> values;
        for (idx_t i = 0; i < entry.length; ++i) {
          values.push_back(MakeDuckValue(child, child_type.type, entry.offset + i));
        }
        // The C API returns NULL for a null array pointer, which an empty vector may give.
        duckdb_value none = nullptr;
        duckdb_value out = duckdb_create_list_value(
            child_type.type, values.empty() ? &none : values.data(), values.size());
        for (auto& v : values) duckdb_destroy_value(&v);
        return out;
      }
      LogicalTypeHandle key_type(duckdb_map_type_key_type(type));
      LogicalTypeHandle value_type(duckdb_map_type_value_type(type));
      duckdb_vector keys_vec = duckdb_struct_vector_get_child(child, 0);
      duckdb_vector values_vec = duckdb_struct_vector_get_child(child, 1);
      std::vector<duckdb_value> keys, values;
      for (idx_t i = 0; i < entry.length; ++i) {
        keys.push_back(MakeDuckValue(keys_vec, key_type.type, entry.offset + i));
        values.push_back(MakeDuckValue(values_vec, value_type.type, entry.offset + i));
      }
      duckdb_value none = nullptr;
      duckdb_value out = duckdb_create_map_value(type, keys.empty() ? &none : keys.data(),
                                                 values.empty() ? &none : values.data(), keys.size());
      for (auto& v : keys) duckdb_destroy_value(&v);
      for (auto& v : values) duckdb_destroy_value(&v);
      return out;
    }
    case DUCKDB_TYPE_ARRAY: {
      idx_t size = duckdb_array_type_array_size(type);
      LogicalTypeHandle child_type(duckdb_array_type_child_type(type));
      duckdb_vector child = duckdb_array_vector_get_child(vector);
      std::vector<duckdb_value> values;
      for (idx_t i = 0; i < size; ++i) {
        values.push_back(MakeDuckValue(child, child_type.type, row * size + i));
      }
      duckdb_value out = duckdb_create_array_value(child_type.type, values.data(), values.size());
      for (auto& v : values) duckdb_destroy_value(&v);
      return out;
    }
    case DUCKDB_TYPE_STRUCT: {
      idx_t n = duckdb_struct_type_child_count(type);
      std::vector<duckdb_value> values;
      for (idx_t i = 0; i < n; ++i) {
        LogicalTypeHandle child_type(duckdb_struct_type_child_type(type, i));
        values.push_back(
            MakeDuckValue(duckdb_struct_vector_get_child(vector, i), child_type.type, row));
      }
      duckdb_value out = duckdb_create_struct_value(type, values.data());
      for (auto& v : values) duckdb_destroy_value(&v);
      return out;
    }
    default:
      return duckdb_create_varchar("(value of a type medallion cannot display)");
  }
}

}  // namespace

ColumnType ColumnTypeFromLogical(duckdb_logical_type type) {
  ColumnType out;
  duckdb_type id = duckdb_get_type_id(type);
  out.id = TypeIdFrom(id);
  switch (id) {
    case DUCKDB_TYPE_DECIMAL:
      out.decimal_width = duckdb_decimal_width(type);
      out.decimal_scale = duckdb_decimal_scale(type);
      break;
    case DUCKDB_TYPE_LIST: {
      LogicalTypeHandle child(duckdb_list_type_child_type(type));
      out.children.emplace_back("", ColumnTypeFromLogical(child.type));
      break;
    }
    case DUCKDB_TYPE_ARRAY: {
      LogicalTypeHandle child(duckdb_array_type_child_type(type));
      out.children.emplace_back("", ColumnTypeFromLogical(child.type));
      break;
    }
    case DUCKDB_TYPE_MAP: {
      LogicalTypeHandle key(duckdb_map_type_key_type(type));
      LogicalTypeHandle value(duckdb_map_type_value_type(type));
      out.children.emplace_back("key", ColumnTypeFromLogical(key.type));
      out.children.emplace_back("value", ColumnTypeFromLogical(value.type));
      break;
    }
    case DUCKDB_TYPE_STRUCT: {
      idx_t n = duckdb_struct_type_child_count(type);
      for (idx_t i = 0; i < n; ++i) {
        char* name = duckdb_struct_type_child_name(type, i);
        LogicalTypeHandle child(duckdb_struct_type_child_type(type, i));
        out.children.emplace_back(name, ColumnTypeFromLogical(child.type));
        duckdb_free(name);
      }
      break;
    }
    default:
      break;
  }
  return out;
}

Value ValueFromVector(duckdb_vector vector, duckdb_logical_type type, idx_t row) {
  auto impl = std::make_shared<Value::Impl>();
  impl->type = ColumnTypeFromLogical(type);
  impl->handle = std::make_unique<ValueHandle>(MakeDuckValue(vector, type, row));
  impl->null = duckdb_is_null_value(impl->handle->value);
  return Value(std::move(impl));
}

QueryResult::Impl::~Impl() {
  for (auto& chunk : chunks) duckdb_destroy_data_chunk(&chunk);
  for (auto& type : logical_types) duckdb_destroy_logical_type(&type);
  if (has_result) duckdb_destroy_result(&result);
}

std::pair<size_t, size_t> QueryResult::Impl::Locate(size_t row) const {
  auto it = std::upper_bound(chunk_starts.begin(), chunk_starts.end(), row);
  size_t chunk = static_cast<size_t>(it - chunk_starts.begin()) - 1;
  return {chunk, row - chunk_starts[chunk]};
}

Result<QueryResult> MaterializeResult(duckdb_result result) {
  auto impl = std::make_unique<QueryResult::Impl>();
  impl->result = result;
  impl->has_result = true;
  idx_t columns = duckdb_column_count(&impl->result);
  for (idx_t c = 0; c < columns; ++c) {
    impl->names.emplace_back(duckdb_column_name(&impl->result, c));
    duckdb_logical_type type = duckdb_column_logical_type(&impl->result, c);
    impl->logical_types.push_back(type);
    impl->types.push_back(ColumnTypeFromLogical(type));
  }
  impl->rows_changed = static_cast<int64_t>(duckdb_rows_changed(&impl->result));
  while (true) {
    duckdb_data_chunk chunk = duckdb_fetch_chunk(impl->result);
    if (chunk == nullptr) break;
    idx_t size = duckdb_data_chunk_get_size(chunk);
    if (size == 0) {
      duckdb_destroy_data_chunk(&chunk);
      break;
    }
    impl->chunk_starts.push_back(impl->rows);
    impl->chunks.push_back(chunk);
    impl->rows += size;
  }
  const char* error = duckdb_result_error(&impl->result);
  if (error != nullptr) {
    return StatusFromDuckDb(duckdb_result_error_type(&impl->result), error);
  }
  return QueryResult(std::move(impl));
}

}  // namespace medallion::engine
