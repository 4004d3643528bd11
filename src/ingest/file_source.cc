#include "common/text.h"
#include "ingest/file_source.h"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <ctime>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "common/macros.h"
#include "engine/sql_text.h"
#include "ingest/csv_layout.h"

namespace medallion::ingest {
namespace {

using engine::QuoteIdentifier;
using engine::QuoteString;

// ---------------------------------------------------------------------------------------------
// Small helpers

bool StartsWith(std::string_view text, std::string_view prefix) {
  return text.substr(0, prefix.size()) == prefix;
}

std::string FileName(std::string_view path) {
  size_t slash = path.rfind('/');
  return std::string(slash == std::string_view::npos ? path : path.substr(slash + 1));
}

// "2024-01-02 03:04:05.123456+00" for microseconds since the epoch.
std::string TimestampLiteral(int64_t micros) {
  int64_t seconds = micros / 1000000;
  int64_t fraction = micros % 1000000;
  if (fraction < 0) {
    fraction += 1000000;
    --seconds;
  }
  std::time_t t = static_cast<std::time_t>(seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  return fmt::format("TIMESTAMPTZ '{:04}-{:02}-{:02} {:02}:{:02}:{:02}.{:06}+00'",
                     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                     tm.tm_sec, fraction);
}

std::string FileListSql(const std::vector<std::string>& paths) {
  std::string out = "[";
  for (size_t i = 0; i < paths.size(); ++i) {
    if (i > 0) out += ", ";
    out += QuoteString(paths[i]);
  }
  return out + "]";
}

std::vector<std::string> Paths(const std::vector<SourceFile>& files) {
  std::vector<std::string> out;
  out.reserve(files.size());
  for (const SourceFile& file : files) out.push_back(file.path);
  return out;
}

// The list literal of schema names, for membership tests in SQL.
std::string NameListSql(const SourceSchema& schema, bool lower) {
  std::string out = "[";
  for (size_t i = 0; i < schema.columns.size(); ++i) {
    if (i > 0) out += ", ";
    out += QuoteString(lower ? AsciiLower(schema.columns[i].name) : schema.columns[i].name);
  }
  return out + "]::VARCHAR[]";
}

// Internal column names of the generated SQL.
std::string SourceCol(size_t i) { return "__mdl_s" + std::to_string(i); }
std::string TypedCol(size_t i) { return "__mdl_t" + std::to_string(i); }
constexpr const char* kExtrasCol = "__mdl_x";   // LIST(STRUCT(k VARCHAR, v JSON))
constexpr const char* kPathCol = "__mdl_path";  // the row's file
constexpr const char* kBadCol = "__mdl_bad";    // a malformed record
constexpr const char* kRawCol = "__mdl_raw";    // its text
constexpr const char* kLineCol = "__mdl_line";  // its line
constexpr const char* kEmptyExtras = "[]::STRUCT(k VARCHAR, v JSON)[]";

// ---------------------------------------------------------------------------------------------
// Type classes of DuckDB type text (as DESCRIBE spells it, or as spark_type.h produces it)

enum class TypeClass { kVarchar, kJson, kInteger, kNumeric, kBoolean, kNested, kOther };

TypeClass Classify(std::string_view type) {
  std::string upper(type);
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (upper == "VARCHAR" || upper == "STRING" || upper == "TEXT") return TypeClass::kVarchar;
  if (upper == "JSON") return TypeClass::kJson;
  static const std::set<std::string> kIntegers = {"TINYINT",  "SMALLINT",  "INTEGER",
                                                  "BIGINT",   "HUGEINT",   "UTINYINT",
                                                  "USMALLINT", "UINTEGER", "UBIGINT",
                                                  "UHUGEINT", "INT"};
  if (kIntegers.count(upper) > 0) return TypeClass::kInteger;
  if (upper == "FLOAT" || upper == "DOUBLE" || upper == "REAL" || StartsWith(upper, "DECIMAL")) {
    return TypeClass::kNumeric;
  }
  if (upper == "BOOLEAN") return TypeClass::kBoolean;
  if (StartsWith(upper, "STRUCT") || StartsWith(upper, "MAP") || StartsWith(upper, "UNION") ||
      (!upper.empty() && upper.back() == ']')) {
    return TypeClass::kNested;
  }
  return TypeClass::kOther;
}

// A whole number in a CSV field, as a SQL string for regexp_full_match.
constexpr const char* kIntegerPattern = "'\\s*[+-]?[0-9]+\\s*'";

// The precision of a DECIMAL(p,s) type text; 0 for anything else (plain DECIMAL included).
int DecimalPrecision(std::string_view type) {
  std::string lower = AsciiLower(type);
  if (!StartsWith(lower, "decimal(") && !StartsWith(lower, "numeric(")) return 0;
  int precision = 0;
  for (size_t i = lower.find('(') + 1;
       i < lower.size() && std::isdigit(static_cast<unsigned char>(lower[i])); ++i) {
    precision = precision * 10 + (lower[i] - '0');
  }
  return precision;
}

// The typed value of a VARCHAR CSV field `s` (Spark's CSV parsing rules, approximately: integers
// must be whole numbers, booleans true/false in any case).
std::string CsvTypedExpr(const std::string& s, const std::string& type) {
  switch (Classify(type)) {
    case TypeClass::kVarchar:
      return s;
    case TypeClass::kInteger:
      return fmt::format("CASE WHEN regexp_full_match({0}, {2}) THEN TRY_CAST({0} AS {1}) END", s,
                         type, kIntegerPattern);
    case TypeClass::kBoolean:
      return fmt::format(
          "CASE lower(trim({})) WHEN 'true' THEN true WHEN 'false' THEN false END", s);
    case TypeClass::kNumeric:
      if (DecimalPrecision(type) > 18) {
        // DuckDB's VARCHAR -> DECIMAL cast is slow beyond 18 digits (a few microseconds a
        // value); a whole number goes through HUGEINT instead, with the same result.
        return fmt::format(
            "CASE WHEN regexp_full_match({0}, {2}) THEN TRY_CAST(TRY_CAST({0} AS HUGEINT) AS {1}) "
            "ELSE TRY_CAST({0} AS {1}) END",
            s, type, kIntegerPattern);
      }
      return fmt::format("TRY_CAST({} AS {})", s, type);
    default:
      return fmt::format("TRY_CAST({} AS {})", s, type);
  }
}

// The typed value of a JSON value `v` (NULL for JSON null; Spark's JSON parser rules: numbers for
// numeric types, true/false for BOOLEAN, strings for dates, timestamps and binary; anything
// for STRING, where non-strings keep their JSON text).
std::string JsonTypedExpr(const std::string& v, const std::string& type) {
  switch (Classify(type)) {
    case TypeClass::kVarchar:
      return fmt::format(
          "CASE json_type({0}) WHEN 'NULL' THEN NULL WHEN 'VARCHAR' THEN "
          "json_extract_string({0}, '$') ELSE {0}::VARCHAR END",
          v);
    case TypeClass::kJson:
      return fmt::format("CASE WHEN json_type({0}) <> 'NULL' THEN {0} END", v);
    case TypeClass::kInteger:
      return fmt::format(
          "CASE WHEN json_type({0}) IN ('BIGINT', 'UBIGINT') THEN TRY_CAST({0} AS {1}) END", v,
          type);
    case TypeClass::kNumeric:
      return fmt::format(
          "CASE WHEN json_type({0}) IN ('BIGINT', 'UBIGINT', 'DOUBLE') THEN TRY_CAST({0} AS {1}) "
          "END",
          v, type);
    case TypeClass::kBoolean:
      return fmt::format("CASE WHEN json_type({0}) = 'BOOLEAN' THEN TRY_CAST({0} AS BOOLEAN) END",
                         v);
    case TypeClass::kNested:
      return fmt::format(
          "CASE WHEN json_type({0}) IN ('OBJECT', 'ARRAY') THEN TRY(json_transform({0}, {1})) END",
          v, QuoteString(nlohmann::json(type).dump()));
    case TypeClass::kOther:
      if (AsciiLower(type) == "blob") {
        return fmt::format(
            "CASE WHEN json_type({0}) = 'VARCHAR' THEN TRY(from_base64(json_extract_string({0}, "
            "'$'))) END",
            v);
      }
      return fmt::format(
          "CASE WHEN json_type({0}) = 'VARCHAR' THEN TRY_CAST(json_extract_string({0}, '$') AS "
          "{1}) END",
          v, type);
  }
  return "NULL";
}

// ---------------------------------------------------------------------------------------------
// The shared shape of every read: a `__mdl_src` relation with one source column per schema
// column (SourceCol(i); VARCHAR for CSV, JSON for JSON, the file's type for Parquet), the extras
// (kExtrasCol), the file (kPathCol), and for malformed records kBadCol / kRawCol / kLineCol.
// The final SELECT types the sources, builds the rescued data column and `_metadata`.

enum class SourceKind { kCsv, kJson, kParquet, kText };

struct ReadShape {
  SourceKind kind;
  // Parquet: the batch's type for each schema column's source ("" when the batch lacks it).
  std::vector<std::string> parquet_source_types;
  // Whether some record may have extras (kExtrasCol not empty).
  bool may_have_extras = false;
};

std::string FilesCte(const std::vector<SourceFile>& files) {
  std::string values;
  for (size_t i = 0; i < files.size(); ++i) {
    const SourceFile& file = files[i];
    if (i > 0) values += ",\n    ";
    values += fmt::format("({}, {}, {}::BIGINT, {})", QuoteString(file.path),
                          QuoteString(FileName(file.path)), file.size,
                          TimestampLiteral(file.modification_time));
  }
  return fmt::format(
      "__mdl_files(__mdl_fpath, __mdl_fname, __mdl_fsize, __mdl_fmtime) AS (VALUES\n    {})",
      values);
}

constexpr const char* kMetadataExpr =
    "{'file_path': f.__mdl_fpath, 'file_name': f.__mdl_fname, 'file_size': f.__mdl_fsize, "
    "'file_block_start': 0::BIGINT, 'file_block_length': f.__mdl_fsize, "
    "'file_modification_time': f.__mdl_fmtime}";

std::string CorruptRecordJson(const std::string& raw, const std::string& path) {
  return fmt::format("'{{\"{}\":' || to_json({}) || ',\"{}\":' || to_json({}) || '}}'",
                     kCorruptRecordKey, raw, kRescuedFilePathKey, path);
}

std::string TypedExpr(const ReadShape& shape, size_t i, const std::string& type) {
  std::string s = SourceCol(i);
  switch (shape.kind) {
    case SourceKind::kCsv:
      return CsvTypedExpr(s, type);
    case SourceKind::kJson:
      return JsonTypedExpr(s, type);
    case SourceKind::kParquet: {
      const std::string& from = shape.parquet_source_types[i];
      if (from.empty()) return fmt::format("NULL::{}", type);
      if (from == type) return s;
      return fmt::format("TRY_CAST({} AS {})", s, type);
    }
    case SourceKind::kText:
      return s;
  }
  return s;
}

// The JSON form of a rescued source value, the source column qualified by `table`.
std::string RescuedValueExpr(const ReadShape& shape, size_t i, const std::string& table) {
  std::string s = table + "." + SourceCol(i);
  return shape.kind == SourceKind::kJson ? s : "to_json(" + s + ")";
}

// SELECT over `__mdl_src` (defined by the caller's WITH): typed columns, rescued, _metadata.
std::string FinalSelect(const FileSourceOptions& options, const SourceSchema& schema,
                        const ReadShape& shape, bool keep_malformed) {
  bool rescue = !options.rescued_data_column.empty();
  std::string typed;
  for (size_t i = 0; i < schema.columns.size(); ++i) {
    typed += fmt::format(", {} AS {}", TypedExpr(shape, i, schema.columns[i].type), TypedCol(i));
  }
  std::string sql = fmt::format("__mdl_typed AS (SELECT *{} FROM __mdl_src)", typed);
  sql += "\nSELECT ";
  for (size_t i = 0; i < schema.columns.size(); ++i) {
    sql += fmt::format("d.{} AS {}, ", TypedCol(i), QuoteIdentifier(schema.columns[i].name));
  }
  if (rescue) {
    // The rescued (key, JSON value) pairs of the record: its values that did not fit their type,
    // then its extras. The JSON object is built only for the records that have some, so that the
    // common record (nothing rescued) costs a few NULL tests. A column whose typed value is its
    // source value (VARCHAR from CSV, the same type in Parquet) has nothing to rescue.
    std::string entries;
    std::string any;
    for (size_t i = 0; i < schema.columns.size(); ++i) {
      if (TypedExpr(shape, i, schema.columns[i].type) == SourceCol(i)) continue;
      std::string failed =
          fmt::format("d.{} IS NOT NULL AND d.{} IS NULL", SourceCol(i), TypedCol(i));
      if (!entries.empty()) entries += ", ";
      entries += fmt::format("CASE WHEN {} THEN {{'k': {}, 'v': {}}} END", failed,
                             QuoteString(schema.columns[i].name), RescuedValueExpr(shape, i, "d"));
      if (!any.empty()) any += " OR ";
      any += "(" + failed + ")";
    }
    std::string extras = std::string("d.") + kExtrasCol;
    std::string list;
    if (shape.may_have_extras) {
      if (!any.empty()) any += " OR ";
      any += fmt::format("len({}) > 0", extras);
      list = entries.empty() ? extras : fmt::format("list_concat([{}], {})", entries, extras);
    } else {
      list = fmt::format("[{}]", entries);
    }
    std::string rescued =
        any.empty()
            ? std::string("NULL::VARCHAR")
            : fmt::format(
                  "CASE WHEN {} THEN '{{' || array_to_string(list_transform(list_filter({}, e -> "
                  "e IS NOT NULL), e -> to_json(e.k) || ':' || e.v), ',') || ',\"{}\":' || "
                  "to_json(d.{}) || '}}' END",
                  any, list, kRescuedFilePathKey, kPathCol);
    sql += fmt::format("CASE WHEN d.{} THEN {} ELSE {} END AS {}, ", kBadCol,
                       CorruptRecordJson(std::string("d.") + kRawCol, std::string("d.") + kPathCol),
                       rescued, QuoteIdentifier(options.rescued_data_column));
  }
  sql += fmt::format("{} AS {}\nFROM __mdl_typed d LEFT JOIN __mdl_files f ON f.__mdl_fpath = d.{}",
                     kMetadataExpr, QuoteIdentifier(kMetadataColumn), kPathCol);
  if (!keep_malformed) sql += fmt::format("\nWHERE NOT d.{}", kBadCol);
  return sql;
}

// ---------------------------------------------------------------------------------------------
// CSV

struct CsvColumnMap {
  // For each schema column, the group's column index, or -1.
  std::vector<int> source;
  // Group columns not used for a schema column.
  std::vector<size_t> extras;
};

CsvColumnMap MapCsvColumns(const CsvFileGroup& group, const SourceSchema& schema,
                           bool case_sensitive) {
  CsvColumnMap map;
  std::vector<bool> used(group.names.size(), false);
  for (const SourceColumn& column : schema.columns) {
    int found = -1;
    for (size_t j = 0; j < group.names.size() && found < 0; ++j) {
      if (!used[j] && group.names[j] == column.name) found = static_cast<int>(j);
    }
    if (found < 0 && !case_sensitive) {
      for (size_t j = 0; j < group.names.size() && found < 0; ++j) {
        if (!used[j] && EqualsIgnoreCase(group.names[j], column.name)) {
          found = static_cast<int>(j);
        }
      }
    }
    if (found >= 0) used[static_cast<size_t>(found)] = true;
    map.source.push_back(found);
  }
  for (size_t j = 0; j < group.names.size(); ++j) {
    if (!used[j]) map.extras.push_back(j);
  }
  return map;
}

std::string CsvFieldExpr(size_t j, const CsvOptions& options) {
  std::string col = CsvInternalColumn(j);
  if (options.ignore_leading_white_space && options.ignore_trailing_white_space) {
    return "trim(" + col + ")";
  }
  if (options.ignore_leading_white_space) return "ltrim(" + col + ")";
  if (options.ignore_trailing_white_space) return "rtrim(" + col + ")";
  return col;
}

std::string CsvRejectsName(uint64_t id, const char* what) {
  return fmt::format("__mdl_csv_{}_{}", what, id);
}

std::atomic<uint64_t> next_read_id{1};

// The rejects of one read as (file, line, line_count, error, raw) rows, blank records left out.
std::string CsvRejectsSql(const CsvRejectTables& rejects) {
  return fmt::format(
      "SELECT s.file_path AS file, e.line::BIGINT AS line, "
      "trim(any_value(e.csv_line), E'\\r\\n') AS raw, "
      "string_agg(DISTINCT e.error_message, '; ') AS error "
      "FROM {} e JOIN {} s ON s.scan_id = e.scan_id AND s.file_id = e.file_id "
      "GROUP BY s.file_path, e.line "
      "HAVING trim(any_value(e.csv_line), E' \\t\\r\\n') <> ''",
      QuoteIdentifier(rejects.errors), QuoteIdentifier(rejects.scans));
}

std::string LineCountExpr(const std::string& raw) {
  return fmt::format("(length({0}) - length(replace({0}, E'\\n', '')) + 1)::BIGINT", raw);
}

Result<ReadQuery> BuildCsvRead(const FileSourceOptions& options, const SourceSchema& schema,
                               const std::vector<SourceFile>& files) {
  ASSIGN_OR_RETURN(std::vector<CsvFileGroup> groups, GroupCsvFilesByLayout(files, options.csv));
  uint64_t id = next_read_id.fetch_add(1);
  CsvRejectTables rejects{CsvRejectsName(id, "errors"), CsvRejectsName(id, "scans")};
  ReadShape shape{SourceKind::kCsv, {}};
  std::string src;
  for (const CsvFileGroup& group : groups) {
    CsvColumnMap map = MapCsvColumns(group, schema, options.reader_case_sensitive);
    std::string select = "SELECT ";
    for (size_t i = 0; i < schema.columns.size(); ++i) {
      int j = map.source[i];
      select += fmt::format(
          "{} AS {}, ", j < 0 ? "NULL::VARCHAR" : CsvFieldExpr(static_cast<size_t>(j), options.csv),
          SourceCol(i));
    }
    std::string extras;
    if (!options.rescued_data_column.empty()) {
      for (size_t j : map.extras) {
        if (!extras.empty()) extras += ", ";
        extras += fmt::format("CASE WHEN {0} IS NOT NULL THEN {{'k': {1}, 'v': to_json({0})}} END",
                              CsvInternalColumn(j), QuoteString(group.names[j]));
      }
    }
    if (!extras.empty()) shape.may_have_extras = true;
    select += fmt::format(
        "{} AS {}, {} AS {}, false AS {}, NULL::VARCHAR AS {}, NULL::BIGINT AS {} FROM {}",
        extras.empty() ? std::string(kEmptyExtras)
                       : fmt::format("list_filter([{}], e -> e IS NOT NULL)", extras),
        kExtrasCol, kCsvFileColumn, kPathCol, kBadCol, kRawCol, kLineCol,
        CsvReadFunctionSql(group, options.csv, &rejects));
    if (!src.empty()) src += "\n  UNION ALL\n  ";
    src += select;
  }
  if (src.empty()) {
    // Only empty files: no rows, but the same columns.
    src = "SELECT ";
    for (size_t i = 0; i < schema.columns.size(); ++i) {
      src += fmt::format("NULL::VARCHAR AS {}, ", SourceCol(i));
    }
    src += fmt::format(
        "{} AS {}, NULL::VARCHAR AS {}, false AS {}, NULL::VARCHAR AS {}, NULL::BIGINT AS {} "
        "WHERE false",
        kEmptyExtras, kExtrasCol, kPathCol, kBadCol, kRawCol, kLineCol);
  }

  ReadQuery query;
  query.sql = fmt::format("WITH {},\n__mdl_src AS (\n  {}\n),\n{}", FilesCte(files), src,
                          FinalSelect(options, schema, shape, /*keep_malformed=*/false));
  if (groups.empty()) return query;

  query.malformed_records_sql = fmt::format(
      "SELECT file, line, {} AS line_count, error, raw FROM ({}) ORDER BY file, line",
      LineCountExpr("raw"), CsvRejectsSql(rejects));
  if (!options.rescued_data_column.empty() && options.parse_mode == ParseMode::kPermissive) {
    std::string columns;
    for (const SourceColumn& column : schema.columns) {
      columns += fmt::format("NULL::{} AS {}, ", column.type, QuoteIdentifier(column.name));
    }
    query.malformed_rows_sql = fmt::format(
        "WITH {},\n__mdl_rej AS ({})\nSELECT {}{} AS {}, {} AS {}\nFROM __mdl_rej d LEFT JOIN "
        "__mdl_files f ON f.__mdl_fpath = d.file",
        FilesCte(files), CsvRejectsSql(rejects), columns,
        CorruptRecordJson("d.raw", "d.file"), QuoteIdentifier(options.rescued_data_column),
        kMetadataExpr, QuoteIdentifier(kMetadataColumn));
  }
  query.cleanup_sql = fmt::format("DROP TABLE IF EXISTS {}; DROP TABLE IF EXISTS {};",
                                  QuoteIdentifier(rejects.errors), QuoteIdentifier(rejects.scans));
  return query;
}

// ---------------------------------------------------------------------------------------------
// JSON and text: files read whole (read_text), split into records here

// CTEs __mdl_text, __mdl_lines (path, line text, line number, line count of the record).
std::string TextLinesCtes(const std::vector<std::string>& paths, bool whole_file,
                          bool json_documents) {
  std::string text = fmt::format(
      "__mdl_text AS (SELECT filename AS {}, content FROM read_text({}))", kPathCol,
      FileListSql(paths));
  std::string lines;
  if (whole_file && json_documents) {
    // A document: an array gives one record per element, anything else one record.
    lines = fmt::format(
        "__mdl_lines AS (SELECT {0}, unnest(CASE WHEN json_valid(content) THEN (CASE WHEN "
        "json_type(content::JSON) = 'ARRAY' THEN json_extract(content::JSON, '$[*]')::VARCHAR[] "
        "ELSE [content] END) ELSE [content] END) AS __mdl_line, 1::BIGINT AS __mdl_line_no "
        "FROM __mdl_text)",
        kPathCol);
  } else if (whole_file) {
    lines = fmt::format(
        "__mdl_lines AS (SELECT {0}, content AS __mdl_line, 1::BIGINT AS __mdl_line_no FROM "
        "__mdl_text)",
        kPathCol);
  } else {
    lines = fmt::format(
        "__mdl_split AS (SELECT {0}, string_split(content, E'\\n') AS l FROM __mdl_text),\n"
        "__mdl_lines AS (SELECT {0}, unnest(l) AS __mdl_line, "
        "generate_subscripts(l, 1)::BIGINT AS __mdl_line_no, len(l) AS __mdl_n FROM "
        "__mdl_split)",
        kPathCol);
  }
  return text + ",\n" + lines;
}

// CTE __mdl_recs: non-blank records with their JSON object (NULL when malformed).
std::string JsonRecordsCtes(const std::vector<std::string>& paths, const JsonOptions& options) {
  return TextLinesCtes(paths, options.multi_line, /*json_documents=*/true) +
         fmt::format(
             ",\n__mdl_recs AS (SELECT {0}, __mdl_line_no AS {1}, rtrim(__mdl_line, E'\\r') AS {2}, "
             "CASE WHEN json_valid(__mdl_line) THEN (CASE WHEN json_type(__mdl_line::JSON) = "
             "'OBJECT' THEN __mdl_line::JSON END) END AS __mdl_obj FROM __mdl_lines WHERE "
             "trim(__mdl_line, E' \\t\\r\\n') <> '')",
             kPathCol, kLineCol, kRawCol);
}

std::string JsonPath(std::string_view key) {
  std::string escaped;
  for (char c : key) {
    if (c == '"' || c == '\\') escaped += '\\';
    escaped += c;
  }
  return "$.\"" + escaped + "\"";
}

std::string JsonMalformedRecordsSql(const std::vector<std::string>& paths,
                                    const JsonOptions& options) {
  return fmt::format(
      "WITH {}\nSELECT {} AS file, {} AS line, {} AS line_count, CASE WHEN json_valid({}) THEN "
      "'not a JSON object' ELSE 'malformed JSON' END AS error, {} AS raw FROM __mdl_recs WHERE "
      "__mdl_obj IS NULL ORDER BY file, line",
      JsonRecordsCtes(paths, options), kPathCol, kLineCol, LineCountExpr(kRawCol), kRawCol,
      kRawCol);
}

ReadQuery BuildJsonRead(const FileSourceOptions& options, const SourceSchema& schema,
                        const std::vector<SourceFile>& files) {
  std::vector<std::string> paths = Paths(files);
  ReadShape shape{SourceKind::kJson, {}};
  bool case_sensitive = options.reader_case_sensitive;
  std::string values;
  if (case_sensitive && !schema.columns.empty()) {
    std::string list;
    for (const SourceColumn& column : schema.columns) {
      if (!list.empty()) list += ", ";
      list += QuoteString(JsonPath(column.name));
    }
    values = fmt::format(", json_extract(__mdl_obj, [{}]) AS __mdl_v", list);
  }
  std::string select = "SELECT ";
  for (size_t i = 0; i < schema.columns.size(); ++i) {
    std::string value =
        case_sensitive
            ? fmt::format("__mdl_v[{}]", i + 1)
            : fmt::format(
                  "list_filter(map_entries(__mdl_map), e -> lower(e.key) = {})[1].value",
                  QuoteString(AsciiLower(schema.columns[i].name)));
    select += fmt::format("CASE WHEN json_type({0}) <> 'NULL' THEN {0} END AS {1}, ", value,
                          SourceCol(i));
  }
  std::string extras = kEmptyExtras;
  if (!options.rescued_data_column.empty()) {
    extras = fmt::format(
        "coalesce(list_transform(list_filter(map_entries(__mdl_map), e -> NOT list_contains({}, "
        "{})), e -> {{'k': e.key, 'v': e.value}}), {})",
        NameListSql(schema, !case_sensitive), case_sensitive ? "e.key" : "lower(e.key)",
        kEmptyExtras);
    shape.may_have_extras = true;
  }
  bool need_map = !options.rescued_data_column.empty() || !case_sensitive;
  select += fmt::format("{} AS {}, {}, __mdl_obj IS NULL AS {}, {}, {} FROM (SELECT *{}{} FROM "
                        "__mdl_recs)",
                        extras, kExtrasCol, kPathCol, kBadCol, kRawCol, kLineCol, values,
                        need_map ? ", TRY_CAST(__mdl_obj AS MAP(VARCHAR, JSON)) AS __mdl_map" : "");
  bool keep_malformed =
      !options.rescued_data_column.empty() && options.parse_mode == ParseMode::kPermissive;
  ReadQuery query;
  query.sql = fmt::format("WITH {},\n{},\n__mdl_src AS ({}),\n{}", FilesCte(files),
                          JsonRecordsCtes(paths, options.json), select,
                          FinalSelect(options, schema, shape, keep_malformed));
  query.malformed_records_sql = JsonMalformedRecordsSql(paths, options.json);
  return query;
}

ReadQuery BuildTextRead(const FileSourceOptions& options, const SourceSchema& schema,
                        const std::vector<SourceFile>& files) {
  ReadShape shape{SourceKind::kText, {}};
  std::string lines = TextLinesCtes(Paths(files), options.text.whole_text,
                                    /*json_documents=*/false);
  // Spark's text source: every line is a row, except the empty one after a final newline.
  std::string where = options.text.whole_text
                          ? ""
                          : " WHERE NOT (__mdl_line_no = __mdl_n AND __mdl_line = '')";
  std::string value = options.text.whole_text ? "__mdl_line" : "rtrim(__mdl_line, E'\\r')";
  std::string src = fmt::format(
      "SELECT {} AS {}, {} AS {}, {}, false AS {}, NULL::VARCHAR AS {}, NULL::BIGINT AS {} FROM "
      "__mdl_lines{}",
      value, SourceCol(0), kEmptyExtras, kExtrasCol, kPathCol, kBadCol, kRawCol, kLineCol, where);
  ReadQuery query;
  query.sql = fmt::format("WITH {},\n{},\n__mdl_src AS ({}),\n{}", FilesCte(files), lines, src,
                          FinalSelect(options, schema, shape, /*keep_malformed=*/false));
  return query;
}

// ---------------------------------------------------------------------------------------------
// Parquet

std::string ParquetScanSql(const std::vector<std::string>& paths) {
  return fmt::format("read_parquet({}, union_by_name = true, filename = '__mdl_file')",
                     FileListSql(paths));
}

// (name, type) of the columns of `paths` combined by name.
Result<std::vector<SourceColumn>> DescribeParquet(engine::Connection& conn,
                                                  const std::vector<std::string>& paths) {
  ASSIGN_OR_RETURN(
      engine::QueryResult result,
      conn.Query(fmt::format("DESCRIBE SELECT * FROM read_parquet({}, union_by_name = true)",
                             FileListSql(paths))));
  std::vector<SourceColumn> columns;
  for (size_t row = 0; row < result.row_count(); ++row) {
    ASSIGN_OR_RETURN(std::string name, result.GetString(0, row));
    ASSIGN_OR_RETURN(std::string type, result.GetString(1, row));
    columns.push_back({std::move(name), std::move(type)});
  }
  return columns;
}

Result<ReadQuery> BuildParquetRead(engine::Connection& conn, const FileSourceOptions& options,
                                   const SourceSchema& schema,
                                   const std::vector<SourceFile>& files) {
  std::vector<std::string> paths = Paths(files);
  ASSIGN_OR_RETURN(std::vector<SourceColumn> batch, DescribeParquet(conn, paths));
  ReadShape shape{SourceKind::kParquet, {}};
  std::vector<bool> used(batch.size(), false);
  std::string select = "SELECT ";
  for (size_t i = 0; i < schema.columns.size(); ++i) {
    const SourceColumn& column = schema.columns[i];
    int found = -1;
    for (size_t j = 0; j < batch.size() && found < 0; ++j) {
      if (!used[j] && batch[j].name == column.name) found = static_cast<int>(j);
    }
    if (found < 0 && !options.reader_case_sensitive) {
      for (size_t j = 0; j < batch.size() && found < 0; ++j) {
        if (!used[j] && EqualsIgnoreCase(batch[j].name, column.name)) {
          found = static_cast<int>(j);
        }
      }
    }
    if (found >= 0) {
      used[static_cast<size_t>(found)] = true;
      shape.parquet_source_types.push_back(batch[static_cast<size_t>(found)].type);
      select += fmt::format("p.{} AS {}, ",
                            QuoteIdentifier(batch[static_cast<size_t>(found)].name), SourceCol(i));
    } else {
      shape.parquet_source_types.push_back("");
      select += fmt::format("NULL AS {}, ", SourceCol(i));
    }
  }
  std::string extras;
  if (!options.rescued_data_column.empty()) {
    for (size_t j = 0; j < batch.size(); ++j) {
      if (used[j] || batch[j].name == "__mdl_file") continue;
      if (!extras.empty()) extras += ", ";
      extras += fmt::format("CASE WHEN p.{0} IS NOT NULL THEN {{'k': {1}, 'v': to_json(p.{0})}} END",
                            QuoteIdentifier(batch[j].name), QuoteString(batch[j].name));
    }
  }
  if (!extras.empty()) shape.may_have_extras = true;
  select += fmt::format(
      "{} AS {}, p.__mdl_file AS {}, false AS {}, NULL::VARCHAR AS {}, NULL::BIGINT AS {} FROM {} "
      "p",
      extras.empty() ? std::string(kEmptyExtras)
                     : fmt::format("list_filter([{}], e -> e IS NOT NULL)", extras),
      kExtrasCol, kPathCol, kBadCol, kRawCol, kLineCol, ParquetScanSql(paths));
  ReadQuery query;
  query.sql = fmt::format("WITH {},\n__mdl_src AS ({}),\n{}", FilesCte(files), select,
                          FinalSelect(options, schema, shape, /*keep_malformed=*/false));
  return query;
}

// ---------------------------------------------------------------------------------------------
// Inference

// A column list with names unique ignoring case (the first spelling wins).
void AddColumn(std::vector<SourceColumn>& columns, SourceColumn column) {
  for (const SourceColumn& existing : columns) {
    if (EqualsIgnoreCase(existing.name, column.name)) return;
  }
  columns.push_back(std::move(column));
}

// The DuckDB type for a json_structure() node; `infer` false keeps the shape, leaves VARCHAR.
std::string TypeOfStructure(const nlohmann::ordered_json& node, bool infer) {
  if (node.is_string()) {
    std::string t = node.get<std::string>();
    if (!infer) return "VARCHAR";
    if (t == "BIGINT" || t == "UBIGINT") return "BIGINT";
    if (t == "DOUBLE") return "DOUBLE";
    if (t == "BOOLEAN") return "BOOLEAN";
    return "VARCHAR";  // VARCHAR, NULL (only nulls seen), JSON (conflicting types)
  }
  if (node.is_array()) {
    if (node.empty()) return "VARCHAR[]";
    return TypeOfStructure(node[0], infer) + "[]";
  }
  if (node.is_object()) {
    std::vector<SourceColumn> fields;
    for (auto it = node.begin(); it != node.end(); ++it) {
      AddColumn(fields, {it.key(), TypeOfStructure(it.value(), infer)});
    }
    if (fields.empty()) return "VARCHAR";
    std::string out = "STRUCT(";
    for (size_t i = 0; i < fields.size(); ++i) {
      if (i > 0) out += ", ";
      out += QuoteIdentifier(fields[i].name) + " " + fields[i].type;
    }
    return out + ")";
  }
  return "VARCHAR";
}

Result<std::vector<SourceColumn>> InferJsonColumns(engine::Connection& conn,
                                                   const FileSourceOptions& options,
                                                   const std::vector<std::string>& paths) {
  ASSIGN_OR_RETURN(engine::QueryResult result,
                   conn.Query(fmt::format("WITH {}\nSELECT json_group_structure(__mdl_obj)::VARCHAR "
                                          "FROM __mdl_recs WHERE __mdl_obj IS NOT NULL",
                                          JsonRecordsCtes(paths, options.json))));
  std::vector<SourceColumn> columns;
  if (result.row_count() == 0 || result.IsNull(0, 0)) return columns;
  ASSIGN_OR_RETURN(std::string structure, result.GetString(0, 0));
  nlohmann::ordered_json root =
      nlohmann::ordered_json::parse(structure, nullptr, /*allow_exceptions=*/false);
  if (!root.is_object()) {
    return Status::Internal("json_group_structure gave a non-object: " + structure);
  }
  for (auto it = root.begin(); it != root.end(); ++it) {
    AddColumn(columns, {it.key(), TypeOfStructure(it.value(), options.infer_column_types)});
  }
  return columns;
}

// Per-file top-level keys of JSON records, for attributing new columns to files.
Result<std::map<std::string, std::vector<std::string>>> JsonKeysByFile(
    engine::Connection& conn, const FileSourceOptions& options,
    const std::vector<std::string>& paths) {
  ASSIGN_OR_RETURN(engine::QueryResult result,
                   conn.Query(fmt::format(
                       "WITH {}\nSELECT DISTINCT {}, unnest(json_keys(__mdl_obj)) FROM __mdl_recs "
                       "WHERE __mdl_obj IS NOT NULL",
                       JsonRecordsCtes(paths, options.json), kPathCol)));
  std::map<std::string, std::vector<std::string>> out;
  for (size_t row = 0; row < result.row_count(); ++row) {
    ASSIGN_OR_RETURN(std::string path, result.GetString(0, row));
    ASSIGN_OR_RETURN(std::string key, result.GetString(1, row));
    out[path].push_back(std::move(key));
  }
  return out;
}

// The candidate types of CSV inference, in order of preference: a column gets the first one that
// every non-null value parses as (ingest/file_source.h), else VARCHAR.
struct CsvCandidate {
  const char* type;
  int64_t bit;  // its bit in CsvTypeMaskExpr
};
constexpr CsvCandidate kCsvCandidates[] = {
    {"INTEGER", 1},  {"BIGINT", 2}, {"DECIMAL(38,0)", 4},           {"DOUBLE", 8},
    {"BOOLEAN", 16}, {"DATE", 32},  {"TIMESTAMP WITH TIME ZONE", 64},
};
constexpr int64_t kCsvAllCandidates = 127;
constexpr int64_t kCsvIntegerCandidates = 1 | 2 | 4;  // whole numbers only

// The candidates among `alive` that a VARCHAR value `c` parses as, one bit each (NULL for NULL).
// A value fits a candidate when it casts to the type and, for the integer types, is a whole
// number; for BOOLEAN, is true or false in any case; for DATE and TIMESTAMP, starts yyyy-m-d
// (the test CsvInferenceFollowsThePerValueRules spells these rules out plainly). The tests are
// arranged so that each value pays for as few of them as possible: a costly test (a cast) is
// nested in a CASE after a cheap one (a pattern), as DuckDB evaluates a CASE branch only for the
// rows that reach it (an AND may compute both sides for every row).
// For a whole number the integer types nest (INTEGER implies BIGINT implies DECIMAL(38,0) implies
// DOUBLE), so the first that fits decides, and none of BOOLEAN, DATE or TIMESTAMP can fit.
// DECIMAL(38,0) is tested as a HUGEINT within +-(10^38 - 1): the same for whole numbers, and far
// cheaper than DuckDB's VARCHAR -> DECIMAL(38,0) cast.
std::string CsvTypeMaskExpr(const std::string& c, int64_t alive) {
  std::string other;  // the tests for values that are not whole numbers
  // `bit` when `test` holds; a `cheap` test, when given, guards `test`.
  auto add_other = [&](int64_t bit, const std::string& cheap, const std::string& test) {
    if ((alive & bit) == 0) return;
    if (!other.empty()) other += " + ";
    if (cheap.empty()) {
      other += fmt::format("(CASE WHEN {} THEN {} ELSE 0 END)", test, bit);
    } else {
      other += fmt::format("(CASE WHEN {} THEN (CASE WHEN {} THEN {} ELSE 0 END) ELSE 0 END)",
                           cheap, test, bit);
    }
  };
  add_other(8, "", fmt::format("TRY_CAST({} AS DOUBLE) IS NOT NULL", c));
  add_other(16, "", fmt::format("lower(trim({})) IN ('true', 'false')", c));
  // Dates and timestamps: trim(c) (which removes spaces only) matching yyyy-m-d, or yyyy-m-d then
  // T or a space then anything; written without trim() to save a copy of every value.
  add_other(32, fmt::format("regexp_full_match({}, ' *[0-9]{{4}}-[0-9]{{1,2}}-[0-9]{{1,2}} *')", c),
            fmt::format("TRY_CAST({} AS DATE) IS NOT NULL", c));
  add_other(64,
            fmt::format("regexp_full_match({}, "
                        "' *[0-9]{{4}}-[0-9]{{1,2}}-[0-9]{{1,2}}(T|[T ].*[^ \\n]) *')",
                        c),
            fmt::format("TRY_CAST({} AS TIMESTAMPTZ) IS NOT NULL", c));
  if (other.empty()) other = "0";
  if ((alive & kCsvIntegerCandidates) == 0) {
    // A whole number can only be a DOUBLE, which `other` tests.
    return fmt::format("CASE WHEN {} IS NOT NULL THEN {} END", c, other);
  }
  std::string whole;  // for whole numbers
  auto add_whole = [&](int64_t bit, const std::string& test) {
    if ((alive & bit) == 0) return;
    // A whole number that fits `bit`'s type fits every larger one.
    int64_t fits = alive & (bit == 1 ? 15 : bit == 2 ? 14 : bit == 4 ? 12 : 8);
    whole += fmt::format("WHEN {} THEN {} ", test, fits);
  };
  add_whole(1, fmt::format("TRY_CAST({} AS INTEGER) IS NOT NULL", c));
  add_whole(2, fmt::format("TRY_CAST({} AS BIGINT) IS NOT NULL", c));
  add_whole(4, fmt::format("TRY_CAST({} AS HUGEINT) BETWEEN "
                           "-99999999999999999999999999999999999999::HUGEINT AND "
                           "99999999999999999999999999999999999999::HUGEINT",
                           c));
  add_whole(8, fmt::format("TRY_CAST({} AS DOUBLE) IS NOT NULL", c));
  return fmt::format(
      "CASE WHEN {0} IS NULL THEN NULL WHEN regexp_full_match({0}, {3}) THEN (CASE {1}ELSE 0 END) "
      "ELSE {2} END",
      c, whole, other, kIntegerPattern);
}

// For each of `columns[typed[k]]` whose alive[k] is not 0, the candidates among alive[k] that
// every non-null value in `groups` parses as (the first `limit` records of each group, or all
// records when `limit` is 0); alive[k] is replaced by that set. A column without any non-null
// value keeps alive[k] after a prefix, and gets 0 (VARCHAR) after all records. Returns whether
// every record was read (always when `limit` is 0; with a limit, when the groups together hold at
// most `limit` records, which small sources do: then no second pass is needed).
Result<bool> NarrowCsvCandidates(engine::Connection& conn, const std::vector<CsvFileGroup>& groups,
                                 const FileSourceOptions& options,
                                 const std::vector<SourceColumn>& columns,
                                 const std::vector<size_t>& typed, std::vector<int64_t>& alive,
                                 int64_t limit) {
  std::vector<size_t> scan;  // indexes into `typed`
  for (size_t k = 0; k < typed.size(); ++k) {
    if (alive[k] != 0) scan.push_back(k);
  }
  if (scan.empty()) return limit == 0;
  SourceSchema scanned;
  for (size_t k : scan) scanned.columns.push_back(columns[typed[k]]);
  std::string all;
  for (const CsvFileGroup& group : groups) {
    std::string select = "SELECT ";
    std::set<std::string> seen;
    for (size_t j = 0; j < group.names.size(); ++j) {
      const SourceColumn* column = scanned.Find(group.names[j]);
      if (column == nullptr || !seen.insert(AsciiLower(column->name)).second) continue;
      select += fmt::format("{} AS {}, ", CsvFieldExpr(j, options.csv),
                            QuoteIdentifier(column->name));
    }
    if (seen.empty()) continue;  // none of the columns: nothing to read
    select += "1 AS __mdl_one FROM " + CsvReadFunctionSql(group, options.csv, nullptr);
    // One record more than the prefix, to tell a group that ends within it.
    if (limit > 0) select += fmt::format(" LIMIT {}", limit + 1);
    if (!all.empty()) all += ")\nUNION ALL BY NAME\n(";
    all += select;
  }
  if (all.empty()) return limit == 0;
  // Columns with the same candidates share one mask expression, applied to the list of their
  // values: DuckDB binds and sets up one instance per set of candidates instead of one per column,
  // a fixed cost (about a millisecond each) that dominates the prefix pass of small sources.
  std::map<int64_t, std::vector<size_t>> by_candidates;  // alive -> positions in `scan`
  for (size_t n = 0; n < scan.size(); ++n) by_candidates[alive[scan[n]]].push_back(n);
  std::vector<std::string> aggregates(scan.size());
  std::string masks;
  size_t lists = 0;
  for (const auto& [candidates, members] : by_candidates) {
    const std::string list = fmt::format("__mdl_m{}", lists++);
    std::string values;
    for (size_t i = 0; i < members.size(); ++i) {
      if (i > 0) values += ", ";
      values += QuoteIdentifier(columns[typed[scan[members[i]]]].name);
      aggregates[members[i]] = fmt::format("bit_and({}[{}])::BIGINT", list, i + 1);
    }
    masks += fmt::format(", list_transform([{}], lambda __mdl_v: {}) AS {}", values,
                         CsvTypeMaskExpr("__mdl_v", candidates), list);
  }
  ASSIGN_OR_RETURN(engine::QueryResult result,
                   conn.Query(fmt::format("WITH __mdl_all AS (\n({})\n)\nSELECT {}, count(*) FROM "
                                          "(SELECT 1 AS __mdl_one{} FROM __mdl_all)",
                                          all, fmt::join(aggregates, ", "), masks)));
  ASSIGN_OR_RETURN(int64_t records, result.GetInt64(scan.size(), 0));
  const bool complete = limit == 0 || records <= limit;
  for (size_t n = 0; n < scan.size(); ++n) {
    if (result.IsNull(n, 0)) {
      // No non-null value: no information from a prefix; VARCHAR after all records.
      if (complete) alive[scan[n]] = 0;
      continue;
    }
    ASSIGN_OR_RETURN(int64_t mask, result.GetInt64(n, 0));
    alive[scan[n]] &= mask;
  }
  return complete;
}

// CSV: names from the headers (first spelling of names equal ignoring case), types from the data
// for the columns `type_wanted` accepts (the others stay VARCHAR). Every record counts, in two
// passes: the first `kCsvInferencePrefixRows` records of each layout group settle the columns
// that some value there already makes VARCHAR (typically most text columns) and narrow the
// candidates of the others; a scan of all records then tests only those columns for only the
// candidates left. The result is that of testing every value against every candidate.
Result<std::vector<SourceColumn>> InferCsvColumns(
    engine::Connection& conn, const std::vector<CsvFileGroup>& groups,
    const FileSourceOptions& options, const std::function<bool(const std::string&)>& type_wanted) {
  std::vector<SourceColumn> columns;
  for (const CsvFileGroup& group : groups) {
    for (const std::string& name : group.names) AddColumn(columns, {name, "VARCHAR"});
  }
  std::vector<size_t> typed;  // indexes into `columns`
  for (size_t i = 0; i < columns.size(); ++i) {
    if (type_wanted(columns[i].name)) typed.push_back(i);
  }
  if (typed.empty()) return columns;
  std::vector<int64_t> alive(typed.size(), kCsvAllCandidates);
  ASSIGN_OR_RETURN(bool complete, NarrowCsvCandidates(conn, groups, options, columns, typed,
                                                      alive, kCsvInferencePrefixRows));
  if (!complete) {
    RETURN_NOT_OK(NarrowCsvCandidates(conn, groups, options, columns, typed, alive, 0).status());
  }
  for (size_t k = 0; k < typed.size(); ++k) {
    for (const CsvCandidate& candidate : kCsvCandidates) {
      if ((alive[k] & candidate.bit) != 0) {
        columns[typed[k]].type = candidate.type;
        break;
      }
    }
  }
  return columns;
}

// The columns of `files`: names, and types for the CSV columns `type_wanted` accepts (others are
// VARCHAR; pass nullptr to skip scanning CSV data altogether). JSON and Parquet always give types.
Result<std::vector<SourceColumn>> ObserveColumns(
    engine::Connection& conn, const FileSourceOptions& options,
    const std::vector<SourceFile>& files,
    const std::function<bool(const std::string&)>* type_wanted) {
  switch (options.format) {
    case FileFormat::kCsv: {
      ASSIGN_OR_RETURN(std::vector<CsvFileGroup> groups,
                       GroupCsvFilesByLayout(files, options.csv));
      auto none = [](const std::string&) { return false; };
      if (type_wanted == nullptr || !options.infer_column_types) {
        return InferCsvColumns(conn, groups, options, none);
      }
      return InferCsvColumns(conn, groups, options, *type_wanted);
    }
    case FileFormat::kJson:
      return InferJsonColumns(conn, options, Paths(files));
    case FileFormat::kParquet: {
      ASSIGN_OR_RETURN(std::vector<SourceColumn> described, DescribeParquet(conn, Paths(files)));
      std::vector<SourceColumn> columns;
      for (SourceColumn& column : described) AddColumn(columns, std::move(column));
      return columns;
    }
    case FileFormat::kText:
      return std::vector<SourceColumn>{{"value", "VARCHAR"}};
  }
  return std::vector<SourceColumn>{};
}

// The first file (in `files` order) holding each of `names` (compared ignoring case).
Result<std::map<std::string, std::string>> FirstFiles(engine::Connection& conn,
                                                      const FileSourceOptions& options,
                                                      const std::vector<SourceFile>& files,
                                                      const std::vector<std::string>& names) {
  std::map<std::string, std::string> out;
  auto note = [&](const std::string& path, const std::vector<std::string>& file_names) {
    for (const std::string& name : names) {
      if (out.count(name) > 0) continue;
      for (const std::string& file_name : file_names) {
        if (EqualsIgnoreCase(file_name, name)) {
          out[name] = path;
          break;
        }
      }
    }
  };
  switch (options.format) {
    case FileFormat::kCsv: {
      ASSIGN_OR_RETURN(std::vector<CsvFileGroup> groups,
                       GroupCsvFilesByLayout(files, options.csv));
      std::map<std::string, const CsvFileGroup*> by_file;
      for (const CsvFileGroup& group : groups) {
        for (const std::string& path : group.files) by_file[path] = &group;
      }
      for (const SourceFile& file : files) {
        auto it = by_file.find(file.path);
        if (it != by_file.end()) note(file.path, it->second->names);
      }
      break;
    }
    case FileFormat::kJson: {
      ASSIGN_OR_RETURN(auto keys, JsonKeysByFile(conn, options, Paths(files)));
      for (const SourceFile& file : files) {
        auto it = keys.find(file.path);
        if (it != keys.end()) note(file.path, it->second);
      }
      break;
    }
    case FileFormat::kParquet:
      for (const SourceFile& file : files) {
        if (out.size() == names.size()) break;
        ASSIGN_OR_RETURN(std::vector<SourceColumn> columns, DescribeParquet(conn, {file.path}));
        std::vector<std::string> file_names;
        for (const SourceColumn& column : columns) file_names.push_back(column.name);
        note(file.path, file_names);
      }
      break;
    case FileFormat::kText:
      break;
  }
  return out;
}

Status CheckReservedNames(const FileSourceOptions& options, const SourceSchema& schema) {
  for (const SourceColumn& column : schema.columns) {
    if (EqualsIgnoreCase(column.name, kMetadataColumn)) {
      return Status::InvalidArgument(
          fmt::format("the data has a column named {}, which is reserved for the file metadata "
                      "column",
                      column.name));
    }
    if (!options.rescued_data_column.empty() &&
        EqualsIgnoreCase(column.name, options.rescued_data_column)) {
      return Status::InvalidArgument(fmt::format(
          "the data has a column named {}, the rescued data column's name; set "
          "rescuedDataColumn to another name",
          column.name));
    }
  }
  return Status::OK();
}

// Whether a schema hint names the column (ignoring case, as ApplyHints matches).
bool IsHinted(const FileSourceOptions& options, std::string_view name) {
  for (const SourceColumn& hint : options.schema_hints) {
    if (EqualsIgnoreCase(hint.name, name)) return true;
  }
  return false;
}

void ApplyHints(const std::vector<SourceColumn>& hints, std::vector<SourceColumn>& columns) {
  for (const SourceColumn& hint : hints) {
    bool found = false;
    for (SourceColumn& column : columns) {
      if (EqualsIgnoreCase(column.name, hint.name)) {
        column.type = hint.type;
        found = true;
        break;
      }
    }
    if (!found) columns.push_back(hint);
  }
}

Result<InferredSchema> InferSchemaImpl(engine::Connection& conn, const FileSourceOptions& options,
                                       const std::vector<SourceFile>& files,
                                       const std::optional<SourceSchema>& previous) {
  InferredSchema out;
  if (options.format == FileFormat::kText) {
    out.schema.columns = {{"value", "VARCHAR"}};
    out.changed = !previous.has_value() || *previous != out.schema;
    return out;
  }

  bool inferred_here = false;
  if (options.has_schema) {
    out.schema.columns = options.schema;
    ApplyHints(options.schema_hints, out.schema.columns);
    // Hints only override types of a given schema.
    out.schema.columns.resize(std::min(out.schema.columns.size(), options.schema.size()));
  } else if (previous.has_value()) {
    out.schema = *previous;
  } else {
    if (files.empty()) {
      return Status::NotFound(fmt::format(
          "no files under {} to infer a schema from; give the schema option", options.path));
    }
    std::vector<SourceFile> sample(
        files.begin(),
        files.begin() + static_cast<std::ptrdiff_t>(std::min(files.size(), kInferenceMaxFiles)));
    // Hinted columns get the hint's type whatever the data hold: only the others are typed.
    std::function<bool(const std::string&)> unhinted = [&](const std::string& name) {
      return !IsHinted(options, name);
    };
    ASSIGN_OR_RETURN(out.schema.columns, ObserveColumns(conn, options, sample, &unhinted));
    if (out.schema.columns.empty()) {
      return Status::NotFound(fmt::format(
          "no columns found in the files under {} to infer a schema from; give the schema option",
          options.path));
    }
    ApplyHints(options.schema_hints, out.schema.columns);
    inferred_here = true;
  }

  if (!inferred_here && !files.empty()) {
    // Look for columns the schema lacks (names first; CSV types only when needed).
    ASSIGN_OR_RETURN(std::vector<SourceColumn> observed,
                     ObserveColumns(conn, options, files, /*type_wanted=*/nullptr));
    std::vector<SourceColumn> fresh;
    for (const SourceColumn& column : observed) {
      if (out.schema.Find(column.name) == nullptr) fresh.push_back(column);
    }
    if (!fresh.empty()) {
      bool evolve = options.schema_evolution_mode == SchemaEvolutionMode::kAddNewColumns;
      if (evolve && options.format == FileFormat::kCsv && options.infer_column_types) {
        // Type only the new columns without a hint.
        std::function<bool(const std::string&)> fresh_unhinted = [&](const std::string& name) {
          return out.schema.Find(name) == nullptr && !IsHinted(options, name);
        };
        ASSIGN_OR_RETURN(observed, ObserveColumns(conn, options, files, &fresh_unhinted));
        for (SourceColumn& column : fresh) {
          for (const SourceColumn& typed : observed) {
            if (typed.name == column.name) column.type = typed.type;
          }
        }
      }
      for (SourceColumn& column : fresh) {
        for (const SourceColumn& hint : options.schema_hints) {
          if (EqualsIgnoreCase(hint.name, column.name)) column.type = hint.type;
        }
      }
      std::vector<std::string> names;
      for (const SourceColumn& column : fresh) names.push_back(column.name);
      ASSIGN_OR_RETURN(auto first_files, FirstFiles(conn, options, files, names));
      for (const SourceColumn& column : fresh) {
        out.new_columns.push_back({column, first_files[column.name]});
      }
      if (options.schema_evolution_mode == SchemaEvolutionMode::kFailOnNewColumns) {
        // Name the first file (in the given order) that brings new columns, and its columns.
        std::string first;
        for (const SourceFile& file : files) {
          for (const NewColumn& column : out.new_columns) {
            if (column.first_file == file.path) first = file.path;
          }
          if (!first.empty()) break;
        }
        std::string list;
        for (const NewColumn& column : out.new_columns) {
          if (column.first_file != first) continue;
          if (!list.empty()) list += ", ";
          list += column.column.name;
        }
        return Status::InvalidArgument(fmt::format(
            "file {} has columns that are not in the schema: {} (schemaEvolutionMode "
            "failOnNewColumns; update the schema or remove the file)",
            first, list));
      }
      if (evolve) {
        for (const NewColumn& column : out.new_columns) {
          out.schema.columns.push_back(column.column);
        }
      }
    }
  }
  RETURN_NOT_OK(CheckReservedNames(options, out.schema));
  out.changed = !previous.has_value() || *previous != out.schema;
  return out;
}

}  // namespace

Result<InferredSchema> InferSchema(engine::Connection& conn, const FileSourceOptions& options,
                                   const std::vector<SourceFile>& files,
                                   const std::optional<SourceSchema>& previous) {
  return InferSchemaImpl(conn, options, files, previous)
      .WithContext(fmt::format("{} source {}", FileFormatName(options.format), options.path));
}

Result<ReadQuery> BuildReadQuery(engine::Connection& conn, const FileSourceOptions& options,
                                 const SourceSchema& schema, const std::vector<SourceFile>& files) {
  if (files.empty()) {
    return Status::InvalidArgument(
        fmt::format("{} source {}: no files to read", FileFormatName(options.format), options.path));
  }
  switch (options.format) {
    case FileFormat::kCsv:
      return BuildCsvRead(options, schema, files);
    case FileFormat::kJson:
      return BuildJsonRead(options, schema, files);
    case FileFormat::kParquet:
      return BuildParquetRead(conn, options, schema, files);
    case FileFormat::kText:
      return BuildTextRead(options, schema, files);
  }
  return Status::Internal("unknown format");
}

namespace {

Result<std::vector<MalformedRecord>> QueryMalformed(engine::Connection& conn,
                                                    const std::string& sql) {
  std::vector<MalformedRecord> out;
  if (sql.empty()) return out;
  ASSIGN_OR_RETURN(engine::QueryResult result, conn.Query(sql));
  for (size_t row = 0; row < result.row_count(); ++row) {
    MalformedRecord record;
    ASSIGN_OR_RETURN(record.file, result.GetString(0, row));
    ASSIGN_OR_RETURN(record.line, result.GetInt64(1, row));
    ASSIGN_OR_RETURN(record.line_count, result.GetInt64(2, row));
    if (!result.IsNull(3, row)) {
      ASSIGN_OR_RETURN(record.error, result.GetString(3, row));
    }
    if (!result.IsNull(4, row)) {
      ASSIGN_OR_RETURN(record.raw, result.GetString(4, row));
    }
    out.push_back(std::move(record));
  }
  return out;
}

bool KeepsMalformedAsRows(const FileSourceOptions& options) {
  return !options.rescued_data_column.empty() && options.parse_mode == ParseMode::kPermissive;
}

// After `query.sql` was evaluated: the malformed records (listed when `list`), the reject tables
// dropped, FAILFAST applied.
Result<ReadSummary> FinishRead(engine::Connection& conn, const FileSourceOptions& options,
                               const ReadQuery& query, bool list) {
  ReadSummary summary;
  Status status = Status::OK();
  if (list) {
    auto malformed = QueryMalformed(conn, query.malformed_records_sql);
    if (malformed.ok()) {
      summary.malformed = std::move(*malformed);
    } else {
      status = malformed.status();
    }
  }
  if (!query.cleanup_sql.empty()) {
    Status cleanup = conn.Execute(query.cleanup_sql);
    if (status.ok()) status = cleanup;
  }
  RETURN_NOT_OK(status);
  if (options.parse_mode == ParseMode::kFailFast && !summary.malformed.empty()) {
    const MalformedRecord& first = summary.malformed.front();
    return Status::Corruption(fmt::format("malformed record in {} line {} (mode FAILFAST): {}",
                                          first.file, first.line, first.error));
  }
  summary.malformed_dropped =
      KeepsMalformedAsRows(options) ? 0 : static_cast<int64_t>(summary.malformed.size());
  return summary;
}

Result<ReadSummary> ReadIntoTableImpl(engine::Connection& conn, const FileSourceOptions& options,
                                      const SourceSchema& schema,
                                      const std::vector<SourceFile>& files,
                                      const std::string& table) {
  ASSIGN_OR_RETURN(ReadQuery query, BuildReadQuery(conn, options, schema, files));
  if (!query.cleanup_sql.empty()) RETURN_NOT_OK(conn.Execute(query.cleanup_sql));
  Status status = conn.Execute(
      fmt::format("CREATE OR REPLACE TEMP TABLE {} AS\n{}", QuoteIdentifier(table), query.sql));
  if (status.ok() && !query.malformed_rows_sql.empty()) {
    status = conn.Execute(fmt::format("INSERT INTO {}\n{}", QuoteIdentifier(table),
                                      query.malformed_rows_sql));
  }
  bool list = true;
  if (status.ok() && options.format == FileFormat::kJson && KeepsMalformedAsRows(options)) {
    // Malformed records are rows already; list them only when there are some.
    auto count = conn.Query(fmt::format(
        "SELECT count(*) FROM {} WHERE json_extract_string({}, '$.{}') IS NOT NULL",
        QuoteIdentifier(table), QuoteIdentifier(options.rescued_data_column), kCorruptRecordKey));
    if (count.ok()) {
      auto n = count->GetInt64(0, 0);
      list = !n.ok() || *n > 0;
    } else {
      status = count.status();
    }
  }
  auto fail = [&](Status error) {
    (void)conn.Execute("DROP TABLE IF EXISTS " + QuoteIdentifier(table));
    if (!query.cleanup_sql.empty()) (void)conn.Execute(query.cleanup_sql);
    return error;
  };
  if (!status.ok()) return fail(status);
  auto summary = FinishRead(conn, options, query, list);
  if (!summary.ok()) return fail(summary.status());
  auto rows = conn.Query("SELECT count(*) FROM " + QuoteIdentifier(table));
  if (!rows.ok()) return fail(rows.status());
  auto n = rows->GetInt64(0, 0);
  if (!n.ok()) return fail(n.status());
  summary->rows = *n;
  return summary;
}

}  // namespace

Result<ReadSummary> ReadMalformed(engine::Connection& conn, const FileSourceOptions& options,
                                  const ReadQuery& query) {
  return FinishRead(conn, options, query, /*list=*/true)
      .WithContext(fmt::format("{} source {}", FileFormatName(options.format), options.path));
}

Result<ReadSummary> ReadIntoTable(engine::Connection& conn, const FileSourceOptions& options,
                                  const SourceSchema& schema, const std::vector<SourceFile>& files,
                                  std::string_view table) {
  return ReadIntoTableImpl(conn, options, schema, files, std::string(table))
      .WithContext(fmt::format("{} source {}", FileFormatName(options.format), options.path));
}

}  // namespace medallion::ingest
