#include "common/text.h"
#include "pipeline/auto_cdc.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdint>
#include <map>
#include <set>
#include <utility>

#include "common/macros.h"
#include "engine/spark_sql.h"
#include "engine/sql_text.h"

namespace medallion::pipeline {
namespace {

using engine::QuoteIdentifier;

// Columns of the hidden state (auto_cdc.h, "Hidden state"). Frozen: states are persisted.
constexpr std::string_view kEventColumn = "__cdc_event";
constexpr std::string_view kSeqColumn = "__cdc_seq";
constexpr std::string_view kRecordedAtColumn = "__cdc_recorded_at_ms";
// Selected columns may not start with this: the SQL below names its own columns so.
constexpr std::string_view kReservedPrefix = "__cdc_";

std::string Q(std::string_view name) { return QuoteIdentifier(name); }

// "a.x, a.y" (or "x, y" without an alias), each name quoted.
std::string List(const std::vector<std::string>& names, std::string_view alias = "") {
  std::string out;
  for (const std::string& n : names) {
    if (!out.empty()) out += ", ";
    if (!alias.empty()) out += std::string(alias) + ".";
    out += Q(n);
  }
  return out;
}

// ", a.x, a.y", or "" for no names: for optional tails of a column list.
std::string Tail(const std::vector<std::string>& names, std::string_view alias = "") {
  return names.empty() ? "" : ", " + List(names, alias);
}

// "a.k1 IS NOT DISTINCT FROM b.k1 AND ...": keys match NULL-safely.
std::string KeysMatch(const std::vector<std::string>& keys, std::string_view a,
                      std::string_view b) {
  std::string out;
  for (const std::string& k : keys) {
    if (!out.empty()) out += " AND ";
    out += fmt::format("{0}.{2} IS NOT DISTINCT FROM {1}.{2}", a, b, Q(k));
  }
  return out;
}

// The definition checked against the source's columns, with its expressions in DuckDB SQL.
struct Resolved {
  int scd_type = 1;
  std::vector<std::string> keys;     // KEYS, the source's spelling
  std::vector<std::string> columns;  // the target's user columns, in target order
  std::vector<std::string> values;   // `columns` without the keys
  std::vector<bool> ignore_null;     // per value: IGNORE NULL UPDATES applies
  std::vector<bool> tracked;         // per value: TRACK HISTORY applies (SCD type 2)
  std::string sequence_text;         // SEQUENCE BY as written, for messages
  std::string sequence;              // the sequence over the source
  std::string sequence_is_null;      // true when the sequence or one of its fields is NULL
  std::string is_delete;             // never NULL
  std::string is_truncate;           // never NULL

