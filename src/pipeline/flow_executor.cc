#include "common/clock.h"
#include "pipeline/flow_executor.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>
#include <mutex>
#include <set>

#include "common/macros.h"
#include "common/text.h"
#include "delta/commit_reader.h"
#include "delta/data_skipping.h"
#include "delta/snapshot.h"
#include "engine/delta_dml.h"
#include "engine/delta_scan.h"
#include "engine/delta_types.h"
#include "engine/delta_writer.h"
#include "engine/row_tally.h"
#include "engine/spark_sql.h"
#include "engine/sql_text.h"
#include "ingest/file_source.h"
#include "pipeline/auto_cdc.h"
#include "pipeline/flow_progress.h"
#include "pipeline/incremental_refresh.h"

namespace medallion::pipeline {
namespace {

using engine::QuoteIdentifier;
using engine::QuoteString;
using nlohmann::json;

constexpr std::string_view kQuarantineSuffix = "_quarantine";
// Why a materialized view that could be refreshed group by group was recomputed instead.
constexpr std::string_view kCostlier = "MORE_EXPENSIVE_THAN_COMPLETE_RECOMPUTE";
constexpr std::string_view kFailedExpectationsColumn = "_failed_expectations";

std::string SourceKey(const FlowSource& s) {
  if (s.kind == FlowSource::Kind::kFiles) {
    // The call's arguments identify the source; whitespace differences do not matter.
    std::string key = s.legacy_cloud_files ? "cloud_files:" : "read_files:";
    bool space = false;
    for (char c : s.arguments) {
      if (std::isspace(static_cast<unsigned char>(c))) {
        space = true;
        continue;
      }
      if (space && key.back() != ':') key += ' ';
      space = false;
      key += c;
    }
    return key;
  }
  return "table:" + s.table_folder;
}

bool IsNotFound(const Status& status) { return status.code() == StatusCode::kNotFound; }

// The latest snapshot of a table, or nullptr when it does not exist.
Result<std::shared_ptr<const delta::Snapshot>> LatestSnapshot(const UpdateContext& ctx,
                                                              const std::string& folder) {
  auto snapshot = delta::SnapshotBuilder(*ctx.lakehouse, folder).Build(*ctx.parquet);
  if (!snapshot.ok()) {
    if (IsNotFound(snapshot.status())) return std::shared_ptr<const delta::Snapshot>();
    return snapshot.status();
  }
  return *snapshot;
}

bool SkipChangeCommits(const Dataset& reader) {
  auto it = reader.definition.table_properties.find("skipChangeCommits");
  return it != reader.definition.table_properties.end() && it->second == "true";
}

// The flows a query reads through views (a view's sources are read by the flow reading it).
const Flow* ViewFlow(const DataflowGraph& graph, size_t dataset) {
  std::vector<size_t> flows = graph.FlowsInto(dataset);
  return flows.empty() ? nullptr : &graph.flows()[flows.front()];
}

// Streaming sources of a flow, through views, by key.
void CollectStreamingSources(const DataflowGraph& graph, const Flow& flow,
                             std::map<std::string, const FlowSource*>& out) {
  for (const FlowSource& s : flow.sources) {
    if (s.kind == FlowSource::Kind::kDataset && !graph.datasets()[*s.dataset].is_table()) {
      if (const Flow* view = ViewFlow(graph, *s.dataset)) {
        CollectStreamingSources(graph, *view, out);
      }
      continue;
    }
    if (s.streaming) out.emplace(SourceKey(s), &s);
  }
}

// A fingerprint of what a materialized view computes; a different one forces a refresh (a change
// of standard library may change it too, which only costs one recompute).
std::string DefinitionHash(const Flow& flow, const Dataset& target) {
  std::string text = flow.sql;
  for (const auto& e : target.definition.expectations) {
    text += "|" + e.name + ":" + e.condition + ":" + std::to_string(static_cast<int>(e.action));
  }
  for (const auto& c : target.definition.columns) text += "|" + c.name + " " + c.type;
  for (const auto& p : target.definition.partition_by) text += "|p:" + p;
  return std::to_string(std::hash<std::string>{}(text));
}

}  // namespace

std::string ResetAppId(const std::string& pipeline_name) {
  return fmt::format("medallion:{}:reset", pipeline_name);
}

std::string MaterializedViewRefreshKey(const std::string& flow) {
  return fmt::format("flows/{}/refresh.json", flow);
}

// A hidden table beside the table at `table_folder`: "<parent>/<prefix><table>".
std::string HiddenTableFolder(const std::string& table_folder, std::string_view prefix) {
  size_t slash = table_folder.rfind('/');
  std::string parent = slash == std::string::npos ? "" : table_folder.substr(0, slash + 1);
  std::string table = slash == std::string::npos ? table_folder : table_folder.substr(slash + 1);
  return parent + std::string(prefix) + table;
}

std::string AutoCdcStateFolder(const std::string& table_folder) {
  return HiddenTableFolder(table_folder, "__medallion_autocdc_");
}

// GENERIC_AGGREGATE's hidden state table beside a materialized view: its groups' partial aggregates.
std::string AggregateStateFolder(const std::string& table_folder) {
  return HiddenTableFolder(table_folder, "__medallion_mv_state_");
}

FlowExecutor::FlowExecutor(const UpdateContext& context, size_t flow)
    : ctx_(context),
      flow_(context.graph->flows()[flow]),
      target_(context.graph->datasets()[flow_.target]) {}

namespace {

// Everything one run of a flow needs; lives for one Run() or Bind().
class FlowRun {
 public:
  FlowRun(const UpdateContext& ctx, const Flow& flow, const Dataset& target,
          engine::Connection& conn)
      : ctx_(ctx), flow_(flow), target_(target), conn_(conn) {}

  // --- Sources --------------------------------------------------------------------------------

  // Registers every source of `flow` (and of the views it reads) as a TEMP view named by its
  // placeholder. Streaming sources read what `plan` says; batch sources read everything.
  // `dry_tables` (Bind only): datasets bound so far -> their empty TEMP tables; in that mode
  // nothing is read, and a dataset's placeholder is not a view: DrySql names its table instead.
  Status RegisterSources(const Flow& flow, const BatchPlan* plan,
                         const std::map<size_t, std::string>* dry_tables) {
    for (const FlowSource& s : flow.sources) {
      std::string view = QuoteIdentifier(s.placeholder);
      if (s.kind == FlowSource::Kind::kDataset) {
        const Dataset& ds = ctx_.graph->datasets()[*s.dataset];
        if (!ds.is_table()) {
          const Flow* view_flow = ViewFlow(*ctx_.graph, *s.dataset);
          if (view_flow == nullptr) return Status::Internal("view without a query");
          RETURN_NOT_OK(RegisterSources(*view_flow, plan, dry_tables));
          RETURN_NOT_OK(conn_.Execute(
              fmt::format("CREATE OR REPLACE TEMP VIEW {} AS {}", view, DrySql(view_flow->sql))));
          continue;
        }
        if (dry_tables != nullptr) {
          auto it = dry_tables->find(*s.dataset);
          if (it == dry_tables->end()) {
            return Status::Internal(fmt::format("dataset {} not bound yet", ds.canonical_name));
          }
          dry_aliases_[view] = QuoteIdentifier(it->second);
          continue;
        }
      }
      if (s.kind == FlowSource::Kind::kFiles) {
        RETURN_NOT_OK(RegisterFiles(s, plan, dry_tables != nullptr));
        continue;
      }
      // A Delta table (a dataset of this pipeline, or external).
      ASSIGN_OR_RETURN(auto snapshot, LatestSnapshot(ctx_, s.table_folder));
      if (snapshot == nullptr) {
        return Status::NotFound(fmt::format(
            "table '{}' has no data yet (it has never been written: run the flows that write it "
            "first)",
            s.display_name));
      }
      if (dry_tables != nullptr) {
        RETURN_NOT_OK(engine::RegisterDeltaScan(conn_, *snapshot, *ctx_.lakehouse,
                                                s.placeholder + "__full"));
        RETURN_NOT_OK(conn_.Execute(fmt::format(
            "CREATE OR REPLACE TEMP VIEW {} AS SELECT * FROM {} LIMIT 0", view,
            QuoteIdentifier(s.placeholder + "__full"))));
        continue;
      }
      if (!s.streaming) {
        RETURN_NOT_OK(
            engine::RegisterDeltaScan(conn_, *snapshot, *ctx_.lakehouse, s.placeholder));
        continue;
      }
      auto it = plan->sources.find(SourceKey(s));
      if (it == plan->sources.end()) return Status::Internal("streaming source not planned");
      const SourceProgress& p = it->second;
      if (p.end_version < 0) {
        // Nothing read from this source in this batch: an empty view with the table's columns.
        RETURN_NOT_OK(engine::RegisterDeltaFileScan(conn_, snapshot->config(), s.table_folder, {},
                                                    *ctx_.lakehouse, s.placeholder));
        continue;
      }
      ASSIGN_OR_RETURN(auto at_end, delta::SnapshotBuilder(*ctx_.lakehouse, s.table_folder)
                                        .AtVersion(p.end_version)
                                        .Build(*ctx_.parquet));
      if (p.initial_snapshot) {
        RETURN_NOT_OK(engine::RegisterDeltaScan(conn_, *at_end, *ctx_.lakehouse, s.placeholder));
        continue;
      }
      ASSIGN_OR_RETURN(auto adds, AddedFiles(s, p.start_version, p.end_version));
      RETURN_NOT_OK(engine::RegisterDeltaFileScan(conn_, at_end->config(), s.table_folder, adds,
                                                  *ctx_.lakehouse, s.placeholder));
    }
    return Status::OK();
  }

