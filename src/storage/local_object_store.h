// LocalObjectStore: an ObjectStore over a folder of the local filesystem (POSIX).
//
// Key "a/b/c" is the file <root>/a/b/c; folders are created as writes need them and are never
// listed. This is the embedded default under which a lakehouse lives (DESIGN.md, "Storage layout"),
// and what DuckDB reads Parquet from directly (LocalPath).
//
// How the ObjectStore guarantees are kept:
// - Write: the bytes go to a temporary file in the target's folder, are fsynced, and the file is
//   renamed over the target (rename(2) is atomic), so readers see the old or the new object whole.
// - PutIfAbsent: the bytes go to a temporary file, fsynced, which is then hard-linked to the target
//   (link(2) fails with EEXIST when the target exists, atomically, also across processes), then
//   the temporary name is removed. The target never exists partially written and is
//   never replaced. This is the primitive Delta commits rely on (PROTOCOL.md, "Delta Log Entries").
//   The file system must support hard links (ext4, xfs, btrfs, tmpfs, APFS do; some FUSE and SMB
//   mounts do not: PutIfAbsent then fails with IOError).
// - With `LocalObjectStoreOptions::sync` (the default) the folder is also fsynced after the
//   rename, link or unlink, so a change reported done survives a power loss (folders that a write
//   had to create are not themselves fsynced into their parents).
// So, unlike a store without atomic writes (see FaultInjectingObjectStore's partial writes), a
// LocalObjectStore never exposes a partially written object under a key, even if the process dies
// mid-write.
//
// Temporary files are named ".medallion-tmp-<name>.<pid>.<n>.<random>" in the target's folder. List
// skips every file whose name starts with ".medallion-tmp-" (at any depth); it skips nothing else
// (other dot files are listed; callers filter). A process killed mid-write can leave such a file
// behind: it is invisible to List and Read, and may be removed by a cleanup once older than any
// write in progress.
//
// Limits of a folder as an object store: a key cannot be both an object and a folder of other
// objects ("a" and "a/b"); writing one when the other exists fails with IOError. Delete leaves
// emptied folders in place (they are not listed). Keys are validated (no "..", no leading '/'), but
// symbolic links inside the root are followed: whoever controls the folder controls what it shows.
// List does not descend into symbolic links to folders.
//
// Thread-safety: every method may be called from any number of threads and processes at once.
// Errors: as ObjectStore; a failing system call gives IOError carrying strerror and the path.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "common/status.h"
#include "storage/object_store.h"

namespace medallion::storage {

struct LocalObjectStoreOptions {
  // fsync each written file and its folder before Write/PutIfAbsent report success. Turning it off
  // keeps atomicity (what other processes see) but loses durability across a power loss; for tests
  // and scratch data only.
  bool sync = true;
};

class LocalObjectStore final : public ObjectStore {
 public:
  // A store rooted at `root_uri`: a plain path ("lake", "/data/lake"; relative paths are made
  // absolute against the current folder now) or a file URI ("file:///data/my%20lake",
  // "file://localhost/data/lake", "file:/data/lake"), whose path is percent-decoded (RFC 8089).
  // Creates the root folder (and its parents) when missing.
  // InvalidArgument: another scheme ("s3://..."), a file URI naming a remote host or a relative
  // path, a malformed or NUL percent escape, an empty path, or a root that exists but is not a
  // folder. IOError: the folder cannot be created.
  static Result<std::unique_ptr<LocalObjectStore>> Make(std::string root_uri,
                                                        LocalObjectStoreOptions options = {});

  LocalObjectStore(const LocalObjectStore&) = delete;
  LocalObjectStore& operator=(const LocalObjectStore&) = delete;

  Result<std::vector<ObjectMeta>> List(std::string_view prefix) override;
  // Reads the whole folder, but stats only the entries it lists (and folders that may hold such
  // keys): names at or before `start_after` cost a readdir entry, not a system call.
  Result<std::vector<ObjectMeta>> ListAfter(std::string_view prefix,
                                            std::string_view start_after) override;
  Result<std::string> Read(std::string_view key) override;
  Result<std::string> ReadRange(std::string_view key, int64_t offset, int64_t length) override;
  Status Write(std::string_view key, std::string_view data) override;
  Status PutIfAbsent(std::string_view key, std::string_view data) override;
  Status Delete(std::string_view key) override;
  Result<ObjectMeta> Head(std::string_view key) override;
  // root() + "/" + key; the file need not exist. InvalidArgument for a bad key.
  Result<std::string> LocalPath(std::string_view key) const override;
  // "file://" + the root, percent-encoded so that Make(Describe()) opens the same root.
  std::string Describe() const override;

  // The absolute root folder, without a trailing '/' (except for "/" itself).
  const std::string& root() const { return root_; }

 private:
  LocalObjectStore(std::string root, LocalObjectStoreOptions options);

  // <root>/<key> for a validated key.
  std::string PathOf(std::string_view key) const;
  // Writes `data` to a new temporary file in `folder` (fsynced when options_.sync); its path.
  Result<std::string> WriteTempFile(const std::string& folder, std::string_view name,
                                    std::string_view data);
  // Creates the folder of `key` and its parents; tolerant of concurrent creators. Its path.
  Result<std::string> MakeParentFolders(std::string_view key);
  Status SyncFolder(const std::string& folder);

  const std::string root_;
  const LocalObjectStoreOptions options_;
};

}  // namespace medallion::storage
