#include "storage/local_object_store.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <climits>
#include <cstdio>
#include <random>
#include <string>
#include <utility>

#include "common/macros.h"

namespace medallion::storage {
namespace {

// Names of temporary files start with this; List skips them (see the header).
constexpr std::string_view kTempFilePrefix = ".medallion-tmp-";
// How much of the target's name a temporary name repeats (keeps it under NAME_MAX = 255).
constexpr size_t kTempNameChars = 64;
// Attempts at a fresh temporary name before giving up (a clash needs pid, counter and 64 random
// bits to repeat, so one attempt nearly always does).
constexpr int kTempFileAttempts = 8;

constexpr std::string_view kFileScheme = "file:";

// Closes a file descriptor on scope exit unless released.
class ScopedFd {
 public:
  explicit ScopedFd(int fd) : fd_(fd) {}
  ScopedFd(const ScopedFd&) = delete;
  ScopedFd& operator=(const ScopedFd&) = delete;
  ~ScopedFd() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const { return fd_; }
  // Closes now, reporting the error close(2) gives (it can report a failed write-back).
  int Close() {
    int rc = ::close(fd_);
    fd_ = -1;
    return rc;
  }

 private:
  int fd_;
};

struct DirCloser {
  void operator()(DIR* dir) const { ::closedir(dir); }
};
using ScopedDir = std::unique_ptr<DIR, DirCloser>;

int64_t MillisOf(const struct stat& st) {
  return static_cast<int64_t>(st.st_mtim.tv_sec) * 1000 + st.st_mtim.tv_nsec / 1000000;
}

// errno values that mean "nothing at that path" for a key.
bool IsAbsent(int err) { return err == ENOENT || err == ENOTDIR; }

Status NoObject(std::string_view key, const std::string& path) {
  return Status::NotFound("no object '" + std::string(key) + "' (" + path + ")");
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

Result<std::string> PercentDecode(std::string_view in, std::string_view uri) {
  std::string out;
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '%') {
      out += in[i];
      continue;
    }
    int hi = i + 2 < in.size() ? HexValue(in[i + 1]) : -1;
    int lo = i + 2 < in.size() ? HexValue(in[i + 2]) : -1;
    if (hi < 0 || lo < 0) {
      return Status::InvalidArgument("malformed percent escape in '" + std::string(uri) + "'");
    }
    char c = static_cast<char>(hi * 16 + lo);
    if (c == '\0') {
      return Status::InvalidArgument("'%00' (NUL) in '" + std::string(uri) + "'");
    }
    out += c;
    i += 2;
  }
  return out;
}

// Percent-encodes all but RFC 3986 unreserved characters and '/'.
std::string PercentEncodePath(std::string_view path) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(path.size());
  for (char c : path) {
    auto u = static_cast<unsigned char>(c);
    if ((u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z') || (u >= '0' && u <= '9') || u == '-' ||
        u == '.' || u == '_' || u == '~' || u == '/') {
      out += c;
    } else {
      out += '%';
      out += kHex[u >> 4];
      out += kHex[u & 0xF];
    }
  }
  return out;
}

// True for "<scheme>://..." with an RFC 3986 scheme name.
bool HasUriScheme(std::string_view s, std::string_view* scheme) {
  size_t colon = s.find("://");
  if (colon == std::string_view::npos || colon == 0) return false;
  auto is_alpha = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); };
  if (!is_alpha(s[0])) return false;
  for (size_t i = 1; i < colon; ++i) {
    char c = s[i];
    if (!is_alpha(c) && !(c >= '0' && c <= '9') && c != '+' && c != '-' && c != '.') return false;
  }
  *scheme = s.substr(0, colon);
  return true;
}

