#include "engine/file_statistics.h"

#include <fmt/format.h>

#include <charconv>
#include <cmath>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>

#include "common/macros.h"
#include "common/text.h"
#include "delta/partition_value.h"
#include "delta/scalar.h"
#include "delta/table_configuration.h"
#include "engine/delta_scan.h"
#include "engine/sql_text.h"

namespace medallion::engine {
namespace {

using delta::DataType;
using delta::StructField;
using delta::TypeKind;
using Json = nlohmann::ordered_json;

// Spark's string statistics prefix length (DeltaSQLConf.DATA_SKIPPING_STRING_PREFIX_LENGTH).
constexpr size_t kStringPrefix = 32;
// U+10FFFF, appended to a truncated string max so it stays >= the values it stands for.
constexpr std::string_view kStringMaxTieBreaker = "\xF4\x8F\xBF\xBF";
// Decimal bounds go through the JSON tree as marked strings and are written as bare numbers with
// every digit (a double would lose some).
constexpr std::string_view kRawMarker = "\x01medallion-raw:";

enum class StatKind { kNone, kNumber, kDecimal, kFloat, kString, kDate, kTimestamp, kTimestampNtz };

StatKind StatKindOf(const DataType& type) {
  switch (type.kind()) {
    case TypeKind::kByte:
    case TypeKind::kShort:
    case TypeKind::kInteger:
    case TypeKind::kLong:
      return StatKind::kNumber;
    case TypeKind::kDecimal:
      return StatKind::kDecimal;
    case TypeKind::kFloat:
    case TypeKind::kDouble:
      return StatKind::kFloat;
    case TypeKind::kString:
      return StatKind::kString;
    case TypeKind::kDate:
      return StatKind::kDate;
    case TypeKind::kTimestamp:
      return StatKind::kTimestamp;
    case TypeKind::kTimestampNtz:
      return StatKind::kTimestampNtz;
    default:
      return StatKind::kNone;
  }
}

struct StatLeaf {
  std::vector<std::string> path;  // field names from the top
  std::string sql;                // the value's expression over the data file
  StatKind kind = StatKind::kNone;
};

void CollectLeaves(const std::vector<StructField>& fields, const std::vector<std::string>& prefix,
                   const std::string& sql_prefix, int64_t limit, std::vector<StatLeaf>* out) {
  for (const StructField& f : fields) {
    if (limit >= 0 && static_cast<int64_t>(out->size()) >= limit) return;
    std::vector<std::string> path = prefix;
    path.push_back(f.name);
    std::string sql = sql_prefix.empty()
                          ? QuoteIdentifier(f.name)
                          : fmt::format("struct_extract({}, {})", sql_prefix, QuoteString(f.name));
    if (f.type->kind() == TypeKind::kStruct) {
      CollectLeaves(f.type->fields(), path, sql, limit, out);
    } else {
      out->push_back({std::move(path), std::move(sql), StatKindOf(*f.type)});
    }
  }
}

// The leaves statistics are kept for (see the header).
Result<std::vector<StatLeaf>> StatsLeaves(const std::vector<StructField>& data_fields,
                                          const std::map<std::string, std::string>& configuration) {
  delta::StringMap config(configuration.begin(), configuration.end());
  ASSIGN_OR_RETURN(delta::TableProperties props, delta::ParseTableProperties(config));
  std::vector<StatLeaf> leaves;
  CollectLeaves(data_fields, {}, "",
                props.data_skipping_stats_columns ? -1 : props.data_skipping_num_indexed_cols,
                &leaves);
  if (!props.data_skipping_stats_columns) return leaves;
  std::set<std::string> wanted;
  for (const auto& c : *props.data_skipping_stats_columns) wanted.insert(AsciiLower(c));
  std::vector<StatLeaf> kept;
  for (auto& leaf : leaves) {
    std::string dotted;
    bool keep = false;
    for (const auto& part : leaf.path) {
      dotted += (dotted.empty() ? "" : ".") + AsciiLower(part);
      keep = keep || wanted.count(dotted);
    }
    if (keep) kept.push_back(std::move(leaf));
  }
  return kept;
}

// The first `chars` code points of UTF-8 `s`; *cut tells whether anything was left out.
std::string_view Utf8Prefix(std::string_view s, size_t chars, bool* cut) {
  size_t count = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    if ((static_cast<unsigned char>(s[i]) & 0xC0) == 0x80) continue;  // a continuation byte
    if (count == chars) {
      *cut = true;
      return s.substr(0, i);
    }
    ++count;
  }
  *cut = false;
  return s;
}

// "YYYY-MM-DDTHH:MM:SS.mmm" of a timestamp truncated to milliseconds; nullopt outside 0001-9999.
std::optional<std::string> MillisText(int64_t micros) {
  int64_t millis = micros / 1000 - (micros % 1000 < 0 ? 1 : 0);
  std::string t = delta::FormatTimestampMicros(millis * 1000);  // "YYYY-MM-DD HH:MM:SS.ffffff"
  if (t.size() != 26 || t[0] == '-' || t.starts_with("0000")) return std::nullopt;
  t[10] = 'T';
  return t.substr(0, 23);
}

// A bound DuckDB reported as text, as the stats JSON holds it; nullopt to leave it out.
std::optional<Json> BoundJson(StatKind kind, const std::string& text, bool max) {
  switch (kind) {
    case StatKind::kNumber: {
      int64_t v = 0;
      auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
      if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
      return Json(v);
    }
    case StatKind::kDecimal: {
      size_t digits = 0, i = text.starts_with('-') ? 1 : 0, dots = 0;
      for (; i < text.size(); ++i) {
        if (text[i] == '.') ++dots;
        else if (text[i] >= '0' && text[i] <= '9') ++digits;
        else return std::nullopt;
      }
      if (digits == 0 || dots > 1) return std::nullopt;
      return Json(std::string(kRawMarker) + text);
    }
    case StatKind::kFloat: {
      char* end = nullptr;
      double v = std::strtod(text.c_str(), &end);
      if (text.empty() || end != text.c_str() + text.size() || !std::isfinite(v)) {
        return std::nullopt;
      }
      return Json(v);
    }
    case StatKind::kString: {
      bool cut = false;
      std::string_view prefix = Utf8Prefix(text, kStringPrefix, &cut);
      if (max && cut) return Json(std::string(prefix) + std::string(kStringMaxTieBreaker));
      return Json(std::string(prefix));
    }
    case StatKind::kDate: {
      auto days = delta::ParseDateDays(text);
      if (!days.ok()) return std::nullopt;
      std::string t = delta::FormatDate(*days);
      if (t.size() != 10 || t[0] == '-' || t.starts_with("0000")) return std::nullopt;
      return Json(t);
    }
    case StatKind::kTimestamp:
    case StatKind::kTimestampNtz: {
      bool utc = kind == StatKind::kTimestamp;
      auto micros = delta::ParseTimestampMicros(text, /*allow_zone=*/utc);
      if (!micros.ok()) return std::nullopt;
      auto t = MillisText(*micros);
      if (!t) return std::nullopt;
      return Json(utc ? *t + "Z" : *t);
    }
    case StatKind::kNone:
      break;
  }
  return std::nullopt;
}

// The null_count of one column's report, nullopt when absent or not a number.
std::optional<int64_t> NullCountOf(const std::map<std::string, std::string>& report) {
  auto text = report.find("null_count");
  if (text == report.end()) return std::nullopt;
  const std::string& t = text->second;
  int64_t n = 0;
  auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), n);
  if (ec != std::errc() || end != t.data() + t.size()) return std::nullopt;
  return n;
}

