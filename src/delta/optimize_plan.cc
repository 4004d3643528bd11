#include "delta/optimize_plan.h"

#include <algorithm>
#include <cctype>
#include <limits>
#include <map>

#include "common/macros.h"

namespace medallion::delta {

Result<int64_t> ParseByteSize(std::string_view text) {
  auto bad = [&]() {
    return Status::InvalidArgument("'" + std::string(text) +
                                   "' is not a size in bytes such as '104857600' or '100mb'");
  };
  size_t i = 0;
  while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i]))) ++i;
  size_t digits = i;
  int64_t value = 0;
  while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) {
    int d = text[i] - '0';
    if (value > (std::numeric_limits<int64_t>::max() - d) / 10) return bad();
    value = value * 10 + d;
    ++i;
  }
  if (i == digits) return bad();
  while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i]))) ++i;
  std::string unit;
  while (i < text.size() && !std::isspace(static_cast<unsigned char>(text[i]))) {
    unit += static_cast<char>(std::tolower(static_cast<unsigned char>(text[i])));
    ++i;
  }
  while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i]))) ++i;
  if (i != text.size()) return bad();
  static const std::map<std::string, int> kShift = {{"", 0},   {"b", 0},   {"k", 10}, {"kb", 10},
                                                    {"m", 20}, {"mb", 20}, {"g", 30}, {"gb", 30},
                                                    {"t", 40}, {"tb", 40}, {"p", 50}, {"pb", 50}};
  auto it = kShift.find(unit);
  if (it == kShift.end()) return bad();
  if (value > (std::numeric_limits<int64_t>::max() >> it->second)) return bad();
  return value << it->second;
}

Result<int64_t> OptimizeTargetFileSize(const StringMap& configuration,
                                       std::optional<int64_t> session_max_file_size) {
  auto it = configuration.find(std::string(kTargetFileSizeProperty));
  if (it != configuration.end()) {
    auto size = ParseByteSize(it->second);
    if (!size.ok() || *size < 1) {
      return Status::InvalidArgument(std::string(kTargetFileSizeProperty) + ": '" + it->second +
                                     "' is not a positive size in bytes such as '104857600' or "
                                     "'100mb'");
    }
    return *size;
  }
  if (session_max_file_size) {
    if (*session_max_file_size < 1) {
      return Status::InvalidArgument(
          "spark.databricks.delta.optimize.maxFileSize must be a positive number of bytes");
    }
    return *session_max_file_size;
  }
  return kDefaultOptimizeFileSize;
}

int64_t OptimizePlan::num_files() const {
  int64_t n = 0;
  for (const OptimizeBin& bin : bins) n += static_cast<int64_t>(bin.files.size());
  return n;
}

int64_t OptimizePlan::num_bytes() const {
  int64_t n = 0;
  for (const OptimizeBin& bin : bins) n += bin.bytes;
  return n;
}

Result<OptimizePlan> PlanOptimize(const OptimizePlanInput& input) {
  if (input.max_file_size < 1) {
    return Status::InvalidArgument("OPTIMIZE: the target file size must be at least 1 byte");
  }
  if (input.min_files_per_bin < 1) {
    return Status::InvalidArgument("OPTIMIZE: a bin needs at least 1 file");
  }
  const int64_t min_file_size = input.min_file_size.value_or(input.max_file_size);

  // Candidates per partition (std::map orders partitions by their values, NULL first).
  std::map<PartitionValues, std::vector<const AddFile*>> candidates;
  OptimizePlan plan;
  for (const AddFile& f : input.files) {
    if (input.partitions && !input.partitions->count(f.partition_values)) continue;
    ++plan.total_considered_files;
    if (f.size < min_file_size || f.deletion_vector) {
      candidates[f.partition_values].push_back(&f);
    }
  }

  int64_t binned = 0;
  for (auto& [partition, files] : candidates) {
    std::sort(files.begin(), files.end(), [](const AddFile* a, const AddFile* b) {
      return a->size != b->size ? a->size < b->size : a->path < b->path;
    });
    std::vector<OptimizeBin> bins;
    OptimizeBin current;
    current.partition_values = partition;
    for (const AddFile* f : files) {
      if (!current.files.empty() && current.bytes + f->size > input.max_file_size) {
        bins.push_back(std::move(current));
        current = OptimizeBin();
        current.partition_values = partition;
      }
      current.files.push_back(*f);
      current.bytes += f->size;
    }
    if (!current.files.empty()) bins.push_back(std::move(current));

    bool any = false;
    for (OptimizeBin& bin : bins) {
      bool has_dv = false;
      for (const AddFile& f : bin.files) has_dv = has_dv || f.deletion_vector.has_value();
      if (static_cast<int64_t>(bin.files.size()) < input.min_files_per_bin && !has_dv) continue;
      for (const AddFile& f : bin.files) {
        if (!f.deletion_vector) continue;
        ++plan.num_deletion_vectors_removed;
        plan.num_deletion_vector_rows_removed += f.deletion_vector->cardinality;
      }
      binned += static_cast<int64_t>(bin.files.size());
      plan.bins.push_back(std::move(bin));
      any = true;
    }
    if (any) ++plan.partitions_optimized;
  }
  plan.total_files_skipped = plan.total_considered_files - binned;
  return plan;
}

FileSizeHistogram HistogramOf(std::vector<int64_t> sizes) {
  FileSizeHistogram h;
  if (sizes.empty()) return h;
  std::sort(sizes.begin(), sizes.end());
  const size_t n = sizes.size();
  h.min = sizes.front();
  h.p25 = sizes[n / 4];
  h.p50 = sizes[n / 2];
  h.p75 = sizes[n * 3 / 4];
  h.max = sizes.back();
  return h;
}

}  // namespace medallion::delta
