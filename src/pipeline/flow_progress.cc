#include "pipeline/flow_progress.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "common/macros.h"

namespace medallion::pipeline {
namespace {

using nlohmann::json;

constexpr int kBatchDigits = 10;
constexpr std::string_view kOffsetsFolder = "offsets";

json ToJson(const BatchPlan& plan) {
  json sources = json::object();
  for (const auto& [key, s] : plan.sources) {
    json entry;
    if (s.is_files) {
      json files = json::array();
      for (const auto& f : s.files) {
        files.push_back({{"path", f.path}, {"size", f.size},
                         {"modification_time", f.modification_time}});
      }
      entry["files"] = std::move(files);
      entry["schema"] = s.schema_json.empty() ? json() : json::parse(s.schema_json);
    } else {
      entry["start_version"] = s.start_version;
      entry["end_version"] = s.end_version;
      if (s.initial_snapshot) entry["initial_snapshot"] = true;
    }
    sources[key] = std::move(entry);
  }
  return {{"batch", plan.batch}, {"now_ms", plan.now_ms}, {"sources", std::move(sources)}};
}

Result<BatchPlan> FromJson(const json& doc) {
  BatchPlan plan;
  plan.batch = doc.at("batch").get<int64_t>();
  plan.now_ms = doc.value("now_ms", int64_t{0});
  for (const auto& [key, entry] : doc.at("sources").items()) {
    SourceProgress s;
    if (entry.contains("files")) {
      s.is_files = true;
      for (const auto& f : entry["files"]) {
        s.files.push_back({f.at("path").get<std::string>(), f.at("size").get<int64_t>(),
                           f.at("modification_time").get<int64_t>()});
      }
      if (entry.contains("schema") && !entry["schema"].is_null()) {
        s.schema_json = entry["schema"].dump();
      }
    } else {
      s.start_version = entry.at("start_version").get<int64_t>();
      s.end_version = entry.at("end_version").get<int64_t>();
      s.initial_snapshot = entry.value("initial_snapshot", false);
    }
    plan.sources[key] = std::move(s);
  }
  return plan;
}

// The batch number of a file name under offsets/ ("0000000012.json" or
// "0000000019.compact.json") and whether it is a compact file; nullopt for another name.
std::optional<std::pair<int64_t, bool>> ParseOffsetsName(std::string_view name) {
  const size_t dot = name.find('.');
  if (dot == 0 || dot == std::string_view::npos) return std::nullopt;
  const std::string_view rest = name.substr(dot);
  if (rest != ".json" && rest != ".compact.json") return std::nullopt;
  int64_t batch = 0;
  for (char c : name.substr(0, dot)) {
    if (c < '0' || c > '9') return std::nullopt;
    batch = batch * 10 + (c - '0');
  }
  return std::make_pair(batch, rest == ".compact.json");
}

json CompactToJson(int64_t through_batch, const std::map<std::string, SourceHistory>& history) {
  json sources = json::object();
  for (const auto& [key, h] : history) {
    sources[key] = {{"planned_files", h.planned_files},
                    {"schema", h.schema_json.empty() ? json() : json::parse(h.schema_json)},
                    {"end_version", h.end_version ? json(*h.end_version) : json()}};
  }
  return {{"through_batch", through_batch}, {"sources", std::move(sources)}};
}

std::map<std::string, SourceHistory> CompactFromJson(const json& doc) {
  std::map<std::string, SourceHistory> history;
  for (const auto& [key, entry] : doc.at("sources").items()) {
    SourceHistory& h = history[key];
    for (const auto& f : entry.at("planned_files")) h.planned_files.insert(f.get<std::string>());
    if (!entry.at("schema").is_null()) h.schema_json = entry["schema"].dump();
    if (!entry.at("end_version").is_null()) h.end_version = entry["end_version"].get<int64_t>();
  }
  return history;
}

}  // namespace

void AddToHistory(const BatchPlan& plan, std::map<std::string, SourceHistory>* history) {
  for (const auto& [key, s] : plan.sources) {
    SourceHistory& h = (*history)[key];
    for (const auto& f : s.files) h.planned_files.insert(f.path);
    if (!s.schema_json.empty()) h.schema_json = s.schema_json;
    if (!s.is_files) h.end_version = s.end_version;
  }
}

std::string FlowProgressLog::OffsetsPrefix() const {
  return fmt::format("{}/{}/", folder_, kOffsetsFolder);
}

std::string FlowProgressLog::KeyOf(int64_t batch) const {
  return fmt::format("{}{:0{}d}.json", OffsetsPrefix(), batch, kBatchDigits);
}

std::string FlowProgressLog::CompactKeyOf(int64_t batch) const {
  return fmt::format("{}{:0{}d}.compact.json", OffsetsPrefix(), batch, kBatchDigits);
}

Result<FlowProgress> FlowProgressLog::Read() {
  const std::string prefix = OffsetsPrefix();
  ASSIGN_OR_RETURN(auto listing, store_.List(prefix));
  std::map<int64_t, std::string> batches;  // batch -> key
  std::optional<std::pair<int64_t, std::string>> compact;
  for (const auto& meta : listing) {
    auto parsed = ParseOffsetsName(std::string_view(meta.key).substr(prefix.size()));
    if (!parsed) continue;
    if (!parsed->second) {
      batches[parsed->first] = meta.key;
    } else if (!compact || parsed->first > compact->first) {
      compact = std::make_pair(parsed->first, meta.key);
    }
  }
  auto read_json = [&](const std::string& key) -> Result<json> {
    ASSIGN_OR_RETURN(std::string text, store_.Read(key));
    json doc = json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (doc.is_discarded()) return Status::Corruption("flow progress " + key + ": not JSON");
    return doc;
  };
  FlowProgress progress;
  int64_t first = 0;  // the first batch file to read
  if (compact) {
    ASSIGN_OR_RETURN(json doc, read_json(compact->second));
    try {
      progress.history = CompactFromJson(doc);
    } catch (const json::exception& e) {
      return Status::Corruption(fmt::format("flow progress {}: {}", compact->second, e.what()));
    }
    // The compacted batch itself is read again (adding it twice changes nothing): it is the
    // newest plan when no batch followed it.
    first = compact->first;
  }
  for (auto it = batches.lower_bound(first); it != batches.end(); ++it) {
    ASSIGN_OR_RETURN(json doc, read_json(it->second));
    try {
      ASSIGN_OR_RETURN(BatchPlan plan, FromJson(doc));
      AddToHistory(plan, &progress.history);
      progress.latest = std::move(plan);
    } catch (const json::exception& e) {
      return Status::Corruption(fmt::format("flow progress {}: {}", it->second, e.what()));
    }
  }
  return progress;
}

Status FlowProgressLog::Write(const BatchPlan& plan, const FlowProgress& before) {
  RETURN_NOT_OK(store_.PutIfAbsent(KeyOf(plan.batch), ToJson(plan).dump()));
  if ((plan.batch + 1) % kCompactInterval != 0) return Status::OK();
  std::map<std::string, SourceHistory> history = before.history;
  AddToHistory(plan, &history);
  return Compact(plan.batch, history);
}

Status FlowProgressLog::Compact(int64_t through_batch,
                                const std::map<std::string, SourceHistory>& history) {
  Status put = store_.PutIfAbsent(CompactKeyOf(through_batch),
                                  CompactToJson(through_batch, history).dump());
  if (!put.ok() && !put.IsAlreadyExists()) return put;
  // Only now may what the compact file replaces go. Best effort: a file left behind is read
  // again by nobody (older than the compact file) and deleted by a later compaction.
  const std::string prefix = OffsetsPrefix();
  auto listing = store_.List(prefix);
  if (!listing.ok()) return Status::OK();
  for (const auto& meta : *listing) {
    auto parsed = ParseOffsetsName(std::string_view(meta.key).substr(prefix.size()));
    if (!parsed) continue;
    const bool old_compact = parsed->second && parsed->first < through_batch;
    const bool old_batch = !parsed->second && parsed->first < through_batch - kRetainedBatches;
    if (old_compact || old_batch) (void)store_.Delete(meta.key);
  }
  return Status::OK();
}

}  // namespace medallion::pipeline
