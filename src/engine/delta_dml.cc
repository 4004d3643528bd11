#include "common/clock.h"
#include "common/text.h"
#include "engine/delta_dml.h"

#include <fmt/format.h>

#include <chrono>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "common/macros.h"
#include "delta/data_skipping.h"
#include "delta/table_configuration.h"
#include "delta/transaction.h"
#include "engine/delta_constraints.h"
#include "engine/delta_scan.h"
#include "engine/delta_types.h"
#include "engine/delta_writer.h"
#include "engine/duckdb_parquet_writer.h"
#include "engine/scan_predicate.h"
#include "engine/sql_text.h"

namespace medallion::engine {
namespace {

// TEMP tables and views this file creates on the caller's connection.
constexpr std::string_view kView = "__medallion_dt";       // the table, with the file column
constexpr std::string_view kNewRows = "__medallion_dn";    // rows of the new data files
constexpr std::string_view kChanges = "__medallion_dc";    // change data feed rows
constexpr std::string_view kSource = "__medallion_dms";    // MERGE: the source rows, numbered
constexpr std::string_view kTarget = "__medallion_dmt";    // MERGE: candidate target rows, numbered
constexpr std::string_view kPairs = "__medallion_dmm";     // MERGE: matched (target, source) pairs
constexpr std::string_view kBySource = "__medallion_dmb";  // MERGE: target rows not matched
constexpr std::string_view kInserts = "__medallion_dmi";   // MERGE: source rows not matched

// The files a statement touches, and the SQL condition selecting their rows in the scan.
struct TouchedFiles {
  std::vector<const delta::AddFile*> files;
  std::string in_files;     // "<kScanFileColumn> IN ('/path/a', ...)"
  int64_t matched_rows = 0;  // rows the predicate selects
  int64_t copied_rows = 0;   // rows of those files that stay as they are
};

TouchedFiles Touch(const std::vector<FileMatch>& matches) {
  TouchedFiles out;
  std::string list;
  for (const FileMatch& m : matches) {
    out.files.push_back(m.file);
    list += (list.empty() ? "" : ", ") + QuoteString(m.local_path);
    out.matched_rows += m.matched_rows;
    out.copied_rows += m.total_rows - m.matched_rows;
  }
  out.in_files = fmt::format("{} IN ({})", QuoteIdentifier(kScanFileColumn), list);
  return out;
}
constexpr std::string_view kFate = "__medallion_dmf";      // MERGE: updated / deleted target rows
constexpr std::string_view kRowId = "__medallion_rid";
constexpr std::string_view kSourceRowId = "__medallion_srid";
constexpr std::string_view kAction = "__medallion_action";
constexpr std::string_view kDefaultTargetAlias = "__medallion_target";

constexpr std::string_view kProbe = "__medallion_dml_probe";  // the table in a parsed condition

std::string Cond(const std::string& c) {
  return c.empty() ? "true" : "coalesce((" + c + "), false)";
}

// One DML statement on one table: the state shared by Delete, Update and Merge.
class Dml {
 public:
  Dml(Connection& conn, storage::ObjectStore& store, std::string root,
      delta::ParquetHandler& parquet, const DmlOptions& options)
      : conn_(conn), store_(store), root_(std::move(root)), parquet_(parquet), options_(options) {}

  Status Load();
  // Whether options.txn is already recorded in the table (PROTOCOL.md, "Transaction Identifiers").
  bool TxnApplied() const {
    return options_.txn &&
           snapshot_->TxnVersion(options_.txn->first).value_or(-1) >= options_.txn->second;
  }
  const DmlResult& result() const { return result_; }
  Result<DmlResult> RunDelete(std::string_view predicate);
  Result<DmlResult> RunUpdate(const std::vector<Assignment>& assignments,
                              std::string_view predicate);
  Result<DmlResult> RunMerge(const MergeSpec& spec);
  void Cleanup();

