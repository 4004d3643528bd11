// ParquetHandler: how the Delta protocol core reads Parquet without depending on a Parquet library.
//
// delta/ never links DuckDB (docs/architecture.md); checkpoints (PROTOCOL.md, "Checkpoints") are
// Parquet files, so the protocol core asks an implementation of this interface, supplied by the
// caller, to read them. engine/ implements it with DuckDB (engine/duckdb_parquet_handler.h); tests may
// implement it with canned rows.
//
// Rows come back as JSON object texts, one per Parquet row, with the same shape as the action JSON in
// commit files: a struct column is a nested object, a list an array, a map an object (string keys),
// NULL is `null` (to be read as "absent"). So one action parser serves commits and checkpoints alike.
//
// Log replay reads checkpoints through `ReadCheckpointActions` when the handler implements it:
// the actions come typed, with no JSON in between (for a checkpoint of 100,000 files, turning
// every row into JSON text and parsing it again costs more than reading the Parquet). A handler
// that does not implement it (the default says NotSupported) is read through ReadRowsAsJson and
// ParseAction instead; both ways must give the same actions.
//
// Thread-safety: implementations must allow concurrent calls.
#pragma once

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "common/result.h"
#include "delta/actions.h"

namespace medallion::delta {

// Receives the actions of a checkpoint file as a ParquetHandler reads them (no vector of every
// action in between: a checkpoint of 100,000 files would hold each twice).
class ActionSink {
 public:
  virtual ~ActionSink() = default;
  // Called at most once, before the first Accept: the file's number of rows, an upper bound on
  // the actions to come (so a receiver can allocate once).
  virtual void Expect(size_t rows) { (void)rows; }
  virtual Status Accept(Action&& action) = 0;
};

// An ActionSink that keeps every action, in order (tests and tools).
class ActionCollector final : public ActionSink {
 public:
  void Expect(size_t rows) override { actions.reserve(rows); }
  Status Accept(Action&& action) override {
    actions.push_back(std::move(action));
    return Status::OK();
  }
  std::vector<Action> actions;
};

class ParquetHandler {
 public:
  virtual ~ParquetHandler() = default;

  // Every row of the Parquet file at `local_path` (log replay passes store.LocalPath(key); for a
  // store without local paths, such as MemoryObjectStore, it passes the store key itself, which
  // only a test handler can serve), projected to the top-level `columns` (all columns
  // when empty; a requested column the file lacks is omitted from the objects), in file order.
  // NotFound when the file is absent, Corruption when it is not valid Parquet.
  virtual Result<std::vector<std::string>> ReadRowsAsJson(const std::string& local_path,
                                                          const std::vector<std::string>& columns) = 0;

  // The actions of a checkpoint part or V2 sidecar (PROTOCOL.md, "Checkpoint Schema"), typed and
  // handed to `sink` one by one: what ParseAction gives for each row of
  // ReadRowsAsJson(local_path, columns), in file order, rows with no action left out. `columns`
  // are action names ("add", "remove", "metaData", ...); a column the file lacks is no error.
  // Fields the protocol core does not read (`stats_parsed`, `partitionValues_parsed`) need not be
  // read at all.
  // NotSupported, before any action reached the sink: this handler (or this file's column types)
  // has no typed reader; the caller then falls back to ReadRowsAsJson. Otherwise errors as
  // ReadRowsAsJson, Corruption naming the file and row for an action ParseAction would reject (a
  // missing required field), and the first error the sink returns (the read stops there).
  virtual Status ReadCheckpointActions(const std::string& local_path,
                                       const std::vector<std::string>& columns,
                                       ActionSink& sink) {
    (void)local_path;
    (void)columns;
    (void)sink;
    return Status::NotSupported("typed checkpoint reading");
  }
};

}  // namespace medallion::delta
