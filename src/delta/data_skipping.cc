#include "delta/data_skipping.h"

#include <simdjson.h>

#include <charconv>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <optional>
#include <unordered_map>

#include "common/macros.h"
#include "common/text.h"
#include "delta/partition_value.h"

namespace medallion::delta {
namespace {

namespace od = simdjson::ondemand;

// Spark's default prefix length for string statistics ("delta.dataSkippingStringPrefixLength").
constexpr int64_t kStringPrefixLength = 32;
constexpr std::string_view kStringPrefixLengthProperty = "delta.dataSkippingStringPrefixLength";
// U+10FFFF in UTF-8: the tie-breaker Spark appends to a cut string max.
constexpr std::string_view kTieBreaker = "\xF4\x8F\xBF\xBF";
// Timestamps in statistics are truncated to milliseconds.
constexpr int64_t kTimestampSlackMicros = 1000;
// Joins the parts of a statistics path (names may hold dots).
constexpr char kPathSeparator = '\x1f';

std::string_view OpText(SkippingOp op) {
  switch (op) {
    case SkippingOp::kEqual: return "=";
    case SkippingOp::kLess: return "<";
    case SkippingOp::kLessOrEqual: return "<=";
    case SkippingOp::kGreater: return ">";
    case SkippingOp::kGreaterOrEqual: return ">=";
    case SkippingOp::kIn: return "IN";
    case SkippingOp::kIsNull: return "IS NULL";
    case SkippingOp::kIsNotNull: return "IS NOT NULL";
  }
  return "?";
}

std::string JoinPath(const std::vector<std::string>& path, char sep) {
  std::string out;
  for (const auto& p : path) {
    if (!out.empty()) out += sep;
    out += p;
  }
  return out;
}

// ---- Numbers ------------------------------------------------------------------------------------

// An exact decimal number: value = (neg ? -1 : 1) * digits * 10^exponent; digits has no leading or
// trailing zeros ("" is zero).
struct Decimal {
  bool negative = false;
  std::string digits;
  int64_t exponent = 0;
};

// Reads "[+-]digits[.digits][(e|E)[+-]digits]"; false when malformed.
bool ParseDecimal(std::string_view s, Decimal* out) {
  size_t pos = 0;
  Decimal d;
  if (pos < s.size() && (s[pos] == '-' || s[pos] == '+')) d.negative = s[pos++] == '-';
  bool any = false;
  int64_t frac = 0;
  while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') d.digits += s[pos++], any = true;
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') d.digits += s[pos++], ++frac, any = true;
  }
  if (!any) return false;
  int64_t exp = 0;
  if (pos < s.size() && (s[pos] == 'e' || s[pos] == 'E')) {
    ++pos;
    bool neg = false;
    if (pos < s.size() && (s[pos] == '-' || s[pos] == '+')) neg = s[pos++] == '-';
    size_t start = pos;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9' && pos - start < 6) {
      exp = exp * 10 + (s[pos++] - '0');
    }
    if (pos == start) return false;
    if (neg) exp = -exp;
  }
  if (pos != s.size()) return false;
  d.exponent = exp - frac;
  size_t lead = d.digits.find_first_not_of('0');
  if (lead == std::string::npos) {
    *out = Decimal{};
    return true;
  }
  d.digits.erase(0, lead);
  while (d.digits.back() == '0') d.digits.pop_back(), ++d.exponent;
  *out = std::move(d);
  return true;
}

int CompareMagnitude(const Decimal& a, const Decimal& b) {
  const int64_t ma = static_cast<int64_t>(a.digits.size()) + a.exponent;  // position of the top digit
  const int64_t mb = static_cast<int64_t>(b.digits.size()) + b.exponent;
  if (ma != mb) return ma < mb ? -1 : 1;
  const size_t n = std::max(a.digits.size(), b.digits.size());
  for (size_t i = 0; i < n; ++i) {
    char ca = i < a.digits.size() ? a.digits[i] : '0';
    char cb = i < b.digits.size() ? b.digits[i] : '0';
    if (ca != cb) return ca < cb ? -1 : 1;
  }
  return 0;
}