  // The target's columns: `columns`, then __START_AT and __END_AT for SCD type 2.
  std::vector<std::string> TargetColumns() const {
    std::vector<std::string> out = columns;
    if (scd_type == 2) {
      out.emplace_back(kStartAtColumn);
      out.emplace_back(kEndAtColumn);
    }
    return out;
  }
};

// Spark's name for field `i` of struct(a, b, ...): the column's name, else col<i+1>.
std::string StructFieldName(std::string_view expr, size_t i) {
  while (!expr.empty() && std::isspace(static_cast<unsigned char>(expr.front()))) {
    expr.remove_prefix(1);
  }
  while (!expr.empty() && std::isspace(static_cast<unsigned char>(expr.back()))) {
    expr.remove_suffix(1);
  }
  if (expr.size() >= 2 && expr.front() == '`' && expr.back() == '`') {
    std::string name;
    for (size_t p = 1; p + 1 < expr.size(); ++p) {
      if (expr[p] == '`' && p + 2 < expr.size() && expr[p + 1] == '`') ++p;
      name += expr[p];
    }
    return name;
  }
  bool identifier = !expr.empty() && !std::isdigit(static_cast<unsigned char>(expr.front()));
  for (char c : expr) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') identifier = false;
  }
  return identifier ? std::string(expr) : fmt::format("col{}", i + 1);
}

Result<std::string> Translate(const std::string& spark_sql, std::string_view clause) {
  return engine::TranslateSparkSql(spark_sql).WithContext(
      fmt::format("AUTO CDC: {} {}", clause, spark_sql));
}

Result<Resolved> Resolve(engine::Connection& conn, const AutoCdcDefinition& cdc,
                         std::string_view source_table) {
  Resolved r;
  r.scd_type = cdc.scd_type;
  if (cdc.scd_type != 1 && cdc.scd_type != 2) {
    return Status::InvalidArgument(
        fmt::format("AUTO CDC: STORED AS SCD TYPE {}: expected 1 or 2", cdc.scd_type));
  }
  if (cdc.keys.empty()) return Status::InvalidArgument("AUTO CDC: KEYS (...) is required");
  if (cdc.sequence_by.empty()) return Status::InvalidArgument("AUTO CDC: SEQUENCE BY is required");
  if (cdc.scd_type == 2 && cdc.apply_as_truncate_when) {
    return Status::InvalidArgument(
        "AUTO CDC: APPLY AS TRUNCATE WHEN is only supported with STORED AS SCD TYPE 1");
  }
  if (cdc.scd_type == 1 && cdc.track_history_on) {
    return Status::InvalidArgument(
        "AUTO CDC: TRACK HISTORY ON is only supported with STORED AS SCD TYPE 2");
  }

  ASSIGN_OR_RETURN_CTX(engine::QueryResult shape,
                       conn.Query(fmt::format("SELECT * FROM {} LIMIT 0", Q(source_table))),
                       fmt::format("AUTO CDC source {}", source_table));
  std::vector<std::string> source;
  std::map<std::string, std::string> by_lower;
  for (size_t i = 0; i < shape.column_count(); ++i) {
    source.push_back(shape.column_name(i));
    by_lower.emplace(AsciiLower(shape.column_name(i)), shape.column_name(i));
  }
  auto source_list = [&] {
    std::string out;
    for (const std::string& s : source) out += (out.empty() ? "" : ", ") + s;
    return out;
  };
  auto find = [&](const std::string& name, std::string_view clause) -> Result<std::string> {
    auto it = by_lower.find(AsciiLower(name));
    if (it == by_lower.end()) {
      return Status::InvalidArgument(
          fmt::format("AUTO CDC: {} names '{}', which is not a source column (source columns: {})",
                      clause, name, source_list()));
    }
    return it->second;
  };

  std::set<std::string> key_set;  // lower case
  for (const std::string& k : cdc.keys) {
    ASSIGN_OR_RETURN(std::string key, find(k, "KEYS"));
    if (!key_set.insert(AsciiLower(key)).second) {
      return Status::InvalidArgument(fmt::format("AUTO CDC: KEYS names '{}' twice", k));
    }
    r.keys.push_back(key);
  }

  if (!cdc.columns) {
    r.columns = source;
  } else if (cdc.columns->all_except) {
    std::set<std::string> excluded;
    for (const std::string& c : cdc.columns->columns) {
      ASSIGN_OR_RETURN(std::string col, find(c, "COLUMNS * EXCEPT"));
      if (key_set.count(AsciiLower(col))) {
        return Status::InvalidArgument(fmt::format(
            "AUTO CDC: COLUMNS * EXCEPT excludes the KEYS column '{}'; the target keeps its keys",
            col));
      }
      excluded.insert(AsciiLower(col));
    }
    for (const std::string& s : source) {
      if (!excluded.count(AsciiLower(s))) r.columns.push_back(s);
    }
  } else {
    std::set<std::string> seen;
    for (const std::string& c : cdc.columns->columns) {
      ASSIGN_OR_RETURN(std::string col, find(c, "COLUMNS"));
      if (!seen.insert(AsciiLower(col)).second) {
        return Status::InvalidArgument(fmt::format("AUTO CDC: COLUMNS names '{}' twice", c));
      }
      r.columns.push_back(col);
    }
    for (const std::string& k : r.keys) {
      if (!seen.count(AsciiLower(k))) {
        return Status::InvalidArgument(fmt::format(
            "AUTO CDC: COLUMNS must include the KEYS column '{}'; the target keeps its keys", k));
      }
    }
  }
  std::set<std::string> column_set;
  for (const std::string& c : r.columns) {
    std::string lower = AsciiLower(c);
    if (lower.rfind(kReservedPrefix, 0) == 0 ||
        (r.scd_type == 2 && (lower == AsciiLower(kStartAtColumn) || lower == AsciiLower(kEndAtColumn)))) {
      return Status::InvalidArgument(fmt::format(
          "AUTO CDC: the source column '{}' has a name the target reserves (__START_AT, "
          "__END_AT and names starting with {}); leave it out with COLUMNS * EXCEPT ({})",
          c, kReservedPrefix, c));
    }
    column_set.insert(lower);
    if (!key_set.count(lower)) r.values.push_back(c);
  }

  // Which values a clause with a column selection applies to; names must be target columns.
  auto select = [&](const ColumnSelection& selection,
                    std::string_view clause) -> Result<std::vector<bool>> {
    std::set<std::string> named;
    for (const std::string& c : selection.columns) {
      if (!column_set.count(AsciiLower(c))) {
        return Status::InvalidArgument(
            fmt::format("AUTO CDC: {} names '{}', which is not a column of the target", clause, c));
      }
      named.insert(AsciiLower(c));
    }
    std::vector<bool> out;
    for (const std::string& v : r.values) {
      out.push_back((named.count(AsciiLower(v)) != 0) != selection.all_except);
    }
    return out;
  };
  if (!cdc.ignore_null_updates) {
    r.ignore_null.assign(r.values.size(), false);
  } else if (!cdc.ignore_null_updates_on) {
    r.ignore_null.assign(r.values.size(), true);
  } else {
    ASSIGN_OR_RETURN(r.ignore_null, select(*cdc.ignore_null_updates_on, "IGNORE NULL UPDATES ON"));
  }
  if (!cdc.track_history_on) {
    r.tracked.assign(r.values.size(), true);
  } else {
    ASSIGN_OR_RETURN(r.tracked, select(*cdc.track_history_on, "TRACK HISTORY ON"));
  }

  std::vector<std::string> parts;
  for (const std::string& part : cdc.sequence_by) {
    ASSIGN_OR_RETURN(std::string sql, Translate(part, "SEQUENCE BY"));
    parts.push_back("(" + sql + ")");
  }
  if (parts.size() == 1) {
    r.sequence_text = cdc.sequence_by[0];
    r.sequence = parts[0];
    r.sequence_is_null = parts[0] + " IS NULL";
  } else {
    std::string fields;
    for (size_t i = 0; i < parts.size(); ++i) {
      r.sequence_text += (i ? ", " : "STRUCT(") + cdc.sequence_by[i];
      fields += fmt::format("{}{} := {}", i ? ", " : "", Q(StructFieldName(cdc.sequence_by[i], i)),
                            parts[i]);
      r.sequence_is_null += fmt::format("{}{} IS NULL", i ? " OR " : "", parts[i]);
    }
    r.sequence_text += ")";
    r.sequence = "struct_pack(" + fields + ")";
  }
  r.is_delete = "false";
  if (cdc.apply_as_delete_when) {
    ASSIGN_OR_RETURN(std::string sql, Translate(*cdc.apply_as_delete_when, "APPLY AS DELETE WHEN"));
    r.is_delete = "COALESCE((" + sql + "), false)";
  }
  r.is_truncate = "false";
  if (cdc.apply_as_truncate_when) {
    ASSIGN_OR_RETURN(std::string sql,
                     Translate(*cdc.apply_as_truncate_when, "APPLY AS TRUNCATE WHEN"));
    r.is_truncate = "COALESCE((" + sql + "), false)";
  }
  return r;
}

// The SELECT (over the source) whose columns are the target's.
std::string TargetShapeSql(const Resolved& r, std::string_view source_table) {
  std::string extra;
  if (r.scd_type == 2) {
    extra = fmt::format(", {0} AS {1}, {0} AS {2}", r.sequence, Q(kStartAtColumn), Q(kEndAtColumn));
  }
  return fmt::format("SELECT {}{} FROM {} LIMIT 0", List(r.columns), extra, Q(source_table));
}

// The SELECT (over the source) whose columns are the hidden state's.
std::string StateShapeSql(const Resolved& r, std::string_view source_table) {
  return fmt::format(
      "SELECT {}, NULL::VARCHAR AS {}, {} AS {}, NULL::BIGINT AS {}{} FROM {} LIMIT 0",
      List(r.keys), Q(kEventColumn), r.sequence, Q(kSeqColumn), Q(kRecordedAtColumn),
      r.scd_type == 2 ? Tail(r.values) : "", Q(source_table));
}

// Binds every expression over the source, also those the target's columns do not use.
Status BindExpressions(engine::Connection& conn, const Resolved& r, std::string_view source_table) {
  return conn
      .Query(fmt::format("SELECT {}, {}, {} FROM {} LIMIT 0", r.sequence, r.is_delete,
                         r.is_truncate, Q(source_table)))
      .status()
      .WithContext("AUTO CDC");
}

// The state's columns in order.
std::vector<std::string> StateColumns(const Resolved& r) {
  std::vector<std::string> out = r.keys;
  out.emplace_back(kEventColumn);
  out.emplace_back(kSeqColumn);
  out.emplace_back(kRecordedAtColumn);
  if (r.scd_type == 2) out.insert(out.end(), r.values.begin(), r.values.end());
  return out;
}

// TEMP tables created by one ApplyAutoCdc call, dropped when it returns.
class ScratchTables {
 public:
  ScratchTables(engine::Connection& conn, std::string prefix)
      : conn_(conn), prefix_(std::move(prefix)) {}
  ~ScratchTables() {
    std::string sql;
    for (const std::string& n : names_) sql += "DROP TABLE IF EXISTS " + Q(n) + ";";
    if (!sql.empty()) (void)conn_.Execute(sql);
  }
  ScratchTables(const ScratchTables&) = delete;
  ScratchTables& operator=(const ScratchTables&) = delete;

