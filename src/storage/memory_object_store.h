// MemoryObjectStore: an ObjectStore held in process memory, for tests and scratch work.
//
// Objects live in a sorted map, so List is a range scan and byte-ordered by construction. Nothing
// survives the object; no key names a file (LocalPath is NotSupported). Unlike a folder, a key may
// be both an object and a prefix of other keys ("a" and "a/b"), as on S3 or Azure Blob.
//
// Thread-safety: every method may be called from any number of threads at once; each is atomic with
// respect to the others (one mutex), which makes PutIfAbsent atomic as ObjectStore requires.
// Modification times come from the system clock at the time of the write.
//
// Errors: as ObjectStore (InvalidArgument for a bad key or range, NotFound for an absent object,
// AlreadyExists from PutIfAbsent); never IOError.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "storage/object_store.h"

namespace medallion::storage {

class MemoryObjectStore final : public ObjectStore {
 public:
  MemoryObjectStore() = default;
  MemoryObjectStore(const MemoryObjectStore&) = delete;
  MemoryObjectStore& operator=(const MemoryObjectStore&) = delete;

  Result<std::vector<ObjectMeta>> List(std::string_view prefix) override;
  // Seeks to the first key after `start_after`: costs only what it returns.
  Result<std::vector<ObjectMeta>> ListAfter(std::string_view prefix,
                                            std::string_view start_after) override;
  Result<std::string> Read(std::string_view key) override;
  Result<std::string> ReadRange(std::string_view key, int64_t offset, int64_t length) override;
  Status Write(std::string_view key, std::string_view data) override;
  Status PutIfAbsent(std::string_view key, std::string_view data) override;
  Status Delete(std::string_view key) override;
  Result<ObjectMeta> Head(std::string_view key) override;
  // Always NotSupported (after key validation): in-memory objects have no path.
  Result<std::string> LocalPath(std::string_view key) const override;
  // "memory://".
  std::string Describe() const override;

 private:
  struct Object {
    std::string data;
    int64_t modification_time = 0;  // ms since the Unix epoch
  };

  mutable std::mutex mu_;
  // std::less<> so lookups by string_view need no copy. Guarded by mu_.
  std::map<std::string, Object, std::less<>> objects_;
};

}  // namespace medallion::storage