int CompareDecimal(const Decimal& a, const Decimal& b) {
  const int sa = a.digits.empty() ? 0 : (a.negative ? -1 : 1);
  const int sb = b.digits.empty() ? 0 : (b.negative ? -1 : 1);
  if (sa != sb) return sa < sb ? -1 : 1;
  if (sa == 0) return 0;
  int m = CompareMagnitude(a, b);
  return sa > 0 ? m : -m;
}

bool IsNumeric(const Scalar& s) {
  return s.kind() == Scalar::Kind::kInt64 || s.kind() == Scalar::Kind::kDecimal ||
         s.kind() == Scalar::Kind::kDouble;
}

std::optional<double> AsDouble(const Scalar& s) {
  switch (s.kind()) {
    case Scalar::Kind::kInt64: return static_cast<double>(s.int64_value());
    case Scalar::Kind::kDouble: return s.double_value();
    case Scalar::Kind::kDecimal: {
      char* end = nullptr;
      double d = std::strtod(s.string_value().c_str(), &end);
      if (end == s.string_value().c_str()) return std::nullopt;
      return d;
    }
    default: return std::nullopt;
  }
}

std::optional<Decimal> AsDecimal(const Scalar& s) {
  Decimal d;
  if (s.kind() == Scalar::Kind::kInt64) {
    if (!ParseDecimal(std::to_string(s.int64_value()), &d)) return std::nullopt;
    return d;
  }
  if (s.kind() == Scalar::Kind::kDecimal && ParseDecimal(s.string_value(), &d)) return d;
  return std::nullopt;
}

template <typename T>
int Sign(const T& a, const T& b) {
  return a < b ? -1 : (b < a ? 1 : 0);
}

// -1, 0, 1 as a < b, a == b, a > b; nullopt when the two cannot be compared (different domains,
// NaN, malformed decimal text).
std::optional<int> CompareScalars(const Scalar& a, const Scalar& b) {
  using K = Scalar::Kind;
  if (a.is_null() || b.is_null()) return std::nullopt;
  if (IsNumeric(a) && IsNumeric(b)) {
    if (a.kind() == K::kDouble || b.kind() == K::kDouble) {
      auto da = AsDouble(a), db = AsDouble(b);
      if (!da || !db || std::isnan(*da) || std::isnan(*db)) return std::nullopt;
      return Sign(*da, *db);
    }
    if (a.kind() == K::kInt64 && b.kind() == K::kInt64) return Sign(a.int64_value(), b.int64_value());
    auto da = AsDecimal(a), db = AsDecimal(b);
    if (!da || !db) return std::nullopt;
    return CompareDecimal(*da, *db);
  }
  if (a.kind() != b.kind()) return std::nullopt;
  switch (a.kind()) {
    case K::kString:
    case K::kBinary: {
      int c = a.string_value().compare(b.string_value());  // byte order (char_traits compare)
      return c < 0 ? -1 : (c > 0 ? 1 : 0);
    }
    case K::kBoolean:
      return Sign(static_cast<int>(a.bool_value()), static_cast<int>(b.bool_value()));
    case K::kDate:
    case K::kTimestamp:
    case K::kTimestampNtz:
      return Sign(a.int64_value(), b.int64_value());
    default:
      return std::nullopt;
  }
}

// ---- Literals -----------------------------------------------------------------------------------

bool IsIntegerType(TypeKind k) {
  return k == TypeKind::kByte || k == TypeKind::kShort || k == TypeKind::kInteger ||
         k == TypeKind::kLong;
}
bool IsNumberType(TypeKind k) {
  return IsIntegerType(k) || k == TypeKind::kFloat || k == TypeKind::kDouble ||
         k == TypeKind::kDecimal;
}

