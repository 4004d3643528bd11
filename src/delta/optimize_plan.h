// OptimizePlan: which files OPTIMIZE (bin-packing compaction) rewrites together, decided without
// I/O.
//
// OPTIMIZE, as Delta Lake and Databricks document it, coalesces small data files into larger ones
// without changing the table's rows. The plan works per partition (files with equal
// partitionValues; PROTOCOL.md, "Add File and Remove File"):
//   1. candidates: the active files of the partitions selected (the WHERE of OPTIMIZE, evaluated
//      by the engine) that are smaller than `min_file_size`, or that carry a deletion vector
//      (rewriting them purges the rows it deletes; PROTOCOL.md, "Deletion Vectors");
//   2. a partition's candidates, sorted by size then path, fill bins in order: a bin is closed when
//      the next file would take it past `max_file_size` (the target size of the output file);
//   3. a bin with fewer than `min_files_per_bin` files is dropped (there is nothing to combine),
//      unless one of its files has a deletion vector. So OPTIMIZE is idempotent: once a
//      partition's small files are combined, a second run finds nothing to do.
// Partitions come in the order of their partition values (a NULL value first), bins in the order
// they were filled, so the plan is deterministic.
//
// The engine (engine/delta_maintenance.h) reads each bin's files through the Delta scan, writes one
// new file per bin, and commits the removes and adds with dataChange=false ("Add File and Remove
// File": the data is unchanged, so streaming readers and the change data feed skip the commit).
//
// The target size: the table property delta.targetFileSize (Databricks' file size tuning) when set,
// else the session's spark.databricks.delta.optimize.maxFileSize, else 1 GB (Databricks' default
// for OPTIMIZE). `ParseByteSize` reads both forms ("104857600", "100mb").
//
// Thread-safety: pure functions over plain values.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "delta/actions.h"

namespace medallion::delta {

// Databricks' default OPTIMIZE output file size (spark.databricks.delta.optimize.maxFileSize).
inline constexpr int64_t kDefaultOptimizeFileSize = 1LL << 30;
// The table property that sets a table's target file size (bytes, or with a unit: "128mb").
inline constexpr std::string_view kTargetFileSizeProperty = "delta.targetFileSize";

// A byte size as Spark's configuration reads it: a non-negative integer, optionally followed by a
// unit b, k/kb, m/mb, g/gb, t/tb, p/pb (case-insensitive, binary multiples: 1kb = 1024 bytes), with
// optional spaces in between. InvalidArgument otherwise (also for a value that overflows).
Result<int64_t> ParseByteSize(std::string_view text);

// The target size OPTIMIZE uses for a table (see the header comment): `configuration`'s
// delta.targetFileSize, else `session_max_file_size`, else kDefaultOptimizeFileSize.
// InvalidArgument naming the property for a bad value or a size < 1.
Result<int64_t> OptimizeTargetFileSize(const StringMap& configuration,
                                       std::optional<int64_t> session_max_file_size);

struct OptimizePlanInput {
  // The active files of the snapshot.
  std::vector<AddFile> files;
  // Only files whose partitionValues are in this set are considered (OPTIMIZE ... WHERE);
  // nullopt: every file.
  std::optional<std::set<PartitionValues>> partitions;
  // Bins are filled up to this many bytes (> 0).
  int64_t max_file_size = kDefaultOptimizeFileSize;
  // Files smaller than this are candidates; nullopt: max_file_size.
  std::optional<int64_t> min_file_size;
  // A bin needs at least this many files to be rewritten, unless it holds a deletion vector (>= 1).
  int64_t min_files_per_bin = 2;
};

// Files rewritten into one new file.
struct OptimizeBin {
  PartitionValues partition_values;
  std::vector<AddFile> files;  // by size, then path
  int64_t bytes = 0;           // their total size
};

struct OptimizePlan {
  std::vector<OptimizeBin> bins;
  int64_t total_considered_files = 0;            // files of the selected partitions
  int64_t total_files_skipped = 0;               // considered files left as they are
  int64_t partitions_optimized = 0;              // partitions with at least one bin
  int64_t num_deletion_vectors_removed = 0;      // files in bins that carry a deletion vector
  int64_t num_deletion_vector_rows_removed = 0;  // the rows those deletion vectors delete

  // Files in bins, and their total size.
  int64_t num_files() const;
  int64_t num_bytes() const;
};

// InvalidArgument for max_file_size < 1 or min_files_per_bin < 1.
Result<OptimizePlan> PlanOptimize(const OptimizePlanInput& input);

// Databricks' size statistics of a set of files (OPTIMIZE's operationMetrics minFileSize,
// p25FileSize, p50FileSize, p75FileSize, maxFileSize): with the sizes sorted, the values at
// indexes 0, n/4, n/2, 3n/4 and n-1. All zero for no files.
struct FileSizeHistogram {
  int64_t min = 0;
  int64_t p25 = 0;
  int64_t p50 = 0;
  int64_t p75 = 0;
  int64_t max = 0;
};
FileSizeHistogram HistogramOf(std::vector<int64_t> sizes);

}  // namespace medallion::delta
