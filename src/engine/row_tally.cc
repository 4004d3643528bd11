#include "engine/row_tally.h"

#include <fmt/format.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <unordered_map>

#include "engine/duckdb_internal.h"

namespace medallion::engine {
namespace {

struct Counts {
  std::mutex mu;
  std::map<int64_t, int64_t> by_key;
};

// Every live RowTally's counts, by id.
struct Registry {
  std::mutex mu;
  std::unordered_map<int64_t, std::shared_ptr<Counts>> tallies;
  std::atomic<int64_t> next_id{1};
};

Registry& TheRegistry() {
  static Registry* registry = new Registry();  // never destroyed: DuckDB threads may outlive exit
  return *registry;
}

std::shared_ptr<Counts> Find(int64_t id) {
  Registry& r = TheRegistry();
  std::lock_guard<std::mutex> lock(r.mu);
  auto it = r.tallies.find(id);
  return it == r.tallies.end() ? nullptr : it->second;
}

// __medallion_tally(id BIGINT, key BIGINT) -> key. DuckDB hands the C API flat vectors.
void TallyFunction(duckdb_function_info info, duckdb_data_chunk input, duckdb_vector output) {
  const idx_t rows = duckdb_data_chunk_get_size(input);
  duckdb_vector ids = duckdb_data_chunk_get_vector(input, 0);
  duckdb_vector keys = duckdb_data_chunk_get_vector(input, 1);
  const auto* id_data = static_cast<const int64_t*>(duckdb_vector_get_data(ids));
  const auto* key_data = static_cast<const int64_t*>(duckdb_vector_get_data(keys));
  uint64_t* id_valid = duckdb_vector_get_validity(ids);
  uint64_t* key_valid = duckdb_vector_get_validity(keys);
  auto* out = static_cast<int64_t*>(duckdb_vector_get_data(output));
  // Counted locally first: one id per query in practice, few keys.
  std::map<std::pair<int64_t, int64_t>, int64_t> local;
  for (idx_t row = 0; row < rows; ++row) {
    if ((id_valid != nullptr && !duckdb_validity_row_is_valid(id_valid, row)) ||
        (key_valid != nullptr && !duckdb_validity_row_is_valid(key_valid, row))) {
      duckdb_scalar_function_set_error(info, "__medallion_tally: NULL id or key");
      return;
    }
    out[row] = key_data[row];
    ++local[{id_data[row], key_data[row]}];
  }
  std::shared_ptr<Counts> counts;
  int64_t counts_id = 0;
  for (const auto& [id_key, n] : local) {
    if (counts == nullptr || counts_id != id_key.first) {
      counts_id = id_key.first;
      counts = Find(counts_id);
      if (counts == nullptr) {
        duckdb_scalar_function_set_error(info, "__medallion_tally: no such tally");
        return;
      }
    }
    std::lock_guard<std::mutex> lock(counts->mu);
    counts->by_key[id_key.second] += n;
  }
}

}  // namespace

RowTally::RowTally() {
  Registry& r = TheRegistry();
  id_ = r.next_id++;
  std::lock_guard<std::mutex> lock(r.mu);
  r.tallies[id_] = std::make_shared<Counts>();
}

RowTally::~RowTally() {
  Registry& r = TheRegistry();
  std::lock_guard<std::mutex> lock(r.mu);
  r.tallies.erase(id_);
}

std::string RowTally::Count(std::string_view key_sql) const {
  return fmt::format("{}({}::BIGINT, ({})::BIGINT)", kRowTallyFunction, id_, key_sql);
}

std::map<int64_t, int64_t> RowTally::counts() const {
  std::shared_ptr<Counts> counts = Find(id_);
  std::lock_guard<std::mutex> lock(counts->mu);
  return counts->by_key;
}

Status RegisterRowTally(duckdb_connection conn) {
  duckdb_scalar_function function = duckdb_create_scalar_function();
  duckdb_scalar_function_set_name(function, std::string(kRowTallyFunction).c_str());
  duckdb_logical_type bigint = duckdb_create_logical_type(DUCKDB_TYPE_BIGINT);
  duckdb_scalar_function_add_parameter(function, bigint);
  duckdb_scalar_function_add_parameter(function, bigint);
  duckdb_scalar_function_set_return_type(function, bigint);
  duckdb_destroy_logical_type(&bigint);
  duckdb_scalar_function_set_volatile(function);
  duckdb_scalar_function_set_function(function, TallyFunction);
  duckdb_state state = duckdb_register_scalar_function(conn, function);
  duckdb_destroy_scalar_function(&function);
  if (state == DuckDBError) {
    return Status::Internal(fmt::format("cannot register {}", kRowTallyFunction));
  }
  return Status::OK();
}

}  // namespace medallion::engine
