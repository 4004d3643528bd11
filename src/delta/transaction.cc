#include "common/clock.h"
#include "delta/transaction.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <random>
#include <thread>

#include "common/macros.h"
#include "delta/checkpoint_writer.h"
#include "delta/file_path.h"
#include "delta/log_segment.h"
#include "delta/protocol_requirements.h"
#include "delta/table_configuration.h"

namespace medallion::delta {
namespace {

using OJson = nlohmann::ordered_json;

// Seeded per thread, and seeded again in a forked child: a child inherits its parent's state, so
// without reseeding every process forked from one parent would draw the same numbers and generate
// the same UUIDs (staging folders, data file names, commitInfo.txnId). Found by
// test/delta_concurrency_test.cc (forked appenders collided on the staging folder).
std::mt19937_64& Rng() {
  struct Seeded {
    std::mt19937_64 rng;
    pid_t pid = -1;
  };
  thread_local Seeded state;
  const pid_t pid = ::getpid();
  if (state.pid != pid) {
    state.rng.seed(std::random_device{}() ^ static_cast<uint64_t>(medallion::NowMs()) ^
                   std::hash<std::thread::id>{}(std::this_thread::get_id()) ^
                   (static_cast<uint64_t>(pid) << 32));
    state.pid = pid;
  }
  return state.rng;
}

// The canonical key of a log path (file_path.h), or the path itself when it cannot be parsed (such
// a path then only equals itself).
std::string CanonicalPath(const std::string& path) {
  auto parsed = ParseFilePath(path);
  return parsed.ok() ? parsed->CanonicalKey() : path;
}

std::string CommitKey(const std::string& table_root, int64_t version) {
  return LogPrefix(table_root) + CommitFileName(version);
}

// commitInfo.txnId of a parsed commit, or "".
std::string TxnIdOf(const std::vector<Action>& actions) {
  for (const auto& a : actions) {
    if (const auto* ci = std::get_if<CommitInfo>(&a)) {
      OJson o = OJson::parse(ci->raw_json, nullptr, false);
      if (o.is_object() && o.contains("txnId") && o["txnId"].is_string()) {
        return o["txnId"].get<std::string>();
      }
      return "";
    }
  }
  return "";
}

}  // namespace

std::string GenerateUuid() {
  uint64_t hi = Rng()();
  uint64_t lo = Rng()();
  hi = (hi & ~0xF000ULL) | 0x4000ULL;                  // version 4
  lo = (lo & ~(0xC000ULL << 48)) | (0x8000ULL << 48);  // variant 10
  char buf[40];
  std::snprintf(buf, sizeof(buf), "%08x-%04x-%04x-%04x-%012llx", static_cast<unsigned>(hi >> 32),
                static_cast<unsigned>((hi >> 16) & 0xFFFF), static_cast<unsigned>(hi & 0xFFFF),
                static_cast<unsigned>(lo >> 48),
                static_cast<unsigned long long>(lo & 0xFFFFFFFFFFFFULL));
  return buf;
}

Transaction::Transaction(storage::ObjectStore& store, std::string table_root,
                         std::shared_ptr<const Snapshot> read_snapshot, TransactionOptions options)
    : store_(store),
      table_root_(std::move(table_root)),
      read_snapshot_(std::move(read_snapshot)),
      options_(std::move(options)),
      txn_id_(GenerateUuid()) {
  while (!table_root_.empty() && table_root_.back() == '/') table_root_.pop_back();
  read_version_ = read_snapshot_ ? read_snapshot_->version() : -1;
  next_version_ = read_version_ + 1;
  checked_through_ = read_version_;
}

Result<std::unique_ptr<Transaction>> Transaction::ForTable(
    storage::ObjectStore& store, std::string table_root,
    std::shared_ptr<const Snapshot> read_snapshot, TransactionOptions options) {
  if (options.max_attempts < 1) {
    return Status::InvalidArgument("TransactionOptions::max_attempts must be >= 1");
  }
  std::unique_ptr<Transaction> txn(
      new Transaction(store, std::move(table_root), std::move(read_snapshot), std::move(options)));
  if (txn->read_snapshot_) {
    RETURN_NOT_OK_CTX(
        CheckWriteSupported(txn->read_snapshot_->protocol(), txn->read_snapshot_->metadata()),
        txn->TableName());
  }
  return txn;
}

int64_t Transaction::NowMs() const {
  return options_.now_ms != 0 ? options_.now_ms : medallion::NowMs();
}

std::string Transaction::TableName() const {
  return delta::TableName(table_root_);
}

void Transaction::SetOperation(std::string operation, StringMap parameters) {
  operation_ = std::move(operation);
  operation_parameters_ = std::move(parameters);
}

void Transaction::SetOperationMetrics(std::map<std::string, int64_t> metrics) {
  operation_metrics_ = std::move(metrics);
}

void Transaction::UpdateMetadata(Metadata metadata) { new_metadata_ = std::move(metadata); }
void Transaction::UpdateProtocol(Protocol protocol) { new_protocol_ = std::move(protocol); }

void Transaction::AddFiles(std::vector<AddFile> files) {
  for (auto& f : files) adds_.push_back(std::move(f));
}

void Transaction::RemoveFiles(std::vector<RemoveFile> files) {
  for (auto& f : files) {
    std::string key = CanonicalPath(f.path);
    read_files_.insert(key);
    removed_files_.insert(std::move(key));
    removes_.push_back(std::move(f));
  }
}

void Transaction::AddCdcFiles(std::vector<AddCdcFile> files) {
  for (auto& f : files) cdcs_.push_back(std::move(f));
}

void Transaction::SetTxn(std::string app_id, int64_t version) {
  txns_[std::move(app_id)] = version;
}

void Transaction::RecordReadFiles(const std::vector<std::string>& paths) {
  for (const auto& p : paths) read_files_.insert(CanonicalPath(p));
}

void Transaction::RecordReadWholeTable() { read_whole_table_ = true; }

bool Transaction::is_blind_append() const {
  return removes_.empty() && read_files_.empty() && !read_whole_table_;
}

Status Transaction::Prepare() {
  if (prepared_) return Status::OK();
  const int64_t now = NowMs();
  const bool creating = read_snapshot_ == nullptr;
  if (creating && !new_metadata_) {
    return Status::InvalidArgument("creating a table needs its metadata (UpdateMetadata)");
  }

  // Metadata and protocol after this commit.
  Metadata metadata = new_metadata_ ? *new_metadata_ : read_snapshot_->metadata();
  if (new_metadata_) {
    if (metadata.id.empty()) {
      metadata.id = creating ? GenerateUuid() : read_snapshot_->metadata().id;
    }
    if (creating && !metadata.created_time) metadata.created_time = now;
  }
  std::optional<Protocol> base_protocol = new_protocol_;
  if (!base_protocol && !creating) base_protocol = read_snapshot_->protocol();
  if (new_protocol_ && !creating) {
    // Never below what the table already has.
    const Protocol& old = read_snapshot_->protocol();
    if (new_protocol_->min_reader_version < old.min_reader_version ||
        new_protocol_->min_writer_version < old.min_writer_version) {
      return Status::InvalidArgument("protocol downgrade is not allowed (from (" +
                                     std::to_string(old.min_reader_version) + "," +
                                     std::to_string(old.min_writer_version) + "))");
    }
  }
  ASSIGN_OR_RETURN(Protocol protocol, RequiredProtocol(metadata, base_protocol));
  ASSIGN_OR_RETURN(TableConfiguration config, TableConfiguration::Make(protocol, metadata));
  RETURN_NOT_OK(CheckWriteSupported(protocol, metadata));
  const bool protocol_changed = creating || protocol != read_snapshot_->protocol();
  const bool metadata_changed = creating || new_metadata_.has_value();

  // Append-only tables (PROTOCOL.md, "Append-only Tables"): no data may be removed.
  const bool append_only = config.properties().append_only ||
                           (!creating && read_snapshot_->config().properties().append_only);
  if (append_only) {
    for (const auto& r : removes_) {
      if (r.data_change) {
        return Status::InvalidArgument(
            "table has delta.appendOnly=true: cannot remove data (remove of '" + r.path +
            "' with dataChange=true)");
      }
    }
  }
  // Add files: partition values must name exactly the partition columns.
  const std::set<std::string> partition_columns(metadata.partition_columns.begin(),
                                                metadata.partition_columns.end());
  std::set<std::string> added_keys;
  for (const auto& a : adds_) {
    if (a.path.empty()) return Status::InvalidArgument("add action with an empty path");
    std::set<std::string> keys;
    for (const auto& [k, v] : a.partition_values) keys.insert(k);
    if (keys != partition_columns) {
      return Status::InvalidArgument("add '" + a.path +
                                     "': partitionValues must name exactly the partition columns");
    }
    if (a.deletion_vector && !config.deletion_vectors_supported()) {
      return Status::InvalidArgument("add '" + a.path +
                                     "' has a deletion vector, but the table does not support "
                                     "the deletionVectors feature");
    }
    std::string key = CanonicalPath(a.path) + '\0' +
                      (a.deletion_vector ? a.deletion_vector->UniqueId() : std::string());
    if (!added_keys.insert(key).second) {
      return Status::InvalidArgument("file '" + a.path + "' is added twice in one commit");
    }
  }
  if (!cdcs_.empty() && !config.change_data_feed_enabled()) {
    return Status::InvalidArgument("cdc files need delta.enableChangeDataFeed=true on the table");
  }

  // commitInfo (PROTOCOL.md, "Commit Provenance Information"), in Spark's field order.
  OJson ci = OJson::object();
  ci["timestamp"] = now;
  ci["operation"] = operation_.value_or(creating ? "CREATE TABLE" : "WRITE");
  OJson params = OJson::object();
  for (const auto& [k, v] : operation_parameters_) params[k] = v;
  ci["operationParameters"] = params;
  if (!creating) ci["readVersion"] = read_version_;
  ci["isolationLevel"] = "Serializable";
  ci["isBlindAppend"] = is_blind_append();
  OJson metrics = OJson::object();
  for (const auto& [k, v] : operation_metrics_) metrics[k] = std::to_string(v);
  ci["operationMetrics"] = metrics;
  ci["engineInfo"] = options_.engine_info;
  ci["txnId"] = txn_id_;

  std::string text = OJson{{"commitInfo", ci}}.dump() + "\n";
  if (protocol_changed) text += SerializeAction(protocol) + "\n";
  if (metadata_changed) text += SerializeAction(metadata) + "\n";
  for (const auto& [app_id, version] : txns_) {
    text += SerializeAction(Txn{app_id, version, now}) + "\n";
  }
  for (const auto& a : adds_) text += SerializeAction(a) + "\n";
  for (const auto& r : removes_) {
    RemoveFile copy = r;
    if (!copy.deletion_timestamp) copy.deletion_timestamp = now;
    text += SerializeAction(copy) + "\n";
  }
  for (const auto& c : cdcs_) text += SerializeAction(c) + "\n";

  commit_text_ = std::move(text);
  effective_metadata_ = std::move(metadata);
  prepared_ = true;
  return Status::OK();
}

Status Transaction::CheckWinningCommit(int64_t version, const std::vector<Action>& actions) const {
  auto conflict = [&](const std::string& reason) {
    return Status::Conflict("conflict with concurrent commit version " + std::to_string(version) +
                            ": " + reason);
  };
  for (const auto& a : actions) {
    if (std::holds_alternative<Protocol>(a)) {
      return conflict(read_version_ < 0 ? "the table was created concurrently"
                                        : "protocol changed");
    }
    if (std::holds_alternative<Metadata>(a)) {
      return conflict(read_version_ < 0 ? "the table was created concurrently"
                                        : "metadata changed");
    }
  }
  for (const auto& a : actions) {
    if (const auto* t = std::get_if<Txn>(&a)) {
      if (txns_.count(t->app_id)) {
        return conflict("concurrent transaction for app " + t->app_id + " (committed version " +
                        std::to_string(t->version) + ")");
      }
    } else if (const auto* r = std::get_if<RemoveFile>(&a)) {
      const std::string key = CanonicalPath(r->path);
      if (removed_files_.count(key)) {
        return conflict("concurrent update: it also removed file '" + r->path + "'");
      }
      if (read_files_.count(key)) {
        return conflict("concurrent delete: it removed file '" + r->path +
                        "' that this transaction read");
      }
      if (read_whole_table_) {
        return conflict("concurrent delete: it removed file '" + r->path +
                        "' from the table this transaction read");
      }
    } else if (const auto* add = std::get_if<AddFile>(&a)) {
      if (read_whole_table_ && add->data_change) {
        return conflict("concurrent append: it added file '" + add->path +
                        "' to the table this transaction read");
      }
    }
  }
  return Status::OK();
}

Status Transaction::CheckWinningCommits(std::optional<int64_t>* own_version) {
  for (int64_t v = checked_through_ + 1;; ++v) {
    const std::string key = CommitKey(table_root_, v);
    auto data = store_.Read(key);
    if (!data.ok()) {
      if (data.status().IsNotFound()) return Status::OK();
      return data.status().WithContext("reading concurrent commit " + key);
    }
    ASSIGN_OR_RETURN(auto actions, ParseActions(*data, key));
    if (TxnIdOf(actions) == txn_id_) {
      *own_version = v;
      return Status::OK();
    }
    RETURN_NOT_OK(CheckWinningCommit(v, actions));
    checked_through_ = v;
  }
}

Result<bool> Transaction::IsOwnCommit(int64_t version) {
  const std::string key = CommitKey(table_root_, version);
  ASSIGN_OR_RETURN(std::string data, store_.Read(key));
  auto actions = ParseActions(data, key);
  if (!actions.ok()) return false;
  return TxnIdOf(*actions) == txn_id_;
}

Result<CommitResult> Transaction::Commit(ParquetHandler& parquet) {
  const std::string table = TableName();
  if (committed_) {
    return Status::InvalidArgument(table + ": transaction " + txn_id_ + " is already committed");
  }
  RETURN_NOT_OK_CTX(Prepare(), table);
  CommitResult result;
  auto succeed = [&](int64_t version, bool recovered) {
    committed_ = true;
    result.version = version;
    result.attempts = attempts_;
    result.recovered_own_commit = recovered;
    AfterCommit(version, parquet, &result);
    return result;
  };

  int64_t backoff_ms = options_.initial_backoff_ms;
  for (int attempt = 0; attempt < options_.max_attempts; ++attempt) {
    const int64_t version = next_version_;
    const std::string key = CommitKey(table_root_, version);
    ++attempts_;
    Status put = store_.PutIfAbsent(key, commit_text_);
    if (put.ok()) return succeed(version, false);
    if (!put.IsAlreadyExists()) {
      // A lost reply? The commit may have landed.
      auto own = IsOwnCommit(version);
      if (own.ok() && *own) return succeed(version, true);
      return put.WithContext(table + ": writing commit " + key);
    }
    // Lost the race (or our own earlier attempt landed). Back off first, then catch up with the
    // winners and retry at once: checking before sleeping would retry at a version that other
    // writers took during the sleep, and a busy writer could starve.
    if (backoff_ms > 0) {
      std::uniform_int_distribution<int64_t> jitter(0, backoff_ms);
      std::this_thread::sleep_for(std::chrono::milliseconds(jitter(Rng())));
      backoff_ms = std::min(backoff_ms * 2, options_.max_backoff_ms);
    }
    std::optional<int64_t> own_version;
    RETURN_NOT_OK_CTX(CheckWinningCommits(&own_version), table);
    if (own_version) return succeed(*own_version, true);
    next_version_ = checked_through_ + 1;
  }
  return Status::Conflict(table + ": gave up after " + std::to_string(options_.max_attempts) +
                          " attempts to commit; the table is busy (latest version at least " +
                          std::to_string(checked_through_) + ")");
}

Result<std::shared_ptr<const Snapshot>> Transaction::SnapshotOfCommit(int64_t version,
                                                                      ParquetHandler& parquet) {
  if (read_snapshot_ != nullptr && version == read_snapshot_->version() + 1) {
    // Nobody committed in between: the read snapshot plus this commit is the new version.
    const std::string key = CommitKey(table_root_, version);
    ASSIGN_OR_RETURN(auto actions, ParseActions(commit_text_, key));
    ASSIGN_OR_RETURN(storage::ObjectMeta meta, store_.Head(key));
    return Snapshot::FromParentAndCommit(*read_snapshot_, actions, meta);
  }
  SnapshotBuilder builder(store_, table_root_);
  builder.AtVersion(version);
  return builder.Build(parquet);
}

void Transaction::AfterCommit(int64_t version, ParquetHandler& parquet, CommitResult* result) {
  if (options_.checkpoint_writer == nullptr || version == 0) return;
  auto props = ParseTableProperties(effective_metadata_.configuration);
  if (!props.ok()) {
    result->checkpoint_status = props.status();
    return;
  }
  if (version % props->checkpoint_interval != 0) return;
  Status st = [&]() -> Status {
    ASSIGN_OR_RETURN(auto snapshot, SnapshotOfCommit(version, parquet));
    const int64_t now = NowMs();
    RETURN_NOT_OK(WriteCheckpoint(store_, *snapshot, *options_.checkpoint_writer, now));
    result->checkpoint_written = true;
    RETURN_NOT_OK(CleanUpExpiredLog(store_, table_root_,
                                    snapshot->config().properties().log_retention_ms, now));
    return Status::OK();
  }();
  result->checkpoint_status =
      st.WithContext(TableName() + ": checkpoint at version " + std::to_string(version));
}

}  // namespace medallion::delta