  // The data files added by commits (start, end] of a streaming Delta source. A commit that
  // removes data fails the flow unless the reading dataset skips change commits.
  // Planning and registering a batch both need them: the commits are read once per run.
  Result<std::vector<delta::AddFile>> AddedFiles(const FlowSource& s, int64_t start,
                                                 int64_t end) {
    std::string memo_key = fmt::format("{}@{}..{}", s.table_folder, start, end);
    if (auto it = added_files_.find(memo_key); it != added_files_.end()) return it->second;
    std::vector<delta::AddFile> adds;
    for (int64_t v = start + 1; v <= end; ++v) {
      ASSIGN_OR_RETURN(auto actions, delta::ReadCommitActions(*ctx_.lakehouse, s.table_folder, v));
      if (RemovesData(actions)) {
        if (SkipChangeCommits(target_)) continue;
        return Status::InvalidArgument(fmt::format(
            "detected a data update (for example an UPDATE, DELETE, MERGE or overwrite) in the "
            "source table '{}' at version {}: streaming reads only support appends. Run a full "
            "refresh of '{}', or set TBLPROPERTIES ('skipChangeCommits' = 'true') on it to skip "
            "such commits",
            s.display_name, v, target_.definition.name));
      }
      for (auto& a : actions) {
        if (auto* add = std::get_if<delta::AddFile>(&a); add && add->data_change) {
          adds.push_back(std::move(*add));
        }
      }
    }
    added_files_[memo_key] = adds;
    return adds;
  }

  // The data files added by commits (start, end] of a Delta source when those commits only
  // appended (no data-changing remove, no metaData action); nullopt otherwise.
  Result<std::optional<std::vector<delta::AddFile>>> AppendedFiles(const FlowSource& s,
                                                                   int64_t start, int64_t end) {
    std::vector<delta::AddFile> adds;
    for (int64_t v = start + 1; v <= end; ++v) {
      ASSIGN_OR_RETURN(auto actions, delta::ReadCommitActions(*ctx_.lakehouse, s.table_folder, v));
      if (RemovesData(actions)) return std::optional<std::vector<delta::AddFile>>();
      for (auto& a : actions) {
        if (std::holds_alternative<delta::Metadata>(a)) return std::optional<std::vector<delta::AddFile>>();
        if (auto* add = std::get_if<delta::AddFile>(&a); add && add->data_change) {
          adds.push_back(std::move(*add));
        }
      }
    }
    return std::optional(std::move(adds));
  }

  static bool RemovesData(const std::vector<delta::Action>& actions) {
    return std::any_of(actions.begin(), actions.end(), [](const delta::Action& a) {
      const auto* r = std::get_if<delta::RemoveFile>(&a);
      return r != nullptr && r->data_change;
    });
  }

  Status RegisterFiles(const FlowSource& s, const BatchPlan* plan, bool dry) {
    ASSIGN_OR_RETURN(auto options, FileOptions(s));
    std::vector<ingest::SourceFile> files;
    std::optional<ingest::SourceSchema> schema;
    if (s.streaming && !dry) {
      auto it = plan->sources.find(SourceKey(s));
      if (it == plan->sources.end()) return Status::Internal("file source not planned");
      for (const auto& f : it->second.files) {
        files.push_back(ingest::SourceFile{f.path, f.size, f.modification_time});
      }
      ASSIGN_OR_RETURN(schema, ingest::SourceSchema::FromJson(it->second.schema_json));
    } else {
      ASSIGN_OR_RETURN(files, ingest::ListSourceFiles(options));
      ASSIGN_OR_RETURN(auto inferred, ingest::InferSchema(conn_, options, files, std::nullopt));
      schema = std::move(inferred.schema);
      if (dry) files.clear();
    }
    std::string view = QuoteIdentifier(s.placeholder);
    std::string rows;  // a relation with every column, _metadata included
    if (files.empty()) {
      rows = "SELECT ";
      for (const auto& c : schema->columns) {
        rows += fmt::format("NULL::{} AS {}, ", c.type, QuoteIdentifier(c.name));
      }
      if (!options.rescued_data_column.empty()) {
        rows += fmt::format("NULL::VARCHAR AS {}, ", QuoteIdentifier(options.rescued_data_column));
      }
      rows += fmt::format(
          "NULL::STRUCT(file_path VARCHAR, file_name VARCHAR, file_size BIGINT, file_block_start "
          "BIGINT, file_block_length BIGINT, file_modification_time TIMESTAMPTZ) AS {} LIMIT 0",
          QuoteIdentifier(ingest::kMetadataColumn));
    } else {
      ASSIGN_OR_RETURN(auto query, ingest::BuildReadQuery(conn_, options, *schema, files));
      if (query.malformed_rows_sql.empty() && query.malformed_records_sql.empty()) {
        rows = query.sql;  // Parquet: read straight from the files
        if (!query.cleanup_sql.empty()) RETURN_NOT_OK(conn_.Execute(query.cleanup_sql));
      } else if (stream_files_ && options.format == ingest::FileFormat::kCsv) {
        // Read by the write itself; its malformed records are collected before the commit
        // (FinishStreamedReads).
        if (!query.cleanup_sql.empty()) RETURN_NOT_OK(conn_.Execute(query.cleanup_sql));
        rows = query.sql;
        streamed_reads_.push_back({options, std::move(query)});
      } else {
        std::string table = s.placeholder + "__rows";
        ASSIGN_OR_RETURN(auto summary,
                         ingest::ReadIntoTable(conn_, options, *schema, files, table));
        malformed_dropped_ += summary.malformed_dropped;
        rows = "SELECT * FROM " + QuoteIdentifier(table);
      }
    }
    if (!flow_.reads_metadata) {
      rows = fmt::format("SELECT * EXCLUDE ({}) FROM ({})",
                         QuoteIdentifier(ingest::kMetadataColumn), rows);
    }
    return conn_.Execute(fmt::format("CREATE OR REPLACE TEMP VIEW {} AS {}", view, rows));
  }

  // The options of a file source, with a relative path taken from the spec's folder.
  Result<ingest::FileSourceOptions> FileOptions(const FlowSource& s) {
    ASSIGN_OR_RETURN(auto options,
                     ingest::ParseReadFilesArguments(s.arguments, s.legacy_cloud_files));
    std::string path = options.path;
    if (path.starts_with("file:")) path = path.substr(path.starts_with("file://") ? 7 : 5);
    if (!path.empty() && path[0] != '/') {
      options.path = (std::filesystem::path(ctx_.root_dir) / path).lexically_normal().string();
    }
    return options;
  }

  // `sql` with each dataset placeholder replaced by its dry table (Bind; see RegisterSources).
  // Placeholders are unique quoted identifiers, so a plain text replacement is exact.
  std::string DrySql(std::string sql) const {
    for (const auto& [placeholder, table] : dry_aliases_) {
      for (size_t at = sql.find(placeholder); at != std::string::npos;
           at = sql.find(placeholder, at + table.size())) {
        sql.replace(at, placeholder.size(), table);
      }
    }
    return sql;
  }
  int64_t malformed_dropped() const { return malformed_dropped_; }

  // Starts registering a batch's sources: with `stream_files`, CSV sources are read by the
  // query's write itself instead of into TEMP tables first (RegisterFiles).
  void BeginBatch(bool stream_files) {
    stream_files_ = stream_files;
    streamed_reads_.clear();
    malformed_dropped_ = 0;
    reread_files_ = false;
  }
  // Whether the batch must run again without streaming its CSV sources (FinishStreamedReads).
  bool reread_files() const { return reread_files_; }

  // Before the commit of a write whose query read the streamed CSV sources: their malformed
  // records are counted (ingest::ReadMalformed; FAILFAST fails here). Malformed records that
  // must be rows (PERMISSIVE with a rescued data column) were not in the streamed read: Aborted,
  // and reread_files() is then true.
  Status FinishStreamedReads() {
    for (const StreamedRead& r : streamed_reads_) {
      ASSIGN_OR_RETURN(auto summary, ingest::ReadMalformed(conn_, r.options, r.query));
      malformed_dropped_ += summary.malformed_dropped;
      if (!r.query.malformed_rows_sql.empty() && !summary.malformed.empty()) reread_files_ = true;
    }
    streamed_reads_.clear();
    if (reread_files_) {
      return Status::Aborted("malformed CSV records to keep as rows: reading the files again");
    }
    return Status::OK();
  }

  // --- Planning -------------------------------------------------------------------------------

  // The next batch of a streaming flow, or nullopt when no source has anything new.
  Result<std::optional<BatchPlan>> PlanBatch(const std::map<std::string, SourceHistory>& history,
                                             int64_t batch, int64_t* new_files) {
    std::map<std::string, const FlowSource*> sources;
    CollectStreamingSources(*ctx_.graph, flow_, sources);
    BatchPlan plan;
    plan.batch = batch;
    plan.now_ms = NowMs();
    bool any_new = false;
    for (const auto& [key, s] : sources) {
      auto h = history.find(key);
      SourceProgress p;
      if (s->kind == FlowSource::Kind::kFiles) {
        p.is_files = true;
        ASSIGN_OR_RETURN(auto options, FileOptions(*s));
        ASSIGN_OR_RETURN(auto listing, ingest::ListSourceFiles(options));
        std::vector<ingest::SourceFile> fresh;
        for (auto& f : listing) {
          if (h == history.end() || !h->second.planned_files.count(f.path)) {
            fresh.push_back(std::move(f));
          }
        }
        std::optional<ingest::SourceSchema> previous;
        if (h != history.end() && !h->second.schema_json.empty()) {
          ASSIGN_OR_RETURN(previous, ingest::SourceSchema::FromJson(h->second.schema_json));
        }
        if (!fresh.empty()) {
          ASSIGN_OR_RETURN(auto inferred, ingest::InferSchema(conn_, options, fresh, previous));
          p.schema_json = inferred.schema.ToJson();
          any_new = true;
          *new_files += static_cast<int64_t>(fresh.size());
        } else if (previous) {
          p.schema_json = previous->ToJson();
        }
        for (const auto& f : fresh) p.files.push_back({f.path, f.size, f.modification_time});
      } else {
        ASSIGN_OR_RETURN(auto snapshot, LatestSnapshot(ctx_, s->table_folder));
        std::optional<int64_t> last;
        if (h != history.end()) last = h->second.end_version;
        if (snapshot == nullptr) {
          p.end_version = last.value_or(-1);
          p.start_version = p.end_version;
        } else if (!last) {
          p.initial_snapshot = true;
          p.end_version = snapshot->version();
          if (!snapshot->files().empty()) any_new = true;
          else p.end_version = -1;  // nothing to read yet: start from the beginning next time
        } else {
          p.start_version = *last;
          p.end_version = std::max(*last, snapshot->version());
          if (p.end_version > *last) {
            ASSIGN_OR_RETURN(auto adds, AddedFiles(*s, *last, p.end_version));
            if (!adds.empty()) any_new = true;
          }
        }
      }
      plan.sources[key] = std::move(p);
    }
    if (!any_new) return std::optional<BatchPlan>();
    return std::optional<BatchPlan>(std::move(plan));
  }