  std::string Add(std::string_view suffix) {
    names_.push_back(fmt::format("{}_tmp_{}", prefix_, suffix));
    return names_.back();
  }

 private:
  engine::Connection& conn_;
  std::string prefix_;
  std::vector<std::string> names_;
};

// What the SCD-specific step leaves for the common end of ApplyAutoCdc.
struct Outcome {
  std::string rows;  // new target rows of the keys in scope (truncated: the whole new target)
  std::string old;   // the current target rows of the same keys (truncated: the whole target)
  bool truncated = false;
};

// Tie-break among upserts with one key and sequence: greatest values first.
std::string ValuesDesc(const Resolved& r, std::string_view alias = "") {
  std::string out;
  for (const std::string& v : r.values) {
    out +=
        fmt::format(", {}{} DESC NULLS LAST", alias.empty() ? "" : std::string(alias) + ".", Q(v));
  }
  return out;
}

std::string RowsFrame() { return "ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING"; }
std::string RunningFrame() { return "ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW"; }

// SCD type 1 (auto_cdc.h): the latest event per key wins; tombstones and the truncate point in
// the state keep late events out.
Result<Outcome> ApplyScd1(engine::Connection& conn, const Resolved& r, ScratchTables& scratch,
                          const std::string& ev, const std::string& st, const std::string& target,
                          const std::string& new_state, int64_t now_ms) {
  const std::string tr = scratch.Add("truncate");
  const std::string out = scratch.Add("outcome");
  Outcome result;
  result.rows = scratch.Add("rows");
  result.old = scratch.Add("old");
  const std::string seq = Q(kSeqColumn);
  const std::string event = Q(kEventColumn);

  // The truncate point before (t_old) and after (t_new) this batch.
  RETURN_NOT_OK(conn.Execute(fmt::format(
      "CREATE OR REPLACE TEMP TABLE {tr} AS "
      "WITH o AS (SELECT max({seq}) AS t, max({at}) AS at FROM {st} WHERE {event} = 'truncate'), "
      "b AS (SELECT max(__cdc_seq) AS t FROM {ev} WHERE __cdc_is_truncate) "
      "SELECT o.t AS t_old, o.at AS t_old_at, "
      "b.t IS NOT NULL AND (o.t IS NULL OR b.t > o.t) AS fired, "
      "CASE WHEN b.t IS NOT NULL AND (o.t IS NULL OR b.t > o.t) THEN b.t ELSE o.t END AS t_new "
      "FROM o, b",
      fmt::arg("tr", Q(tr)), fmt::arg("seq", seq), fmt::arg("at", Q(kRecordedAtColumn)),
      fmt::arg("st", Q(st)), fmt::arg("event", event), fmt::arg("ev", Q(ev)))));
  ASSIGN_OR_RETURN(engine::QueryResult fired, conn.Query("SELECT fired FROM " + Q(tr)));
  ASSIGN_OR_RETURN(result.truncated, fired.GetBool(0, 0));

  // Per key with applicable events: the outcome (the latest event) and the new values.
  std::string merged;        // in `fin`: values, IGNORE NULL UPDATES merged within the batch
  std::string final_values;  // over fin f, state s, truncate t, target tg
  for (size_t i = 0; i < r.values.size(); ++i) {
    const std::string v = Q(r.values[i]);
    if (r.ignore_null[i]) {
      merged += fmt::format(
          ", last_value(CASE WHEN NOT __cdc_is_delete AND (__cdc_last_delete IS NULL OR "
          "__cdc_seq > __cdc_last_delete) THEN {0} END IGNORE NULLS) OVER wk AS {0}",
          v);
      final_values += fmt::format(
          ", CASE WHEN f.__cdc_is_delete THEN NULL WHEN f.{0} IS NOT NULL THEN f.{0} "
          "WHEN f.__cdc_last_delete IS NULL AND NOT (t.fired AND (s.{1} IS NULL OR "
          "s.{1} <= t.t_new)) THEN tg.{0} END AS {0}",
          v, seq);
    } else {
      merged += ", " + v;
      final_values += ", f." + v;
    }
  }
  const std::string keys = List(r.keys);
  RETURN_NOT_OK(conn.Execute(fmt::format(
      "CREATE OR REPLACE TEMP TABLE {out} AS "
      "WITH s AS (SELECT {keys}, {event}, {seq} FROM {st} WHERE {event} <> 'truncate'), "
      "cand AS (SELECT {e_keys}{e_values}, e.__cdc_seq, e.__cdc_is_delete "
      "  FROM {ev} e CROSS JOIN {tr} t LEFT JOIN s ON {e_s} "
      "  WHERE NOT e.__cdc_is_truncate AND (t.t_new IS NULL OR e.__cdc_seq > t.t_new) "
      "    AND (s.{seq} IS NULL OR e.__cdc_seq > s.{seq} OR (e.__cdc_seq = s.{seq} "
      "      AND e.__cdc_is_delete AND s.{event} = 'upsert')) "
      "  QUALIFY row_number() OVER (PARTITION BY {e_keys}, e.__cdc_seq "
      "    ORDER BY e.__cdc_is_delete DESC{e_desc}) = 1), "
      "w AS (SELECT *, max(CASE WHEN __cdc_is_delete THEN __cdc_seq END) "
      "    OVER (PARTITION BY {keys}) AS __cdc_last_delete FROM cand), "
      "fin AS (SELECT {keys}, __cdc_seq, __cdc_is_delete, __cdc_last_delete{merged} FROM w "
      "  {wk}QUALIFY __cdc_seq = max(__cdc_seq) OVER (PARTITION BY {keys})) "
      "SELECT {f_keys}, f.__cdc_seq, f.__cdc_is_delete{final_values} "
      "FROM fin f CROSS JOIN {tr} t LEFT JOIN s ON {f_s} LEFT JOIN {target} tg ON {f_tg}",
      fmt::arg("out", Q(out)), fmt::arg("keys", keys), fmt::arg("event", event),
      fmt::arg("seq", seq), fmt::arg("st", Q(st)), fmt::arg("e_keys", List(r.keys, "e")),
      fmt::arg("e_values", Tail(r.values, "e")), fmt::arg("ev", Q(ev)), fmt::arg("tr", Q(tr)),
      fmt::arg("e_s", KeysMatch(r.keys, "e", "s")), fmt::arg("e_desc", ValuesDesc(r, "e")),
      fmt::arg("merged", merged),
      fmt::arg("wk", merged.find(" OVER wk ") == std::string::npos
                         ? ""
                         : fmt::format("WINDOW wk AS (PARTITION BY {} ORDER BY __cdc_seq {}) ",
                                       keys, RowsFrame())),
      fmt::arg("f_keys", List(r.keys, "f")), fmt::arg("final_values", final_values),
      fmt::arg("f_s", KeysMatch(r.keys, "f", "s")), fmt::arg("target", Q(target)),
      fmt::arg("f_tg", KeysMatch(r.keys, "f", "tg")))));

  const std::vector<std::string> cols = r.TargetColumns();
  // Truncated: the rows of keys without events survive when their latest event is above the
  // truncate point.
  std::string survivors;
  if (result.truncated) {
    survivors = fmt::format(
        " UNION ALL SELECT {tg_cols} FROM {target} tg "
        "JOIN (SELECT {keys}, {seq} FROM {st} WHERE {event} = 'upsert') s ON {tg_s} "
        "CROSS JOIN {tr} t WHERE s.{seq} > t.t_new "
        "AND NOT EXISTS (SELECT 1 FROM {out} o WHERE {o_tg})",
        fmt::arg("tg_cols", List(cols, "tg")), fmt::arg("target", Q(target)),
        fmt::arg("keys", keys), fmt::arg("seq", seq), fmt::arg("st", Q(st)),
        fmt::arg("event", event), fmt::arg("tg_s", KeysMatch(r.keys, "tg", "s")),
        fmt::arg("tr", Q(tr)), fmt::arg("out", Q(out)),
        fmt::arg("o_tg", KeysMatch(r.keys, "o", "tg")));
  }
  std::string old_rows =
      result.truncated ? fmt::format("SELECT {} FROM {}", List(cols), Q(target))
                       : fmt::format("SELECT {} FROM {} tg SEMI JOIN {} o ON {}", List(cols, "tg"),
                                     Q(target), Q(out), KeysMatch(r.keys, "tg", "o"));
  RETURN_NOT_OK(conn.Execute(fmt::format(
      "CREATE OR REPLACE TEMP TABLE {rows} AS SELECT {cols} FROM {out} "
      "WHERE NOT __cdc_is_delete{survivors}; "
      "CREATE OR REPLACE TEMP TABLE {old} AS {old_rows}; "
      // The new state: untouched records above the truncate point, the outcomes, the point.
      "CREATE OR REPLACE TEMP TABLE {new_state} AS "
      "SELECT {s_keys}, s.{event}, s.{seq}, s.{at} FROM {st} s CROSS JOIN {tr} t "
      "WHERE s.{event} <> 'truncate' AND (t.t_new IS NULL OR s.{seq} > t.t_new) "
      "  AND NOT EXISTS (SELECT 1 FROM {out} o WHERE {o_s}) "
      "UNION ALL SELECT {keys}, CASE WHEN __cdc_is_delete THEN 'delete' ELSE 'upsert' END, "
      "  __cdc_seq, {now}::BIGINT FROM {out} "
      "UNION ALL SELECT {null_keys}, 'truncate', t_new, "
      "  CASE WHEN fired THEN {now}::BIGINT ELSE t_old_at END FROM {tr} WHERE t_new IS NOT NULL",
      fmt::arg("rows", Q(result.rows)), fmt::arg("cols", List(cols)), fmt::arg("out", Q(out)),
      fmt::arg("survivors", survivors), fmt::arg("old", Q(result.old)),
      fmt::arg("old_rows", old_rows), fmt::arg("new_state", Q(new_state)),
      fmt::arg("s_keys", List(r.keys, "s")), fmt::arg("event", event), fmt::arg("seq", seq),
      fmt::arg("at", Q(kRecordedAtColumn)), fmt::arg("st", Q(st)), fmt::arg("tr", Q(tr)),
      fmt::arg("o_s", KeysMatch(r.keys, "o", "s")), fmt::arg("keys", keys), fmt::arg("now", now_ms),
      fmt::arg("null_keys", [&] {
        std::string n;
        for (size_t i = 0; i < r.keys.size(); ++i) n += i ? ", NULL" : "NULL";
        return n;
      }()))));
  return result;
}

// SCD type 2 (auto_cdc.h): each touched key's history is replayed from its events: the state's,
// those its target rows imply, and the batch's.
Result<Outcome> ApplyScd2(engine::Connection& conn, const Resolved& r, ScratchTables& scratch,
                          const std::string& ev, const std::string& st, const std::string& target,
                          const std::string& new_state, int64_t now_ms) {
  const std::string keyset = scratch.Add("keys");
  const std::string replay = scratch.Add("replay");
  const std::string versions = scratch.Add("versions");
  Outcome result;
  result.rows = scratch.Add("rows");
  result.old = scratch.Add("old");
  const std::string seq = Q(kSeqColumn);
  const std::string event = Q(kEventColumn);
  const std::string at = Q(kRecordedAtColumn);
  const std::string start = Q(kStartAtColumn);
  const std::string end = Q(kEndAtColumn);
  const std::string keys = List(r.keys);
  std::string null_values, ev_values;
  for (const std::string& v : r.values) {
    null_values += ", NULL";
    ev_values += fmt::format(", CASE WHEN __cdc_is_delete THEN NULL ELSE {} END", Q(v));
  }

  // The replay set: every event of the touched keys, one per (key, sequence).
  RETURN_NOT_OK(conn.Execute(fmt::format(
      "CREATE OR REPLACE TEMP TABLE {keyset} AS SELECT DISTINCT {keys} FROM {ev}; "
      "CREATE OR REPLACE TEMP TABLE {old} AS SELECT {tg_cols} FROM {target} tg "
      "  SEMI JOIN {keyset} k ON {tg_k}; "
      "CREATE OR REPLACE TEMP TABLE {replay} AS "
      "WITH stk AS (SELECT s.* FROM {st} s SEMI JOIN {keyset} k ON {s_k}), "
      "allev AS ("
      "  SELECT {keys}{values}, {seq} AS __cdc_seq, {event} = 'delete' AS __cdc_is_delete, "
      "    0 AS __cdc_origin, {at} AS __cdc_recorded_at FROM stk "
      "  UNION ALL SELECT {o_keys}{o_values}, o.{start}, false, 1, NULL FROM {old} o "
      "    WHERE NOT EXISTS (SELECT 1 FROM stk s WHERE {s_o} AND s.{seq} = o.{start}) "
      "  UNION ALL SELECT {o_keys}{null_values}, o.{end}, true, 1, NULL FROM {old} o "
      "    WHERE o.{end} IS NOT NULL AND NOT EXISTS (SELECT 1 FROM {old} o2 "
      "      WHERE {o2_o} AND o2.{start} = o.{end}) "
      "  UNION ALL SELECT {keys}{ev_values}, __cdc_seq, __cdc_is_delete, 2, {now}::BIGINT "
      "    FROM {ev}) "
      "SELECT * FROM allev QUALIFY row_number() OVER (PARTITION BY {keys}, __cdc_seq "
      "  ORDER BY __cdc_is_delete DESC{desc}, __cdc_origin) = 1",
      fmt::arg("keyset", Q(keyset)), fmt::arg("keys", keys), fmt::arg("ev", Q(ev)),
      fmt::arg("old", Q(result.old)), fmt::arg("tg_cols", List(r.TargetColumns(), "tg")),
      fmt::arg("target", Q(target)), fmt::arg("tg_k", KeysMatch(r.keys, "tg", "k")),
      fmt::arg("replay", Q(replay)), fmt::arg("st", Q(st)),
      fmt::arg("s_k", KeysMatch(r.keys, "s", "k")), fmt::arg("values", Tail(r.values)),
      fmt::arg("seq", seq), fmt::arg("event", event), fmt::arg("at", at),
      fmt::arg("o_keys", List(r.keys, "o")), fmt::arg("o_values", Tail(r.values, "o")),
      fmt::arg("start", start), fmt::arg("s_o", KeysMatch(r.keys, "s", "o")),
      fmt::arg("null_values", null_values), fmt::arg("end", end),
      fmt::arg("o2_o", KeysMatch(r.keys, "o2", "o")), fmt::arg("ev_values", ev_values),
      fmt::arg("now", now_ms), fmt::arg("desc", ValuesDesc(r)))));

  // The versions: segments between deletes; in a segment an upsert opens a version when it is
  // the first or its tracked (merged) values differ from the previous upsert's.
  std::string merged, opens, last;
  bool any_ignore = false;
  for (size_t i = 0; i < r.values.size(); ++i) {
    const std::string v = Q(r.values[i]);
    if (r.ignore_null[i]) {
      any_ignore = true;
      merged += fmt::format(", last_value({} IGNORE NULLS) OVER ws AS __cdc_m{}", v, i);
    } else {
      merged += fmt::format(", {} AS __cdc_m{}", v, i);
    }
    if (r.tracked[i]) {
      opens += fmt::format(" OR __cdc_m{0} IS DISTINCT FROM lag(__cdc_m{0}) OVER wo", i);
    }
    last += fmt::format(", last_value(__cdc_m{0}) OVER wv AS __cdc_f{0}", i);
  }
  RETURN_NOT_OK(conn.Execute(fmt::format(
      "CREATE OR REPLACE TEMP TABLE {versions} AS "
      "WITH e AS (SELECT *, sum(__cdc_is_delete::INTEGER) OVER (PARTITION BY {keys} "
      "    ORDER BY __cdc_seq {running}) AS __cdc_segment FROM {replay}), "
      "u AS (SELECT *{merged} FROM e WHERE NOT __cdc_is_delete{ws}), "
      "o AS (SELECT *, (row_number() OVER wo = 1{opens}) AS __cdc_opens FROM u "
      "  WINDOW wo AS (PARTITION BY {keys}, __cdc_segment ORDER BY __cdc_seq)), "
      "vv AS (SELECT *, sum(__cdc_opens::INTEGER) OVER (PARTITION BY {keys} "
      "    ORDER BY __cdc_seq {running}) AS __cdc_version FROM o), "
      "f AS (SELECT *{last} FROM vv{wv}), "
      "b AS (SELECT {keys}, __cdc_seq, __cdc_is_delete, "
      "    lead(__cdc_seq) OVER (PARTITION BY {keys} ORDER BY __cdc_seq) AS __cdc_next "
      "  FROM (SELECT {keys}, __cdc_seq, false AS __cdc_is_delete FROM o WHERE __cdc_opens "
      "    UNION ALL SELECT {keys}, __cdc_seq, true FROM e WHERE __cdc_is_delete)) "
      "SELECT f.*, b.__cdc_next FROM f LEFT JOIN b ON {f_b} AND f.__cdc_seq = b.__cdc_seq "
      "  AND NOT b.__cdc_is_delete",
      fmt::arg("versions", Q(versions)), fmt::arg("keys", keys),
      fmt::arg("running", RunningFrame()), fmt::arg("replay", Q(replay)),
      fmt::arg("merged", merged),
      fmt::arg("ws", any_ignore ? fmt::format(" WINDOW ws AS (PARTITION BY {}, __cdc_segment "
                                              "ORDER BY __cdc_seq {})",
                                              keys, RunningFrame())
                                : ""),
      fmt::arg("opens", opens), fmt::arg("last", last),
      fmt::arg("wv", last.empty() ? ""
                                  : fmt::format(" WINDOW wv AS (PARTITION BY {}, __cdc_version "
                                                "ORDER BY __cdc_seq {})",
                                                keys, RowsFrame())),
      fmt::arg("f_b", KeysMatch(r.keys, "f", "b")))));

  // The new rows, and the new state: records of other keys, then the touched keys' events that
  // their rows cannot reproduce (auto_cdc.h, "Hidden state").
  std::string row_cols;
  for (const std::string& c : r.columns) {
    auto it = std::find(r.values.begin(), r.values.end(), c);
    row_cols += row_cols.empty() ? "" : ", ";
    row_cols +=
        it == r.values.end() ? Q(c) : fmt::format("__cdc_f{} AS {}", it - r.values.begin(), Q(c));
  }
  std::string plain;  // the upsert opened its version and its values are the version's
  for (size_t i = 0; i < r.values.size(); ++i) {
    plain += fmt::format(" AND {} IS NOT DISTINCT FROM __cdc_f{}", Q(r.values[i]), i);
  }
  RETURN_NOT_OK(conn.Execute(fmt::format(
      "CREATE OR REPLACE TEMP TABLE {rows} AS SELECT {row_cols}, __cdc_seq AS {start}, "
      "  __cdc_next AS {end} FROM {versions} WHERE __cdc_opens; "
      "CREATE OR REPLACE TEMP TABLE {new_state} AS "
      "SELECT {s_keys}, s.{event}, s.{seq}, s.{at}{s_values} FROM {st} s "
      "  ANTI JOIN {keyset} k ON {s_k} "
      "UNION ALL SELECT {keys}, 'upsert', __cdc_seq, CASE WHEN __cdc_origin = 0 "
      "  THEN __cdc_recorded_at ELSE {now}::BIGINT END{values} FROM {versions} "
      "  WHERE NOT (__cdc_opens{plain}) "
      "UNION ALL SELECT {keys}, 'delete', __cdc_seq, CASE WHEN __cdc_origin = 0 "
      "  THEN __cdc_recorded_at ELSE {now}::BIGINT END{null_values} "
      "  FROM (SELECT *, lag(__cdc_is_delete) OVER (PARTITION BY {keys} ORDER BY __cdc_seq) "
      "    AS __cdc_prev_is_delete FROM {replay}) "
      "  WHERE __cdc_is_delete AND __cdc_prev_is_delete IS DISTINCT FROM false",
      fmt::arg("rows", Q(result.rows)), fmt::arg("row_cols", row_cols), fmt::arg("start", start),
      fmt::arg("end", end), fmt::arg("versions", Q(versions)), fmt::arg("new_state", Q(new_state)),
      fmt::arg("s_keys", List(r.keys, "s")), fmt::arg("event", event), fmt::arg("seq", seq),
      fmt::arg("at", at), fmt::arg("s_values", Tail(r.values, "s")), fmt::arg("st", Q(st)),
      fmt::arg("keyset", Q(keyset)), fmt::arg("s_k", KeysMatch(r.keys, "s", "k")),
      fmt::arg("keys", keys), fmt::arg("now", now_ms), fmt::arg("values", Tail(r.values)),
      fmt::arg("plain", plain), fmt::arg("null_values", null_values),
      fmt::arg("replay", Q(replay)))));
  return result;
}

}  // namespace

