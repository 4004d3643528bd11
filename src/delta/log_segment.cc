#include "delta/log_segment.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "common/logging.h"
#include "common/macros.h"

namespace medallion::delta {
namespace {

bool AllDigits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

int64_t ToInt(std::string_view digits) {
  int64_t v = 0;
  for (char c : digits) v = v * 10 + (c - '0');
  return v;
}

// 8-4-4-4-12 hex digits.
bool IsUuid(std::string_view s) {
  if (s.size() != 36) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (s[i] != '-') return false;
    } else if (!std::isxdigit(static_cast<unsigned char>(s[i]))) {
      return false;
    }
  }
  return true;
}

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// Preference among complete checkpoints of one version: lower is better.
int KindRank(LogFileKind kind) {
  switch (kind) {
    case LogFileKind::kV2Checkpoint:
      return 0;
    case LogFileKind::kClassicCheckpoint:
      return 1;
    case LogFileKind::kMultiPartCheckpoint:
      return 2;
    case LogFileKind::kCommit:
      return 3;
  }
  return 3;
}

}  // namespace

std::optional<ParsedLogName> ParseLogFileName(std::string_view name) {
  if (name.size() <= static_cast<size_t>(kVersionDigits) ||
      !AllDigits(name.substr(0, kVersionDigits)) || name[kVersionDigits] != '.') {
    return std::nullopt;
  }
  ParsedLogName out;
  out.version = ToInt(name.substr(0, kVersionDigits));
  std::string_view rest = name.substr(kVersionDigits + 1);
  if (rest == "json") {
    out.kind = LogFileKind::kCommit;
    out.is_json = true;
    return out;
  }
  constexpr std::string_view kCheckpoint = "checkpoint.";
  if (rest.substr(0, kCheckpoint.size()) != kCheckpoint) return std::nullopt;
  rest.remove_prefix(kCheckpoint.size());
  if (rest == "parquet") {
    out.kind = LogFileKind::kClassicCheckpoint;
    return out;
  }
  // <part>.<parts>.parquet
  if (rest.size() == 2 * kPartDigits + 1 + 8 && EndsWith(rest, ".parquet") &&
      AllDigits(rest.substr(0, kPartDigits)) && rest[kPartDigits] == '.' &&
      AllDigits(rest.substr(kPartDigits + 1, kPartDigits))) {
    const int64_t part = ToInt(rest.substr(0, kPartDigits));
    const int64_t parts = ToInt(rest.substr(kPartDigits + 1, kPartDigits));
    if (part < 1 || parts < 1 || part > parts) return std::nullopt;
    out.kind = LogFileKind::kMultiPartCheckpoint;
    out.part = static_cast<int32_t>(part);
    out.num_parts = static_cast<int32_t>(parts);
    return out;
  }
  // <uuid>.json | <uuid>.parquet
  for (std::string_view ext : {std::string_view(".json"), std::string_view(".parquet")}) {
    if (EndsWith(rest, ext) && IsUuid(rest.substr(0, rest.size() - ext.size()))) {
      out.kind = LogFileKind::kV2Checkpoint;
      out.uuid = std::string(rest.substr(0, rest.size() - ext.size()));
      out.is_json = ext == ".json";
      return out;
    }
  }
  return std::nullopt;
}

std::string CommitFileName(int64_t version) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%020lld.json", static_cast<long long>(version));
  return buf;
}

std::string ClassicCheckpointFileName(int64_t version) {
  char buf[48];
  std::snprintf(buf, sizeof(buf), "%020lld.checkpoint.parquet", static_cast<long long>(version));
  return buf;
}

std::string TableName(std::string_view table_root) {
  return table_root.empty() ? std::string("<store root>") : std::string(table_root);
}

std::string LogPrefix(std::string_view table_root) {
  return storage::JoinKey(table_root, kDeltaLogFolder) + "/";
}

std::optional<int64_t> LogListing::latest_version() const {
  std::optional<int64_t> latest;
  if (!commits.empty()) latest = commits.back().name.version;
  if (!checkpoints.empty()) {
    latest = std::max(latest.value_or(-1), checkpoints.back().version);
  }
  return latest;
}

std::optional<int64_t> LogListing::earliest_reconstructable_version() const {
  if (!commits.empty() && commits.front().name.version == 0) return 0;
  if (!checkpoints.empty()) return checkpoints.front().version;
  return std::nullopt;
}

const LogFile* LogListing::FindCommit(int64_t version) const {
  auto it = std::lower_bound(
      commits.begin(), commits.end(), version,
      [](const LogFile& f, int64_t v) { return f.name.version < v; });
  if (it == commits.end() || it->name.version != version) return nullptr;
  return &*it;
}