// A leaf's statistics in one file.
struct LeafStats {
  bool reported = false;  // DuckDB reported all the leaf needs (else: computed by a query)
  int64_t null_count = 0;
  std::optional<Json> min, max;
};

// From DuckDB's report; `reported` stays false for what it does not say.
LeafStats ReportedStats(const CopiedFile& file, const StatLeaf& leaf) {
  LeafStats out;
  auto entry = file.column_statistics.find(ColumnStatisticsKey(leaf.path));
  if (entry == file.column_statistics.end()) return out;
  const auto& s = entry->second;
  std::optional<int64_t> nulls = NullCountOf(s);
  if (!nulls) return out;
  out.null_count = *nulls;
  auto get = [&](const char* key) -> const std::string* {
    auto found = s.find(key);
    return found == s.end() ? nullptr : &found->second;
  };
  if (leaf.kind == StatKind::kNone || out.null_count >= file.num_records) {
    out.reported = true;  // no bounds wanted, or none to have
    return out;
  }
  const std::string* min = get("min");
  const std::string* max = get("max");
  const std::string* has_nan = get("has_nan");
  bool nan = has_nan != nullptr && *has_nan == "true";
  if (min == nullptr || max == nullptr) {
    // Only NaN besides NULLs: no bounds to have. Otherwise DuckDB left them out (a long string).
    out.reported = nan;
    return out;
  }
  out.min = BoundJson(leaf.kind, *min, /*max=*/false);
  if (!nan) out.max = BoundJson(leaf.kind, *max, /*max=*/true);
  out.reported = true;
  return out;
}

