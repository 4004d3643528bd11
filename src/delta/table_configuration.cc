#include "delta/table_configuration.h"

#include <algorithm>
#include <cctype>
#include <limits>
#include <set>
#include <string>

#include "common/macros.h"

namespace medallion::delta {
namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string Trim(std::string_view s) {
  size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return std::string(s.substr(b, e - b));
}

Status BadValue(std::string_view property, std::string_view value, std::string_view expected) {
  return Status::InvalidArgument(std::string(property) + ": '" + std::string(value) +
                                 "' is not " + std::string(expected));
}

Result<bool> ParseBool(std::string_view property, std::string_view value) {
  const std::string v = Lower(Trim(value));
  if (v == "true") return true;
  if (v == "false") return false;
  return BadValue(property, value, "true or false");
}

bool ParseInt64(std::string_view text, int64_t* out) {
  const std::string t = Trim(text);
  if (t.empty()) return false;
  size_t i = (t[0] == '-' || t[0] == '+') ? 1 : 0;
  if (i == t.size()) return false;
  for (size_t j = i; j < t.size(); ++j) {
    if (!std::isdigit(static_cast<unsigned char>(t[j]))) return false;
  }
  try {
    *out = std::stoll(t);
  } catch (...) {
    return false;
  }
  return true;
}

// Milliseconds per unit; 0 for "fractions of a millisecond" units handled separately.
struct Unit {
  std::string_view name;
  int64_t nanos;
};
constexpr int64_t kNsPerMs = 1000000;
constexpr Unit kUnits[] = {
    {"nanosecond", 1},
    {"ns", 1},
    {"microsecond", 1000},
    {"us", 1000},
    {"millisecond", kNsPerMs},
    {"ms", kNsPerMs},
    {"second", 1000 * kNsPerMs},
    {"sec", 1000 * kNsPerMs},
    {"s", 1000 * kNsPerMs},
    {"minute", 60 * 1000 * kNsPerMs},
    {"min", 60 * 1000 * kNsPerMs},
    {"hour", 3600 * 1000 * kNsPerMs},
    {"h", 3600 * 1000 * kNsPerMs},
    {"day", 24 * 3600 * 1000 * kNsPerMs},
    {"d", 24 * 3600 * 1000 * kNsPerMs},
    {"week", 7 * 24 * 3600 * 1000 * kNsPerMs},
};

const std::set<std::string, std::less<>>& SupportedFeatures() {
  static const std::set<std::string, std::less<>> kFeatures = {
      // reader (and writer) features
      "columnMapping", "deletionVectors", "timestampNtz", "v2Checkpoint", "vacuumProtocolCheck",
      "typeWidening", "typeWidening-preview",
      // writer-only features: harmless to a reader if a table lists them as reader features
      "appendOnly", "invariants", "checkConstraints", "generatedColumns", "allowColumnDefaults",
      "changeDataFeed", "identityColumns", "rowTracking", "domainMetadata", "icebergCompatV1",
      "icebergCompatV2", "clustering", "inCommitTimestamp"};
  return kFeatures;
}

}  // namespace

std::string_view ColumnMappingModeName(ColumnMappingMode mode) {
  switch (mode) {
    case ColumnMappingMode::kNone:
      return "none";
    case ColumnMappingMode::kId:
      return "id";
    case ColumnMappingMode::kName:
      return "name";
  }
  return "none";
}