Result<AutoCdcOptions> AutoCdcOptionsFromProperties(
    const std::map<std::string, std::string>& table_properties) {
  AutoCdcOptions options;
  for (const auto& [key, value] : table_properties) {
    if (AsciiLower(key) != AsciiLower(kTombstoneGcThresholdProperty)) continue;
    int64_t seconds = -1;
    auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), seconds);
    if (ec != std::errc() || ptr != value.data() + value.size() || seconds < 0) {
      return Status::InvalidArgument(fmt::format(
          "table property {} = '{}': expected a whole number of seconds >= 0", key, value));
    }
    options.tombstone_gc_threshold_seconds = seconds;
  }
  return options;
}

Result<std::vector<AutoCdcColumn>> AutoCdcTargetSchema(engine::Connection& conn,
                                                       const AutoCdcDefinition& cdc,
                                                       std::string_view source_table) {
  ASSIGN_OR_RETURN(Resolved r, Resolve(conn, cdc, source_table));
  RETURN_NOT_OK(BindExpressions(conn, r, source_table));
  ASSIGN_OR_RETURN_CTX(engine::QueryResult shape, conn.Query(TargetShapeSql(r, source_table)),
                       "AUTO CDC");
  std::vector<AutoCdcColumn> out;
  for (size_t i = 0; i < shape.column_count(); ++i) {
    out.push_back(AutoCdcColumn{shape.column_name(i), shape.column_type(i)});
  }
  return out;
}

