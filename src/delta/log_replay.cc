#include "delta/log_replay.h"

#include <string>
#include <type_traits>

#include "common/macros.h"
#include "delta/file_path.h"

namespace medallion::delta {
namespace {

// Reads the Parquet file at `path` (a local path, or a store key for a store without local
// paths) into `sink`: typed through the handler when it can, else as JSON rows. `name` names the
// file in messages.
Status ReadParquetFileActions(ParquetHandler& parquet, const std::string& path,
                              const std::string& name, const std::vector<std::string>& columns,
                              ActionSink& sink) {
  Status typed = parquet.ReadCheckpointActions(path, columns, sink);
  if (!typed.IsNotSupported()) {
    RETURN_NOT_OK_CTX(typed, "reading " + name);
    return Status::OK();
  }
  ASSIGN_OR_RETURN_CTX(auto rows, parquet.ReadRowsAsJson(path, columns), "reading " + name);
  sink.Expect(rows.size());
  for (size_t i = 0; i < rows.size(); ++i) {
    ASSIGN_OR_RETURN(auto action, ParseAction(rows[i], {name, static_cast<int64_t>(i) + 1}));
    if (action) RETURN_NOT_OK(sink.Accept(std::move(*action)));
  }
  return Status::OK();
}

// Reads a Parquet log file (checkpoint part or sidecar) of the store into `sink`.
Status ReadParquetActions(storage::ObjectStore& store, ParquetHandler& parquet,
                          const std::string& key, const std::vector<std::string>& columns,
                          ActionSink& sink) {
  std::string path;
  auto local = store.LocalPath(key);
  if (local.ok()) {
    path = *local;
  } else if (local.status().IsNotSupported()) {
    path = key;  // a store without local paths: the handler gets the key
  } else {
    return local.status();
  }
  return ReadParquetFileActions(parquet, path, key, columns, sink);
}

// Feeds a checkpoint file's actions to the replayer as they are read, keeping the sidecars it
// names.
class CheckpointFeed final : public ActionSink {
 public:
  CheckpointFeed(LogReplayer& replayer, std::string_view source, std::vector<Sidecar>* sidecars)
      : replayer_(replayer), source_(source), sidecars_(sidecars) {}

  void Expect(size_t rows) override { replayer_.ExpectCheckpointActions(rows); }
  Status Accept(Action&& action) override {
    if (const auto* s = std::get_if<Sidecar>(&action); s != nullptr && sidecars_ != nullptr) {
      sidecars_->push_back(*s);
    }
    return replayer_.AddCheckpointAction(std::move(action), source_);
  }

