#include "storage/memory_object_store.h"

#include <algorithm>
#include <chrono>
#include <string>
#include <utility>

#include "common/macros.h"

namespace medallion::storage {
namespace {

int64_t NowMillis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

Status NoObject(std::string_view key) {
  return Status::NotFound("no object '" + std::string(key) + "' in memory://");
}

}  // namespace

Result<std::vector<ObjectMeta>> MemoryObjectStore::List(std::string_view prefix) {
  return ListAfter(prefix, "");
}

Result<std::vector<ObjectMeta>> MemoryObjectStore::ListAfter(std::string_view prefix,
                                                             std::string_view start_after) {
  RETURN_NOT_OK(ValidatePrefix(prefix));
  std::vector<ObjectMeta> out;
  std::lock_guard<std::mutex> lock(mu_);
  // Keys equal to `start_after` are excluded, hence upper_bound when it bounds more than `prefix`.
  auto it = !start_after.empty() && start_after >= prefix ? objects_.upper_bound(start_after)
                                                         : objects_.lower_bound(prefix);
  for (; it != objects_.end() && std::string_view(it->first).starts_with(prefix); ++it) {
    out.push_back(ObjectMeta{it->first, static_cast<int64_t>(it->second.data.size()),
                             it->second.modification_time});
  }
  return out;
}

Result<std::string> MemoryObjectStore::Read(std::string_view key) {
  RETURN_NOT_OK(ValidateKey(key));
  std::lock_guard<std::mutex> lock(mu_);
  auto it = objects_.find(key);
  if (it == objects_.end()) return NoObject(key);
  return it->second.data;
}

Result<std::string> MemoryObjectStore::ReadRange(std::string_view key, int64_t offset,
                                                 int64_t length) {
  RETURN_NOT_OK(ValidateKey(key));
  if (offset < 0 || length < 0) {
    return Status::InvalidArgument("negative offset or length reading '" + std::string(key) + "'");
  }
  std::lock_guard<std::mutex> lock(mu_);
  auto it = objects_.find(key);
  if (it == objects_.end()) return NoObject(key);
  const std::string& data = it->second.data;
  auto size = static_cast<int64_t>(data.size());
  if (offset > size) {
    return Status::InvalidArgument("offset " + std::to_string(offset) + " is beyond the end of '" +
                                   std::string(key) + "' (" + std::to_string(size) + " bytes)");
  }
  return data.substr(static_cast<size_t>(offset),
                     static_cast<size_t>(std::min(length, size - offset)));
}

Status MemoryObjectStore::Write(std::string_view key, std::string_view data) {
  RETURN_NOT_OK(ValidateKey(key));
  Object object{std::string(data), NowMillis()};
  std::lock_guard<std::mutex> lock(mu_);
  auto it = objects_.find(key);
  if (it == objects_.end()) {
    objects_.emplace(std::string(key), std::move(object));
  } else {
    it->second = std::move(object);
  }
  return Status::OK();
}

Status MemoryObjectStore::PutIfAbsent(std::string_view key, std::string_view data) {
  RETURN_NOT_OK(ValidateKey(key));
  Object object{std::string(data), NowMillis()};
  std::lock_guard<std::mutex> lock(mu_);
  auto it = objects_.find(key);
  if (it != objects_.end()) {
    return Status::AlreadyExists("object '" + std::string(key) + "' already exists in memory://");
  }
  objects_.emplace(std::string(key), std::move(object));
  return Status::OK();
}

Status MemoryObjectStore::Delete(std::string_view key) {
  RETURN_NOT_OK(ValidateKey(key));
  std::lock_guard<std::mutex> lock(mu_);
  auto it = objects_.find(key);
  if (it == objects_.end()) return NoObject(key);
  objects_.erase(it);
  return Status::OK();
}

Result<ObjectMeta> MemoryObjectStore::Head(std::string_view key) {
  RETURN_NOT_OK(ValidateKey(key));
  std::lock_guard<std::mutex> lock(mu_);
  auto it = objects_.find(key);
  if (it == objects_.end()) return NoObject(key);
  return ObjectMeta{it->first, static_cast<int64_t>(it->second.data.size()),
                    it->second.modification_time};
}

Result<std::string> MemoryObjectStore::LocalPath(std::string_view key) const {
  RETURN_NOT_OK(ValidateKey(key));
  return Status::NotSupported("memory:// objects have no local path (key '" + std::string(key) +
                              "')");
}

std::string MemoryObjectStore::Describe() const { return "memory://"; }

}  // namespace medallion::storage