  // --- Execution ------------------------------------------------------------------------------

  struct QueryShape {
    bool has_rescued = false;    // a _rescued_data column
  };

  static std::string FailedColumn(size_t expectation) {
    return fmt::format("__medallion_failed_{}", expectation);
  }

  // Runs the flow's query and writes its rows, applying the expectations (header comment, steps
  // 4 and 5). `txn` makes the writes idempotent.
  // `sql`: what to run instead of the flow's query (the same rows; BuildAggregateState).
  Result<FlowMetrics> ExecuteAndWrite(const std::optional<std::pair<std::string, int64_t>>& txn,
                                      bool overwrite,
                                      const std::optional<std::string>& sql = std::nullopt) {
    const auto& expectations = target_.definition.expectations;
    // The query, projected onto declared columns (when the dataset declares any).
    std::string query = sql.value_or(flow_.sql);
    if (!target_.definition.columns.empty()) {
      std::string select;
      for (const auto& c : target_.definition.columns) {
        ASSIGN_OR_RETURN(std::string type, engine::TranslateSparkType(c.type));
        select += fmt::format("{}CAST({} AS {}) AS {}", select.empty() ? "" : ", ",
                              QuoteIdentifier(c.name), type, QuoteIdentifier(c.name));
      }
      query = fmt::format("SELECT {} FROM ({}) AS __q", select, query);
    }
    // Columns of the query (to detect the _metadata struct and _rescued_data); binds, reads nothing.
    ASSIGN_OR_RETURN(auto described, conn_.Describe(query));
    QueryShape shape;
    bool drop_metadata = false;
    for (const auto& [name, type] : described) {
      if (name == "_rescued_data") shape.has_rescued = true;
      if (name == ingest::kMetadataColumn && flow_.reads_metadata && !flow_.selects_metadata) {
        drop_metadata = true;  // `_metadata` came from `*`; Databricks hides it from `*`
      }
    }
    std::string data_columns = "*";
    if (drop_metadata) {
      data_columns = fmt::format("* EXCLUDE ({})", QuoteIdentifier(ingest::kMetadataColumn));
    }
    bool declares_not_null =
        std::any_of(target_.definition.columns.begin(), target_.definition.columns.end(),
                    [](const auto& c) { return c.not_null; });
    if (expectations.empty() && !declares_not_null) {
      // Nothing to check: the rows go from the query straight into the files, and the counts
      // come from the files' statistics.
      FlowMetrics m;
      ASSIGN_OR_RETURN(auto written,
                       Write(fmt::format("SELECT {} FROM ({}) AS __q", data_columns, query),
                             target_.table_folder, txn, overwrite, /*hidden=*/false,
                             [&](const engine::WriteResult&) { return FinishStreamedReads(); }));
      m.num_input_rows = m.num_output_rows = written.num_inserted_rows;
      if (auto it = written.null_counts.find("_rescued_data");
          shape.has_rescued && it != written.null_counts.end()) {
        m.num_rescued_rows = written.num_inserted_rows - it->second;
      }
      m.table_version = written.version;
      return m;
    }

    // The query's rows with one boolean per expectation (true = failed).
    std::string failed_exprs;
    for (size_t i = 0; i < expectations.size(); ++i) {
      ASSIGN_OR_RETURN(std::string condition,
                       engine::TranslateSparkSql(expectations[i].condition));
      failed_exprs += fmt::format(", (({}) IS NOT DISTINCT FROM false) AS {}", condition,
                                  QuoteIdentifier(FailedColumn(i)));
    }
    std::string checked =
        fmt::format("(SELECT {}{} FROM ({}) AS __q)", data_columns, failed_exprs, query);
    // Evaluated once, counted as the kept rows are written; when the quarantine's evaluation
    // gives other rows than counted (an expectation on random()), the rows are kept once in a
    // TEMP table and written from there.
    auto m = WriteChecked(checked, shape, txn, overwrite);
    if (m.ok() || m.status().code() != StatusCode::kAborted || reread_files_) return m;
    const std::string table = "__medallion_checked";
    RETURN_NOT_OK(conn_.Execute(fmt::format("CREATE OR REPLACE TEMP TABLE {} AS SELECT * FROM {}",
                                            QuoteIdentifier(table), checked))
                      .WithContext(fmt::format("expectations of '{}'", target_.definition.name)));
    m = WriteChecked(QuoteIdentifier(table), shape, txn, overwrite);
    RETURN_NOT_OK(conn_.Execute(fmt::format("DROP TABLE {}", QuoteIdentifier(table))));
    return m;
  }

  // Writes the kept rows of `checked` (a relation of the query's rows with the FailedColumn
  // booleans) in one evaluation that also counts every row's outcome (engine::RowTally; one bit
  // per expectation, one for any NULL in a NOT NULL column, one for rescued data). Before the
  // kept rows' commit: FAIL UPDATE and NOT NULL violations fail the flow (nothing committed), and
  // the quarantined rows are written and committed from a second evaluation that must give the
  // rows counted (Aborted otherwise, before any commit).
  Result<FlowMetrics> WriteChecked(const std::string& checked, const QueryShape& shape,
                                   const std::optional<std::pair<std::string, int64_t>>& txn,
                                   bool overwrite) {
    const auto& expectations = target_.definition.expectations;
    const std::string& name = target_.definition.name;
    const size_t not_null_bit = expectations.size(), rescued_bit = expectations.size() + 1;
    if (rescued_bit > 62) {
      return Status::NotSupported(fmt::format(
          "'{}' has {} expectations; medallion supports at most 61 per dataset", name,
          expectations.size()));
    }
    std::vector<std::string> not_null;
    for (const auto& c : target_.definition.columns) {
      if (c.not_null) not_null.push_back(c.name);
    }
    uint64_t drop_bits = 0, quarantine_bits = 0;
    std::string key = "0";
    std::string kept_filter = "true";  // the kept rows, for a second look at `checked`
    std::string any_quarantine = "false";
    for (size_t i = 0; i < expectations.size(); ++i) {
      uint64_t bit = uint64_t{1} << i;
      std::string failed = QuoteIdentifier(FailedColumn(i));
      if (expectations[i].action == Expectation::Action::kDrop) drop_bits |= bit;
      if (expectations[i].action == Expectation::Action::kQuarantine) {
        quarantine_bits |= bit;
        any_quarantine += " OR " + failed;
      }
      if ((drop_bits | quarantine_bits) & bit) kept_filter += " AND NOT " + failed;
      key += fmt::format(" + {}::BIGINT * {}", failed, bit);
    }
    for (const auto& c : not_null) {
      key += fmt::format(" + ({} IS NULL)::BIGINT * {}", QuoteIdentifier(c),
                         uint64_t{1} << not_null_bit);
    }
    if (shape.has_rescued) {
      key += fmt::format(" + (_rescued_data IS NOT NULL)::BIGINT * {}", uint64_t{1} << rescued_bit);
    }
    // A row is dropped when it fails a DROP ROW expectation and no QUARANTINE one.
    auto quarantined = [&](uint64_t k) { return (k & quarantine_bits) != 0; };
    auto dropped = [&](uint64_t k) { return !quarantined(k) && (k & drop_bits) != 0; };

    engine::RowTally tally;
    const std::string exclude_failed = "COLUMNS(c -> NOT starts_with(c, '__medallion_failed_'))";
    std::string kept = fmt::format(
        "SELECT {} FROM (SELECT *, {} AS __medallion_failed_bits FROM {}) WHERE "
        "__medallion_failed_bits & {} = 0",
        exclude_failed, tally.Count(key), checked, drop_bits | quarantine_bits);
    FlowMetrics m;
    auto before_commit = [&](const engine::WriteResult& written) -> Status {
      RETURN_NOT_OK(FinishStreamedReads());
      int64_t not_null_rows = 0;
      m.expectations.clear();
      std::vector<int64_t> failed(expectations.size(), 0);
      for (const auto& [k, rows] : tally.counts()) {
        uint64_t bits = static_cast<uint64_t>(k);
        m.num_input_rows += rows;
        if (dropped(bits)) m.num_dropped_rows += rows;
        if (quarantined(bits)) m.num_quarantined_rows += rows;
        if ((bits >> not_null_bit & 1) && !dropped(bits) && !quarantined(bits)) {
          not_null_rows += rows;  // a NOT NULL column of a row that is written
        }
        if (bits >> rescued_bit & 1) m.num_rescued_rows += rows;
        for (size_t i = 0; i < expectations.size(); ++i) failed[i] += (bits >> i & 1) ? rows : 0;
      }
      for (size_t i = 0; i < expectations.size(); ++i) {
        m.expectations.push_back(
            {expectations[i].name, name, m.num_input_rows - failed[i], failed[i]});
      }
      int64_t kept_rows = m.num_input_rows - m.num_dropped_rows - m.num_quarantined_rows;
      if (written.num_inserted_rows != kept_rows) {
        return Status::Aborted(fmt::format("'{}': {} rows written where {} were counted", name,
                                           written.num_inserted_rows, kept_rows));
      }
      RETURN_NOT_OK(CheckFailAndNotNull(checked, kept_filter, m, not_null, not_null_rows));
      bool has_quarantine = quarantine_bits != 0;
      if (!has_quarantine || (m.num_quarantined_rows == 0 && !overwrite)) return Status::OK();
      // The quarantined rows, committed first (see the header: a retry skips what was committed).
      std::string names = "list_filter([";
      for (size_t i = 0; i < expectations.size(); ++i) {
        names += fmt::format("{}CASE WHEN {} THEN {} END", i == 0 ? "" : ", ",
                             QuoteIdentifier(FailedColumn(i)), QuoteString(expectations[i].name));
      }
      names += "], x -> x IS NOT NULL)";
      // now(): the time of this write.
      std::string sql = fmt::format(
          "SELECT {}, {} AS {}, now() AS _quarantined_at FROM {} WHERE {}", exclude_failed, names,
          QuoteIdentifier(kFailedExpectationsColumn), checked, any_quarantine);
      int64_t expected = m.num_quarantined_rows;
      return Write(sql, target_.table_folder + std::string(kQuarantineSuffix), txn, overwrite,
                   /*hidden=*/false, [&](const engine::WriteResult& q) {
                     return q.num_inserted_rows == expected
                                ? Status::OK()
                                : Status::Aborted(fmt::format(
                                      "'{}': {} quarantined rows where {} were counted", name,
                                      q.num_inserted_rows, expected));
                   })
          .status();
    };
    auto written = Write(kept, target_.table_folder, txn, overwrite, /*hidden=*/false,
                         before_commit);
    if (!written.ok()) return written.status().WithContext(fmt::format("expectations of '{}'", name));
    m.num_output_rows = written->num_inserted_rows;
    m.table_version = written->version;
    return m;
  }