Status CreateAutoCdcTarget(engine::Connection& conn, const AutoCdcDefinition& cdc,
                           std::string_view source_table, std::string_view table) {
  ASSIGN_OR_RETURN(Resolved r, Resolve(conn, cdc, source_table));
  RETURN_NOT_OK(BindExpressions(conn, r, source_table));
  return conn
      .Execute(fmt::format("CREATE OR REPLACE TEMP TABLE {} AS {}", Q(table),
                           TargetShapeSql(r, source_table)))
      .WithContext("AUTO CDC");
}

Status CreateAutoCdcState(engine::Connection& conn, const AutoCdcDefinition& cdc,
                          std::string_view source_table, std::string_view table) {
  ASSIGN_OR_RETURN(Resolved r, Resolve(conn, cdc, source_table));
  RETURN_NOT_OK(BindExpressions(conn, r, source_table));
  return conn
      .Execute(fmt::format("CREATE OR REPLACE TEMP TABLE {} AS {}", Q(table),
                           StateShapeSql(r, source_table)))
      .WithContext("AUTO CDC");
}

Result<AutoCdcOutput> ApplyAutoCdc(engine::Connection& conn, const AutoCdcDefinition& cdc,
                                   const AutoCdcInput& input, const AutoCdcOptions& options) {
  if (input.changes_table.empty()) {
    return Status::InvalidArgument("AUTO CDC: no changes table given");
  }
  if (input.output_prefix.empty()) {
    return Status::InvalidArgument("AUTO CDC: the output prefix is empty");
  }
  if (options.tombstone_gc_threshold_seconds < 0) {
    return Status::InvalidArgument(fmt::format("AUTO CDC: {} is negative ({})",
                                               kTombstoneGcThresholdProperty,
                                               options.tombstone_gc_threshold_seconds));
  }
  const std::string prefix = AsciiLower(input.output_prefix + "_");
  for (const std::string* name : {&input.target_table, &input.state_table, &input.changes_table}) {
    if (AsciiLower(*name).rfind(prefix, 0) == 0) {
      return Status::InvalidArgument(fmt::format(
          "AUTO CDC: the input table {} starts with the output prefix {}", *name, prefix));
    }
  }
  ASSIGN_OR_RETURN(Resolved r, Resolve(conn, cdc, input.changes_table));

  ScratchTables scratch(conn, input.output_prefix);
  std::string target = input.target_table;
  if (target.empty()) {
    target = scratch.Add("target");
    RETURN_NOT_OK_CTX(conn.Execute(fmt::format("CREATE OR REPLACE TEMP TABLE {} AS {}", Q(target),
                                               TargetShapeSql(r, input.changes_table))),
                      "AUTO CDC");
  }
  std::string state = input.state_table;
  if (state.empty()) {
    state = scratch.Add("state");
    RETURN_NOT_OK_CTX(conn.Execute(fmt::format("CREATE OR REPLACE TEMP TABLE {} AS {}", Q(state),
                                               StateShapeSql(r, input.changes_table))),
                      "AUTO CDC");
  }

  // The batch's events, and the state with expired tombstones purged.
  const std::string ev = scratch.Add("events");
  const std::string st = scratch.Add("state_gc");
  RETURN_NOT_OK_CTX(
      conn.Execute(fmt::format(
          "CREATE OR REPLACE TEMP TABLE {ev} AS SELECT {keys}{values}, {seq} AS __cdc_seq, "
          "{truncate} AS __cdc_is_truncate, NOT {truncate} AND {delete} AS __cdc_is_delete, "
          "{seq_null} AS __cdc_seq_is_null FROM {changes}",
          fmt::arg("ev", Q(ev)), fmt::arg("keys", List(r.keys)), fmt::arg("values", Tail(r.values)),
          fmt::arg("seq", r.sequence), fmt::arg("truncate", r.is_truncate),
          fmt::arg("delete", r.is_delete), fmt::arg("seq_null", r.sequence_is_null),
          fmt::arg("changes", Q(input.changes_table)))),
      "AUTO CDC");
  ASSIGN_OR_RETURN(engine::QueryResult nulls,
                   conn.Query(fmt::format("SELECT {} FROM {} WHERE __cdc_seq_is_null LIMIT 1",
                                          List(r.keys), Q(ev))));
  if (nulls.row_count() > 0) {
    std::string key;
    for (size_t i = 0; i < nulls.column_count(); ++i) {
      key += fmt::format("{}{}={}", i ? ", " : "", nulls.column_name(i), nulls.GetText(i, 0));
    }
    return Status::InvalidArgument(fmt::format(
        "AUTO CDC: SEQUENCE BY {} is NULL for the change with key {} (NULL sequence values are "
        "not supported)",
        r.sequence_text, key));
  }
  // Tombstones recorded before now - threshold expire (none when that is before INT64_MIN).
  const int64_t threshold_ms = options.tombstone_gc_threshold_seconds > INT64_MAX / 1000
                                   ? INT64_MAX
                                   : options.tombstone_gc_threshold_seconds * 1000;
  const std::string expired = input.now_ms < INT64_MIN + threshold_ms
                                  ? "false"
                                  : fmt::format("{} = 'delete' AND {} < ({})", Q(kEventColumn),
                                                Q(kRecordedAtColumn), input.now_ms - threshold_ms);
  RETURN_NOT_OK_CTX(conn.Execute(fmt::format("CREATE OR REPLACE TEMP TABLE {} AS SELECT {} FROM {} "
                                             "WHERE NOT ({})",
                                             Q(st), List(StateColumns(r)), Q(state), expired)),
                    fmt::format("AUTO CDC state {}", state));

  AutoCdcOutput output;
  output.touched_keys_table = input.output_prefix + "_touched_keys";
  output.target_rows_table = input.output_prefix + "_target_rows";
  output.new_state_table = input.output_prefix + "_state";
  Result<Outcome> outcome =
      r.scd_type == 1
          ? ApplyScd1(conn, r, scratch, ev, st, target, output.new_state_table, input.now_ms)
          : ApplyScd2(conn, r, scratch, ev, st, target, output.new_state_table, input.now_ms);
  if (!outcome.ok()) return outcome.status().WithContext("AUTO CDC");
  output.truncated = outcome->truncated;
  const std::string& rows = outcome->rows;
  const std::string& old = outcome->old;

  // The touched keys: those whose rows differ between old and new; their rows; the metrics.
  const std::vector<std::string> cols = r.TargetColumns();
  std::string same_identity = KeysMatch(r.keys, "x", "o");
  if (r.scd_type == 2) {
    same_identity += fmt::format(" AND x.{0} IS NOT DISTINCT FROM o.{0}", Q(kStartAtColumn));
  }
  RETURN_NOT_OK_CTX(
      conn.Execute(fmt::format(
          "CREATE OR REPLACE TEMP TABLE {touched} AS SELECT DISTINCT {keys} FROM ("
          "(SELECT {cols} FROM {rows} EXCEPT SELECT {cols} FROM {old}) UNION ALL "
          "(SELECT {cols} FROM {old} EXCEPT SELECT {cols} FROM {rows})) d; "
          "CREATE OR REPLACE TEMP TABLE {target_rows} AS {new_rows}",
          fmt::arg("touched", Q(output.touched_keys_table)), fmt::arg("keys", List(r.keys)),
          fmt::arg("cols", List(cols)), fmt::arg("rows", Q(rows)), fmt::arg("old", Q(old)),
          fmt::arg("target_rows", Q(output.target_rows_table)),
          fmt::arg("new_rows",
                   output.truncated
                       ? fmt::format("SELECT {} FROM {}", List(cols), Q(rows))
                       : fmt::format("SELECT {} FROM {} x SEMI JOIN {} k ON {}", List(cols, "x"),
                                     Q(rows), Q(output.touched_keys_table),
                                     KeysMatch(r.keys, "x", "k"))))),
      "AUTO CDC");
  ASSIGN_OR_RETURN_CTX(
      engine::QueryResult counts,
      conn.Query(fmt::format(
          "SELECT (SELECT count(*) FROM (SELECT {cols} FROM {target_rows} EXCEPT ALL "
          "SELECT {cols} FROM {old}) d), (SELECT count(*) FROM {old} o WHERE NOT EXISTS "
          "(SELECT 1 FROM {rows} x WHERE {same}))",
          fmt::arg("cols", List(cols)), fmt::arg("target_rows", Q(output.target_rows_table)),
          fmt::arg("old", Q(old)), fmt::arg("rows", Q(rows)), fmt::arg("same", same_identity))),
      "AUTO CDC");
  ASSIGN_OR_RETURN(output.num_upserted_rows, counts.GetInt64(0, 0));
  ASSIGN_OR_RETURN(output.num_deleted_rows, counts.GetInt64(1, 0));
  return output;
}