// The literal as a value comparable with the column's type, or nullopt when it does not fit (the
// conjunct is then ignored). NULL stays NULL.
std::optional<Scalar> CoerceLiteral(const Scalar& v, const DataType& type) {
  using K = Scalar::Kind;
  if (v.is_null()) return v;
  const TypeKind t = type.kind();
  if (v.kind() == K::kString && t != TypeKind::kString && t != TypeKind::kBinary) {
    auto parsed = ParsePartitionValue(v.string_value(), type, "");
    if (!parsed.ok() || parsed->is_null()) return std::nullopt;
    if (parsed->kind() == K::kDouble && std::isnan(parsed->double_value())) return std::nullopt;
    return *parsed;
  }
  if (IsNumberType(t)) {
    if (!IsNumeric(v)) return std::nullopt;
    if (v.kind() == K::kDouble && std::isnan(v.double_value())) return std::nullopt;
    if (v.kind() == K::kDecimal && !AsDecimal(v)) return std::nullopt;
    return v;
  }
  switch (t) {
    case TypeKind::kString: return v.kind() == K::kString ? std::optional<Scalar>(v) : std::nullopt;
    case TypeKind::kBoolean: return v.kind() == K::kBoolean ? std::optional<Scalar>(v) : std::nullopt;
    case TypeKind::kDate: return v.kind() == K::kDate ? std::optional<Scalar>(v) : std::nullopt;
    case TypeKind::kTimestamp:
      return v.kind() == K::kTimestamp ? std::optional<Scalar>(v) : std::nullopt;
    case TypeKind::kTimestampNtz:
      return v.kind() == K::kTimestampNtz ? std::optional<Scalar>(v) : std::nullopt;
    default: return std::nullopt;  // binary and nested types: no skipping
  }
}

// ---- Statistics ---------------------------------------------------------------------------------

// One leaf of minValues / maxValues, as written.
struct StatLeaf {
  enum class Kind { kNumber, kString, kBoolean } kind = Kind::kNumber;
  std::string text;  // number: the JSON token; string: the unescaped text
  bool boolean = false;
};

// The parts of a file's statistics JSON that skipping reads. Keys: lower-cased physical paths
// joined by kPathSeparator.
struct FileStats {
  std::optional<int64_t> num_records;
  bool tight_bounds = true;
  std::unordered_map<std::string, StatLeaf> min, max;
  std::unordered_map<std::string, int64_t> null_count;
};

simdjson::error_code WalkLeaves(od::value value, std::string& path,
                                std::unordered_map<std::string, StatLeaf>* leaves,
                                std::unordered_map<std::string, int64_t>* counts) {
  od::json_type type;
  if (auto e = value.type().get(type)) return e;
  switch (type) {
    case od::json_type::object: {
      od::object obj;
      if (auto e = value.get_object().get(obj)) return e;
      for (auto field : obj) {
        std::string_view key;
        if (auto e = field.unescaped_key().get(key)) return e;
        const size_t n = path.size();
        if (!path.empty()) path += kPathSeparator;
        path += AsciiLower(key);
        od::value child;
        if (auto e = field.value().get(child)) return e;
        if (auto e = WalkLeaves(child, path, leaves, counts)) return e;
        path.resize(n);
      }
      return simdjson::SUCCESS;
    }
    case od::json_type::number: {
      if (counts != nullptr) {
        int64_t n = 0;
        if (value.get_int64().get(n) == simdjson::SUCCESS) (*counts)[path] = n;
        return simdjson::SUCCESS;
      }
      std::string_view raw;
      raw = value.raw_json_token();
      while (!raw.empty() && (raw.back() == ' ' || raw.back() == '\n' || raw.back() == '\r' ||
                              raw.back() == '\t')) {
        raw.remove_suffix(1);
      }
      if (leaves != nullptr) (*leaves)[path] = StatLeaf{StatLeaf::Kind::kNumber, std::string(raw)};
      return simdjson::SUCCESS;
    }
    case od::json_type::string: {
      std::string_view s;
      if (auto e = value.get_string().get(s)) return e;
      if (leaves != nullptr) (*leaves)[path] = StatLeaf{StatLeaf::Kind::kString, std::string(s)};
      return simdjson::SUCCESS;
    }
    case od::json_type::boolean: {
      bool b = false;
      if (auto e = value.get_bool().get(b)) return e;
      if (leaves != nullptr) (*leaves)[path] = StatLeaf{StatLeaf::Kind::kBoolean, "", b};
      return simdjson::SUCCESS;
    }
    default:  // null, arrays: no information
      return simdjson::SUCCESS;
  }
}