  // FAIL UPDATE violations among the counted rows, and NOT NULL violations among the kept ones
  // (`kept_filter`): InvalidArgument naming the expectation and a failing row, or the column (a
  // second look at `checked`, only on failure).
  Status CheckFailAndNotNull(const std::string& checked, const std::string& kept_filter,
                             const FlowMetrics& m, const std::vector<std::string>& not_null,
                             int64_t not_null_rows) {
    const auto& expectations = target_.definition.expectations;
    for (size_t i = 0; i < expectations.size(); ++i) {
      if (expectations[i].action != Expectation::Action::kFail ||
          m.expectations[i].failed_records == 0) {
        continue;
      }
      ASSIGN_OR_RETURN(auto sample, conn_.Query(fmt::format(
                                        "SELECT to_json(t)::VARCHAR FROM (SELECT {} FROM {} WHERE "
                                        "{} LIMIT 1) AS t",
                                        "COLUMNS(c -> NOT starts_with(c, '__medallion_failed_'))",
                                        checked, QuoteIdentifier(FailedColumn(i)))));
      std::string row = sample.row_count() > 0 ? sample.GetText(0, 0) : "";
      return Status::InvalidArgument(fmt::format(
          "expectation '{}' on '{}' failed ({} of {} rows violate `{}`, ON VIOLATION FAIL "
          "UPDATE): nothing was written. A failing row: {}",
          expectations[i].name, target_.definition.name, m.expectations[i].failed_records,
          m.num_input_rows, expectations[i].condition, row));
    }
    if (not_null_rows == 0) return Status::OK();
    std::string counts;
    for (const auto& c : not_null) {
      counts += fmt::format("{}count_if({} IS NULL)", counts.empty() ? "" : ", ", QuoteIdentifier(c));
    }
    ASSIGN_OR_RETURN(auto nulls, conn_.Query(fmt::format("SELECT {} FROM {} WHERE {}", counts,
                                                         checked, kept_filter)));
    for (size_t i = 0; i < not_null.size(); ++i) {
      ASSIGN_OR_RETURN(int64_t n, nulls.GetInt64(i, 0));
      if (n > 0) {
        return Status::InvalidArgument(fmt::format(
            "NOT NULL constraint violated for column: {} ({} rows of '{}'): nothing was written",
            not_null[i], n, target_.definition.name));
      }
    }
    return Status::Aborted(fmt::format("'{}': NULLs counted in a NOT NULL column, none found",
                                       target_.definition.name));
  }

  // One AUTO CDC batch (see the header comment); the sources are registered.
  Result<FlowMetrics> ExecuteAutoCdc(const std::string& app_id, int64_t batch, int64_t now_ms) {
    const AutoCdcDefinition& cdc = *flow_.auto_cdc;
    FlowMetrics m;
    RETURN_NOT_OK(conn_.Execute("CREATE OR REPLACE TEMP TABLE __medallion_cdc_changes AS " +
                                flow_.sql));
    ASSIGN_OR_RETURN(auto changes, conn_.Query("SELECT count(*) FROM __medallion_cdc_changes"));
    ASSIGN_OR_RETURN(m.num_input_rows, changes.GetInt64(0, 0));
    AutoCdcInput input;
    input.changes_table = "__medallion_cdc_changes";
    input.now_ms = now_ms;
    ASSIGN_OR_RETURN(auto target, LatestSnapshot(ctx_, target_.table_folder));
    if (target != nullptr) {
      RETURN_NOT_OK(engine::RegisterDeltaScan(conn_, *target, *ctx_.lakehouse,
                                              "__medallion_cdc_target"));
      input.target_table = "__medallion_cdc_target";
    }
    const std::string state_folder = AutoCdcStateFolder(target_.table_folder);
    ASSIGN_OR_RETURN(auto state, LatestSnapshot(ctx_, state_folder));
    bool state_written = false;
    if (state != nullptr) {
      // Written for this batch by an earlier, interrupted run: read the state before it.
      state_written = state->TxnVersion(app_id).value_or(-1) >= batch;
      std::shared_ptr<const delta::Snapshot> before = state;
      if (state_written) {
        before = nullptr;
        if (state->version() > 0) {
          ASSIGN_OR_RETURN(before, delta::SnapshotBuilder(*ctx_.lakehouse, state_folder)
                                       .AtVersion(state->version() - 1)
                                       .Build(*ctx_.parquet));
        }
      }
      if (before != nullptr && !before->files().empty()) {
        RETURN_NOT_OK(engine::RegisterDeltaScan(conn_, *before, *ctx_.lakehouse,
                                                "__medallion_cdc_state"));
        input.state_table = "__medallion_cdc_state";
      }
    }
    ASSIGN_OR_RETURN(AutoCdcOptions options,
                     AutoCdcOptionsFromProperties(target_.definition.table_properties));
    input.output_prefix = "__medallion_cdc_out";
    ASSIGN_OR_RETURN(AutoCdcOutput out, ApplyAutoCdc(conn_, cdc, input, options));
    m.num_upserted_rows = out.num_upserted_rows;
    m.num_deleted_rows = out.num_deleted_rows;
    auto txn = std::make_pair(app_id, batch);
    if (!state_written) {
      bool merged = false;
      if (!input.state_table.empty() && !out.truncated) {
        // The keys whose state records changed: only their files are rewritten.
        ASSIGN_OR_RETURN(auto columns, conn_.Describe("SELECT * FROM " +
                                                      QuoteIdentifier(out.new_state_table)));
        std::string list;
        for (const auto& [name, type] : columns) {
          list += (list.empty() ? "" : ", ") + QuoteIdentifier(name);
        }
        RETURN_NOT_OK(conn_.Execute(fmt::format(
            "CREATE OR REPLACE TEMP TABLE __medallion_cdc_state_keys AS SELECT DISTINCT {0} FROM "
            "((SELECT {1} FROM {2} EXCEPT ALL SELECT {1} FROM {3}) UNION ALL "
            "(SELECT {1} FROM {3} EXCEPT ALL SELECT {1} FROM {2}))",
            KeyList(cdc.keys), list, QuoteIdentifier(out.new_state_table),
            QuoteIdentifier(input.state_table))));
        ASSIGN_OR_RETURN(auto state_version,
                         ReplaceKeyRows(state_folder, state, "__medallion_cdc_state_keys",
                                        out.new_state_table, cdc.keys, txn, {}, /*hidden=*/true));
        merged = state_version.has_value();
      }
      if (!merged) {
        RETURN_NOT_OK(Write("SELECT * FROM " + QuoteIdentifier(out.new_state_table), state_folder,
                            txn, /*overwrite=*/true, /*hidden=*/true)
                          .status()
                          .WithContext("AUTO CDC state"));
      }
    }
    m.num_output_rows = out.num_upserted_rows;
    if (!out.truncated && target != nullptr && !target->files().empty()) {
      ASSIGN_OR_RETURN(auto version,
                       ReplaceKeyRows(target_.table_folder, target, out.touched_keys_table,
                                      out.target_rows_table, cdc.keys, txn,
                                      {{"numUpsertedRows", out.num_upserted_rows},
                                       {"numDeletedRows", out.num_deleted_rows}},
                                      /*hidden=*/false));
      if (version.has_value()) {
        m.table_version = *version;
        return m;
      }
    }
    // A new table, a truncate, or changed columns: the whole target is written.
    std::string rows = "SELECT * FROM " + QuoteIdentifier(out.target_rows_table);
    if (!out.truncated && !input.target_table.empty()) {
      std::string match;
      for (const std::string& key : cdc.keys) {
        match += fmt::format("{}__k.{} IS NOT DISTINCT FROM __t.{}", match.empty() ? "" : " AND ",
                             QuoteIdentifier(key), QuoteIdentifier(key));
      }
      rows = fmt::format(
          "SELECT __t.* FROM {} AS __t WHERE NOT EXISTS (SELECT 1 FROM {} AS __k WHERE {}) "
          "UNION ALL BY NAME {}",
          QuoteIdentifier(input.target_table), QuoteIdentifier(out.touched_keys_table), match,
          rows);
    }
    ASSIGN_OR_RETURN(auto written, Write(rows, target_.table_folder, txn, /*overwrite=*/true));
    m.table_version = written.version;
    return m;
  }

