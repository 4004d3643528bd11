// The progress of a streaming flow: a write-ahead log of planned batches, as Spark Structured
// Streaming keeps one ("offsets" in a query's checkpoint location), stored in the pipeline's state
// folder:
//
//   <state>/flows/<flow>/epoch-<E>/offsets/<batch, 10 digits>.json
//
// Before a batch runs, its plan (exactly which source files and which source table versions it
// reads) is written with put-if-absent. The batch then commits to its target table with a Delta
// `txn` action (appId = the flow's application id, version = the batch number; PROTOCOL.md,
// "Transaction Identifiers"). A run that finds a planned batch newer than the table's txn version
// runs that same plan again, so a run killed at any instant and run again reads every input
// exactly once. A full refresh starts a new epoch (recorded in the target table, see
// pipeline/flow_executor.h), whose batches start again at 0.
//
// File format (JSON, frozen; readers ignore unknown fields):
//   {"batch": 3, "now_ms": 1700000000000, "sources": {"<source key>": {"files": [{"path": "...", "size": 10,
//     "modification_time": 1700000000000000}], "schema": <ingest schema JSON>}
//                           | {"start_version": 4, "end_version": 9}}}
// where a Delta source's versions (start_version, end_version] were read (start_version -1 with
// "initial_snapshot": true: the whole snapshot at end_version).
//
// Compaction (as Spark's file-source metadata log compacts, and for the same reason: a flow run
// every minute plans about 1,440 batches a day, and every run reads its log): after batch b with
// (b + 1) % kCompactInterval == 0, Write also records
//
//   <state>/flows/<flow>/epoch-<E>/offsets/<b, 10 digits>.compact.json
//     {"through_batch": b, "sources": {"<source key>": {"planned_files": ["...", ...],
//       "schema": <ingest schema JSON> | null, "end_version": 9 | null}}}
//
// the summary (SourceHistory) of batches 0..b, with put-if-absent, and then deletes older compact
// files and the batch files more than kRetainedBatches before b. Read starts from the newest
// compact file and reads only the batch files from b on, so a run reads at most about
// kCompactInterval plans. A run killed at any point leaves a log that reads the same: the compact
// file is whole or absent, and the batch files it replaces are deleted only after it exists.
//
// Thread-safety: one flow's log is used by one thread at a time.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/result.h"
#include "storage/object_store.h"

namespace medallion::pipeline {

struct PlannedFile {
  std::string path;                // absolute local path
  int64_t size = 0;                // bytes
  int64_t modification_time = 0;   // microseconds since the epoch
};

// What one source contributes to a batch.
struct SourceProgress {
  // File sources.
  std::vector<PlannedFile> files;
  std::string schema_json;  // the schema the batch reads the files with (ingest/ JSON)
  // Delta sources: versions (start_version, end_version]; or the whole snapshot at end_version.
  int64_t start_version = -1;
  int64_t end_version = -1;
  bool initial_snapshot = false;
  bool is_files = false;
};

struct BatchPlan {
  int64_t batch = 0;
  int64_t now_ms = 0;  // when the batch was planned (AUTO CDC tombstone times; replayed as is)
  std::map<std::string, SourceProgress> sources;  // by source key
};

// The latest state of each source over a log: files already planned, the last schema, and the
// last Delta version read.
struct SourceHistory {
  std::set<std::string> planned_files;
  std::string schema_json;            // "" when never planned
  std::optional<int64_t> end_version; // Delta sources

  bool operator==(const SourceHistory&) const = default;
};

// Adds `plan` (newer than every plan already in `history`) to `history`.
void AddToHistory(const BatchPlan& plan, std::map<std::string, SourceHistory>* history);

// What a flow's log says.
struct FlowProgress {
  std::map<std::string, SourceHistory> history;  // over every planned batch
  std::optional<BatchPlan> latest;               // the newest planned batch; none for a new log
};

inline constexpr int64_t kCompactInterval = 10;
inline constexpr int64_t kRetainedBatches = 10;

class FlowProgressLog {
 public:
  // `folder` is "flows/<flow>/epoch-<E>" in `store` (the pipeline state store).
  FlowProgressLog(storage::ObjectStore& store, std::string folder)
      : store_(store), folder_(std::move(folder)) {}

  // The log's history and newest plan. Corruption naming the file for an unreadable plan or
  // compact file.
  Result<FlowProgress> Read();
  // Records `plan`, the batch after `before.latest` (`before` is what Read returned), and
  // compacts the log when the batch ends an interval (header comment). AlreadyExists when that
  // batch was planned before (another run is active).
  Status Write(const BatchPlan& plan, const FlowProgress& before);

 private:
  std::string OffsetsPrefix() const;
  std::string KeyOf(int64_t batch) const;
  std::string CompactKeyOf(int64_t batch) const;
  Status Compact(int64_t through_batch, const std::map<std::string, SourceHistory>& history);
  storage::ObjectStore& store_;
  std::string folder_;
};

}  // namespace medallion::pipeline
