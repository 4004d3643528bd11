// The dataflow graph of a pipeline: its datasets, the flows that write them, and what each flow
// reads, resolved and checked before anything runs (../shared/DESIGN.md, "One pipeline run", step
// 2; Spark Declarative Pipelines' "DataflowGraph"). `medallion dry-run` stops after building it.
//
// Building the graph:
//   1. every dataset gets a canonical name (catalog.schema.table, lower-case; the spec's catalog
//      and schema fill what a name leaves out) and, for tables, a folder under the lakehouse:
//      `<schema>/<table>` (or `<catalog>/<schema>/<table>` when the pipeline names a catalog);
//   2. every streaming table or materialized view with a query gets an implicit flow of the same
//      name; CREATE FLOW statements add append flows (and AUTO CDC flows) into streaming tables;
//   3. each flow's Spark SQL is scanned for its sources: `STREAM(t)` / `STREAM t` (an incremental
//      read of a table), `read_files(...)` (batch, or incremental after STREAM), legacy
//      `cloud_files(...)` (always incremental); `LIVE.` prefixes are dropped. Each source is
//      replaced by a placeholder name, the query is translated to DuckDB SQL
//      (engine/spark_sql.h), and DuckDB's parser lists the remaining table references
//      (engine/sql_references.h): each is a dataset of the pipeline or a Delta table already in
//      the lakehouse (an external input), else an error;
//   4. checks, each failing with InvalidArgument naming the statement's file:line: a name defined
//      twice; a flow into a dataset that is not a streaming table; a streaming table with neither
//      a query nor a flow; a streaming flow with no incremental source (only ONCE flows may read
//      in batch); STREAM() of a materialized view or view; a dependency cycle (named in order:
//      "a -> b -> a"); an unknown table.
//
// Thread-safety: an immutable value once built.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "engine/database.h"
#include "pipeline/definitions.h"

namespace medallion::pipeline {

// What a flow reads, in place of one placeholder in its query.
struct FlowSource {
  enum class Kind {
    kDataset,   // a dataset of this pipeline
    kExternal,  // a Delta table in the lakehouse that this pipeline does not define
    kFiles,     // read_files(...) / cloud_files(...)
  };
  Kind kind = Kind::kDataset;
  bool streaming = false;          // STREAM(...) / cloud_files: only what is new since last run
  std::optional<size_t> dataset;   // kDataset: index into DataflowGraph::datasets()
  std::string table_folder;        // kDataset (tables) / kExternal: folder under the lakehouse
  std::string display_name;        // as the user wrote it, for messages
  std::string arguments;           // kFiles: the text between the call's parentheses (Spark SQL)
  bool legacy_cloud_files = false; // kFiles: cloud_files(...) rather than read_files(...)
  std::string placeholder;         // the name standing for this source in Flow::sql
};

struct Dataset {
  DatasetDefinition definition;
  std::string canonical_name;   // "catalog.schema.table" or "schema.table", lower-case
  std::string table_folder;     // tables: folder under the lakehouse; views: ""
  bool is_table() const {
    return definition.kind == DatasetKind::kStreamingTable ||
           definition.kind == DatasetKind::kMaterializedView;
  }
};

struct Flow {
  std::string name;
  size_t target = 0;           // index into datasets()
  bool implicit = false;       // the defining query of a dataset (not a CREATE FLOW)
  bool once = false;
  FlowDefinition::Kind kind = FlowDefinition::Kind::kAppend;
  std::optional<AutoCdcDefinition> auto_cdc;
  // The query as DuckDB SQL, sources replaced by their placeholders and dataset references by
  // placeholders too (see `sources`); what the executor runs after registering each source.
  std::string sql;
  std::vector<FlowSource> sources;
  bool reads_metadata = false;    // the query mentions _metadata (file sources expose it)
  bool selects_metadata = false;  // ... as a whole column, not only `_metadata.field`
  std::vector<size_t> upstream_flows;  // flows whose target this flow reads (ordering)
  SourceLocation location;
};

class DataflowGraph {
 public:
  struct Options {
    std::string default_catalog;  // the spec's catalog ("" for none)
    std::string default_schema = "default";
    std::string lakehouse;        // absolute folder of the lakehouse (external tables live here)
  };

  // Builds and checks the graph. `conn` parses queries (nothing is read or written).
  static Result<DataflowGraph> Build(const PipelineDefinitions& definitions,
                                     const Options& options, engine::Connection& conn);

  const std::vector<Dataset>& datasets() const { return datasets_; }
  const std::vector<Flow>& flows() const { return flows_; }
  // Flows in a dependency order (each after the flows whose targets it reads; ties in definition
  // order).
  const std::vector<size_t>& topological_order() const { return order_; }
  // Index of the dataset with this canonical name.
  std::optional<size_t> FindDataset(const std::string& canonical_name) const;
  // Flows that write the dataset, in definition order.
  std::vector<size_t> FlowsInto(size_t dataset) const;
  // The datasets a dataset reads (through its flows' sources), without duplicates.
  std::vector<size_t> InputDatasets(size_t dataset) const;

 private:
  std::vector<Dataset> datasets_;
  std::vector<Flow> flows_;
  std::vector<size_t> order_;
};

// Splits a dotted name ("a.b.c", quotes already removed) into its parts.
std::vector<std::string> SplitName(const std::string& name);

}  // namespace medallion::pipeline