Result<int64_t> ParseIntervalMs(std::string_view text) {
  auto bad = [&]() {
    return Status::InvalidArgument("'" + std::string(text) +
                                   "' is not an interval such as 'interval 7 days'");
  };
  std::vector<std::string> words;
  {
    std::string t = Lower(Trim(text));
    size_t i = 0;
    while (i < t.size()) {
      while (i < t.size() && std::isspace(static_cast<unsigned char>(t[i]))) ++i;
      size_t j = i;
      while (j < t.size() && !std::isspace(static_cast<unsigned char>(t[j]))) ++j;
      if (j > i) words.push_back(t.substr(i, j - i));
      i = j;
    }
  }
  size_t w = 0;
  if (w < words.size() && words[w] == "interval") ++w;
  if (w >= words.size()) return bad();
  __int128 total_ns = 0;
  while (w < words.size()) {
    // "<n> <unit>" or "<n><unit>"
    std::string number = words[w++];
    std::string unit;
    size_t split = 0;
    while (split < number.size() &&
           (std::isdigit(static_cast<unsigned char>(number[split])) || number[split] == '-' ||
            number[split] == '+')) {
      ++split;
    }
    if (split < number.size()) {
      unit = number.substr(split);
      number = number.substr(0, split);
    } else {
      if (w >= words.size()) return bad();
      unit = words[w++];
    }
    int64_t n = 0;
    if (!ParseInt64(number, &n)) return bad();
    if (unit.size() > 1 && unit.back() == 's' && unit != "ms" && unit != "ns" && unit != "us") {
      unit.pop_back();  // plural
    }
    const Unit* found = nullptr;
    for (const auto& u : kUnits) {
      if (u.name == unit) found = &u;
    }
    if (!found) return bad();
    total_ns += static_cast<__int128>(n) * found->nanos;
    if (total_ns > static_cast<__int128>(std::numeric_limits<int64_t>::max()) ||
        total_ns < -static_cast<__int128>(std::numeric_limits<int64_t>::max())) {
      return Status::InvalidArgument("'" + std::string(text) + "' is too long an interval");
    }
  }
  return static_cast<int64_t>(total_ns / kNsPerMs);
}

bool IsSupportedReaderFeature(std::string_view feature) {
  return SupportedFeatures().count(feature) > 0;
}

Result<TableProperties> ParseTableProperties(const StringMap& configuration) {
  TableProperties p;
  auto get = [&](std::string_view key) -> const std::string* {
    auto it = configuration.find(std::string(key));
    return it == configuration.end() ? nullptr : &it->second;
  };
  if (const auto* v = get(props::kColumnMappingMode)) {
    const std::string mode = Lower(Trim(*v));
    if (mode == "none") {
      p.column_mapping_mode = ColumnMappingMode::kNone;
    } else if (mode == "id") {
      p.column_mapping_mode = ColumnMappingMode::kId;
    } else if (mode == "name") {
      p.column_mapping_mode = ColumnMappingMode::kName;
    } else {
      return BadValue(props::kColumnMappingMode, *v, "one of none, id, name");
    }
  }
  if (const auto* v = get(props::kEnableChangeDataFeed)) {
    ASSIGN_OR_RETURN(p.enable_change_data_feed, ParseBool(props::kEnableChangeDataFeed, *v));
  }
  if (const auto* v = get(props::kCheckpointInterval)) {
    if (!ParseInt64(*v, &p.checkpoint_interval) || p.checkpoint_interval <= 0) {
      return BadValue(props::kCheckpointInterval, *v, "a positive integer");
    }
  }
  if (const auto* v = get(props::kLogRetentionDuration)) {
    auto ms = ParseIntervalMs(*v);
    if (!ms.ok() || *ms < 0) return BadValue(props::kLogRetentionDuration, *v, "an interval");
    p.log_retention_ms = *ms;
  }
  if (const auto* v = get(props::kDeletedFileRetentionDuration)) {
    auto ms = ParseIntervalMs(*v);
    if (!ms.ok() || *ms < 0) {
      return BadValue(props::kDeletedFileRetentionDuration, *v, "an interval");
    }
    p.deleted_file_retention_ms = *ms;
  }
  if (const auto* v = get(props::kDataSkippingNumIndexedCols)) {
    if (!ParseInt64(*v, &p.data_skipping_num_indexed_cols) ||
        p.data_skipping_num_indexed_cols < -1) {
      return BadValue(props::kDataSkippingNumIndexedCols, *v, "an integer >= -1");
    }
  }
  if (const auto* v = get(props::kDataSkippingStatsColumns)) {
    std::vector<std::string> cols;
    size_t start = 0;
    while (start <= v->size()) {
      size_t comma = v->find(',', start);
      if (comma == std::string::npos) comma = v->size();
      std::string col = Trim(std::string_view(*v).substr(start, comma - start));
      if (!col.empty()) cols.push_back(std::move(col));
      start = comma + 1;
    }
    p.data_skipping_stats_columns = std::move(cols);
  }
  if (const auto* v = get(props::kAppendOnly)) {
    ASSIGN_OR_RETURN(p.append_only, ParseBool(props::kAppendOnly, *v));
  }
  if (const auto* v = get(props::kEnableDeletionVectors)) {
    ASSIGN_OR_RETURN(p.enable_deletion_vectors, ParseBool(props::kEnableDeletionVectors, *v));
  }
  if (const auto* v = get(props::kEnableInCommitTimestamps)) {
    ASSIGN_OR_RETURN(p.enable_in_commit_timestamps,
                     ParseBool(props::kEnableInCommitTimestamps, *v));
  }
  if (const auto* v = get(props::kInCommitTimestampEnablementVersion)) {
    int64_t n = 0;
    if (!ParseInt64(*v, &n) || n < 0) {
      return BadValue(props::kInCommitTimestampEnablementVersion, *v, "a version number");
    }
    p.in_commit_timestamp_enablement_version = n;
  }
  if (const auto* v = get(props::kInCommitTimestampEnablementTimestamp)) {
    int64_t n = 0;
    if (!ParseInt64(*v, &n)) {
      return BadValue(props::kInCommitTimestampEnablementTimestamp, *v,
                      "a timestamp in milliseconds");
    }
    p.in_commit_timestamp_enablement_timestamp = n;
  }
  if (const auto* v = get(props::kCheckpointPolicy)) {
    const std::string policy = Lower(Trim(*v));
    if (policy == "classic") {
      p.checkpoint_policy = CheckpointPolicy::kClassic;
    } else if (policy == "v2") {
      p.checkpoint_policy = CheckpointPolicy::kV2;
    } else {
      return BadValue(props::kCheckpointPolicy, *v, "classic or v2");
    }
  }
  return p;
}