  static std::string KeyList(const std::vector<std::string>& keys) {
    std::string out;
    for (const std::string& key : keys) out += (out.empty() ? "" : ", ") + QuoteIdentifier(key);
    return out;
  }

  // What a materialized view's incremental refresh reads: its one input, a Delta table, and the
  // view's query serialized (json_serialize_sql). nullopt, with `reason` set, when the view cannot
  // be refreshed incrementally whatever its input did (pipeline/incremental_refresh.h).
  struct IncrementalInput {
    const FlowSource* source;
    std::string ast;
  };
  Result<std::optional<IncrementalInput>> IncrementalShape(std::string* reason) {
    if (!target_.definition.expectations.empty() || !target_.definition.columns.empty()) {
      *reason = "OPERATOR_NOT_INCREMENTALIZABLE: expectations or declared columns";
      return std::optional<IncrementalInput>();
    }
    if (flow_.sources.size() != 1) {
      *reason = fmt::format("OPERATOR_NOT_INCREMENTALIZABLE: it reads {} inputs", flow_.sources.size());
      return std::optional<IncrementalInput>();
    }
    const FlowSource& s = flow_.sources[0];
    if (s.kind == FlowSource::Kind::kFiles) {
      *reason = "INPUT_NOT_IN_DELTA: it reads files";
      return std::optional<IncrementalInput>();
    }
    if (s.kind == FlowSource::Kind::kDataset && !ctx_.graph->datasets()[*s.dataset].is_table()) {
      *reason = fmt::format("OPERATOR_NOT_INCREMENTALIZABLE: it reads the view {}", s.display_name);
      return std::optional<IncrementalInput>();
    }
    ASSIGN_OR_RETURN(auto serialized,
                     conn_.Query("SELECT json_serialize_sql(" + QuoteString(flow_.sql) + ")"));
    ASSIGN_OR_RETURN(std::string ast, serialized.GetString(0, 0));
    return std::optional(IncrementalInput{&s, std::move(ast)});
  }

  // Whether `name` is an aggregate function or a macro of the engine. Common scalar functions and
  // aggregates are known; others are looked up in duckdb_functions(), listed once per process (it
  // takes tens of milliseconds).
  Result<bool> IsNonScalar(const std::string& name) {
    static const std::set<std::string, std::less<>> kScalar = {
        "round", "concat", "concat_ws", "coalesce", "abs", "lower", "upper", "length", "substring",
        "substr", "trim", "year", "month", "day", "date_trunc", "strftime", "greatest", "least",
        "+", "-", "*", "/", "//", "%"};
    static const std::set<std::string, std::less<>> kAggregate = {
        "quantile_disc", "quantile_cont", "median", "mode", "string_agg", "list", "array_agg",
        "first", "last", "any_value", "arg_min", "arg_max", "approx_count_distinct", "stddev",
        "stddev_samp", "stddev_pop", "variance", "var_samp", "var_pop", "bool_and", "bool_or"};
    if (kScalar.count(name)) return false;
    if (kAggregate.count(name)) return true;
    static std::mutex mu;
    static std::set<std::string> listed;
    std::lock_guard<std::mutex> lock(mu);
    if (listed.empty()) {
      ASSIGN_OR_RETURN(auto names, conn_.Query("SELECT DISTINCT lower(function_name) FROM "
                                               "duckdb_functions() WHERE function_type IN "
                                               "('aggregate', 'macro')"));
      std::set<std::string> found;
      for (size_t r = 0; r < names.row_count(); ++r) {
        ASSIGN_OR_RETURN(std::string n, names.GetString(0, r));
        found.insert(std::move(n));
      }
      listed = std::move(found);
    }
    return listed.count(name) > 0;
  }

  // GENERIC_AGGREGATE's plan for the view, or NotSupported naming why not.
  Result<AggregateMergePlan> MergePlan(const IncrementalInput& input) {
    ASSIGN_OR_RETURN(auto plan, PlanAggregateMerge(input.ast, [this](const std::string& name) {
                       return IsNonScalar(name);
                     }));
    if (!EqualsIgnoreCase(plan.keys.source_table, input.source->placeholder)) {
      return Status::NotSupported("the query does not read its input by name");
    }
    return plan;
  }

  Result<std::string> Deserialize(const std::string& statement) {
    ASSIGN_OR_RETURN(auto sql, conn_.Query("SELECT json_deserialize_sql(" + QuoteString(statement) +
                                           "::JSON)"));
    return sql.GetString(0, 0);
  }

  // The txn appId of a view's aggregate state: its version is the input version the state holds.
  std::string AggregateStateAppId() const {
    return fmt::format("medallion:{}:{}:aggregate-state", ctx_.pipeline_name, flow_.name);
  }

  // Before a complete recompute of a view that GENERIC_AGGREGATE can refresh: computes its state
  // (the partial aggregates of every group) from its input at the version `inputs` records, commits
  // it to the hidden state table, and returns the view's query over that state (the same rows as
  // the query, with one aggregation instead of two). nullopt when the view does not qualify.
  Result<std::optional<std::string>> BuildAggregateState(const json& inputs) {
    std::string reason;
    ASSIGN_OR_RETURN(auto input, IncrementalShape(&reason));
    if (!input) return std::optional<std::string>();
    auto plan = MergePlan(*input);
    if (!plan.ok()) {
      if (plan.status().IsNotSupported()) return std::optional<std::string>();
      return plan.status();
    }
    const FlowSource& s = *input->source;
    const std::string key = SourceKey(s);
    if (!inputs.contains(key) || !inputs[key].is_number_integer() || inputs[key].get<int64_t>() < 0) {
      return std::optional<std::string>();
    }
    // The state must hold exactly the recorded version: a later refresh adds what came after it.
    const int64_t version = inputs[key].get<int64_t>();
    ASSIGN_OR_RETURN(auto source, delta::SnapshotBuilder(*ctx_.lakehouse, s.table_folder)
                                      .AtVersion(version)
                                      .Build(*ctx_.parquet));
    RETURN_NOT_OK(engine::RegisterDeltaScan(conn_, *source, *ctx_.lakehouse, s.placeholder));
    ASSIGN_OR_RETURN(std::string partial, Deserialize(plan->partial_statement));
    ASSIGN_OR_RETURN(std::string output, Deserialize(plan->output_statement));
    RETURN_NOT_OK(conn_.Execute(fmt::format("CREATE OR REPLACE TEMP TABLE {} AS {}",
                                            QuoteIdentifier(kStateRows), partial)));
    RETURN_NOT_OK(CreateValues(*plan, std::string(kStateRows)));
    // The output must have the query's types; it takes the query's column names.
    ASSIGN_OR_RETURN(auto expected, conn_.Describe(flow_.sql));
    ASSIGN_OR_RETURN(auto got, conn_.Describe(output));
    if (expected.size() != got.size()) return std::optional<std::string>();
    std::string names;
    for (size_t r = 0; r < expected.size(); ++r) {
      // (A type ColumnType does not tell apart, kOther, counts as a mismatch.)
      if (expected[r].second.id == engine::TypeId::kOther ||
          expected[r].second.ToString() != got[r].second.ToString()) {
        return std::optional<std::string>();
      }
      names += (r ? ", " : "") + QuoteIdentifier(expected[r].first);
    }
    RETURN_NOT_OK(Write("SELECT * FROM " + QuoteIdentifier(kStateRows),
                        AggregateStateFolder(target_.table_folder),
                        std::pair(AggregateStateAppId(), version), /*overwrite=*/true,
                        /*hidden=*/true)
                      .status());
    return std::optional(fmt::format("SELECT * FROM ({}) AS __o({})", output, names));
  }

  // kAggregateValuesRelation over `state_rows` (partial aggregates of whole groups).
  Status CreateValues(const AggregateMergePlan& plan, const std::string& state_rows) {
    std::string select = KeyList(plan.group_columns);
    for (const std::string& v : plan.value_expressions) select += ", " + v;
    return conn_.Execute(fmt::format("CREATE OR REPLACE TEMP VIEW {} AS SELECT {} FROM {}",
                                     QuoteIdentifier(kAggregateValuesRelation), select,
                                     QuoteIdentifier(state_rows)));
  }

  // A materialized view refreshed incrementally (the header comment and
  // pipeline/incremental_refresh.h): by merging partial aggregates (GENERIC_AGGREGATE) when its
  // aggregates allow and its state holds the last refresh's input, else group by group
  // (GROUP_AGGREGATE). `previous` and `current` are the input versions of the last refresh and of
  // this one. nullopt, with nothing written, when the view or the changes of its input do not
  // allow it; `reason` then says why (empty when simply not applicable).
  Result<std::optional<FlowMetrics>> RefreshIncrementally(
      const json& previous, const json& current,
      const std::shared_ptr<const delta::Snapshot>& target, std::string* reason) {
    ASSIGN_OR_RETURN(auto input, IncrementalShape(reason));
    if (!input) return std::optional<FlowMetrics>();
    const FlowSource& s = *input->source;
    const std::string key = SourceKey(s);
    if (!previous.contains(key) || !current.contains(key) || !previous[key].is_number_integer() ||
        !current[key].is_number_integer()) {
      return std::optional<FlowMetrics>();
    }
    const int64_t from = previous[key].get<int64_t>(), to = current[key].get<int64_t>();
    if (from < 0 || to <= from) return std::optional<FlowMetrics>();
    auto plan = PlanGroupAggregate(input->ast);
    if (!plan.ok()) {
      *reason = plan.status().message();
      return std::optional<FlowMetrics>();
    }
    if (!EqualsIgnoreCase(plan->source_table, s.placeholder)) return std::optional<FlowMetrics>();
    ASSIGN_OR_RETURN(auto appended, AppendedFiles(s, from, to));
    if (!appended) {
      *reason = fmt::format("'{}' changed other than by appends since version {}", s.display_name, from);
      return std::optional<FlowMetrics>();
    }
    ASSIGN_OR_RETURN(auto source, delta::SnapshotBuilder(*ctx_.lakehouse, s.table_folder)
                                      .AtVersion(to)
                                      .Build(*ctx_.parquet));
    auto merge = MergePlan(*input);
    if (merge.ok()) return MergeAggregates(*merge, s, *source, *appended, from, to, target, reason);
    if (!merge.status().IsNotSupported()) return merge.status();
    return RecomputeGroups(*plan, s, *source, *appended, target, reason);
  }