Result<LogListing> ListLog(storage::ObjectStore& store, std::string_view table_root,
                           std::optional<int64_t> from_version) {
  const std::string prefix = LogPrefix(table_root);
  std::vector<storage::ObjectMeta> objects;
  if (from_version && *from_version > 0) {
    // Every log file of version v is named "<v as 20 digits>.<more>", so it sorts after the bare
    // 20 digits, and every file of an earlier version sorts before them.
    char digits[32];
    std::snprintf(digits, sizeof(digits), "%020lld", static_cast<long long>(*from_version));
    ASSIGN_OR_RETURN_CTX(objects, store.ListAfter(prefix, prefix + digits),
                         "listing " + prefix + " from version " + digits);
  } else {
    ASSIGN_OR_RETURN_CTX(objects, store.List(prefix), "listing " + prefix);
  }
  LogListing listing;
  // (version, parts) -> part number -> file
  std::map<std::pair<int64_t, int32_t>, std::map<int32_t, LogFile>> multipart;
  for (auto& meta : objects) {
    if (meta.key.size() <= prefix.size()) continue;
    const std::string_view name = std::string_view(meta.key).substr(prefix.size());
    if (name.find('/') != std::string_view::npos) continue;  // _sidecars/, other folders
    auto parsed = ParseLogFileName(name);
    if (!parsed) continue;
    LogFile file{std::move(meta), std::move(*parsed)};
    switch (file.name.kind) {
      case LogFileKind::kCommit:
        listing.commits.push_back(std::move(file));
        break;
      case LogFileKind::kClassicCheckpoint:
      case LogFileKind::kV2Checkpoint: {
        CheckpointFiles cp;
        cp.version = file.name.version;
        cp.kind = file.name.kind;
        cp.files.push_back(std::move(file));
        listing.checkpoints.push_back(std::move(cp));
        break;
      }
      case LogFileKind::kMultiPartCheckpoint: {
        auto key = std::make_pair(file.name.version, file.name.num_parts);
        const int32_t part = file.name.part;
        multipart[key].emplace(part, std::move(file));
        break;
      }
    }
  }
  for (auto& [key, parts] : multipart) {
    if (static_cast<int32_t>(parts.size()) != key.second) {
      MLOG_DEBUG("delta: ignoring incomplete multi-part checkpoint {} of {} ({} of {} parts)",
                 key.first, TableName(table_root), parts.size(), key.second);
      continue;  // PROTOCOL.md: readers must ignore multi-part checkpoints with missing parts
    }
    CheckpointFiles cp;
    cp.version = key.first;
    cp.kind = LogFileKind::kMultiPartCheckpoint;
    for (auto& [part, file] : parts) cp.files.push_back(std::move(file));
    listing.checkpoints.push_back(std::move(cp));
  }
  std::sort(listing.commits.begin(), listing.commits.end(),
            [](const LogFile& a, const LogFile& b) { return a.name.version < b.name.version; });
  std::stable_sort(listing.checkpoints.begin(), listing.checkpoints.end(),
                   [](const CheckpointFiles& a, const CheckpointFiles& b) {
                     if (a.version != b.version) return a.version < b.version;
                     return KindRank(a.kind) < KindRank(b.kind);
                   });
  return listing;
}

