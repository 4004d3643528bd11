#include "engine/delta_constraints.h"

#include <fmt/format.h>

#include <set>
#include <string>

#include "common/macros.h"
#include "common/text.h"
#include "delta/snapshot.h"
#include "delta/transaction.h"
#include "engine/delta_scan.h"
#include "engine/spark_sql.h"
#include "engine/sql_lexer.h"
#include "engine/sql_text.h"

namespace medallion::engine {

namespace {

constexpr std::string_view kScanView = "__medallion_constraint_scan";

std::string TableName(const storage::ObjectStore& store, std::string_view root) {
  return root.empty() ? store.Describe() : store.Describe() + "/" + std::string(root);
}

// DuckDB SQL that is true exactly when a row satisfies `translated` (a constraint's expression
// translated to DuckDB SQL; false and NULL fail).
std::string SatisfiedSql(const std::string& translated) {
  return "coalesce((" + translated + "), false)";
}

// Runs `sql`; when it fails and uses the Spark SQL macros (spark_*), registers them on the
// connection (a session in the DuckDB dialect has none) and runs it again.
Result<QueryResult> QueryWithSparkFunctions(Connection& conn, const std::string& sql) {
  auto result = conn.Query(sql);
  if (result.ok() || sql.find("spark_") == std::string::npos) return result;
  RETURN_NOT_OK(RegisterSparkFunctions(conn));
  return conn.Query(sql);
}

// The top-level columns `expression` names (compared ignoring case), in table order.
std::vector<std::string> NamedColumns(std::string_view expression,
                                      const std::vector<delta::StructField>& fields) {
  auto tokens = LexSql(expression);
  if (!tokens.ok()) return {};
  std::set<std::string> words;
  for (const Token& t : *tokens) {
    if (t.kind == TokenKind::kWord) words.insert(AsciiLower(t.text));
    if (t.kind == TokenKind::kBacktick) words.insert(AsciiLower(Unquote(t)));
  }
  std::vector<std::string> out;
  for (const auto& f : fields) {
    if (words.count(AsciiLower(f.name))) out.push_back(f.name);
  }
  return out;
}

// Delta Lake's message for `failing` rows of `rows` violating `constraint`, with the values of
// the first one.
Result<std::string> ViolationMessage(Connection& conn, std::string_view rows,
                                     const delta::RowConstraint& constraint,
                                     const std::string& satisfied,
                                     const std::vector<delta::StructField>& fields,
                                     int64_t failing) {
  std::vector<std::string> columns = NamedColumns(constraint.expression, fields);
  std::string select;
  for (const std::string& c : columns) {
    select += (select.empty() ? "" : ", ") + QuoteIdentifier(c) + "::VARCHAR";
  }
  std::string values;
  if (!columns.empty()) {
    ASSIGN_OR_RETURN(QueryResult row,
                     QueryWithSparkFunctions(conn, fmt::format("SELECT {} FROM {} WHERE NOT {} LIMIT 1",
                                                               select, rows, satisfied)));
    for (size_t i = 0; i < columns.size() && row.row_count() > 0; ++i) {
      values += fmt::format(" - {} : {}\n", columns[i], row.IsNull(i, 0) ? "null" : row.GetText(i, 0));
    }
  }
  return fmt::format("CHECK constraint {} ({}) violated by row with values:\n{}({} row{} violate{} it)",
                     constraint.name, constraint.expression, values, failing,
                     failing == 1 ? "" : "s", failing == 1 ? "s" : "");
}

}  // namespace

Status CheckRowConstraints(Connection& conn, std::string_view rows,
                           const std::vector<delta::RowConstraint>& constraints,
                           const std::vector<delta::StructField>& fields) {
  if (constraints.empty()) return Status::OK();
  std::vector<std::string> satisfied;
  std::string counts;
  for (const auto& c : constraints) {
    ASSIGN_OR_RETURN(std::string translated, TranslateSparkSql(c.expression));
    std::string sql = SatisfiedSql(translated);
    counts += fmt::format("{}count(*) FILTER (WHERE NOT {})", counts.empty() ? "" : ", ", sql);
    satisfied.push_back(std::move(sql));
  }
  ASSIGN_OR_RETURN(QueryResult result,
                   QueryWithSparkFunctions(conn, fmt::format("SELECT {} FROM {}", counts, rows)));
  for (size_t i = 0; i < constraints.size(); ++i) {
    ASSIGN_OR_RETURN(int64_t failing, result.GetInt64(i, 0));
    if (failing == 0) continue;
    ASSIGN_OR_RETURN(std::string message,
                     ViolationMessage(conn, rows, constraints[i], satisfied[i], fields, failing));
    return Status::InvalidArgument(message);
  }
  return Status::OK();
}

Result<int64_t> AddCheckConstraint(Connection& conn, storage::ObjectStore& store,
                                   std::string_view table_root, delta::ParquetHandler& parquet,
                                   std::string_view name, std::string_view expression) {
  const std::string table = TableName(store, table_root);
  ASSIGN_OR_RETURN(auto snapshot,
                   delta::SnapshotBuilder(store, std::string(table_root)).Build(parquet));
  // Refuses a table medallion cannot write before anything is read.
  ASSIGN_OR_RETURN(auto txn, delta::Transaction::ForTable(store, std::string(table_root), snapshot));
  const std::string key = delta::CheckConstraintKey(name);
  delta::Metadata metadata = snapshot->metadata();
  if (auto it = metadata.configuration.find(key); it != metadata.configuration.end()) {
    return Status::AlreadyExists(fmt::format(
        "{}: Constraint '{}' already exists. Please delete the old constraint first.\nOld "
        "constraint:\n{}",
        table, name, it->second));
  }
  ASSIGN_OR_RETURN(std::string translated, TranslateSparkSql(expression));
  RETURN_NOT_OK(RegisterDeltaScan(conn, *snapshot, store, kScanView));
  const std::string view = QuoteIdentifier(kScanView);
  auto violations = [&]() -> Result<int64_t> {
    ASSIGN_OR_RETURN(QueryResult shape,
                     QueryWithSparkFunctions(conn, fmt::format("SELECT ({}) FROM {} LIMIT 0",
                                                               translated, view)));
    if (shape.column_type(0).id != TypeId::kBoolean) {
      return Status::InvalidArgument(
          fmt::format("CHECK constraint '{}' ({}) should be a boolean expression", name,
                      expression));
    }
    ASSIGN_OR_RETURN(QueryResult r,
                     conn.Query(fmt::format("SELECT count(*) FROM {} WHERE NOT {}", view,
                                            SatisfiedSql(translated))));
    return r.GetInt64(0, 0);
  }();
  (void)conn.Execute("DROP VIEW IF EXISTS " + view);
  if (!violations.ok()) return violations.status().WithContext(table);
  if (*violations > 0) {
    return Status::InvalidArgument(
        fmt::format("{} rows in {} violate the new CHECK constraint ({})", *violations, table,
                    expression));
  }
  metadata.configuration[key] = std::string(expression);
  txn->UpdateMetadata(std::move(metadata));
  txn->RecordReadWholeTable();
  txn->SetOperation("ADD CONSTRAINT",
                    {{"name", std::string(name)}, {"expr", std::string(expression)}});
  ASSIGN_OR_RETURN(delta::CommitResult committed, txn->Commit(parquet));
  return committed.version;
}

Result<std::optional<int64_t>> DropCheckConstraint(storage::ObjectStore& store,
                                                   std::string_view table_root,
                                                   delta::ParquetHandler& parquet,
                                                   std::string_view name, bool if_exists) {
  const std::string table = TableName(store, table_root);
  ASSIGN_OR_RETURN(auto snapshot,
                   delta::SnapshotBuilder(store, std::string(table_root)).Build(parquet));
  delta::Metadata metadata = snapshot->metadata();
  auto it = metadata.configuration.find(delta::CheckConstraintKey(name));
  if (it == metadata.configuration.end()) {
    if (if_exists) return std::optional<int64_t>();
    return Status::NotFound(fmt::format(
        "{}: Cannot drop nonexistent constraint {} from table {}. To avoid throwing an error, "
        "use DROP CONSTRAINT IF EXISTS",
        table, name, table));
  }
  ASSIGN_OR_RETURN(auto txn, delta::Transaction::ForTable(store, std::string(table_root), snapshot));
  txn->SetOperation("DROP CONSTRAINT", {{"name", std::string(name)}, {"expr", it->second}});
  metadata.configuration.erase(it);
  txn->UpdateMetadata(std::move(metadata));
  ASSIGN_OR_RETURN(delta::CommitResult committed, txn->Commit(parquet));
  return std::optional<int64_t>(committed.version);
}

}  // namespace medallion::engine