  // The keys an incremental refresh touches (FindTouchedKeys).
  struct TouchedKeys {
    int64_t count = 0;
    int64_t null_keys = 0;  // keys with a NULL part
    std::string on;         // __s (rows) matches __k (kKeys)
  };
  // GENERIC_AGGREGATE: the appended rows' partial aggregates merged into the state's rows of the
  // groups they touch; the view's rows of those groups computed from the merged state.
  Result<std::optional<FlowMetrics>> MergeAggregates(
      const AggregateMergePlan& plan, const FlowSource& s, const delta::Snapshot& source,
      const std::vector<delta::AddFile>& appended, int64_t from, int64_t to,
      const std::shared_ptr<const delta::Snapshot>& target, std::string* reason) {
    const std::string state_folder = AggregateStateFolder(target_.table_folder);
    ASSIGN_OR_RETURN(auto state, LatestSnapshot(ctx_, state_folder));
    if (state == nullptr || state->TxnVersion(AggregateStateAppId()) != from) {
      // Made by the complete recompute that follows.
      *reason = "the view's aggregate state does not hold its last refresh";
      return std::optional<FlowMetrics>();
    }
    constexpr std::string_view kPartial = "__medallion_mv_partial", kMerged = "__medallion_mv_merged",
                               kState = "__medallion_mv_state";
    RETURN_NOT_OK(engine::RegisterDeltaFileScan(conn_, source.config(), s.table_folder, appended,
                                                *ctx_.lakehouse, s.placeholder));
    ASSIGN_OR_RETURN(std::string partial, Deserialize(plan.partial_statement));
    RETURN_NOT_OK(conn_.Execute(fmt::format("CREATE OR REPLACE TEMP TABLE {} AS {}",
                                            QuoteIdentifier(kPartial), partial)));
    ASSIGN_OR_RETURN(TouchedKeys touched, FindTouchedKeys(plan.keys, std::string(kPartial)));
    // The merged state of every group with a touched key, cast to the state table's types.
    RETURN_NOT_OK(engine::RegisterDeltaScan(conn_, *state, *ctx_.lakehouse, std::string(kState)));
    const auto& fields = state->schema().fields();
    if (fields.size() != plan.group_columns.size() + plan.partial_columns.size()) {
      *reason = "the view's aggregate state has other columns";
      return std::optional<FlowMetrics>();
    }
    const std::string groups = KeyList(plan.group_columns);
    std::string merges;
    for (size_t i = 0; i < plan.merge_expressions.size(); ++i) {
      merges += fmt::format(", CAST({} AS {}) AS {}", plan.merge_expressions[i],
                            engine::DuckDbTypeOf(*fields[plan.group_columns.size() + i].type),
                            QuoteIdentifier(plan.partial_columns[i]));
    }
    RETURN_NOT_OK(conn_.Execute(fmt::format(
        "CREATE OR REPLACE TEMP TABLE {0} AS SELECT {1}{2} FROM (SELECT __s.* FROM {3} AS __s SEMI "
        "JOIN {4} AS __k ON {5} UNION ALL BY NAME SELECT * FROM {6}) GROUP BY {1}",
        QuoteIdentifier(kMerged), groups, merges, QuoteIdentifier(kState),
        QuoteIdentifier(kKeys), touched.on, QuoteIdentifier(kPartial))));
    RETURN_NOT_OK(CreateValues(plan, std::string(kMerged)));
    ASSIGN_OR_RETURN(std::string output, Deserialize(plan.output_statement));
    std::string names;
    for (const auto& field : target->schema().fields()) {
      names += (names.empty() ? "" : ", ") + QuoteIdentifier(field.name);
    }
    // A view whose columns changed since its last refresh fails to take their names, or differs.
    Status rows = conn_.Execute(fmt::format("CREATE OR REPLACE TEMP TABLE {} AS SELECT * FROM ({}) AS __o({})",
                                            QuoteIdentifier(kRows), output, names));
    bool same_columns = false;
    if (rows.ok()) {
      ASSIGN_OR_RETURN(same_columns, SameColumns(std::string(kRows), *target));
    }
    if (!same_columns) {
      *reason = "the view's columns changed";
      return std::optional<FlowMetrics>();
    }
    ASSIGN_OR_RETURN(auto counts, conn_.Query(fmt::format(
                                      "SELECT (SELECT count(*) FROM {}), (SELECT count(*) FROM {})",
                                      QuoteIdentifier(kRows), QuoteIdentifier(kPartial))));
    ASSIGN_OR_RETURN(int64_t output_rows, counts.GetInt64(0, 0));
    ASSIGN_OR_RETURN(int64_t touched_groups, counts.GetInt64(1, 0));
    // The state first, with the input version it now holds: a crash before the view's commit
    // leaves a state ahead of the view's refresh record, which the next refresh recomputes.
    ASSIGN_OR_RETURN(auto state_version,
                     ReplaceRowsOfKeys(state_folder, state, std::string(kKeys),
                                       plan.keys.source_keys, std::string(kMerged), touched,
                                       std::pair(AggregateStateAppId(), to), /*hidden=*/true));
    if (!state_version) return Status::Internal("the aggregate state's columns changed during its refresh");
    ASSIGN_OR_RETURN(FlowMetrics m,
                     CommitViewRows(plan.keys.output_keys, touched, target, output_rows,
                                    "GENERIC_AGGREGATE",
                                    fmt::format("incremental: {} group{} merged", touched_groups,
                                                touched_groups == 1 ? "" : "s")));
    return std::optional(std::move(m));
  }

  // Replaces the view's rows of the touched keys with kRows (`rows` of them) and reports it.
  Result<FlowMetrics> CommitViewRows(const std::vector<std::string>& output_keys,
                                     const TouchedKeys& touched,
                                     const std::shared_ptr<const delta::Snapshot>& target,
                                     int64_t rows, std::string technique, std::string detail) {
    ASSIGN_OR_RETURN(auto version,
                     ReplaceRowsOfKeys(target_.table_folder, target, std::string(kOutputKeys),
                                       output_keys, std::string(kRows), touched, std::nullopt,
                                       /*hidden=*/false));
    if (!version) return Status::Internal("the view's columns changed during its refresh");
    FlowMetrics m;
    m.num_input_rows = m.num_output_rows = rows;
    m.table_version = *version;
    m.refresh_technique = std::move(technique);
    m.detail = std::move(detail);
    return m;
  }

  // The distinct selected GROUP BY values of `rows_table` (source names), as kKeys and as
  // kOutputKeys (the view's names), and how to match them.
  Result<TouchedKeys> FindTouchedKeys(const GroupAggregatePlan& plan, const std::string& rows_table) {
    std::string keys, output_keys, any_null;
    for (size_t k = 0; k < plan.source_keys.size(); ++k) {
      const std::string column = QuoteIdentifier(plan.source_keys[k]);
      keys += (k ? ", " : "") + column;
      output_keys += fmt::format("{}{} AS {}", k ? ", " : "", column,
                                 QuoteIdentifier(plan.output_keys[k]));
      any_null += fmt::format("{}{} IS NULL", k ? " OR " : "", column);
    }
    RETURN_NOT_OK(conn_.Execute(fmt::format("CREATE OR REPLACE TEMP TABLE {} AS SELECT DISTINCT {} FROM {}",
                                            QuoteIdentifier(kKeys), keys, QuoteIdentifier(rows_table))));
    RETURN_NOT_OK(conn_.Execute(fmt::format("CREATE OR REPLACE TEMP TABLE {} AS SELECT {} FROM {}",
                                            QuoteIdentifier(kOutputKeys), output_keys,
                                            QuoteIdentifier(kKeys))));
    ASSIGN_OR_RETURN(auto counted, conn_.Query(fmt::format(
                                       "SELECT count(*), count(*) FILTER (WHERE {}) FROM {}",
                                       any_null, QuoteIdentifier(kKeys))));
    TouchedKeys touched;
    ASSIGN_OR_RETURN(touched.count, counted.GetInt64(0, 0));
    ASSIGN_OR_RETURN(touched.null_keys, counted.GetInt64(1, 0));
    // Keys match with IS NOT DISTINCT FROM (NULL is a group), plain equality when no touched key is
    // NULL: DuckDB then pushes the keys' range into the table's scan (row groups skipped).
    for (size_t k = 0; k < plan.source_keys.size(); ++k) {
      touched.on += fmt::format("{0}__s.{1} {2} __k.{1}", k ? " AND " : "",
                                QuoteIdentifier(plan.source_keys[k]),
                                touched.null_keys > 0 ? "IS NOT DISTINCT FROM" : "=");
    }
    return touched;
  }

  // Replaces the rows of the touched keys (`keys_table`, whose columns are `keys`: kKeys for the
  // state, kOutputKeys for the view) of the table at `folder` with `rows_table`, in one commit:
  // a replaceWhere overwrite (the files holding them rewritten without them), or a MERGE when a
  // touched key is NULL. nullopt when rows_table's columns are not the table's.
  Result<std::optional<int64_t>> ReplaceRowsOfKeys(
      const std::string& folder, const std::shared_ptr<const delta::Snapshot>& snapshot,
      const std::string& keys_table, const std::vector<std::string>& keys,
      const std::string& rows_table, const TouchedKeys& touched,
      const std::optional<std::pair<std::string, int64_t>>& txn, bool hidden) {
    if (touched.null_keys > 0) {
      return ReplaceKeyRows(folder, snapshot, keys_table, rows_table, keys, txn, {}, hidden);
    }
    ASSIGN_OR_RETURN(bool same_columns, SameColumns(rows_table, *snapshot));
    if (!same_columns) return std::optional<int64_t>();
    const std::string list = KeyList(keys);
    engine::WriteOptions options;
    options.mode = engine::WriteOptions::Mode::kOverwrite;
    options.replace_where =
        fmt::format("({}) IN (SELECT {} FROM {})", list, list, QuoteIdentifier(keys_table));
    options.replace_where_constraint_check = false;  // rows_table holds only those keys' rows
    if (!hidden) options.partition_by = target_.definition.partition_by;
    options.checkpoint_writer = ctx_.checkpoint_writer;
    options.operation = "REFRESH MATERIALIZED VIEW";
    options.txn = txn;
    ASSIGN_OR_RETURN(auto written, engine::WriteDelta(conn_, "SELECT * FROM " + QuoteIdentifier(rows_table),
                                                      *ctx_.lakehouse, folder, *ctx_.parquet, options));
    return std::optional<int64_t>(written.version);
  }