// The local path a root URI names (not yet absolute or normalized).
Result<std::string> PathOfRootUri(const std::string& uri) {
  if (uri.empty()) return Status::InvalidArgument("empty root path for a local object store");
  if (uri.find('\0') != std::string::npos) {
    return Status::InvalidArgument("root path contains a NUL byte");
  }
  if (uri.starts_with(kFileScheme)) {
    std::string_view rest = std::string_view(uri).substr(kFileScheme.size());
    if (rest.starts_with("//")) {
      rest.remove_prefix(2);
      size_t slash = rest.find('/');
      std::string_view host = rest.substr(0, slash);
      if (!host.empty() && host != "localhost") {
        return Status::InvalidArgument("file URI '" + uri + "' names host '" + std::string(host) +
                                       "'; only local paths are supported");
      }
      if (slash == std::string_view::npos) {
        return Status::InvalidArgument("file URI '" + uri + "' has no path");
      }
      rest.remove_prefix(slash);
    }
    if (!rest.starts_with("/")) {
      return Status::InvalidArgument("file URI '" + uri +
                                     "' must hold an absolute path (file:///abs/path)");
    }
    if (rest.find_first_of("?#") != std::string_view::npos) {
      return Status::InvalidArgument("file URI '" + uri +
                                     "' has a query or fragment; escape '?' as %3F, '#' as %23");
    }
    return PercentDecode(rest, uri);
  }
  std::string_view scheme;
  if (HasUriScheme(uri, &scheme)) {
    return Status::InvalidArgument("unsupported scheme '" + std::string(scheme) + "' in '" + uri +
                                   "': LocalObjectStore takes a path or a file:// URI");
  }
  return uri;
}

// Absolute, with no repeated '/', no "." segments and no trailing '/' (".." is kept: with symbolic
// links it is not a lexical operation).
Result<std::string> NormalizeRoot(const std::string& path) {
  std::string absolute;
  if (path.front() == '/') {
    absolute = path;
  } else {
    char cwd[PATH_MAX];
    if (::getcwd(cwd, sizeof(cwd)) == nullptr) return Status::FromErrno(errno, "getcwd");
    absolute = std::string(cwd) + "/" + path;
  }
  std::string out;
  size_t i = 0;
  while (i < absolute.size()) {
    while (i < absolute.size() && absolute[i] == '/') ++i;
    size_t end = absolute.find('/', i);
    if (end == std::string::npos) end = absolute.size();
    std::string_view segment(absolute.data() + i, end - i);
    if (!segment.empty() && segment != ".") {
      out += '/';
      out += segment;
    }
    i = end;
  }
  if (out.empty()) out = "/";
  return out;
}

// mkdir -p for an absolute path; EEXIST from a concurrent creator is success.
Status MakeFolders(const std::string& path) {
  if (::mkdir(path.c_str(), 0777) == 0 || errno == EEXIST) return Status::OK();
  if (errno != ENOENT) return Status::FromErrno(errno, "mkdir " + path);
  for (size_t slash = path.find('/', 1); slash != std::string::npos;
       slash = path.find('/', slash + 1)) {
    std::string parent = path.substr(0, slash);
    if (::mkdir(parent.c_str(), 0777) != 0 && errno != EEXIST) {
      return Status::FromErrno(errno, "mkdir " + parent);
    }
  }
  if (::mkdir(path.c_str(), 0777) != 0 && errno != EEXIST) {
    return Status::FromErrno(errno, "mkdir " + path);
  }
  return Status::OK();
}

Status WriteAll(int fd, std::string_view data, const std::string& path) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return Status::FromErrno(errno, "write " + path);
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return Status::OK();
}

// A name no other writer (thread or process) uses at the same time.
std::string TempFileName(std::string_view target_name) {
  static std::atomic<uint64_t> counter{0};
  thread_local std::mt19937_64 random(std::random_device{}());
  char suffix[80];
  std::snprintf(suffix, sizeof(suffix), ".%ld.%llu.%016llx", static_cast<long>(::getpid()),
                static_cast<unsigned long long>(counter.fetch_add(1, std::memory_order_relaxed)),
                static_cast<unsigned long long>(random()));
  std::string name(kTempFilePrefix);
  name += target_name.substr(0, kTempNameChars);
  name += suffix;
  return name;
}

// Appends the objects under `folder` (whose keys start with `key_base`) whose names start with
// `name_filter`, at any depth below.
// Whether a folder whose keys all start with `folder_key` + "/" may hold a key after
// `start_after` (byte order).
bool FolderMayHoldKeysAfter(std::string_view folder_key, std::string_view start_after) {
  if (start_after.empty()) return true;
  // Keys under the folder start with P = folder_key + "/". Some are after start_after unless
  // start_after sorts after every string starting with P: start_after > P without starting with P.
  const size_t n = folder_key.size();
  const int head = start_after.substr(0, n).compare(folder_key);
  if (head != 0) return head < 0;  // start_after < P when it sorts before folder_key
  if (start_after.size() == n) return true;  // start_after == folder_key < P
  return static_cast<unsigned char>(start_after[n]) <= static_cast<unsigned char>('/');
}

