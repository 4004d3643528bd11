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

class FlowProgressLog {
 public:
  // `folder` is "flows/<flow>/epoch-<E>" in `store` (the pipeline state store).
  FlowProgressLog(storage::ObjectStore& store, std::string folder)
      : store_(store), folder_(std::move(folder)) {}

  // Every planned batch, oldest first. Corruption naming the file for an unreadable plan.
  Result<std::vector<BatchPlan>> ReadAll();
  // Records a plan. AlreadyExists when that batch was planned before (another run is active).
  Status Write(const BatchPlan& plan);

 private:
  std::string KeyOf(int64_t batch) const;
  storage::ObjectStore& store_;
  std::string folder_;
};

// The latest state of each source over a log: files already planned, the last schema, and the
// last Delta version read.
struct SourceHistory {
  std::set<std::string> planned_files;
  std::string schema_json;            // "" when never planned
  std::optional<int64_t> end_version; // Delta sources
};
std::map<std::string, SourceHistory> SummarizeProgress(const std::vector<BatchPlan>& plans);

}  // namespace medallion::pipeline