  // GROUP_AGGREGATE: the query run again over the input's rows of the touched groups only.
  Result<std::optional<FlowMetrics>> RecomputeGroups(
      const GroupAggregatePlan& plan, const FlowSource& s, const delta::Snapshot& source,
      const std::vector<delta::AddFile>& appended,
      const std::shared_ptr<const delta::Snapshot>& target, std::string* reason) {
    // The touched groups: the GROUP BY values of the appended rows.
    constexpr std::string_view kNew = "__medallion_mv_new";
    RETURN_NOT_OK(engine::RegisterDeltaFileScan(conn_, source.config(), s.table_folder, appended,
                                                *ctx_.lakehouse, std::string(kNew)));
    ASSIGN_OR_RETURN(TouchedKeys touched, FindTouchedKeys(plan, std::string(kNew)));
    // The cost model: recomputing most of the view's rows group by group (a semi join, then a
    // rewrite of the files holding them) costs more than recomputing it all.
    if (std::optional<int64_t> view_rows = RowCount(*target);
        view_rows && touched.count * 2 > *view_rows && *view_rows > 0) {
      *reason = fmt::format("{}: {} of the view's {} rows would be recomputed", kCostlier,
                            touched.count, *view_rows);
      return std::optional<FlowMetrics>();
    }
    // The query over the table's rows of those groups only.
    const std::string all = s.placeholder + "__all";
    RETURN_NOT_OK(engine::RegisterDeltaScan(conn_, source, *ctx_.lakehouse, all));
    RETURN_NOT_OK(conn_.Execute(fmt::format(
        "CREATE OR REPLACE TEMP VIEW {} AS SELECT __s.* FROM {} AS __s SEMI JOIN {} AS __k ON {}",
        QuoteIdentifier(s.placeholder), QuoteIdentifier(all), QuoteIdentifier(kKeys), touched.on)));
    RETURN_NOT_OK(conn_.Execute(fmt::format("CREATE OR REPLACE TEMP TABLE {} AS {}",
                                            QuoteIdentifier(kRows), flow_.sql)));
    ASSIGN_OR_RETURN(auto counts, conn_.Query("SELECT count(*) FROM " + QuoteIdentifier(kRows)));
    ASSIGN_OR_RETURN(int64_t rows, counts.GetInt64(0, 0));
    ASSIGN_OR_RETURN(bool same_columns, SameColumns(std::string(kRows), *target));
    if (!same_columns) {
      *reason = "the view's columns changed";
      return std::optional<FlowMetrics>();
    }
    ASSIGN_OR_RETURN(FlowMetrics m,
                     CommitViewRows(plan.output_keys, touched, target, rows, "GROUP_AGGREGATE",
                                    fmt::format("incremental: {} group{} recomputed", touched.count,
                                                touched.count == 1 ? "" : "s")));
    return std::optional(std::move(m));
  }

  // Whether `rows_table` has the columns of the table, in order, of the same types.
  Result<bool> SameColumns(const std::string& rows_table, const delta::Snapshot& snapshot) {
    ASSIGN_OR_RETURN(auto columns, conn_.Describe("SELECT * FROM " + QuoteIdentifier(rows_table)));
    const auto& fields = snapshot.schema().fields();
    if (columns.size() != fields.size()) return false;
    for (size_t c = 0; c < fields.size(); ++c) {
      if (!EqualsIgnoreCase(columns[c].first, fields[c].name) ||
          columns[c].second.ToString() != engine::DuckDbTypeOf(*fields[c].type)) {
        return false;
      }
    }
    return true;
  }

  // The rows of a table from its files' statistics; nullopt when a file has none.
  static std::optional<int64_t> RowCount(const delta::Snapshot& snapshot) {
    int64_t rows = 0;
    for (const delta::AddFile& f : snapshot.files()) {
      std::optional<int64_t> records = delta::NumRecords(f);
      if (!records) return std::nullopt;
      rows += *records;
    }
    return rows;
  }

  // AUTO CDC and GROUP_AGGREGATE refresh: in the Delta table at `folder` (latest snapshot
  // `snapshot`), replaces every row of the keys in `keys_table` with the rows of `rows_table` (the
  // table's columns), in one MERGE commit with `txn` that rewrites only the files holding those
  // keys (engine/delta_dml.h chooses them by key statistics, then by the data). A batch that
  // changes no row still commits when there is a `txn`, to record it. nullopt, with nothing
  // written, when rows_table's columns are not the table's (the caller then rewrites the whole
  // table). Returns the version committed.
  Result<std::optional<int64_t>> ReplaceKeyRows(
      const std::string& folder, const std::shared_ptr<const delta::Snapshot>& snapshot,
      const std::string& keys_table, const std::string& rows_table,
      const std::vector<std::string>& keys, const std::optional<std::pair<std::string, int64_t>>& txn,
      std::map<std::string, int64_t> metrics, bool hidden) {
    ASSIGN_OR_RETURN(bool same_columns, SameColumns(rows_table, *snapshot));
    if (!same_columns) return std::optional<int64_t>();
    // Keys compare with IS NOT DISTINCT FROM (NULL is a key value); plain equality when no key
    // of the batch is NULL, which lets the MERGE prune target files by key ranges.
    std::string any_null;
    for (const std::string& key : keys) {
      any_null += (any_null.empty() ? "" : " OR ") + QuoteIdentifier(key) + " IS NULL";
    }
    ASSIGN_OR_RETURN(auto nulls, conn_.Query(fmt::format("SELECT count(*) FROM {} WHERE {}",
                                                         QuoteIdentifier(keys_table), any_null)));
    ASSIGN_OR_RETURN(int64_t null_keys, nulls.GetInt64(0, 0));
    engine::MergeSpec spec;
    spec.source_alias = "__s";
    spec.source_sql = fmt::format(
        "SELECT {0}, true AS __medallion_cdc_remove FROM {1} "
        "UNION ALL BY NAME SELECT *, false AS __medallion_cdc_remove FROM {2}",
        KeyList(keys), QuoteIdentifier(keys_table), QuoteIdentifier(rows_table));
    spec.on_condition = "__s.__medallion_cdc_remove";
    for (const std::string& key : keys) {
      spec.on_condition += fmt::format(" AND __t.{0} {1} __s.{0}", QuoteIdentifier(key),
                                       null_keys > 0 ? "IS NOT DISTINCT FROM" : "=");
    }
    engine::MergeClause remove;
    remove.kind = engine::MergeClause::Kind::kMatched;
    remove.action = engine::MergeClause::Action::kDelete;
    engine::MergeClause insert;
    insert.kind = engine::MergeClause::Kind::kNotMatched;
    insert.action = engine::MergeClause::Action::kInsertAll;
    insert.condition = "NOT __s.__medallion_cdc_remove";
    spec.clauses = {remove, insert};
    engine::DmlOptions options;
    options.snapshot = snapshot;
    options.target_alias = "__t";
    options.checkpoint_writer = ctx_.checkpoint_writer;
    options.txn = txn;
    options.extra_operation_metrics = std::move(metrics);
    auto merge = engine::Merge(conn_, *ctx_.lakehouse, folder, *ctx_.parquet, spec, options);
    if (!merge.ok() && hidden) return merge.status().WithContext("AUTO CDC state");
    ASSIGN_OR_RETURN(engine::DmlResult merged, std::move(merge));
    if (merged.committed) return std::optional<int64_t>(merged.version);
    if (!txn) return std::optional<int64_t>(snapshot->version());  // nothing changed
    // Nothing changed: an empty commit records the batch.
    ASSIGN_OR_RETURN(auto written,
                     Write(fmt::format("SELECT * FROM {} LIMIT 0", QuoteIdentifier(rows_table)),
                           folder, txn, /*overwrite=*/false, hidden));
    return std::optional<int64_t>(written.version);
  }

  // Appends (or, for a new or empty table and for overwrite, replaces with schema) the rows.
  // `hidden`: a table of medallion's own (AUTO CDC state), without the target's partitioning and
  // properties. `before_commit`: engine::WriteOptions'.
  Result<engine::WriteResult> Write(
      const std::string& sql, const std::string& folder,
      const std::optional<std::pair<std::string, int64_t>>& txn, bool overwrite,
      bool hidden = false,
      std::function<Status(const engine::WriteResult&)> before_commit = nullptr) {
    ASSIGN_OR_RETURN(auto snapshot, LatestSnapshot(ctx_, folder));
    engine::WriteOptions options;
    options.checkpoint_writer = ctx_.checkpoint_writer;
    options.before_commit = std::move(before_commit);
    options.txn = txn;
    if (!hidden) {
      options.partition_by = target_.definition.partition_by;
      options.table_properties = target_.definition.table_properties;
      options.table_properties.erase("skipChangeCommits");
    }
    if (overwrite || snapshot == nullptr || snapshot->files().empty()) {
      options.mode = engine::WriteOptions::Mode::kOverwrite;
      options.overwrite_schema = true;
      options.operation = target_.definition.kind == DatasetKind::kMaterializedView
                              ? "CREATE OR REPLACE MATERIALIZED VIEW"
                              : "STREAMING UPDATE";
    } else {
      options.mode = engine::WriteOptions::Mode::kAppend;
      options.merge_schema = true;
      options.operation = "STREAMING UPDATE";
    }
    return engine::WriteDelta(conn_, sql, *ctx_.lakehouse, folder, *ctx_.parquet, options);
  }