// Appends the objects of `folder` (key prefix `key_base`) whose names start with `name_filter`
// and whose keys sort after `start_after` ("": no bound). Names that cannot qualify are skipped
// without a stat: a Delta log listed from a checkpoint on costs one readdir and a stat per file
// listed, not per file in the folder.
Status ListFolder(const std::string& folder, const std::string& key_base,
                  std::string_view name_filter, std::string_view start_after,
                  std::vector<ObjectMeta>* out) {
  ScopedDir dir(::opendir(folder.c_str()));
  if (dir == nullptr) {
    if (IsAbsent(errno)) return Status::OK();  // no such folder, or a file: nothing under it
    return Status::FromErrno(errno, "opendir " + folder);
  }
  int dir_fd = ::dirfd(dir.get());
  std::string key = key_base;  // reused: key_base + the entry's name
  while (true) {
    errno = 0;
    struct dirent* entry = ::readdir(dir.get());
    if (entry == nullptr) {
      if (errno != 0) return Status::FromErrno(errno, "readdir " + folder);
      break;
    }
    std::string_view name(entry->d_name);
    if (name == "." || name == "..") continue;
    if (name.starts_with(kTempFilePrefix)) continue;
    if (!name.starts_with(name_filter)) continue;
    key.resize(key_base.size());
    key += name;
    const bool after = start_after.empty() || std::string_view(key) > start_after;
    if (!after) {
      // Not listed itself; only a folder could still hold keys after the bound.
      if (entry->d_type == DT_REG || !FolderMayHoldKeysAfter(key, start_after)) continue;
    }
    struct stat st;
    if (::fstatat(dir_fd, entry->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
      if (errno == ENOENT) continue;  // removed since readdir
      return Status::FromErrno(errno, "stat " + folder + "/" + std::string(name));
    }
    if (S_ISDIR(st.st_mode)) {
      RETURN_NOT_OK(ListFolder(folder + "/" + std::string(name), key + "/", "", start_after, out));
      continue;
    }
    if (!after) continue;
    if (S_ISLNK(st.st_mode)) {
      // A link to a file is an object; a link to a folder is not descended into.
      if (::fstatat(dir_fd, entry->d_name, &st, 0) != 0) continue;
    }
    if (!S_ISREG(st.st_mode)) continue;
    out->push_back(ObjectMeta{key, static_cast<int64_t>(st.st_size), MillisOf(st)});
  }
  return Status::OK();
}

// Opens `path` for reading; NotFound unless it is a regular file.
Result<int> OpenObject(std::string_view key, const std::string& path, struct stat* st) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (IsAbsent(errno)) return NoObject(key, path);
    return Status::FromErrno(errno, "open " + path);
  }
  if (::fstat(fd, st) != 0) {
    int err = errno;
    ::close(fd);
    return Status::FromErrno(err, "fstat " + path);
  }
  if (!S_ISREG(st->st_mode)) {
    ::close(fd);
    return NoObject(key, path);
  }
  return fd;
}

}  // namespace

Result<std::unique_ptr<LocalObjectStore>> LocalObjectStore::Make(std::string root_uri,
                                                                 LocalObjectStoreOptions options) {
  ASSIGN_OR_RETURN(std::string path, PathOfRootUri(root_uri));
  ASSIGN_OR_RETURN(std::string root, NormalizeRoot(path));
  RETURN_NOT_OK_CTX(MakeFolders(root), "local object store root " + root);
  struct stat st;
  if (::stat(root.c_str(), &st) != 0) return Status::FromErrno(errno, "stat " + root);
  if (!S_ISDIR(st.st_mode)) {
    return Status::InvalidArgument("local object store root " + root + " is not a folder");
  }
  return std::unique_ptr<LocalObjectStore>(new LocalObjectStore(std::move(root), options));
}

LocalObjectStore::LocalObjectStore(std::string root, LocalObjectStoreOptions options)
    : root_(std::move(root)), options_(options) {}