Result<LogSegment> LogSegment::FromListing(const LogListing& listing, std::string_view table_root,
                                           std::optional<int64_t> version) {
  const std::string table = TableName(table_root);
  const auto latest = listing.latest_version();
  if (!latest) {
    return Status::NotFound(table + " is not a Delta table (no _delta_log)");
  }
  const int64_t target = version.value_or(*latest);
  if (target < 0) {
    return Status::InvalidArgument(table + ": version " + std::to_string(target) +
                                   " is negative");
  }
  if (target > *latest) {
    return Status::NotFound(table + ": version " + std::to_string(target) +
                            " does not exist (latest version is " + std::to_string(*latest) + ")");
  }
  LogSegment segment;
  segment.version_ = target;
  // Newest complete checkpoint at or below the target; among several of one version, the first
  // (preferred kind) as ListLog sorted them.
  for (auto it = listing.checkpoints.rbegin(); it != listing.checkpoints.rend(); ++it) {
    if (it->version > target) continue;
    const int64_t v = it->version;
    auto best = it;
    for (auto jt = it; jt != listing.checkpoints.rend() && jt->version == v; ++jt) best = jt;
    segment.checkpoint_ = *best;
    break;
  }
  const int64_t start = segment.checkpoint_ ? segment.checkpoint_->version + 1 : 0;
  auto first = std::lower_bound(
      listing.commits.begin(), listing.commits.end(), start,
      [](const LogFile& f, int64_t v) { return f.name.version < v; });
  int64_t expected = start;
  for (auto it = first; it != listing.commits.end() && it->name.version <= target; ++it) {
    if (it->name.version != expected) break;
    segment.commits_.push_back(*it);
    ++expected;
  }
  if (expected <= target) {
    // A version the segment needs is missing.
    auto next = std::lower_bound(
        listing.commits.begin(), listing.commits.end(), expected,
        [](const LogFile& f, int64_t v) { return f.name.version < v; });
    if (!segment.checkpoint_ && expected == 0) {
      // Commits from 0 are gone and no checkpoint at or below the target replaces them.
      const auto earliest = listing.earliest_reconstructable_version();
      if (earliest) {
        return Status::NotFound(table + ": cannot reconstruct version " + std::to_string(target) +
                                ": the earliest available version is " +
                                std::to_string(*earliest));
      }
      return Status::NotFound(
          table + ": cannot reconstruct version " + std::to_string(target) +
          ": there is no checkpoint and no commit 0 (earliest commit is version " +
          std::to_string(listing.commits.front().name.version) + ")");
    }
    std::string found =
        next == listing.commits.end() ? std::string("none after it")
                                      : "found " + std::to_string(next->name.version);
    return Status::Corruption(table + ": versions not contiguous: missing version " +
                              std::to_string(expected) + " (" + found + ")");
  }
  if (const LogFile* commit = listing.FindCommit(target)) segment.version_commit_ = *commit;
  return segment;
}

Result<LogSegment> ListLogSegment(storage::ObjectStore& store, std::string_view table_root,
                                  std::optional<int64_t> version) {
  // A hint that cannot be read is no hint: the whole listing below does not need it.
  auto read_hint = ReadLastCheckpointHint(store, table_root);
  const std::optional<LastCheckpointHint> hint =
      read_hint.ok() ? *read_hint : std::optional<LastCheckpointHint>();
  if (hint && hint->version > 0 && (!version || hint->version <= *version)) {
    ASSIGN_OR_RETURN(auto listing, ListLog(store, table_root, hint->version));
    const bool has_checkpoint =
        !listing.checkpoints.empty() && listing.checkpoints.front().version == hint->version;
    if (has_checkpoint) return LogSegment::FromListing(listing, table_root, version);
    MLOG_DEBUG("delta: {} names checkpoint {} of {}, which is not complete; listing the whole log",
               kLastCheckpointFile, hint->version, TableName(table_root));
  }
  // Time travel below the hint (or without one): a checkpoint among the kTimeTravelWindow
  // versions before the target spares listing the whole log. Otherwise, the whole log.
  if (version && *version > kTimeTravelWindow) {
    ASSIGN_OR_RETURN(auto listing, ListLog(store, table_root, *version - kTimeTravelWindow));
    const bool has_checkpoint =
        std::any_of(listing.checkpoints.begin(), listing.checkpoints.end(),
                    [&](const CheckpointFiles& c) { return c.version <= *version; });
    if (has_checkpoint) return LogSegment::FromListing(listing, table_root, version);
  }
  ASSIGN_OR_RETURN(auto listing, ListLog(store, table_root));
  return LogSegment::FromListing(listing, table_root, version);
}

Result<std::optional<LastCheckpointHint>> ReadLastCheckpointHint(storage::ObjectStore& store,
                                                                 std::string_view table_root) {
  const std::string key = LogPrefix(table_root) + std::string(kLastCheckpointFile);
  auto data = store.Read(key);
  if (!data.ok()) {
    if (data.status().IsNotFound()) return std::optional<LastCheckpointHint>();
    return data.status();
  }
  auto j = nlohmann::json::parse(*data, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    MLOG_DEBUG("delta: ignoring unreadable {}", key);
    return std::optional<LastCheckpointHint>();
  }
  auto v = j.find("version");
  if (v == j.end() || !v->is_number_integer() || v->get<int64_t>() < 0) {
    return std::optional<LastCheckpointHint>();
  }
  LastCheckpointHint hint;
  hint.version = v->get<int64_t>();
  auto size = j.find("size");
  if (size != j.end() && size->is_number_integer()) hint.size = size->get<int64_t>();
  auto parts = j.find("parts");
  if (parts != j.end() && parts->is_number_integer()) hint.parts = parts->get<int32_t>();
  auto v2 = j.find("v2Checkpoint");
  if (v2 != j.end() && v2->is_object()) {
    auto p = v2->find("path");
    if (p != v2->end() && p->is_string()) hint.v2_checkpoint_path = p->get<std::string>();
  }
  return std::optional<LastCheckpointHint>(hint);
}

}  // namespace medallion::delta
