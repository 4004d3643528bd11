#include "delta/restore_plan.h"

#include <algorithm>
#include <set>

#include "common/macros.h"
#include "delta/file_path.h"

namespace medallion::delta {
namespace {

Result<std::string> LogicalFileKey(const std::string& path,
                                   const std::optional<DeletionVectorDescriptor>& dv) {
  ASSIGN_OR_RETURN(FilePath parsed, ParseFilePath(path));
  return parsed.CanonicalKey() + "\n" + (dv ? dv->UniqueId() : std::string());
}

void Unite(std::optional<std::set<std::string>>& into,
           const std::optional<std::set<std::string>>& from) {
  if (!from) return;
  if (!into) into.emplace();
  into->insert(from->begin(), from->end());
}

bool Covers(const std::optional<std::set<std::string>>& have,
            const std::optional<std::set<std::string>>& need) {
  if (!need) return true;
  if (!have) return need->empty();
  return std::includes(have->begin(), have->end(), need->begin(), need->end());
}

}  // namespace

std::map<std::string, int64_t> RestorePlan::OperationMetrics() const {
  return {{"tableSizeAfterRestore", table_size_after_restore},
          {"numOfFilesAfterRestore", num_of_files_after_restore},
          {"numRemovedFiles", num_removed_files},
          {"numRestoredFiles", num_restored_files},
          {"removedFilesSize", removed_files_size},
          {"restoredFilesSize", restored_files_size}};
}

Result<RestorePlan> PlanRestore(const std::vector<AddFile>& current,
                                const std::vector<AddFile>& target, int64_t now_ms) {
  std::set<std::string> current_keys, target_keys;
  for (const AddFile& f : current) {
    ASSIGN_OR_RETURN(std::string key, LogicalFileKey(f.path, f.deletion_vector));
    current_keys.insert(std::move(key));
  }
  RestorePlan plan;
  for (const AddFile& f : target) {
    ASSIGN_OR_RETURN(std::string key, LogicalFileKey(f.path, f.deletion_vector));
    plan.table_size_after_restore += f.size;
    ++plan.num_of_files_after_restore;
    if (!current_keys.count(key)) {
      AddFile add = f;
      add.data_change = true;
      plan.restored_files_size += add.size;
      plan.adds.push_back(std::move(add));
    }
    target_keys.insert(std::move(key));
  }
  for (const AddFile& f : current) {
    ASSIGN_OR_RETURN(std::string key, LogicalFileKey(f.path, f.deletion_vector));
    if (target_keys.count(key)) continue;
    RemoveFile r;
    r.path = f.path;
    r.deletion_timestamp = now_ms;
    r.data_change = true;
    r.extended_file_metadata = true;
    r.partition_values = f.partition_values;
    r.size = f.size;
    r.stats = f.stats;
    if (!f.tags.empty()) r.tags = f.tags;
    r.deletion_vector = f.deletion_vector;
    r.base_row_id = f.base_row_id;
    r.default_row_commit_version = f.default_row_commit_version;
    plan.removed_files_size += f.size;
    plan.removes.push_back(std::move(r));
  }
  plan.num_removed_files = static_cast<int64_t>(plan.removes.size());
  plan.num_restored_files = static_cast<int64_t>(plan.adds.size());
  return plan;
}

Protocol MergeProtocols(const Protocol& current, const Protocol& target) {
  if (current.min_reader_version >= target.min_reader_version &&
      current.min_writer_version >= target.min_writer_version &&
      Covers(current.reader_features, target.reader_features) &&
      Covers(current.writer_features, target.writer_features)) {
    return current;
  }
  Protocol merged = current;
  merged.min_reader_version = std::max(current.min_reader_version, target.min_reader_version);
  merged.min_writer_version = std::max(current.min_writer_version, target.min_writer_version);
  Unite(merged.reader_features, target.reader_features);
  Unite(merged.writer_features, target.writer_features);
  return merged;
}

}  // namespace medallion::delta
