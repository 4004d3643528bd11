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

}  // namespace

std::string FlowProgressLog::KeyOf(int64_t batch) const {
  return fmt::format("{}/{}/{:0{}d}.json", folder_, kOffsetsFolder, batch, kBatchDigits);
}

Result<std::vector<BatchPlan>> FlowProgressLog::ReadAll() {
  std::string prefix = fmt::format("{}/{}/", folder_, kOffsetsFolder);
  ASSIGN_OR_RETURN(auto listing, store_.List(prefix));
  std::vector<BatchPlan> plans;
  for (const auto& meta : listing) {
    if (!meta.key.ends_with(".json")) continue;
    ASSIGN_OR_RETURN(std::string text, store_.Read(meta.key));
    try {
      ASSIGN_OR_RETURN(BatchPlan plan, FromJson(json::parse(text)));
      plans.push_back(std::move(plan));
    } catch (const json::exception& e) {
      return Status::Corruption(fmt::format("flow progress {}: {}", meta.key, e.what()));
    }
  }
  std::sort(plans.begin(), plans.end(),
            [](const BatchPlan& a, const BatchPlan& b) { return a.batch < b.batch; });
  return plans;
}

Status FlowProgressLog::Write(const BatchPlan& plan) {
  return store_.PutIfAbsent(KeyOf(plan.batch), ToJson(plan).dump());
}

std::map<std::string, SourceHistory> SummarizeProgress(const std::vector<BatchPlan>& plans) {
  std::map<std::string, SourceHistory> out;
  for (const BatchPlan& plan : plans) {
    for (const auto& [key, s] : plan.sources) {
      SourceHistory& h = out[key];
      for (const auto& f : s.files) h.planned_files.insert(f.path);
      if (!s.schema_json.empty()) h.schema_json = s.schema_json;
      if (!s.is_files) h.end_version = s.end_version;
    }
  }
  return out;
}

}  // namespace medallion::pipeline