 private:
  const UpdateContext& ctx_;
  const Flow& flow_;
  const Dataset& target_;
  engine::Connection& conn_;
  int64_t malformed_dropped_ = 0;
  // CSV sources read straight into the write (BeginBatch, RegisterFiles, FinishStreamedReads).
  struct StreamedRead {
    ingest::FileSourceOptions options;
    ingest::ReadQuery query;
  };
  bool stream_files_ = false;
  std::vector<StreamedRead> streamed_reads_;
  bool reread_files_ = false;
  // Bind: quoted placeholder -> the quoted dry table it stands for (see RegisterSources).
  std::map<std::string, std::string> dry_aliases_;
  std::map<std::string, std::vector<delta::AddFile>> added_files_;  // see AddedFiles
  // TEMP tables and views of incremental refresh.
  static constexpr std::string_view kKeys = "__medallion_mv_keys";
  static constexpr std::string_view kOutputKeys = "__medallion_mv_output_keys";
  static constexpr std::string_view kRows = "__medallion_mv_rows";
  static constexpr std::string_view kStateRows = "__medallion_mv_state_rows";
};

}  // namespace

Result<FlowMetrics> FlowExecutor::Run() {
  ASSIGN_OR_RETURN(auto conn, ctx_.database->Connect());
  RETURN_NOT_OK(conn->Execute("SET TimeZone = 'UTC'"));
  FlowRun run(ctx_, flow_, target_, *conn);

  if (target_.definition.kind == DatasetKind::kMaterializedView) {
    // Skip when the definition and every input are as at the last refresh.
    json inputs = json::object();
    std::function<Status(const Flow&)> collect = [&](const Flow& f) -> Status {
      for (const FlowSource& s : f.sources) {
        if (s.kind == FlowSource::Kind::kFiles) {
          ASSIGN_OR_RETURN(auto options, run.FileOptions(s));
          ASSIGN_OR_RETURN(auto files, ingest::ListSourceFiles(options));
          int64_t bytes = 0, newest = 0;
          for (const auto& file : files) {
            bytes += file.size;
            newest = std::max(newest, file.modification_time);
          }
          inputs[SourceKey(s)] = fmt::format("{}/{}/{}", files.size(), bytes, newest);
        } else if (s.kind == FlowSource::Kind::kDataset &&
                   !ctx_.graph->datasets()[*s.dataset].is_table()) {
          if (const Flow* view = ViewFlow(*ctx_.graph, *s.dataset)) RETURN_NOT_OK(collect(*view));
        } else {
          ASSIGN_OR_RETURN(auto snapshot, LatestSnapshot(ctx_, s.table_folder));
          inputs[SourceKey(s)] = snapshot ? snapshot->version() : -1;
        }
      }
      return Status::OK();
    };
    RETURN_NOT_OK(collect(flow_));
    json record = {{"definition", DefinitionHash(flow_, target_)}, {"inputs", inputs}};
    std::string state_key = MaterializedViewRefreshKey(flow_.name);
    ASSIGN_OR_RETURN(auto target_snapshot, LatestSnapshot(ctx_, target_.table_folder));
    std::string not_incremental;
    if (target_snapshot != nullptr) {
      auto previous = ctx_.state->Read(state_key);
      json last = previous.ok() ? json::parse(*previous, nullptr, false) : json();
      if (last == record) {
        FlowMetrics m;
        m.outcome = FlowMetrics::Outcome::kUpToDate;
        m.table_version = target_snapshot->version();
        m.detail = "inputs unchanged";
        return m;
      }
      if (last.is_object() && last.value("definition", "") == record["definition"] &&
          last.contains("inputs")) {
        ASSIGN_OR_RETURN(auto refreshed, run.RefreshIncrementally(last["inputs"], inputs,
                                                                  target_snapshot, &not_incremental));
        if (refreshed) {
          RETURN_NOT_OK(ctx_.state->Write(state_key, record.dump()));
          return std::move(*refreshed);
        }
      }
    }
    RETURN_NOT_OK(run.RegisterSources(flow_, nullptr, nullptr));
    ASSIGN_OR_RETURN(auto over_state, run.BuildAggregateState(inputs));
    ASSIGN_OR_RETURN(FlowMetrics m, run.ExecuteAndWrite(std::nullopt, /*overwrite=*/true, over_state));
    RETURN_NOT_OK(ctx_.state->Write(state_key, record.dump()));
    m.detail = "recomputed";
    m.refresh_technique = "COMPLETE_RECOMPUTE";
    m.incremental_applicable = not_incremental.starts_with(kCostlier);
    m.not_incremental_reason = std::move(not_incremental);
    return m;
  }

  // A streaming table flow: find the epoch and the committed batch.
  ASSIGN_OR_RETURN(auto target_snapshot, LatestSnapshot(ctx_, target_.table_folder));
  int64_t epoch = 0;
  int64_t committed = -1;
  std::string app_id;
  auto app_for = [&](int64_t e) {
    return fmt::format("medallion:{}:{}:{}", ctx_.pipeline_name, flow_.name, e);
  };
  if (target_snapshot != nullptr) {
    epoch = target_snapshot->TxnVersion(ResetAppId(ctx_.pipeline_name)).value_or(0);
    committed = target_snapshot->TxnVersion(app_for(epoch)).value_or(-1);
  }
  app_id = app_for(epoch);
  FlowProgressLog log(*ctx_.state, fmt::format("flows/{}/epoch-{}", flow_.name, epoch));
  ASSIGN_OR_RETURN(FlowProgress progress, log.Read());

  std::optional<BatchPlan> plan;
  int64_t new_files = 0;
  if (progress.latest && progress.latest->batch > committed) {
    plan = progress.latest;  // planned, not committed: run it again, exactly
    for (const auto& [key, s] : plan->sources) new_files += static_cast<int64_t>(s.files.size());
  } else if (flow_.once) {
    if (committed >= 0) {
      FlowMetrics m;
      m.outcome = FlowMetrics::Outcome::kUpToDate;
      m.detail = "ONCE flow already ran";
      return m;
    }
    plan = BatchPlan{0, NowMs(), {}};
    RETURN_NOT_OK(log.Write(*plan, progress));
  } else {
    ASSIGN_OR_RETURN(plan, run.PlanBatch(progress.history,
                                         progress.latest ? progress.latest->batch + 1 : 0,
                                         &new_files));
    if (!plan) {
      FlowMetrics m;
      m.outcome = FlowMetrics::Outcome::kUpToDate;
      m.detail = "no new data";
      return m;
    }
    RETURN_NOT_OK(log.Write(*plan, progress));
  }
  FlowMetrics m;
  if (flow_.kind == FlowDefinition::Kind::kAutoCdc) {
    RETURN_NOT_OK(run.RegisterSources(flow_, &*plan, nullptr));
    ASSIGN_OR_RETURN(m, run.ExecuteAutoCdc(app_id, plan->batch, plan->now_ms));
  } else {
    // CSV files stream into the write, unless it finds malformed records that must be rows.
    Result<FlowMetrics> written = Status::Aborted("not run");
    for (bool stream : {true, false}) {
      run.BeginBatch(stream);
      RETURN_NOT_OK(run.RegisterSources(flow_, &*plan, nullptr));
      written = run.ExecuteAndWrite(std::make_pair(app_id, plan->batch), /*overwrite=*/false);
      if (written.ok() || !run.reread_files()) break;
    }
    ASSIGN_OR_RETURN(m, std::move(written));
  }
  m.batch = plan->batch;
  m.num_input_files = new_files;
  m.num_malformed_dropped = run.malformed_dropped();
  m.detail = new_files > 0 ? fmt::format("{} new file{}", new_files, new_files == 1 ? "" : "s")
                           : std::string();
  return m;
}

Status FlowExecutor::Bind(engine::Connection& conn, const std::map<size_t, std::string>& dry_tables,
                          const std::string& dry_table) {
  FlowRun run(ctx_, flow_, target_, conn);
  RETURN_NOT_OK(run.RegisterSources(flow_, nullptr, &dry_tables));
  std::string query = run.DrySql(flow_.sql);
  if (flow_.kind == FlowDefinition::Kind::kAutoCdc) {
    RETURN_NOT_OK(conn.Execute(fmt::format(
        "CREATE OR REPLACE TEMP TABLE __medallion_dry_changes AS SELECT * FROM ({}) LIMIT 0",
        query)));
    return CreateAutoCdcTarget(conn, *flow_.auto_cdc, "__medallion_dry_changes", dry_table);
  }
  RETURN_NOT_OK(conn.Execute(fmt::format("CREATE OR REPLACE TEMP TABLE {} AS SELECT * FROM ({}) LIMIT 0",
                                         QuoteIdentifier(dry_table), query)));
  // Every expectation in one statement; one at a time only to name the one that fails.
  std::vector<std::string> conditions;
  for (const auto& e : target_.definition.expectations) {
    ASSIGN_OR_RETURN(std::string condition, engine::TranslateSparkSql(e.condition));
    conditions.push_back("(" + condition + ")");
  }
  if (conditions.empty()) return Status::OK();
  auto check = [&](const std::string& select_list) {
    return conn.Execute(
        fmt::format("SELECT {} FROM {} LIMIT 0", select_list, QuoteIdentifier(dry_table)));
  };
  if (check(fmt::format("{}", fmt::join(conditions, ", "))).ok()) return Status::OK();
  for (size_t i = 0; i < conditions.size(); ++i) {
    Status bound = check(conditions[i]);
    if (!bound.ok()) {
      return bound.WithContext(
          fmt::format("expectation '{}'", target_.definition.expectations[i].name));
    }
  }
  return Status::Internal("the expectations bind one by one but not together");
}

}  // namespace medallion::pipeline