Result<TableConfiguration> TableConfiguration::Make(const Protocol& protocol,
                                                    const Metadata& metadata) {
  if (protocol.min_reader_version < 1) {
    return Status::Corruption("protocol has invalid minReaderVersion " +
                              std::to_string(protocol.min_reader_version));
  }
  if (protocol.min_reader_version > kMaxReaderVersion) {
    return Status::NotSupported("table requires reader version " +
                                std::to_string(protocol.min_reader_version) +
                                ", but medallion supports reader versions up to " +
                                std::to_string(kMaxReaderVersion));
  }
  if (protocol.min_reader_version == 3 && protocol.reader_features) {
    for (const auto& f : *protocol.reader_features) {
      if (!IsSupportedReaderFeature(f)) {
        return Status::NotSupported("table requires reader feature '" + f +
                                    "', which medallion does not support");
      }
    }
  }
  TableConfiguration config;
  config.protocol_ = protocol;
  config.metadata_ = metadata;
  ASSIGN_OR_RETURN_CTX(config.schema_, ParseSchema(metadata.schema_string), "table metadata");
  ASSIGN_OR_RETURN(config.properties_, ParseTableProperties(metadata.configuration));
  for (const auto& col : metadata.partition_columns) {
    if (!config.schema_.FindField(col) && !config.schema_.FindFieldIgnoreCase(col)) {
      return Status::Corruption("partition column '" + col + "' is not in the table schema");
    }
  }
  const bool mapping_supported =
      protocol.min_reader_version == 2 ||
      (protocol.min_reader_version == 3 && config.IsFeatureSupported("columnMapping"));
  config.column_mapping_mode_ =
      mapping_supported ? config.properties_.column_mapping_mode : ColumnMappingMode::kNone;
  return config;
}

bool TableConfiguration::IsFeatureSupported(std::string_view feature) const {
  auto has = [&](const std::optional<std::set<std::string>>& s) {
    return s && s->count(std::string(feature)) > 0;
  };
  return has(protocol_.reader_features) || has(protocol_.writer_features);
}

bool TableConfiguration::in_commit_timestamps_enabled() const {
  // Writer version 7 with the inCommitTimestamp feature; the property turns it on.
  return properties_.enable_in_commit_timestamps && IsFeatureSupported("inCommitTimestamp");
}

std::optional<int64_t> TableConfiguration::in_commit_timestamp_enablement_version() const {
  if (!in_commit_timestamps_enabled()) return std::nullopt;
  return properties_.in_commit_timestamp_enablement_version.value_or(0);
}

}  // namespace medallion::delta