// nullopt when the JSON is malformed (the file is then kept whole).
std::optional<FileStats> ParseStats(std::string_view json) {
  thread_local od::parser parser;
  simdjson::padded_string padded(json);
  od::document doc;
  if (parser.iterate(padded).get(doc)) return std::nullopt;
  od::object root;
  if (doc.get_object().get(root)) return std::nullopt;
  FileStats stats;
  for (auto field : root) {
    std::string_view key;
    if (field.unescaped_key().get(key)) return std::nullopt;
    od::value value;
    if (field.value().get(value)) return std::nullopt;
    std::string path;
    simdjson::error_code e = simdjson::SUCCESS;
    if (key == "numRecords") {
      int64_t n = 0;
      if (value.get_int64().get(n) == simdjson::SUCCESS) stats.num_records = n;
    } else if (key == "tightBounds") {
      bool b = true;
      if (value.get_bool().get(b) == simdjson::SUCCESS) stats.tight_bounds = b;
    } else if (key == "minValues") {
      e = WalkLeaves(value, path, &stats.min, nullptr);
    } else if (key == "maxValues") {
      e = WalkLeaves(value, path, &stats.max, nullptr);
    } else if (key == "nullCount") {
      e = WalkLeaves(value, path, nullptr, &stats.null_count);
    }
    if (e) return std::nullopt;
  }
  return stats;
}

// A statistics leaf read as the column's type; nullopt when it cannot be (NaN as text, a malformed
// date, ...).
std::optional<Scalar> LeafValue(const StatLeaf& leaf, const DataType& type) {
  const TypeKind t = type.kind();
  if (IsNumberType(t)) {
    if (leaf.kind != StatLeaf::Kind::kNumber) return std::nullopt;
    const std::string& text = leaf.text;
    if (t == TypeKind::kFloat || t == TypeKind::kDouble) {
      char* end = nullptr;
      double d = std::strtod(text.c_str(), &end);
      if (end != text.c_str() + text.size() || std::isnan(d)) return std::nullopt;
      return Scalar::Double(d);
    }
    if (IsIntegerType(t)) {
      int64_t n = 0;
      auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
      if (ec == std::errc() && p == text.data() + text.size()) return Scalar::Int64(n);
    }
    Decimal d;
    if (!ParseDecimal(text, &d)) return std::nullopt;
    return Scalar::Decimal(text, type.precision(), type.scale());
  }
  switch (t) {
    case TypeKind::kString:
      if (leaf.kind != StatLeaf::Kind::kString) return std::nullopt;
      return Scalar::String(leaf.text);
    case TypeKind::kBoolean:
      if (leaf.kind != StatLeaf::Kind::kBoolean) return std::nullopt;
      return Scalar::Boolean(leaf.boolean);
    case TypeKind::kDate: {
      if (leaf.kind != StatLeaf::Kind::kString) return std::nullopt;
      auto days = ParseDateDays(leaf.text);
      if (!days.ok()) return std::nullopt;
      return Scalar::Date(*days);
    }
    case TypeKind::kTimestamp: {
      if (leaf.kind != StatLeaf::Kind::kString) return std::nullopt;
      auto micros = ParseTimestampMicros(leaf.text, /*allow_zone=*/true);
      if (!micros.ok()) return std::nullopt;
      return Scalar::Timestamp(*micros);
    }
    case TypeKind::kTimestampNtz: {
      if (leaf.kind != StatLeaf::Kind::kString) return std::nullopt;
      auto micros = ParseTimestampMicros(leaf.text, /*allow_zone=*/false);
      if (!micros.ok()) micros = ParseTimestampMicros(leaf.text, /*allow_zone=*/true);
      if (!micros.ok()) return std::nullopt;
      return Scalar::TimestampNtz(*micros);
    }
    default:
      return std::nullopt;
  }
}

int64_t CodePoints(std::string_view s) {
  int64_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

}  // namespace

// ---- Predicates ---------------------------------------------------------------------------------

ColumnPredicate ColumnPredicate::Compare(std::vector<std::string> column, SkippingOp op,
                                         Scalar value) {
  return ColumnPredicate{std::move(column), op, {std::move(value)}};
}
ColumnPredicate ColumnPredicate::In(std::vector<std::string> column, std::vector<Scalar> values) {
  return ColumnPredicate{std::move(column), SkippingOp::kIn, std::move(values)};
}
ColumnPredicate ColumnPredicate::IsNull(std::vector<std::string> column) {
  return ColumnPredicate{std::move(column), SkippingOp::kIsNull, {}};
}
ColumnPredicate ColumnPredicate::IsNotNull(std::vector<std::string> column) {
  return ColumnPredicate{std::move(column), SkippingOp::kIsNotNull, {}};
}