// SQL giving the JSON text of a leaf's min or max over a file (for leaves DuckDB did not report).
std::string BoundSql(const StatLeaf& leaf, bool max) {
  const std::string agg = fmt::format("{}({})", max ? "max" : "min", leaf.sql);
  switch (leaf.kind) {
    case StatKind::kNumber:
      return fmt::format("CAST(to_json({}) AS VARCHAR)", agg);
    case StatKind::kDecimal:
      return fmt::format("CAST({} AS VARCHAR)", agg);
    case StatKind::kFloat:
      return fmt::format("CASE WHEN isfinite({0}) THEN CAST(to_json({0}) AS VARCHAR) END", agg);
    case StatKind::kString:
    case StatKind::kDate:
    case StatKind::kTimestamp:
    case StatKind::kTimestampNtz:
      return fmt::format("CAST({} AS VARCHAR)", agg);  // converted by BoundJson
    case StatKind::kNone:
      break;
  }
  return "NULL";
}

void SetAtPath(Json& root, const std::vector<std::string>& path, Json v) {
  Json* node = &root;
  for (size_t i = 0; i + 1 < path.size(); ++i) node = &(*node)[path[i]];
  (*node)[path.back()] = std::move(v);
}

// Computes the leaves at `missing` for every file with one aggregate query over the files.
Status ComputeStats(Connection& conn, const std::vector<CopiedFile>& files,
                    const std::vector<StatLeaf>& leaves, const std::vector<size_t>& missing,
                    std::vector<std::vector<LeafStats>>& stats) {
  std::string list;
  for (const auto& f : files) list += (list.empty() ? "" : ", ") + QuoteString(f.path);
  std::string select = QuoteIdentifier(kScanFileColumn);
  for (size_t l : missing) {
    select += fmt::format(", count(*) - count({}), {}, {}", leaves[l].sql, BoundSql(leaves[l], false),
                          BoundSql(leaves[l], true));
  }
  ASSIGN_OR_RETURN(auto result,
                   conn.Query(fmt::format("SELECT {} FROM read_parquet([{}], filename = {}, "
                                          "hive_partitioning = false) GROUP BY 1",
                                          select, list, QuoteString(kScanFileColumn))));
  std::map<std::string, size_t> row_of;
  for (size_t r = 0; r < result.row_count(); ++r) {
    ASSIGN_OR_RETURN(std::string file, result.GetString(0, r));
    row_of[file] = r;
  }
  for (size_t f = 0; f < files.size(); ++f) {
    auto it = row_of.find(files[f].path);
    if (it == row_of.end()) continue;  // an empty file
    size_t r = it->second, c = 1;
    for (size_t l : missing) {
      LeafStats& s = stats[f][l];
      ASSIGN_OR_RETURN(s.null_count, result.GetInt64(c++, r));
      for (bool max : {false, true}) {
        size_t col = c++;
        if (leaves[l].kind == StatKind::kNone || result.IsNull(col, r)) continue;
        ASSIGN_OR_RETURN(std::string text, result.GetString(col, r));
        std::optional<Json> bound;
        if (leaves[l].kind == StatKind::kNumber || leaves[l].kind == StatKind::kFloat) {
          auto parsed = Json::parse(text, nullptr, /*allow_exceptions=*/false);
          if (parsed.is_discarded()) return Status::Internal("statistics: bad JSON: " + text);
          bound = std::move(parsed);
        } else {
          bound = BoundJson(leaves[l].kind, text, max);
        }
        (max ? s.max : s.min) = std::move(bound);
      }
      s.reported = true;
    }
  }
  return Status::OK();
}

}  // namespace

std::string ColumnStatisticsKey(const std::vector<std::string>& path) {
  std::string key;
  for (const auto& name : path) key += (key.empty() ? "" : ".") + QuoteIdentifier(name);
  return key;
}

std::optional<int64_t> ReportedNullCount(const CopiedFile& file,
                                         const std::vector<std::string>& path) {
  auto it = file.column_statistics.find(ColumnStatisticsKey(path));
  if (it == file.column_statistics.end()) return std::nullopt;
  return NullCountOf(it->second);
}

