#include "engine/query_result.h"

#include <fmt/format.h>

#include <limits>

#include "common/macros.h"
#include "engine/duckdb_internal.h"

namespace medallion::engine {
namespace {

Status TypeMismatch(const QueryResult& r, size_t column, const char* wanted) {
  return Status::InvalidArgument(fmt::format("column '{}' is {}, not {}", r.column_name(column),
                                             r.column_type(column).ToString(), wanted));
}

Status NullCell(const QueryResult& r, size_t column, size_t row) {
  return Status::InvalidArgument(
      fmt::format("column '{}' row {} is NULL", r.column_name(column), row));
}

}  // namespace

QueryResult::QueryResult(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
QueryResult::QueryResult(QueryResult&&) noexcept = default;
QueryResult& QueryResult::operator=(QueryResult&&) noexcept = default;
QueryResult::~QueryResult() = default;

size_t QueryResult::column_count() const { return impl_->names.size(); }
const std::string& QueryResult::column_name(size_t column) const { return impl_->names.at(column); }
const ColumnType& QueryResult::column_type(size_t column) const { return impl_->types.at(column); }
size_t QueryResult::row_count() const { return impl_->rows; }
int64_t QueryResult::rows_changed() const { return impl_->rows_changed; }

bool QueryResult::IsNull(size_t column, size_t row) const {
  auto [chunk, offset] = impl_->Locate(row);
  duckdb_vector vector = duckdb_data_chunk_get_vector(impl_->chunks[chunk], column);
  uint64_t* validity = duckdb_vector_get_validity(vector);
  return validity != nullptr && !duckdb_validity_row_is_valid(validity, offset);
}

Result<bool> QueryResult::GetBool(size_t column, size_t row) const {
  if (column >= column_count() || row >= row_count()) return Status::Internal("cell out of range");
  if (impl_->types[column].id != TypeId::kBoolean) return TypeMismatch(*this, column, "BOOLEAN");
  if (IsNull(column, row)) return NullCell(*this, column, row);
  auto [chunk, offset] = impl_->Locate(row);
  duckdb_vector vector = duckdb_data_chunk_get_vector(impl_->chunks[chunk], column);
  return static_cast<bool*>(duckdb_vector_get_data(vector))[offset];
}

Result<int64_t> QueryResult::GetInt64(size_t column, size_t row) const {
  if (column >= column_count() || row >= row_count()) return Status::Internal("cell out of range");
  if (IsNull(column, row)) return NullCell(*this, column, row);
  auto [chunk, offset] = impl_->Locate(row);
  duckdb_vector vector = duckdb_data_chunk_get_vector(impl_->chunks[chunk], column);
  void* data = duckdb_vector_get_data(vector);
  switch (impl_->types[column].id) {
    case TypeId::kTinyInt: return static_cast<int8_t*>(data)[offset];
    case TypeId::kSmallInt: return static_cast<int16_t*>(data)[offset];
    case TypeId::kInteger: return static_cast<int32_t*>(data)[offset];
    case TypeId::kBigInt: return static_cast<int64_t*>(data)[offset];
    case TypeId::kUTinyInt: return static_cast<uint8_t*>(data)[offset];
    case TypeId::kUSmallInt: return static_cast<uint16_t*>(data)[offset];
    case TypeId::kUInteger: return static_cast<uint32_t*>(data)[offset];
    case TypeId::kUBigInt: {
      uint64_t v = static_cast<uint64_t*>(data)[offset];
      if (v > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
        return Status::InvalidArgument(
            fmt::format("column '{}' value {} does not fit in BIGINT", column_name(column), v));
      }
      return static_cast<int64_t>(v);
    }
    case TypeId::kHugeInt:
    case TypeId::kDecimal:
      return GetValue(column, row).AsInt64();
    default:
      return TypeMismatch(*this, column, "an integer");
  }
}

Result<double> QueryResult::GetDouble(size_t column, size_t row) const {
  if (column >= column_count() || row >= row_count()) return Status::Internal("cell out of range");
  const ColumnType& type = impl_->types[column];
  if (!type.IsNumeric()) return TypeMismatch(*this, column, "numeric");
  if (IsNull(column, row)) return NullCell(*this, column, row);
  auto [chunk, offset] = impl_->Locate(row);
  duckdb_vector vector = duckdb_data_chunk_get_vector(impl_->chunks[chunk], column);
  void* data = duckdb_vector_get_data(vector);
  if (type.id == TypeId::kDouble) return static_cast<double*>(data)[offset];
  if (type.id == TypeId::kFloat) return static_cast<double>(static_cast<float*>(data)[offset]);
  if (type.id == TypeId::kDecimal || type.id == TypeId::kHugeInt) {
    return GetValue(column, row).AsDouble();
  }
  ASSIGN_OR_RETURN(int64_t v, GetInt64(column, row));
  return static_cast<double>(v);
}

Result<std::string> QueryResult::GetString(size_t column, size_t row) const {
  if (column >= column_count() || row >= row_count()) return Status::Internal("cell out of range");
  TypeId id = impl_->types[column].id;
  if (id != TypeId::kVarchar && id != TypeId::kBlob) return TypeMismatch(*this, column, "VARCHAR");
  if (IsNull(column, row)) return NullCell(*this, column, row);
  auto [chunk, offset] = impl_->Locate(row);
  duckdb_vector vector = duckdb_data_chunk_get_vector(impl_->chunks[chunk], column);
  auto& s = static_cast<duckdb_string_t*>(duckdb_vector_get_data(vector))[offset];
  if (duckdb_string_is_inlined(s)) return std::string(s.value.inlined.inlined, s.value.inlined.length);
  return std::string(s.value.pointer.ptr, s.value.pointer.length);
}

Value QueryResult::GetValue(size_t column, size_t row) const {
  if (column >= column_count() || row >= row_count()) return Value();
  auto [chunk, offset] = impl_->Locate(row);
  duckdb_vector vector = duckdb_data_chunk_get_vector(impl_->chunks[chunk], column);
  return ValueFromVector(vector, impl_->logical_types[column], offset);
}

std::string QueryResult::GetText(size_t column, size_t row) const {
  if (impl_->types[column].id == TypeId::kVarchar) {
    if (IsNull(column, row)) return "NULL";
    return GetString(column, row).ValueOr("");
  }
  return GetValue(column, row).ToString();
}

}  // namespace medallion::engine