 private:
  LogReplayer& replayer_;
  std::string_view source_;
  std::vector<Sidecar>* sidecars_;  // null for a sidecar: sidecars name no others
};

// The store key (or local path) of a sidecar named in a V2 checkpoint.
Result<std::string> SidecarLocation(std::string_view table_root, const Sidecar& sidecar,
                                    std::string_view source, bool* is_local_path) {
  auto parsed = ParseFilePath(sidecar.path);
  if (!parsed.ok()) {
    return Status::Corruption(std::string(source) + ": sidecar path: " + parsed.status().message());
  }
  *is_local_path = false;
  switch (parsed->kind) {
    case FilePath::Kind::kRelative:
      return LogPrefix(table_root) + std::string(kSidecarFolder) + "/" + parsed->path;
    case FilePath::Kind::kLocal:
      *is_local_path = true;
      return parsed->path;
    case FilePath::Kind::kRemote:
      break;
  }
  return Status::NotSupported(std::string(source) + ": sidecar at '" + sidecar.path +
                              "' is not in the table's store");
}

}  // namespace

const std::vector<std::string>& CheckpointColumns() {
  static const std::vector<std::string> kColumns = {
      "add", "remove", "metaData", "protocol", "txn", "domainMetadata", "checkpointMetadata",
      "sidecar"};
  return kColumns;
}

Result<std::string> LogReplayer::FileKey(const std::string& path,
                                         const std::optional<DeletionVectorDescriptor>& dv,
                                         std::string_view source) {
  auto parsed = ParseFilePath(path);
  if (!parsed.ok()) {
    return Status::Corruption(std::string(source) + ": " + parsed.status().message());
  }
  std::string key = parsed->CanonicalKey();
  key.push_back('\0');
  if (dv) key += dv->UniqueId();
  return key;
}

Status LogReplayer::Apply(const Action& action, bool from_checkpoint, std::string_view source,
                          std::vector<std::string>* commit_keys) {
  return std::visit(
      [&](const auto& a) -> Status {
        using T = std::decay_t<decltype(a)>;
        if constexpr (std::is_same_v<T, Protocol>) {
          if (!state_.protocol) state_.protocol = a;
        } else if constexpr (std::is_same_v<T, Metadata>) {
          if (!state_.metadata) state_.metadata = a;
        } else if constexpr (std::is_same_v<T, Txn>) {
          state_.txns.try_emplace(a.app_id, a);
        } else if constexpr (std::is_same_v<T, DomainMetadata>) {
          // Tombstones are kept during replay (so older versions stay suppressed) and dropped in
          // Finish.
          state_.domains.try_emplace(a.domain, a);
        } else if constexpr (std::is_same_v<T, AddFile>) {
          // Commits only: AddCheckpointActions handles a checkpoint's adds and removes.
          if (!from_checkpoint) {
            ASSIGN_OR_RETURN(std::string key, FileKey(a.path, a.deletion_vector, source));
            if (!seen_files_.count(key)) {
              state_.files.push_back(a);
              commit_keys->push_back(std::move(key));
            }
          }
        }
        // RemoveFile: AddCommit and AddCheckpointActions handle them.
        // commitInfo, cdc, checkpointMetadata, sidecar: no part in reconciliation.
        return Status::OK();
      },
      action);
}

Status LogReplayer::AddCommit(const std::vector<Action>& actions, std::string_view source) {
  if (!saw_commit_) {
    saw_commit_ = true;
    for (const auto& a : actions) {
      if (const auto* ci = std::get_if<CommitInfo>(&a)) {
        state_.commit_info = *ci;
        break;
      }
    }
  }
  // Adds first, then removes, so that an add and a remove of one key in a commit leave the add;
  // keys become "seen" only after the whole commit, for the same reason.
  std::vector<std::string> keys;
  for (const auto& a : actions) {
    if (std::holds_alternative<RemoveFile>(a)) continue;
    RETURN_NOT_OK(Apply(a, /*from_checkpoint=*/false, source, &keys));
  }
  const std::unordered_set<std::string> added(keys.begin(), keys.end());
  for (const auto& a : actions) {
    if (!std::holds_alternative<RemoveFile>(a)) continue;
    const auto& r = std::get<RemoveFile>(a);
    ASSIGN_OR_RETURN(std::string key, FileKey(r.path, r.deletion_vector, source));
    if (added.count(key) || seen_files_.count(key)) continue;
    state_.tombstones.push_back(r);
    keys.push_back(std::move(key));
  }
  for (auto& k : keys) seen_files_.insert(std::move(k));
  seen_names_.clear();  // stale: remade on the next use
  return Status::OK();
}

Status LogReplayer::AddCheckpointActions(const std::vector<Action>& actions,
                                         std::string_view source) {
  return AddCheckpointActions(std::vector<Action>(actions), source);
}

Result<bool> LogReplayer::SeenInCommits(const std::string& path,
                                        const std::optional<DeletionVectorDescriptor>& dv,
                                        std::string_view source) const {
  // No commit touched a file: nothing to look up, and no key to build (the common case of a
  // snapshot at a checkpoint, and most of the cost of reading a large checkpoint otherwise).
  if (seen_files_.empty()) return false;
  if (seen_names_.empty()) {
    // Made on first use, so that a replay of commits alone never pays for it.
    for (const auto& key : seen_files_) {
      // A key is "<canonical path>\0<dv id>"; its file name ends at the NUL.
      const std::string_view canonical = std::string_view(key).substr(0, key.find('\0'));
      seen_names_.emplace(canonical.substr(canonical.rfind('/') + 1));
    }
  }
  // Without escapes, the name in the log is the decoded name the key ends with.
  const std::string_view name = std::string_view(path).substr(path.rfind('/') + 1);
  if (name.find('%') == std::string_view::npos && !seen_names_.contains(name)) return false;
  ASSIGN_OR_RETURN(std::string key, FileKey(path, dv, source));
  return seen_files_.count(key) > 0;
}

Status LogReplayer::AddCheckpointActions(std::vector<Action>&& actions, std::string_view source) {
  ExpectCheckpointActions(actions.size());
  for (auto& action : actions) RETURN_NOT_OK(AddCheckpointAction(std::move(action), source));
  return Status::OK();
}

void LogReplayer::ExpectCheckpointActions(size_t n) {
  // Nearly every action of a checkpoint is an add: allocate once.
  state_.files.reserve(state_.files.size() + n);
}

Status LogReplayer::AddCheckpointAction(Action&& action, std::string_view source) {
  if (auto* add = std::get_if<AddFile>(&action)) {
    ASSIGN_OR_RETURN(bool seen, SeenInCommits(add->path, add->deletion_vector, source));
    if (!seen) state_.files.push_back(std::move(*add));
  } else if (auto* remove = std::get_if<RemoveFile>(&action)) {
    // A checkpoint's removes are only tombstones, kept unless a newer commit already acted on the
    // same file.
    ASSIGN_OR_RETURN(bool seen, SeenInCommits(remove->path, remove->deletion_vector, source));
    if (!seen) state_.tombstones.push_back(std::move(*remove));
  } else {
    RETURN_NOT_OK(Apply(action, /*from_checkpoint=*/true, source, nullptr));
  }
  return Status::OK();
}

ReplayedState LogReplayer::Finish() {
  for (auto it = state_.domains.begin(); it != state_.domains.end();) {
    it = it->second.removed ? state_.domains.erase(it) : std::next(it);
  }
  ReplayedState out = std::move(state_);
  state_ = ReplayedState();
  seen_files_.clear();
  seen_names_.clear();
  saw_commit_ = false;
  return out;
}

Result<ReplayedState> ReplayLogSegment(storage::ObjectStore& store, std::string_view table_root,
                                       const LogSegment& segment, ParquetHandler& parquet) {
  LogReplayer replayer;
  const auto& commits = segment.commits();
  for (auto it = commits.rbegin(); it != commits.rend(); ++it) {
    const std::string& key = it->meta.key;
    ASSIGN_OR_RETURN_CTX(std::string data, store.Read(key), "reading commit " + key);
    ASSIGN_OR_RETURN(auto actions, ParseActions(data, key));
    RETURN_NOT_OK(replayer.AddCommit(actions, key));
  }
  if (const auto& cp = segment.checkpoint()) {
    std::vector<Sidecar> sidecars;
    for (const auto& file : cp->files) {
      const std::string& key = file.meta.key;
      CheckpointFeed feed(replayer, key, &sidecars);
      if (file.name.kind == LogFileKind::kV2Checkpoint && file.name.is_json) {
        ASSIGN_OR_RETURN_CTX(std::string data, store.Read(key), "reading checkpoint " + key);
        ASSIGN_OR_RETURN(auto actions, ParseActions(data, key));
        feed.Expect(actions.size());
        for (auto& a : actions) RETURN_NOT_OK(feed.Accept(std::move(a)));
      } else {
        RETURN_NOT_OK(ReadParquetActions(store, parquet, key, CheckpointColumns(), feed));
      }
    }
    // PROTOCOL.md, "V2 Spec": sidecars hold the checkpoint's file actions.
    static const std::vector<std::string> kSidecarColumns = {"add", "remove"};
    for (const auto& sidecar : sidecars) {
      bool is_local_path = false;
      ASSIGN_OR_RETURN(std::string location,
                       SidecarLocation(table_root, sidecar, cp->files.front().meta.key,
                                       &is_local_path));
      CheckpointFeed feed(replayer, location, /*sidecars=*/nullptr);
      if (is_local_path) {
        RETURN_NOT_OK(ReadParquetFileActions(parquet, location, location, kSidecarColumns, feed));
      } else {
        RETURN_NOT_OK(ReadParquetActions(store, parquet, location, kSidecarColumns, feed));
      }
    }
  }
  return replayer.Finish();
}

}  // namespace medallion::delta
