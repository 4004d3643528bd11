// VacuumPlan: which files of a table VACUUM may delete, decided without I/O.
//
// PROTOCOL.md, "Data Files" (data files live in the table folder or any non-hidden subfolder),
// "Deletion Vector Files", "Change Data Files" (`_change_data/`), "Add File and Remove File"
// (remove actions are tombstones kept for VACUUM), and "VACUUM Protocol Check". Delta Lake's VACUUM
// deletes a file under the table folder when
//   - it is in a folder VACUUM owns: the table folder, its non-hidden subfolders (names not starting
//     with '_' or '.'; a partition folder "<column>=<value>" of a partition column counts as
//     non-hidden even when the column name starts with '_'), and `_change_data/`; the log
//     (`_delta_log/`) and other hidden folders and hidden files are never touched;
//   - no active add references it (nor its deletion vector file);
//   - no tombstone whose deletionTimestamp is after the retention horizon references it (nor its
//     deletion vector file);
//   - it was last modified before the horizon (so files of writes still in progress survive).
// The engine (engine/delta_maintenance.h) lists the folder, reads the snapshot and tombstones, and
// deletes what the plan names.
//
// Thread-safety: pure functions over plain values.
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "delta/actions.h"
#include "storage/object_store.h"

namespace medallion::delta {

// Whether `relative_path` (a '/'-separated path relative to the table folder) is in a folder and
// has a name VACUUM owns (see the header comment). `partition_columns` are the table's.
bool IsVacuumablePath(std::string_view relative_path,
                      const std::vector<std::string>& partition_columns);

// The relative paths (decoded, as in FilePath::path) that a file action keeps alive: its data file
// when the path is relative, and its deletion vector file when stored as 'u'. Absolute paths (a
// shallow clone's files) are outside the table and not returned. InvalidArgument for a path that
// cannot be decoded.
Result<std::vector<std::string>> ReferencedPaths(std::string_view path,
                                                 const std::optional<DeletionVectorDescriptor>& dv);

struct VacuumPlanInput {
  // Every object under the table folder, keys relative to the table folder.
  std::vector<storage::ObjectMeta> listed;
  // The table's partition columns (for hidden-folder detection).
  std::vector<std::string> partition_columns;
  // The active files of the latest snapshot.
  std::vector<AddFile> active;
  // The tombstones of the latest snapshot.
  std::vector<RemoveFile> tombstones;
  // Files modified at or after this time (ms since the epoch) are kept, as are tombstones deleted
  // after it: now - retention.
  int64_t horizon_ms = 0;
};

// The objects to delete, sorted by key. InvalidArgument for an undecodable path in the log.
Result<std::vector<storage::ObjectMeta>> PlanVacuum(const VacuumPlanInput& input);

}  // namespace medallion::delta
