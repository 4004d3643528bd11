#include "delta/vacuum_plan.h"

#include <algorithm>

#include "common/macros.h"
#include "delta/file_path.h"

namespace medallion::delta {
namespace {

constexpr std::string_view kLogFolder = "_delta_log";
constexpr std::string_view kChangeDataFolder = "_change_data";

bool IsHiddenName(std::string_view name) {
  return !name.empty() && (name[0] == '_' || name[0] == '.');
}

}  // namespace

bool IsVacuumablePath(std::string_view relative_path,
                      const std::vector<std::string>& partition_columns) {
  size_t start = 0;
  bool first = true;
  while (true) {
    size_t slash = relative_path.find('/', start);
    std::string_view part = relative_path.substr(
        start, slash == std::string_view::npos ? std::string_view::npos : slash - start);
    if (slash == std::string_view::npos) return !IsHiddenName(part);  // the file name
    if (first && part == kLogFolder) return false;
    bool owned = !IsHiddenName(part) || (first && part == kChangeDataFolder);
    if (!owned) {
      size_t eq = part.find('=');
      if (eq != std::string_view::npos) {
        std::string_view column = part.substr(0, eq);
        owned = std::find(partition_columns.begin(), partition_columns.end(), column) !=
                partition_columns.end();
      }
    }
    if (!owned) return false;
    first = false;
    start = slash + 1;
  }
}

Result<std::vector<std::string>> ReferencedPaths(
    std::string_view path, const std::optional<DeletionVectorDescriptor>& dv) {
  std::vector<std::string> out;
  ASSIGN_OR_RETURN(FilePath parsed, ParseFilePath(path));
  if (parsed.kind == FilePath::Kind::kRelative) out.push_back(std::move(parsed.path));
  if (dv && dv->storage_type == "u") {
    ASSIGN_OR_RETURN(std::string dv_path, DeletionVectorRelativePath(*dv));
    out.push_back(std::move(dv_path));
  }
  return out;
}

Result<std::vector<storage::ObjectMeta>> PlanVacuum(const VacuumPlanInput& input) {
  std::set<std::string> keep;
  for (const AddFile& add : input.active) {
    ASSIGN_OR_RETURN(auto paths, ReferencedPaths(add.path, add.deletion_vector));
    keep.insert(paths.begin(), paths.end());
  }
  for (const RemoveFile& remove : input.tombstones) {
    // A tombstone without a deletion time is kept (Delta Lake treats it as deleted at time 0,
    // which expires it; keeping it is the safe reading).
    if (remove.deletion_timestamp && *remove.deletion_timestamp <= input.horizon_ms) continue;
    ASSIGN_OR_RETURN(auto paths, ReferencedPaths(remove.path, remove.deletion_vector));
    keep.insert(paths.begin(), paths.end());
  }
  std::vector<storage::ObjectMeta> out;
  for (const auto& meta : input.listed) {
    if (!IsVacuumablePath(meta.key, input.partition_columns)) continue;
    if (keep.count(meta.key)) continue;
    if (meta.modification_time >= input.horizon_ms) continue;
    out.push_back(meta);
  }
  std::sort(out.begin(), out.end(),
            [](const auto& a, const auto& b) { return a.key < b.key; });
  return out;
}

}  // namespace medallion::delta