std::string ColumnPredicate::ToString() const {
  std::string out = JoinPath(column, '.') + " " + std::string(OpText(op));
  if (op == SkippingOp::kIsNull || op == SkippingOp::kIsNotNull) return out;
  if (op == SkippingOp::kIn) {
    std::string list;
    for (const Scalar& v : values) list += (list.empty() ? "" : ", ") + v.ToString();
    return out + " (" + list + ")";
  }
  return out + " " + (values.empty() ? std::string("?") : values[0].ToString());
}

std::string SkippingPredicate::ToString() const {
  if (conjuncts.empty()) return "TRUE";
  std::string out;
  for (const auto& c : conjuncts) out += (out.empty() ? "" : " AND ") + c.ToString();
  return out;
}

// ---- The filter ---------------------------------------------------------------------------------

struct DataSkippingFilter::Bound {
  SkippingOp op = SkippingOp::kEqual;
  std::vector<Scalar> values;  // coerced to the column's domain
  DataTypePtr type;
  bool partition = false;
  std::string partition_key;      // partitionValues key (physical name)
  std::string partition_logical;  // fallback key (logical name)
  std::string stats_key;          // lower-cased physical path, kPathSeparator-joined
  bool nested = false;            // below the top level
  int64_t string_prefix_length = kStringPrefixLength;
};