 private:
  // The data-skipping conditions of `condition` (SQL over the table, named `alias` when not
  // empty): conjuncts on the table's own columns, without those qualified by `other_alias`.
  Result<ScanConditions> ConditionsOf(std::string_view condition, const std::string& alias,
                                      const std::string& other_alias);
  // The candidate files for `predicate` (every active file when it is empty or cannot be bound);
  // records the counts in result_.
  delta::FileSelection Candidates(const delta::SkippingPredicate& predicate);
  // For each ON conjunct `target.k = source.c` (k a top-level column whose type the source column
  // shares, not floating point): target.k >= min(c) AND target.k <= max(c), from kSource (aliased
  // `source_sql`). Nothing for a column without non-NULL values.
  Result<std::vector<delta::ColumnPredicate>> SourceKeyRanges(const ScanConditions& conditions,
                                                              const std::string& target_name,
                                                              const std::string& source_name,
                                                              const std::string& source_sql);
  // The table's field for a column name (case-insensitive); InvalidArgument when none.
  Result<size_t> FieldIndex(std::string_view column) const;
  std::string Column(size_t i) const { return QuoteIdentifier(layout_.fields[i].name); }
  std::string Cast(const std::string& sql, size_t i) const {
    return fmt::format("CAST(({}) AS {})", sql, DuckDbTypeOf(*layout_.fields[i].type));
  }
  std::string Columns(std::string_view prefix = "") const;
  std::string From() const;
  // Writes kNewRows (and kChanges with the change data feed) and commits: removes `touched`, adds
  // the new files. `metrics` gets the file metrics added under the names given.
  Status Commit(const std::vector<const delta::AddFile*>& touched, std::string operation,
                delta::StringMap params, std::map<std::string, int64_t> metrics, bool merge_names);

