// ObjectStore: the storage seam under the Delta protocol (docs/architecture.md, "storage").
//
// An object store holds immutable-ish objects (byte strings) under '/'-separated keys relative to a
// root, the way S3, Azure Blob and a local folder all can. Delta needs only the operations below;
// the one that makes Delta commits safe is `PutIfAbsent`: of any number of concurrent writers of
// the same key, exactly one succeeds and the others get AlreadyExists, and no reader ever observes
// a partially written object (PROTOCOL.md, "Commit Provenance"/"Delta Log Entries": commits are
// created atomically).
//
// Keys: relative paths such as "sales/orders/_delta_log/00000000000000000000.json". A key is
// validated by `ValidateKey`: no empty segments, no "." or "..", no leading '/', no NUL; so a table
// name can never escape the store's root. Every method returns InvalidArgument for a bad key (List
// for a bad prefix, see `ValidatePrefix`), before touching the medium.
//
// Errors common to every method: NotFound (no object at that key, for Read/Head/Delete),
// IOError (the medium failed; may be transient), InvalidArgument (a bad key or range).
//
// Thread-safety: every implementation is safe to call from many threads at once; cross-process
// safety (several medallion processes on one folder) holds for LocalObjectStore.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "common/status.h"

namespace medallion::storage {

// What List/Head report of an object.
struct ObjectMeta {
  std::string key;                // relative to the store root
  int64_t size = 0;               // bytes
  int64_t modification_time = 0;  // milliseconds since the Unix epoch (UTC)
};

class ObjectStore {
 public:
  virtual ~ObjectStore() = default;

  // Objects whose key starts with `prefix` (a plain string prefix, not only whole folders), sorted
  // by key in byte order (unsigned, as memcmp), which Delta log listing relies on (PROTOCOL.md,
  // "Delta Log Entries"). "" lists every object; "_delta_log/" a folder;
  // "_delta_log/0000000000000000000" the part of it whose names start so. An absent prefix lists
  // nothing (OK, empty). Folders themselves are not listed. InvalidArgument when `ValidatePrefix`
  // rejects the prefix.
  virtual Result<std::vector<ObjectMeta>> List(std::string_view prefix) = 0;

  // As List(prefix), restricted to the keys that sort strictly after `start_after` (byte order),
  // like S3's ListObjectsV2 StartAfter: the way to list a Delta log from a version on without
  // listing what precedes it (PROTOCOL.md, "Last Checkpoint File": "_delta_log/<v>" lists every
  // log file of version v and later, since those names extend it). "" bounds nothing. `start_after`
  // need not be a key nor lie under `prefix`, and is not validated. InvalidArgument when
  // `ValidatePrefix` rejects the prefix.
  // The default lists everything and filters; a store overrides it to skip the cost of the keys it
  // passes over (LocalObjectStore does not stat them, MemoryObjectStore seeks).
  virtual Result<std::vector<ObjectMeta>> ListAfter(std::string_view prefix,
                                                    std::string_view start_after);

  // The whole object. NotFound when absent.
  virtual Result<std::string> Read(std::string_view key) = 0;

  // `length` bytes from `offset` (fewer at the end of the object; empty when offset == size).
  // InvalidArgument when offset or length is negative or offset is beyond the end; NotFound when
  // absent.
  virtual Result<std::string> ReadRange(std::string_view key, int64_t offset, int64_t length) = 0;

  // Creates or replaces the object. Readers see either the old or the new bytes, never a mix.
  virtual Status Write(std::string_view key, std::string_view data) = 0;

  // Creates the object only if no object has that key, atomically: AlreadyExists when one does
  // (including when a concurrent writer won). Never replaces, never exposes partial bytes.
  virtual Status PutIfAbsent(std::string_view key, std::string_view data) = 0;

  // Removes the object. NotFound when absent.
  virtual Status Delete(std::string_view key) = 0;

  // Size and modification time. NotFound when absent.
  virtual Result<ObjectMeta> Head(std::string_view key) = 0;

  // The local filesystem path of a key, for engines that read files directly (DuckDB's
  // read_parquet). NotSupported for stores that have no local path (in-memory, remote).
  virtual Result<std::string> LocalPath(std::string_view key) const = 0;

  // A human-readable root ("file:///data/lake", "memory://"), for messages.
  virtual std::string Describe() const = 0;
};

// OK when `key` is a safe relative key (see the header comment); InvalidArgument naming the key and
// the problem otherwise.
Status ValidateKey(std::string_view key);

// OK when `prefix` is a safe List prefix: "" (everything), or a string whose folder part (up to its
// last '/') is a valid key and which holds no NUL. The part after the last '/' only filters names,
// so it may be anything else ("_delta_log/0000", "a/."). InvalidArgument otherwise ("../x",
// "/etc", "a//b", "a/../b/").
Status ValidatePrefix(std::string_view prefix);

// Joins two key parts with exactly one '/': an empty part is dropped, and slashes at the seam are
// collapsed ("a", "b/c" -> "a/b/c"; "a/", "b" -> "a/b"; "", "b" -> "b"). Does not validate.
std::string JoinKey(std::string_view a, std::string_view b);

}  // namespace medallion::storage