Result<std::vector<CopiedFile>> CopiedFilesOf(const QueryResult& result) {
  int filename = -1, count = -1, statistics = -1, partitions = -1;
  for (size_t c = 0; c < result.column_count(); ++c) {
    const std::string& name = result.column_name(c);
    if (name == "filename") filename = static_cast<int>(c);
    if (name == "count") count = static_cast<int>(c);
    if (name == "column_statistics") statistics = static_cast<int>(c);
    if (name == "partition_keys") partitions = static_cast<int>(c);
  }
  if (filename < 0 || count < 0 || statistics < 0) {
    return Status::InvalidArgument("not the result of COPY ... RETURN_STATS");
  }
  std::vector<CopiedFile> files;
  for (size_t r = 0; r < result.row_count(); ++r) {
    CopiedFile f;
    ASSIGN_OR_RETURN(f.path, result.GetString(filename, r));
    ASSIGN_OR_RETURN(f.num_records, result.GetInt64(count, r));
    Value columns = result.GetValue(statistics, r);
    for (size_t i = 0; i < columns.size(); ++i) {
      ASSIGN_OR_RETURN(std::string key, columns.map_key(i).AsString());
      auto& entry = f.column_statistics[key];
      Value stats = columns.map_value(i);
      for (size_t j = 0; j < stats.size(); ++j) {
        if (stats.map_value(j).is_null()) continue;
        ASSIGN_OR_RETURN(std::string name, stats.map_key(j).AsString());
        ASSIGN_OR_RETURN(entry[name], stats.map_value(j).AsString());
      }
    }
    if (partitions >= 0) {
      Value keys = result.GetValue(partitions, r);
      for (size_t i = 0; i < keys.size(); ++i) {
        ASSIGN_OR_RETURN(std::string key, keys.map_key(i).AsString());
        f.partition_keys[key] = keys.map_value(i).ToString();
      }
    }
    files.push_back(std::move(f));
  }
  return files;
}

Result<std::vector<std::string>> StatsJsonOf(Connection& conn,
                                             const std::vector<CopiedFile>& files,
                                             const std::vector<StructField>& data_fields,
                                             const std::map<std::string, std::string>& configuration) {
  ASSIGN_OR_RETURN(std::vector<StatLeaf> leaves, StatsLeaves(data_fields, configuration));
  std::vector<std::vector<LeafStats>> stats(files.size());
  std::vector<bool> missing(leaves.size(), false);
  for (size_t f = 0; f < files.size(); ++f) {
    for (size_t l = 0; l < leaves.size(); ++l) {
      stats[f].push_back(ReportedStats(files[f], leaves[l]));
      if (!stats[f][l].reported) missing[l] = true;
    }
  }
  std::vector<size_t> to_compute;
  for (size_t l = 0; l < leaves.size(); ++l) {
    if (missing[l]) to_compute.push_back(l);
  }
  if (!to_compute.empty()) RETURN_NOT_OK(ComputeStats(conn, files, leaves, to_compute, stats));

  std::vector<std::string> out;
  const std::string marker = "\"\\u0001medallion-raw:";
  for (size_t f = 0; f < files.size(); ++f) {
    Json json;
    json["numRecords"] = files[f].num_records;
    if (!leaves.empty()) {
      Json mins = Json::object(), maxs = Json::object(), nulls = Json::object();
      for (size_t l = 0; l < leaves.size(); ++l) {
        LeafStats& s = stats[f][l];
        SetAtPath(nulls, leaves[l].path, s.null_count);
        if (s.min) SetAtPath(mins, leaves[l].path, std::move(*s.min));
        if (s.max) SetAtPath(maxs, leaves[l].path, std::move(*s.max));
      }
      json["minValues"] = std::move(mins);
      json["maxValues"] = std::move(maxs);
      json["nullCount"] = std::move(nulls);
    }
    std::string text = json.dump(-1, ' ', false, Json::error_handler_t::replace);
    // "\u0001medallion-raw:12.50" -> 12.50
    for (size_t at = text.find(marker); at != std::string::npos; at = text.find(marker, at)) {
      size_t end = text.find('"', at + marker.size());
      text = text.substr(0, at) + text.substr(at + marker.size(), end - at - marker.size()) +
             text.substr(end + 1);
    }
    out.push_back(std::move(text));
  }
  return out;
}

}  // namespace medallion::engine