namespace {

// What one file says about one column.
struct ColumnFacts {
  std::optional<Scalar> min;  // every non-null value is >= min
  std::optional<Scalar> max;  // every non-null value is <= max
  // A string max that may have been cut: every non-null value is <= some string starting with this
  // prefix (max is then unset).
  std::optional<std::string> max_prefix;
  bool all_null = false;   // every row is NULL in the column
  bool none_null = false;  // no row is NULL in the column
};

// v is greater than every non-null value.
bool AboveMax(const ColumnFacts& f, const Scalar& v) {
  if (f.max_prefix) {
    if (v.kind() != Scalar::Kind::kString) return false;
    const std::string& s = v.string_value();
    return s > *f.max_prefix && !s.starts_with(*f.max_prefix);
  }
  if (!f.max) return false;
  auto c = CompareScalars(v, *f.max);
  return c && *c > 0;
}
// v is >= every non-null value.
bool AtOrAboveMax(const ColumnFacts& f, const Scalar& v) {
  if (f.max_prefix) return AboveMax(f, v);  // the cut max bounds no longest string
  if (!f.max) return false;
  auto c = CompareScalars(v, *f.max);
  return c && *c >= 0;
}
// v is less than every non-null value.
bool BelowMin(const ColumnFacts& f, const Scalar& v) {
  if (!f.min) return false;
  auto c = CompareScalars(v, *f.min);
  return c && *c < 0;
}
// v is <= every non-null value.
bool AtOrBelowMin(const ColumnFacts& f, const Scalar& v) {
  if (!f.min) return false;
  auto c = CompareScalars(v, *f.min);
  return c && *c <= 0;
}

// Whether a file with these facts may hold a row where the conjunct is true.
bool MayMatchFacts(const DataSkippingFilter::Bound& b, const ColumnFacts& f) {
  switch (b.op) {
    case SkippingOp::kIsNull:
      return !f.none_null;
    case SkippingOp::kIsNotNull:
      return !f.all_null;
    case SkippingOp::kIn: {
      if (f.all_null) return false;
      for (const Scalar& v : b.values) {
        if (v.is_null()) continue;
        if (!BelowMin(f, v) && !AboveMax(f, v)) return true;
      }
      return false;
    }
    default:
      break;
  }
  const Scalar& v = b.values[0];
  if (v.is_null() || f.all_null) return false;  // a comparison with NULL is never true
  switch (b.op) {
    case SkippingOp::kEqual: return !BelowMin(f, v) && !AboveMax(f, v);
    case SkippingOp::kLess: return !AtOrBelowMin(f, v);
    case SkippingOp::kLessOrEqual: return !BelowMin(f, v);
    case SkippingOp::kGreater: return !AtOrAboveMax(f, v);
    case SkippingOp::kGreaterOrEqual: return !AboveMax(f, v);
    default: return true;
  }
}

ColumnFacts PartitionFacts(const DataSkippingFilter::Bound& b, const AddFile& file, bool* known) {
  ColumnFacts f;
  auto it = file.partition_values.find(b.partition_key);
  if (it == file.partition_values.end()) it = file.partition_values.find(b.partition_logical);
  std::optional<std::string> raw = it == file.partition_values.end() ? std::nullopt : it->second;
  auto value = ParsePartitionValue(raw, *b.type, b.partition_logical);
  if (!value.ok()) {
    *known = false;
    return f;
  }
  *known = true;
  if (value->is_null()) {
    f.all_null = true;
  } else {
    f.none_null = true;
    f.min = *value;
    f.max = *value;
  }
  return f;
}

ColumnFacts StatsFacts(const DataSkippingFilter::Bound& b, const FileStats& stats) {
  ColumnFacts f;
  auto nc = stats.null_count.find(b.stats_key);
  if (nc != stats.null_count.end()) {
    if (stats.num_records && nc->second == *stats.num_records) f.all_null = true;
    // A nested leaf's count may leave out rows whose parent struct is NULL: only top level.
    if (nc->second == 0 && !b.nested) f.none_null = true;
  }
  const TypeKind t = b.type->kind();
  if (auto it = stats.min.find(b.stats_key); it != stats.min.end()) {
    f.min = LeafValue(it->second, *b.type);
  }
  if (auto it = stats.max.find(b.stats_key); it != stats.max.end()) {
    f.max = LeafValue(it->second, *b.type);
  }
  if (t == TypeKind::kString && f.max) {
    std::string m = f.max->string_value();
    bool cut = false;
    if (m.ends_with(kTieBreaker)) {
      m.resize(m.size() - kTieBreaker.size());
      cut = true;
    }
    if (cut || CodePoints(m) >= b.string_prefix_length) {
      f.max_prefix = std::move(m);
      f.max.reset();
    }
  }
  if (t == TypeKind::kTimestamp || t == TypeKind::kTimestampNtz) {
    auto widen = [&](std::optional<Scalar>& s, int64_t delta) {
      if (!s) return;
      const int64_t v = s->int64_value() + delta;
      s = t == TypeKind::kTimestamp ? Scalar::Timestamp(v) : Scalar::TimestampNtz(v);
    };
    widen(f.min, -kTimestampSlackMicros);
    widen(f.max, kTimestampSlackMicros);
  }
  if (t == TypeKind::kFloat) {
    if (f.min) {
      f.min = Scalar::Double(std::nextafter(static_cast<float>(f.min->double_value()),
                                            -std::numeric_limits<float>::infinity()));
    }
    if (f.max) {
      f.max = Scalar::Double(std::nextafter(static_cast<float>(f.max->double_value()),
                                            std::numeric_limits<float>::infinity()));
    }
  }
  return f;
}

}  // namespace