std::string LocalObjectStore::PathOf(std::string_view key) const {
  std::string path = root_;
  if (path.back() != '/') path += '/';
  path += key;
  return path;
}

Result<std::string> LocalObjectStore::MakeParentFolders(std::string_view key) {
  size_t slash = key.rfind('/');
  if (slash == std::string_view::npos) return root_;
  std::string folder = PathOf(key.substr(0, slash));
  RETURN_NOT_OK(MakeFolders(folder));
  return folder;
}

Status LocalObjectStore::SyncFolder(const std::string& folder) {
  if (!options_.sync) return Status::OK();
  ScopedFd fd(::open(folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (fd.get() < 0) return Status::FromErrno(errno, "open " + folder);
  // Some file systems cannot fsync a folder (EINVAL); their renames are as durable as they get.
  if (::fsync(fd.get()) != 0 && errno != EINVAL) return Status::FromErrno(errno, "fsync " + folder);
  return Status::OK();
}

Result<std::string> LocalObjectStore::WriteTempFile(const std::string& folder,
                                                    std::string_view name, std::string_view data) {
  std::string path;
  int fd = -1;
  for (int attempt = 0; attempt < kTempFileAttempts && fd < 0; ++attempt) {
    path = folder + "/" + TempFileName(name);
    fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd < 0 && errno != EEXIST) return Status::FromErrno(errno, "create " + path);
  }
  if (fd < 0) return Status::IOError("no free temporary file name in " + folder);
  ScopedFd file(fd);
  Status st = WriteAll(file.get(), data, path);
  if (st.ok() && options_.sync && ::fsync(file.get()) != 0) {
    st = Status::FromErrno(errno, "fsync " + path);
  }
  if (file.Close() != 0 && st.ok()) st = Status::FromErrno(errno, "close " + path);
  if (!st.ok()) {
    ::unlink(path.c_str());
    return st;
  }
  return path;
}

Result<std::vector<ObjectMeta>> LocalObjectStore::List(std::string_view prefix) {
  return ListAfter(prefix, "");
}

Result<std::vector<ObjectMeta>> LocalObjectStore::ListAfter(std::string_view prefix,
                                                            std::string_view start_after) {
  RETURN_NOT_OK(ValidatePrefix(prefix));
  size_t slash = prefix.rfind('/');
  std::string key_base;
  std::string folder = root_;
  std::string_view name_filter = prefix;
  if (slash != std::string_view::npos) {
    key_base = std::string(prefix.substr(0, slash + 1));
    folder = PathOf(prefix.substr(0, slash));
    name_filter = prefix.substr(slash + 1);
  }
  std::vector<ObjectMeta> out;
  RETURN_NOT_OK_CTX(ListFolder(folder, key_base, name_filter, start_after, &out),
                    "listing '" + std::string(prefix) + "' in " + Describe());
  std::sort(out.begin(), out.end(),
            [](const ObjectMeta& a, const ObjectMeta& b) { return a.key < b.key; });
  return out;
}

Result<std::string> LocalObjectStore::Read(std::string_view key) {
  RETURN_NOT_OK(ValidateKey(key));
  std::string path = PathOf(key);
  struct stat st;
  ASSIGN_OR_RETURN(int fd, OpenObject(key, path, &st));
  ScopedFd file(fd);
  std::string data;
  // The size is a hint: the file is read to its end, whatever it has become.
  data.resize(static_cast<size_t>(st.st_size) + 1);
  size_t filled = 0;
  while (true) {
    if (filled == data.size()) data.resize(data.size() * 2);
    ssize_t n = ::read(file.get(), data.data() + filled, data.size() - filled);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Status::FromErrno(errno, "read " + path);
    }
    if (n == 0) break;
    filled += static_cast<size_t>(n);
  }
  data.resize(filled);
  return data;
}