Status ApplyAutoCdcOutput(engine::Connection& conn, const AutoCdcOutput& output,
                          std::string_view target_table, std::string_view state_table) {
  ASSIGN_OR_RETURN(engine::QueryResult keys, conn.Query(fmt::format("SELECT * FROM {} LIMIT 0",
                                                                    Q(output.touched_keys_table))));
  std::vector<std::string> key_names;
  for (size_t i = 0; i < keys.column_count(); ++i) key_names.push_back(keys.column_name(i));
  std::string remove =
      output.truncated ? fmt::format("DELETE FROM {}", Q(target_table))
                       : fmt::format("DELETE FROM {0} WHERE EXISTS (SELECT 1 FROM {1} k WHERE {2})",
                                     Q(target_table), Q(output.touched_keys_table),
                                     KeysMatch(key_names, Q(target_table), "k"));
  return conn.Execute(fmt::format(
      "{remove}; INSERT INTO {target} BY NAME SELECT * FROM {rows}; DELETE FROM {state}; "
      "INSERT INTO {state} BY NAME SELECT * FROM {new_state}",
      fmt::arg("remove", remove), fmt::arg("target", Q(target_table)),
      fmt::arg("rows", Q(output.target_rows_table)), fmt::arg("state", Q(state_table)),
      fmt::arg("new_state", Q(output.new_state_table))));
}

}  // namespace medallion::pipeline