Result<DataSkippingFilter> DataSkippingFilter::Make(const TableConfiguration& config,
                                                    const SkippingPredicate& predicate) {
  DataSkippingFilter filter;
  const bool mapping = config.column_mapping_mode() != ColumnMappingMode::kNone;
  int64_t prefix_length = kStringPrefixLength;
  {
    const auto& conf = config.metadata().configuration;
    auto it = conf.find(std::string(kStringPrefixLengthProperty));
    if (it != conf.end()) {
      int64_t n = 0;
      auto [p, ec] = std::from_chars(it->second.data(), it->second.data() + it->second.size(), n);
      if (ec == std::errc() && n > 0 && n < prefix_length) prefix_length = n;
    }
  }
  for (const ColumnPredicate& c : predicate.conjuncts) {
    const std::string name = JoinPath(c.column, '.');
    if (c.column.empty()) return Status::InvalidArgument("data skipping: a predicate has no column");
    // Resolve the logical path, ignoring case, through structs.
    const StructField* field = config.schema().FindFieldIgnoreCase(c.column[0]);
    if (field == nullptr) {
      return Status::InvalidArgument("data skipping: no column '" + name + "' in the table");
    }
    std::vector<std::string> physical = {AsciiLower(field->PhysicalName(mapping))};
    for (size_t i = 1; i < c.column.size(); ++i) {
      if (field->type->kind() != TypeKind::kStruct) {
        return Status::InvalidArgument("data skipping: column '" + name + "': '" + field->name +
                                       "' is not a struct");
      }
      const StructField* next = nullptr;
      for (const StructField& f : field->type->fields()) {
        if (EqualsIgnoreCase(f.name, c.column[i])) next = &f;
      }
      if (next == nullptr) {
        return Status::InvalidArgument("data skipping: no column '" + name + "' in the table");
      }
      field = next;
      physical.push_back(AsciiLower(field->PhysicalName(mapping)));
    }
    auto bound = std::make_shared<Bound>();
    bound->op = c.op;
    bound->type = field->type;
    bound->nested = c.column.size() > 1;
    bound->string_prefix_length = prefix_length;
    bound->stats_key = JoinPath(physical, kPathSeparator);
    if (!bound->nested) {
      for (const auto& p : config.partition_columns()) {
        if (EqualsIgnoreCase(p, field->name)) {
          bound->partition = true;
          bound->partition_key = field->PhysicalName(mapping);
          bound->partition_logical = field->name;
        }
      }
    }
    const bool compare = c.op != SkippingOp::kIsNull && c.op != SkippingOp::kIsNotNull;
    if (!field->type->is_primitive() || (compare && field->type->kind() == TypeKind::kBinary &&
                                         !bound->partition)) {
      filter.ignored_.push_back(c.ToString() + ": column type " + field->type->ToString() +
                                " has no usable statistics");
      continue;
    }
    if (compare && c.op != SkippingOp::kIn && c.values.size() != 1) {
      return Status::InvalidArgument("data skipping: " + name + " " + std::string(OpText(c.op)) +
                                     " needs exactly one value");
    }
    bool usable = true;
    for (const Scalar& v : c.values) {
      std::optional<Scalar> coerced;
      if (bound->partition && field->type->kind() == TypeKind::kBinary) {
        if (v.kind() == Scalar::Kind::kBinary || v.is_null()) coerced = v;
      } else {
        coerced = CoerceLiteral(v, *field->type);
      }
      if (!coerced) {
        filter.ignored_.push_back(c.ToString() + ": literal " + v.ToString() + " is not a " +
                                  field->type->Name());
        usable = false;
        break;
      }
      bound->values.push_back(std::move(*coerced));
    }
    if (!usable) continue;
    filter.conjuncts_.push_back(std::move(bound));
  }
  return filter;
}

bool DataSkippingFilter::MayMatch(const AddFile& file) const {
  std::optional<FileStats> stats;
  bool stats_read = false;
  for (const auto& b : conjuncts_) {
    ColumnFacts facts;
    if (b->partition) {
      bool known = false;
      facts = PartitionFacts(*b, file, &known);
      if (!known) continue;
    } else {
      if (!stats_read) {
        stats_read = true;
        if (file.stats) stats = ParseStats(*file.stats);
      }
      if (!stats) continue;
      facts = StatsFacts(*b, *stats);
    }
    if (!MayMatchFacts(*b, facts)) return false;
  }
  return true;
}

Result<FileSelection> SelectFiles(const TableConfiguration& config,
                                  const std::vector<AddFile>& files,
                                  const SkippingPredicate& predicate) {
  FileSelection out;
  out.considered = static_cast<int64_t>(files.size());
  if (predicate.empty()) {
    for (const AddFile& f : files) out.files.push_back(&f);
  } else {
    ASSIGN_OR_RETURN(DataSkippingFilter filter, DataSkippingFilter::Make(config, predicate));
    for (const AddFile& f : files) {
      if (filter.MayMatch(f)) out.files.push_back(&f);
    }
  }
  out.kept = static_cast<int64_t>(out.files.size());
  return out;
}

Result<FileSelection> SelectFiles(const Snapshot& snapshot, const SkippingPredicate& predicate) {
  return SelectFiles(snapshot.config(), snapshot.files(), predicate);
}

std::optional<int64_t> NumRecords(const AddFile& file) {
  if (!file.stats) return std::nullopt;
  std::optional<FileStats> stats = ParseStats(*file.stats);
  return stats ? stats->num_records : std::nullopt;
}

}  // namespace medallion::delta