Result<std::string> LocalObjectStore::ReadRange(std::string_view key, int64_t offset,
                                                int64_t length) {
  RETURN_NOT_OK(ValidateKey(key));
  if (offset < 0 || length < 0) {
    return Status::InvalidArgument("negative offset or length reading '" + std::string(key) + "'");
  }
  std::string path = PathOf(key);
  struct stat st;
  ASSIGN_OR_RETURN(int fd, OpenObject(key, path, &st));
  ScopedFd file(fd);
  auto size = static_cast<int64_t>(st.st_size);
  if (offset > size) {
    return Status::InvalidArgument("offset " + std::to_string(offset) + " is beyond the end of '" +
                                   std::string(key) + "' (" + std::to_string(size) + " bytes)");
  }
  std::string data(static_cast<size_t>(std::min(length, size - offset)), '\0');
  size_t filled = 0;
  while (filled < data.size()) {
    ssize_t n = ::pread(file.get(), data.data() + filled, data.size() - filled,
                        static_cast<off_t>(offset + static_cast<int64_t>(filled)));
    if (n < 0) {
      if (errno == EINTR) continue;
      return Status::FromErrno(errno, "pread " + path);
    }
    if (n == 0) break;  // the file shrank since fstat
    filled += static_cast<size_t>(n);
  }
  data.resize(filled);
  return data;
}

Status LocalObjectStore::Write(std::string_view key, std::string_view data) {
  RETURN_NOT_OK(ValidateKey(key));
  ASSIGN_OR_RETURN(std::string folder, MakeParentFolders(key));
  std::string target = PathOf(key);
  ASSIGN_OR_RETURN(std::string temp, WriteTempFile(folder, key.substr(key.rfind('/') + 1), data));
  if (::rename(temp.c_str(), target.c_str()) != 0) {
    int err = errno;
    ::unlink(temp.c_str());
    return Status::FromErrno(err, "rename " + temp + " to " + target);
  }
  return SyncFolder(folder);
}

Status LocalObjectStore::PutIfAbsent(std::string_view key, std::string_view data) {
  RETURN_NOT_OK(ValidateKey(key));
  std::string target = PathOf(key);
  auto exists = [&]() {
    struct stat st;
    if (::stat(target.c_str(), &st) != 0) return Status::OK();
    if (S_ISDIR(st.st_mode)) {
      return Status::IOError("cannot create object '" + std::string(key) + "': " + target +
                             " is a folder of other objects");
    }
    return Status::AlreadyExists("object '" + std::string(key) + "' already exists (" + target +
                                 ")");
  };
  // Cheap early answer for the usual loser; the link below is what decides a race.
  RETURN_NOT_OK(exists());
  ASSIGN_OR_RETURN(std::string folder, MakeParentFolders(key));
  ASSIGN_OR_RETURN(std::string temp, WriteTempFile(folder, key.substr(key.rfind('/') + 1), data));
  int rc = ::link(temp.c_str(), target.c_str());
  int err = errno;
  ::unlink(temp.c_str());
  if (rc != 0) {
    if (err == EEXIST) {
      RETURN_NOT_OK(exists());
      // Deleted again since link failed: the object existed when we tried, so we still lost.
      return Status::AlreadyExists("object '" + std::string(key) + "' already exists (" + target +
                                   ")");
    }
    return Status::FromErrno(err, "link " + temp + " to " + target);
  }
  return SyncFolder(folder);
}

Status LocalObjectStore::Delete(std::string_view key) {
  RETURN_NOT_OK(ValidateKey(key));
  std::string path = PathOf(key);
  if (::unlink(path.c_str()) != 0) {
    int err = errno;
    if (IsAbsent(err)) return NoObject(key, path);
    struct stat st;
    if (::lstat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) return NoObject(key, path);
    return Status::FromErrno(err, "unlink " + path);
  }
  size_t slash = path.rfind('/');
  return SyncFolder(path.substr(0, slash == 0 ? 1 : slash));
}

Result<ObjectMeta> LocalObjectStore::Head(std::string_view key) {
  RETURN_NOT_OK(ValidateKey(key));
  std::string path = PathOf(key);
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    if (IsAbsent(errno)) return NoObject(key, path);
    return Status::FromErrno(errno, "stat " + path);
  }
  if (!S_ISREG(st.st_mode)) return NoObject(key, path);
  return ObjectMeta{std::string(key), static_cast<int64_t>(st.st_size), MillisOf(st)};
}

Result<std::string> LocalObjectStore::LocalPath(std::string_view key) const {
  RETURN_NOT_OK(ValidateKey(key));
  return PathOf(key);
}

std::string LocalObjectStore::Describe() const { return "file://" + PercentEncodePath(root_); }

}  // namespace medallion::storage