  Connection& conn_;
  storage::ObjectStore& store_;
  std::string root_;
  delta::ParquetHandler& parquet_;
  const DmlOptions& options_;
  std::shared_ptr<const delta::Snapshot> snapshot_;
  DataFileLayout layout_;
  bool change_data_feed_ = false;
  DmlResult result_;
};

Status Dml::Load() {
  snapshot_ = options_.snapshot;
  if (!snapshot_) {
    ASSIGN_OR_RETURN(snapshot_, delta::SnapshotBuilder(store_, root_).Build(parquet_));
  }
  result_.version = snapshot_->version();
  layout_.fields = snapshot_->schema().fields();
  layout_.partition_columns = snapshot_->metadata().partition_columns;
  layout_.configuration = {snapshot_->metadata().configuration.begin(),
                           snapshot_->metadata().configuration.end()};
  layout_.target_file_rows = options_.target_file_rows;
  ASSIGN_OR_RETURN(delta::TableProperties props,
                   delta::ParseTableProperties(snapshot_->metadata().configuration));
  change_data_feed_ = props.enable_change_data_feed;
  return Status::OK();
}

Result<size_t> Dml::FieldIndex(std::string_view column) const {
  std::string name(column);
  if (size_t dot = name.rfind('.'); dot != std::string::npos) name = name.substr(dot + 1);
  for (size_t i = 0; i < layout_.fields.size(); ++i) {
    if (AsciiLower(layout_.fields[i].name) == AsciiLower(name)) return i;
  }
  return Status::InvalidArgument(fmt::format("no column '{}' in the table", column));
}

std::string Dml::Columns(std::string_view prefix) const {
  std::string out;
  for (size_t i = 0; i < layout_.fields.size(); ++i) {
    out += (i ? ", " : "") + std::string(prefix) + Column(i);
  }
  return out;
}

std::string Dml::From() const {
  return QuoteIdentifier(kView) +
         (options_.target_alias.empty() ? "" : " AS " + QuoteIdentifier(options_.target_alias));
}

void Dml::Cleanup() {
  std::string sql;
  for (auto t : {kNewRows, kChanges, kSource, kTarget, kPairs, kBySource, kInserts, kFate}) {
    sql += "DROP TABLE IF EXISTS " + QuoteIdentifier(t) + "; ";
  }
  (void)conn_.Execute(sql);
}

Status Dml::Commit(const std::vector<const delta::AddFile*>& touched, std::string operation,
                   delta::StringMap params, std::map<std::string, int64_t> metrics,
                   bool merge_names) {
  RETURN_NOT_OK(CheckNotNull(conn_, kNewRows, layout_.fields));
  ASSIGN_OR_RETURN(auto constraints, delta::TableConstraints(snapshot_->metadata()));
  RETURN_NOT_OK(
      CheckRowConstraints(conn_, QuoteIdentifier(kNewRows), constraints, layout_.fields));
  ASSIGN_OR_RETURN(auto adds, WriteDataFiles(conn_, store_, root_, kNewRows, layout_));
  std::vector<delta::AddCdcFile> cdcs;
  if (change_data_feed_) {
    ASSIGN_OR_RETURN(cdcs, WriteChangeDataFiles(conn_, store_, root_, kChanges, layout_));
  }
  int64_t now = NowMs(), added_bytes = 0, removed_bytes = 0;
  std::vector<delta::RemoveFile> removes;
  std::vector<std::string> read;
  for (const delta::AddFile* f : touched) {
    removes.push_back(RemoveFileFor(*f, now));
    removed_bytes += f->size;
    read.push_back(f->path);
  }
  for (const auto& a : adds) added_bytes += a.size;
  result_.num_removed_files = static_cast<int64_t>(removes.size());
  result_.num_added_files = static_cast<int64_t>(adds.size());
  result_.num_added_change_files = static_cast<int64_t>(cdcs.size());
  if (merge_names) {
    metrics["numTargetFilesAdded"] = result_.num_added_files;
    metrics["numTargetFilesRemoved"] = result_.num_removed_files;
    metrics["numTargetChangeFilesAdded"] = result_.num_added_change_files;
    metrics["numTargetBytesAdded"] = added_bytes;
    metrics["numTargetBytesRemoved"] = removed_bytes;
  } else {
    metrics["numAddedFiles"] = result_.num_added_files;
    metrics["numRemovedFiles"] = result_.num_removed_files;
    metrics["numAddedChangeFiles"] = result_.num_added_change_files;
    metrics["numAddedBytes"] = added_bytes;
    metrics["numRemovedBytes"] = removed_bytes;
  }

  std::unique_ptr<DuckDbParquetWriter> own_writer;
  delta::TransactionOptions txn_options;
  txn_options.checkpoint_writer = options_.checkpoint_writer;
  if (txn_options.checkpoint_writer == nullptr) {
    ASSIGN_OR_RETURN(own_writer, DuckDbParquetWriter::Make());
    txn_options.checkpoint_writer = own_writer.get();
  }
  ASSIGN_OR_RETURN(auto txn, delta::Transaction::ForTable(store_, root_, snapshot_, txn_options));
  txn->SetOperation(std::move(operation), std::move(params));
  for (const auto& [name, value] : options_.extra_operation_metrics) metrics[name] = value;
  txn->SetOperationMetrics(std::move(metrics));
  if (options_.txn) txn->SetTxn(options_.txn->first, options_.txn->second);
  txn->RecordReadFiles(read);
  txn->AddFiles(std::move(adds));
  txn->RemoveFiles(std::move(removes));
  if (!cdcs.empty()) txn->AddCdcFiles(std::move(cdcs));
  ASSIGN_OR_RETURN(delta::CommitResult committed, txn->Commit(parquet_));
  result_.committed = true;
  result_.version = committed.version;
  return Status::OK();
}

Result<ScanConditions> Dml::ConditionsOf(std::string_view condition, const std::string& alias,
                                         const std::string& other_alias) {
  ScanConditions out;
  if (condition.empty()) return out;
  ASSIGN_OR_RETURN(
      ScanConditions parsed,
      ExtractScanConditions(conn_,
                            fmt::format("SELECT * FROM {}{} WHERE {}", kProbe,
                                        alias.empty() ? "" : " AS " + QuoteIdentifier(alias),
                                        condition),
                            kProbe));
  for (auto& c : parsed.predicate.conjuncts) {
    if (c.column.size() >= 2 && !other_alias.empty() && EqualsIgnoreCase(c.column[0], other_alias)) {
      continue;
    }
    if (snapshot_->schema().FindFieldIgnoreCase(c.column[0]) == nullptr) continue;
    out.predicate.conjuncts.push_back(std::move(c));
  }
  out.column_equalities = std::move(parsed.column_equalities);
  return out;
}

delta::FileSelection Dml::Candidates(const delta::SkippingPredicate& predicate) {
  auto selected = delta::SelectFiles(*snapshot_, predicate);
  if (!selected.ok()) selected = delta::SelectFiles(*snapshot_, delta::SkippingPredicate{});
  result_.num_files_considered = selected->considered;
  result_.num_files_scanned = selected->kept;
  return std::move(*selected);
}

Result<std::vector<delta::ColumnPredicate>> Dml::SourceKeyRanges(
    const ScanConditions& conditions, const std::string& target_name,
    const std::string& source_name, const std::string& source_sql) {
  std::vector<delta::ColumnPredicate> out;
  auto is_source = [&](const std::vector<std::string>& c) {
    return c.size() == 2 && EqualsIgnoreCase(c[0], source_name);
  };
  auto target_field = [&](const std::vector<std::string>& c) -> const delta::StructField* {
    if (c.size() == 2 && !EqualsIgnoreCase(c[0], target_name)) return nullptr;
    if (c.size() > 2) return nullptr;
    return snapshot_->schema().FindFieldIgnoreCase(c.back());
  };
  for (const auto& [a, b] : conditions.column_equalities) {
    const std::vector<std::string>* source = is_source(b) ? &b : is_source(a) ? &a : nullptr;
    if (source == nullptr) continue;
    const delta::StructField* field = target_field(source == &b ? a : b);
    if (field == nullptr || !field->type->is_primitive()) continue;
    const delta::TypeKind kind = field->type->kind();
    if (kind == delta::TypeKind::kFloat || kind == delta::TypeKind::kDouble ||
        kind == delta::TypeKind::kBinary || kind == delta::TypeKind::kBoolean) {
      continue;
    }
    const std::string column = source_sql + "." + QuoteIdentifier((*source)[1]);
    auto r = conn_.Query(fmt::format(
        "SELECT typeof(min({0})), CAST(min({0}) AS VARCHAR), CAST(max({0}) AS VARCHAR) FROM {1} "
        "AS {2}",
        column, QuoteIdentifier(kSource), source_sql));
    if (!r.ok() || r->row_count() != 1 || r->IsNull(1, 0) || r->IsNull(2, 0)) continue;
    ASSIGN_OR_RETURN(std::string type, r->GetString(0, 0));
    static const std::set<std::string> kIntegers = {"TINYINT", "SMALLINT", "INTEGER", "BIGINT"};
    const std::string table_type = DuckDbTypeOf(*field->type);
    if (type != table_type && !(kIntegers.count(type) && kIntegers.count(table_type))) continue;
    ASSIGN_OR_RETURN(std::string lo, r->GetString(1, 0));
    ASSIGN_OR_RETURN(std::string hi, r->GetString(2, 0));
    out.push_back(delta::ColumnPredicate::Compare({field->name}, delta::SkippingOp::kGreaterOrEqual,
                                                  delta::Scalar::String(lo)));
    out.push_back(delta::ColumnPredicate::Compare({field->name}, delta::SkippingOp::kLessOrEqual,
                                                  delta::Scalar::String(hi)));
  }
  return out;
}

Result<DmlResult> Dml::RunDelete(std::string_view predicate) {
  ASSIGN_OR_RETURN(ScanConditions conditions, ConditionsOf(predicate, options_.target_alias, ""));
  const delta::FileSelection candidates = Candidates(conditions.predicate);
  ASSIGN_OR_RETURN(auto matches, MatchFiles(conn_, *snapshot_, store_, candidates, kView,
                                            predicate, options_.target_alias));
  if (matches.empty()) return result_;
  const TouchedFiles touched = Touch(matches);
  result_.num_deleted_rows = touched.matched_rows;
  result_.num_copied_rows = touched.copied_rows;
  const std::string pred = Cond(std::string(predicate));
  const std::string& in_files = touched.in_files;
  RETURN_NOT_OK(conn_.Execute(
      fmt::format("CREATE OR REPLACE TEMP TABLE {} AS SELECT {} FROM {} WHERE {} AND NOT {}",
                  QuoteIdentifier(kNewRows), Columns(), From(), in_files, pred)));
  if (change_data_feed_) {
    RETURN_NOT_OK(conn_.Execute(fmt::format(
        "CREATE OR REPLACE TEMP TABLE {} AS SELECT {}, 'delete' AS {} FROM {} WHERE {} AND {}",
        QuoteIdentifier(kChanges), Columns(), QuoteIdentifier(kChangeTypeColumn), From(), in_files,
        pred)));
  }
  result_.num_affected_rows = result_.num_deleted_rows;
  delta::StringMap params;
  nlohmann::json p = nlohmann::json::array();
  if (!predicate.empty()) p.push_back(std::string(predicate));
  params["predicate"] = p.dump();
  RETURN_NOT_OK(Commit(
      touched.files, "DELETE", std::move(params),
      {{"numDeletedRows", result_.num_deleted_rows}, {"numCopiedRows", result_.num_copied_rows}},
      false));
  return result_;
}

Result<DmlResult> Dml::RunUpdate(const std::vector<Assignment>& assignments,
                                 std::string_view predicate) {
  if (assignments.empty()) return Status::InvalidArgument("UPDATE needs SET column = value");
  std::map<size_t, std::string> set;
  for (const auto& [column, value] : assignments) {
    ASSIGN_OR_RETURN(size_t i, FieldIndex(column));
    if (!set.emplace(i, value).second) {
      return Status::InvalidArgument(fmt::format("column '{}' is set twice", column));
    }
  }
  ASSIGN_OR_RETURN(ScanConditions conditions, ConditionsOf(predicate, options_.target_alias, ""));
  const delta::FileSelection candidates = Candidates(conditions.predicate);
  ASSIGN_OR_RETURN(auto matches, MatchFiles(conn_, *snapshot_, store_, candidates, kView,
                                            predicate, options_.target_alias));
  if (matches.empty()) return result_;
  const TouchedFiles touched = Touch(matches);
  result_.num_updated_rows = touched.matched_rows;
  result_.num_copied_rows = touched.copied_rows;
  const std::string pred = Cond(std::string(predicate));
  const std::string& in_files = touched.in_files;
  std::string rewritten, updated;
  for (size_t i = 0; i < layout_.fields.size(); ++i) {
    auto it = set.find(i);
    std::string value = it == set.end() ? Column(i) : Cast(it->second, i);
    rewritten += fmt::format("{}CASE WHEN {} THEN {} ELSE {} END AS {}", i ? ", " : "", pred, value,
                             Column(i), Column(i));
    updated += fmt::format("{}{} AS {}", i ? ", " : "", value, Column(i));
  }
  RETURN_NOT_OK(
      conn_.Execute(fmt::format("CREATE OR REPLACE TEMP TABLE {} AS SELECT {} FROM {} WHERE {}",
                                QuoteIdentifier(kNewRows), rewritten, From(), in_files)));
  if (change_data_feed_) {
    RETURN_NOT_OK(conn_.Execute(fmt::format(
        "CREATE OR REPLACE TEMP TABLE {0} AS SELECT {1}, 'update_preimage' AS {2} FROM {3} WHERE "
        "{4} AND {5} UNION ALL SELECT {6}, 'update_postimage' AS {2} FROM {3} WHERE {4} AND {5}",
        QuoteIdentifier(kChanges), Columns(), QuoteIdentifier(kChangeTypeColumn), From(), in_files,
        pred, updated)));
  }
  result_.num_affected_rows = result_.num_updated_rows;
  delta::StringMap params;
  if (!predicate.empty()) params["predicate"] = nlohmann::json(std::string(predicate)).dump();
  RETURN_NOT_OK(Commit(
      touched.files, "UPDATE", std::move(params),
      {{"numUpdatedRows", result_.num_updated_rows}, {"numCopiedRows", result_.num_copied_rows}},
      false));
  return result_;
}

Result<int64_t> CountOf(Connection& conn, const std::string& sql) {
  ASSIGN_OR_RETURN(auto r, conn.Query(sql));
  return r.GetInt64(0, 0);
}

Result<DmlResult> Dml::RunMerge(const MergeSpec& spec) {
  using Kind = MergeClause::Kind;
  using Action = MergeClause::Action;
  const std::string t = QuoteIdentifier(
      options_.target_alias.empty() ? std::string(kDefaultTargetAlias) : options_.target_alias);
  const std::string s =
      QuoteIdentifier(spec.source_alias.empty() ? "__medallion_source" : spec.source_alias);
  const std::string rid = QuoteIdentifier(kRowId), srid = QuoteIdentifier(kSourceRowId),
                    file = QuoteIdentifier(kScanFileColumn), action = QuoteIdentifier(kAction);
  RETURN_NOT_OK(conn_.Execute(fmt::format(
      "CREATE OR REPLACE TEMP TABLE {} AS SELECT row_number() OVER () AS {}, * FROM ({})",
      QuoteIdentifier(kSource), srid, spec.source_sql)));
  ASSIGN_OR_RETURN(int64_t source_rows,
                   CountOf(conn_, "SELECT count(*) FROM " + QuoteIdentifier(kSource)));

  bool by_source = false;
  int matched_clauses = 0;
  for (const auto& c : spec.clauses) {
    by_source = by_source || c.kind == Kind::kNotMatchedBySource;
    if (c.kind == Kind::kMatched) ++matched_clauses;
  }
  // The candidate target rows: those of files with a match (every file with BY SOURCE clauses).
  std::string target_rows = "SELECT NULL::VARCHAR AS " + file + ", " + [&] {
    std::string cols;
    for (size_t i = 0; i < layout_.fields.size(); ++i) {
      cols += fmt::format("{}NULL::{} AS {}", i ? ", " : "", DuckDbTypeOf(*layout_.fields[i].type),
                          Column(i));
    }
    return cols;
  }() + " WHERE false";
  if (!snapshot_->files().empty()) {
    // Data skipping: without BY SOURCE clauses, only target rows that can satisfy the ON condition
    // matter, so only files that may hold them are read.
    delta::SkippingPredicate skip;
    if (!by_source) {
      const std::string target_name = options_.target_alias.empty()
                                          ? std::string(kDefaultTargetAlias)
                                          : options_.target_alias;
      const std::string source_name =
          spec.source_alias.empty() ? "__medallion_source" : spec.source_alias;
      ASSIGN_OR_RETURN(ScanConditions conditions,
                       ConditionsOf(spec.on_condition, target_name, source_name));
      skip = std::move(conditions.predicate);
      ASSIGN_OR_RETURN(auto ranges, SourceKeyRanges(conditions, target_name, source_name, s));
      for (auto& r : ranges) skip.conjuncts.push_back(std::move(r));
    }
    const delta::FileSelection candidates = Candidates(skip);
    RETURN_NOT_OK(RegisterDeltaSelectionScan(conn_, snapshot_->config(), snapshot_->table_root(),
                                             candidates, store_, kView,
                                             {std::string(kScanFileColumn)}));
    target_rows = fmt::format("SELECT {}, {} FROM {}", file, Columns(), QuoteIdentifier(kView));
    if (!by_source) {
      target_rows += fmt::format(
          " WHERE {} IN (SELECT DISTINCT {}.{} FROM {} AS {} JOIN {} AS {} ON ({}))", file, t, file,
          QuoteIdentifier(kView), t, QuoteIdentifier(kSource), s, spec.on_condition);
    }
  }
  RETURN_NOT_OK(conn_.Execute(fmt::format(
      "CREATE OR REPLACE TEMP TABLE {} AS SELECT row_number() OVER () AS {}, * FROM ({})",
      QuoteIdentifier(kTarget), rid, target_rows)));

  // Per clause kind: the action ('update', 'delete', 'insert' or NULL) and each column's value.
  auto project = [&](Kind kind, const std::string& base) -> Result<std::string> {
    std::string act = "CASE", out;
    std::vector<std::string> values(layout_.fields.size(), "CASE");
    for (const auto& c : spec.clauses) {
      if (c.kind != kind) continue;
      std::string when = " WHEN " + Cond(c.condition) + " THEN ";
      bool insert = c.action == Action::kInsert || c.action == Action::kInsertAll;
      act += when + (insert ? "'insert'" : c.action == Action::kDelete ? "'delete'" : "'update'");
      std::map<size_t, std::string> set;
      for (const auto& [column, value] : c.assignments) {
        ASSIGN_OR_RETURN(size_t i, FieldIndex(column));
        set[i] = value;
      }
      for (size_t i = 0; i < values.size(); ++i) {
        std::string v = base.empty() ? "NULL" : base + "." + Column(i);
        if (c.action == Action::kUpdateAll || c.action == Action::kInsertAll) {
          v = s + "." + Column(i);
        } else if (set.count(i)) {
          v = set[i];
        }
        values[i] += when + Cast(v, i);
      }
    }
    act += " ELSE NULL END";
    if (act == "CASE ELSE NULL END") act = "NULL::VARCHAR";
    out = act + " AS " + action;
    for (size_t i = 0; i < values.size(); ++i) {
      std::string fallback = base.empty() ? "NULL" : base + "." + Column(i);
      out += values[i] == "CASE"
                 ? fmt::format(", {} AS {}", Cast(fallback, i), Column(i))
                 : fmt::format(", {} ELSE {} END AS {}", values[i], Cast(fallback, i), Column(i));
    }
    return out;
  };
  ASSIGN_OR_RETURN(std::string matched_cols, project(Kind::kMatched, t));
  RETURN_NOT_OK(conn_.Execute(fmt::format(
      "CREATE OR REPLACE TEMP TABLE {} AS SELECT {}.{} AS {}, {}.{} AS {}, {}.{} AS {}, {} FROM {} "
      "AS {} JOIN {} AS {} ON ({})",
      QuoteIdentifier(kPairs), t, rid, rid, s, srid, srid, t, file, file, matched_cols,
      QuoteIdentifier(kTarget), t, QuoteIdentifier(kSource), s, spec.on_condition)));
  bool single_delete = matched_clauses == 1;
  for (const auto& c : spec.clauses) {
    if (c.kind == Kind::kMatched && (c.action != Action::kDelete || !c.condition.empty())) {
      single_delete = false;
    }
  }
  if (matched_clauses > 0 && !single_delete) {
    ASSIGN_OR_RETURN(int64_t dup,
                     CountOf(conn_, fmt::format("SELECT count(*) FROM (SELECT {} FROM {} "
                                                "GROUP BY 1 HAVING count(*) > 1)",
                                                rid, QuoteIdentifier(kPairs))));
    if (dup > 0) {
      return Status::InvalidArgument(fmt::format(
          "MERGE: several source rows matched the same target row ({} target row(s) matched more "
          "than once), so which one updates or deletes it is ambiguous; make the source rows "
          "unique for the ON condition (Databricks: "
          "DELTA_MULTIPLE_SOURCE_ROW_MATCHING_TARGET_ROW_IN_MERGE)",
          dup));
    }
  }
  ASSIGN_OR_RETURN(std::string by_source_cols, project(Kind::kNotMatchedBySource, t));
  RETURN_NOT_OK(conn_.Execute(fmt::format(
      "CREATE OR REPLACE TEMP TABLE {0} AS SELECT {1}.{2} AS {2}, {1}.{3} AS {3}, {4} FROM {5} AS "
      "{1} WHERE {1}.{2} NOT IN (SELECT {2} FROM {6})",
      QuoteIdentifier(kBySource), t, rid, file, by_source_cols, QuoteIdentifier(kTarget),
      QuoteIdentifier(kPairs))));
  ASSIGN_OR_RETURN(std::string insert_cols, project(Kind::kNotMatched, ""));
  RETURN_NOT_OK(conn_.Execute(fmt::format(
      "CREATE OR REPLACE TEMP TABLE {0} AS SELECT {1} FROM {2} AS {3} WHERE {3}.{4} NOT IN "
      "(SELECT {4} FROM {5})",
      QuoteIdentifier(kInserts), insert_cols, QuoteIdentifier(kSource), s, srid,
      QuoteIdentifier(kPairs))));
  RETURN_NOT_OK(conn_.Execute(fmt::format(
      "CREATE OR REPLACE TEMP TABLE {0} AS SELECT {1}, {2}, {3}, {4} FROM {5} WHERE {2} IS NOT "
      "NULL QUALIFY row_number() OVER (PARTITION BY {1}) = 1 "  // an unconditional DELETE
      "UNION ALL SELECT {1}, {2}, {3}, {4} FROM {6} WHERE {2} IS NOT NULL",
      QuoteIdentifier(kFate), rid, action, file, Columns(), QuoteIdentifier(kPairs),
      QuoteIdentifier(kBySource))));

  const std::string fate = QuoteIdentifier(kFate), target = QuoteIdentifier(kTarget),
                    inserts = QuoteIdentifier(kInserts);
  ASSIGN_OR_RETURN(
      result_.num_updated_rows,
      CountOf(conn_, fmt::format("SELECT count(*) FROM {} WHERE {} = 'update'", fate, action)));
  ASSIGN_OR_RETURN(
      result_.num_deleted_rows,
      CountOf(conn_, fmt::format("SELECT count(*) FROM {} WHERE {} = 'delete'", fate, action)));
  ASSIGN_OR_RETURN(
      result_.num_inserted_rows,
      CountOf(conn_, fmt::format("SELECT count(*) FROM {} WHERE {} = 'insert'", inserts, action)));
  result_.num_affected_rows =
      result_.num_updated_rows + result_.num_deleted_rows + result_.num_inserted_rows;
  if (result_.num_affected_rows == 0) return result_;

  // The touched files and the rows of the new files.
  std::set<std::string> touched_local;
  {
    ASSIGN_OR_RETURN(auto r, conn_.Query(fmt::format("SELECT DISTINCT {} FROM {}", file, fate)));
    for (size_t i = 0; i < r.row_count(); ++i) {
      ASSIGN_OR_RETURN(std::string f, r.GetString(0, i));
      touched_local.insert(std::move(f));
    }
  }
  std::vector<const delta::AddFile*> touched;
  for (const delta::AddFile& add : snapshot_->files()) {
    ASSIGN_OR_RETURN(std::string local, DataFileLocalPath(*snapshot_, store_, add));
    if (touched_local.count(local)) touched.push_back(&add);
  }
  const std::string kept = fmt::format(
      "FROM {0} WHERE {1} IN (SELECT {1} FROM {2}) AND {3} NOT IN (SELECT {3} FROM {2})", target,
      file, fate, rid);
  ASSIGN_OR_RETURN(result_.num_copied_rows, CountOf(conn_, "SELECT count(*) " + kept));
  RETURN_NOT_OK(conn_.Execute(fmt::format(
      "CREATE OR REPLACE TEMP TABLE {0} AS SELECT {1} {2} UNION ALL SELECT {1} FROM {3} WHERE {4} "
      "= 'update' UNION ALL SELECT {1} FROM {5} WHERE {4} = 'insert'",
      QuoteIdentifier(kNewRows), Columns(), kept, fate, action, inserts)));
  if (change_data_feed_) {
    const std::string change = QuoteIdentifier(kChangeTypeColumn);
    RETURN_NOT_OK(conn_.Execute(fmt::format(
        "CREATE OR REPLACE TEMP TABLE {0} AS "
        "SELECT {1}, 'update_preimage' AS {2} FROM {3} AS __o JOIN {4} AS __f USING ({5}) "
        "WHERE __f.{6} = 'update' "
        "UNION ALL SELECT {7}, 'update_postimage' AS {2} FROM {4} WHERE {6} = 'update' "
        "UNION ALL SELECT {1}, 'delete' AS {2} FROM {3} AS __o JOIN {4} AS __f USING ({5}) "
        "WHERE __f.{6} = 'delete' "
        "UNION ALL SELECT {7}, 'insert' AS {2} FROM {8} WHERE {6} = 'insert'",
        QuoteIdentifier(kChanges), Columns("__o."), change, target, fate, rid, action, Columns(),
        inserts)));
  }

  delta::StringMap params;
  params["predicate"] = nlohmann::json(spec.on_condition).dump();
  nlohmann::json matched = nlohmann::json::array(), not_matched = nlohmann::json::array(),
                 not_matched_by_source = nlohmann::json::array();
  for (const auto& c : spec.clauses) {
    nlohmann::json j;
    j["actionType"] = c.action == Action::kDelete                                     ? "delete"
                      : c.action == Action::kInsert || c.action == Action::kInsertAll ? "insert"
                                                                                      : "update";
    if (!c.condition.empty()) j["predicate"] = c.condition;
    (c.kind == Kind::kMatched      ? matched
     : c.kind == Kind::kNotMatched ? not_matched
                                   : not_matched_by_source)
        .push_back(std::move(j));
  }
  params["matchedPredicates"] = matched.dump();
  params["notMatchedPredicates"] = not_matched.dump();
  params["notMatchedBySourcePredicates"] = not_matched_by_source.dump();
  RETURN_NOT_OK(Commit(touched, "MERGE", std::move(params),
                       {{"numSourceRows", source_rows},
                        {"numTargetRowsInserted", result_.num_inserted_rows},
                        {"numTargetRowsUpdated", result_.num_updated_rows},
                        {"numTargetRowsDeleted", result_.num_deleted_rows},
                        {"numTargetRowsCopied", result_.num_copied_rows},
                        {"numOutputRows", result_.num_inserted_rows + result_.num_updated_rows +
                                              result_.num_copied_rows}},
                       true));
  return result_;
}

template <typename Fn>
Result<DmlResult> RunDml(Connection& conn, storage::ObjectStore& store, std::string table_root,
                         delta::ParquetHandler& parquet, const DmlOptions& options,
                         std::string_view what, Fn fn) {
  const std::string ctx = fmt::format("{} on table {}", what, store.Describe() + "/" + table_root);
  Dml dml(conn, store, std::move(table_root), parquet, options);
  Status loaded = dml.Load();
  if (!loaded.ok()) return loaded.WithContext(ctx);
  if (dml.TxnApplied()) return dml.result();  // this write was committed before: do nothing
  Result<DmlResult> result = fn(dml);
  dml.Cleanup();
  if (!result.ok()) return result.status().WithContext(ctx);
  return result;
}

}  // namespace

Result<DmlResult> Delete(Connection& conn, storage::ObjectStore& store, std::string table_root,
                         delta::ParquetHandler& parquet, std::string_view predicate_sql,
                         const DmlOptions& options) {
  return RunDml(conn, store, std::move(table_root), parquet, options, "DELETE",
                [&](Dml& dml) { return dml.RunDelete(predicate_sql); });
}

Result<DmlResult> Update(Connection& conn, storage::ObjectStore& store, std::string table_root,
                         delta::ParquetHandler& parquet, const std::vector<Assignment>& assignments,
                         std::string_view predicate_sql, const DmlOptions& options) {
  return RunDml(conn, store, std::move(table_root), parquet, options, "UPDATE",
                [&](Dml& dml) { return dml.RunUpdate(assignments, predicate_sql); });
}

Result<DmlResult> Merge(Connection& conn, storage::ObjectStore& store, std::string table_root,
                        delta::ParquetHandler& parquet, const MergeSpec& spec,
                        const DmlOptions& options) {
  return RunDml(conn, store, std::move(table_root), parquet, options, "MERGE",
                [&](Dml& dml) { return dml.RunMerge(spec); });
}

}  // namespace medallion::engine
