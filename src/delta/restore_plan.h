// RestorePlan: the file actions and metrics of RESTORE, decided without I/O.
//
// RESTORE TABLE ... TO VERSION AS OF v (Delta Lake / Databricks) makes the latest version's files
// equal to version v's in one commit: every logical file (PROTOCOL.md, "Action Reconciliation":
// keyed by path and deletion vector id) active now but not at v is removed, every one active at v
// but not now is added again with its original path, partition values, size, stats and deletion
// vector. The metrics are Databricks' (operationMetrics of the RESTORE commit and the statement's
// result): tableSizeAfterRestore, numOfFilesAfterRestore, numRemovedFiles, numRestoredFiles,
// removedFilesSize, restoredFilesSize.
//
// The protocol is never downgraded: `MergeProtocols` keeps what the current protocol supports and
// adds what the restored version's needs.
//
// Thread-safety: pure functions over plain values.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "common/result.h"
#include "delta/actions.h"

namespace medallion::delta {

struct RestorePlan {
  std::vector<RemoveFile> removes;  // active now, not at the target version (dataChange=true)
  std::vector<AddFile> adds;        // active at the target version, not now (dataChange=true)
  int64_t table_size_after_restore = 0;   // bytes of the target version's files
  int64_t num_of_files_after_restore = 0;
  int64_t num_removed_files = 0;
  int64_t num_restored_files = 0;
  int64_t removed_files_size = 0;  // bytes
  int64_t restored_files_size = 0;  // bytes

  // The metrics under Databricks' operationMetrics names.
  std::map<std::string, int64_t> OperationMetrics() const;
};

// `current`: the latest version's active files; `target`: the restored version's. Removes carry
// `now_ms` as deletionTimestamp. InvalidArgument for a path that cannot be decoded.
Result<RestorePlan> PlanRestore(const std::vector<AddFile>& current,
                                const std::vector<AddFile>& target, int64_t now_ms);

// The protocol a restore commits: `current` when it already supports everything `target` does,
// else the higher versions of the two and the union of their feature lists.
Protocol MergeProtocols(const Protocol& current, const Protocol& target);

}  // namespace medallion::delta
