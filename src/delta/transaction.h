// Transaction: one atomic change to a Delta table, committed with optimistic concurrency.
//
// PROTOCOL.md, "Delta Log Entries", "Commit Provenance Information", "Transaction Identifiers",
// "Writer Requirements", "Table Features"; the conflict rules follow Delta Lake's (and
// delta-kernel-rs's) optimistic concurrency control.
//
// A transaction starts from the snapshot it read (or, to create a table, from nothing), collects
// actions (files added and removed, metadata and protocol changes, an application transaction id),
// records what it read, and commits by creating `_delta_log/<version %020d>.json` with
// ObjectStore::PutIfAbsent. The commit file holds, one per line: commitInfo (timestamp, operation,
// operationParameters, readVersion, isolationLevel, isBlindAppend, operationMetrics, engineInfo,
// txnId), then protocol and metaData when they change, txn, add, remove and cdc actions.
//
//   ASSIGN_OR_RETURN(auto snapshot, SnapshotBuilder(store, root).Build(parquet));
//   ASSIGN_OR_RETURN(auto txn, Transaction::ForTable(store, root, snapshot));
//   txn->SetOperation("WRITE", {{"mode", "Append"}, {"partitionBy", "[]"}});
//   txn->AddFiles(std::move(files));
//   ASSIGN_OR_RETURN(CommitResult committed, txn->Commit(parquet));
//
// Losing the race (another writer created the version first): the transaction reads the winning
// commits and checks them against what it did and read. Without a conflict it rebases onto the new
// latest version and tries again (at most `TransactionOptions::max_attempts` times, backing off).
// Conflicts (Status::Conflict, naming the winning version and the reason):
//   - the winner changed the protocol or the metadata ("protocol changed", "metadata changed"), or
//     created the table this transaction meant to create;
//   - the winner removed a file this transaction read or removes ("concurrent delete" /
//     "concurrent update"); files this transaction removes count as read;
//   - the transaction read the whole table and the winner added data files ("concurrent append")
//     or removed any file;
//   - the winner recorded a txn for an appId this transaction sets ("concurrent transaction for
//     app X").
// A blind append (no files read, nothing removed) only conflicts on the first and last rule, so
// concurrent appenders all succeed, in some order.
//
// Idempotent writes (PROTOCOL.md, "Transaction Identifiers"): a writer that must not apply the same
// batch twice (a streaming flow, a retried pipeline run) records (appId, version) with SetTxn in
// the same commit as its data, and before writing checks the snapshot: when
// `snapshot->TxnVersion(app_id) >= version` the batch is already committed and must be skipped.
// Two writers racing with the same appId: the loser gets Conflict, re-reads and then skips.
//
// Lost replies: when PutIfAbsent fails with an error other than AlreadyExists, the commit may or
// may not have landed. Commit reads the version back and, when it holds this transaction's txnId,
// reports success. If it cannot tell, it returns the error; calling Commit again is safe: a later
// AlreadyExists is resolved the same way (the winning commit is recognized as this transaction's
// own by its commitInfo.txnId), so a transaction never commits twice.
//
// Checkpoints: when `TransactionOptions::checkpoint_writer` is set and the committed version is a
// multiple of `delta.checkpointInterval`, Commit then writes a classic checkpoint and cleans up
// expired log files (checkpoint_writer.h). Their failure does not undo the commit: it is reported
// in `CommitResult::checkpoint_status`. When no other commit came between the read version and
// this one, the checkpoint is written from the read snapshot plus this commit, reconciled in
// memory (Snapshot::FromParentAndCommit), without reading the log again.
//
// Errors of Commit (each message starts with the table root):
//   Conflict: as above, or "gave up after N attempts" under sustained contention;
//   InvalidArgument: a precondition of the actions (a table without metadata to create, partition
//     values not matching the partition columns, removing data from a table with
//     delta.appendOnly=true, cdc files without delta.enableChangeDataFeed, Commit after success);
//   NotSupported: the table needs a writer version or feature medallion cannot write
//     (protocol_requirements.h);
//   IOError and others from the store: the table is unchanged, or the commit landed but could not
//   be
//     confirmed (see "Lost replies").
//
// Thread-safety: a Transaction is used by one thread at a time; any number of transactions (in any
// number of processes) may commit to one table concurrently. Lifetimes: the store (and the
// checkpoint writer in the options) must outlive the Transaction; the read snapshot is shared.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/result.h"
#include "delta/actions.h"
#include "delta/parquet_handler.h"
#include "delta/parquet_writer.h"
#include "delta/snapshot.h"
#include "storage/object_store.h"

namespace medallion::delta {

// commitInfo.engineInfo.
inline constexpr std::string_view kEngineInfo = "medallion/0.1.0";

struct TransactionOptions {
  // PutIfAbsent attempts before Commit gives up with Conflict (>= 1). Losing a race to a
  // non-conflicting writer is not a failure, so the default is high (Delta on Spark retries such
  // commits practically without limit); only sustained contention exhausts it.
  int max_attempts = 1000;
  // After a lost race, a random sleep of up to this many milliseconds, doubled after each loss and
  // capped at max_backoff_ms, is taken before catching up with the winners and retrying.
  int64_t initial_backoff_ms = 1;
  int64_t max_backoff_ms = 64;
  // commitInfo.engineInfo.
  std::string engine_info = std::string(kEngineInfo);
  // When set, Commit writes a checkpoint at versions that are multiples of
  // delta.checkpointInterval and then cleans up the log. Not owned; must outlive the transaction.
  ParquetWriter* checkpoint_writer = nullptr;
  // Clock for commit timestamps and log retention, ms since the epoch; 0 uses the system clock.
  // For tests.
  int64_t now_ms = 0;
};

struct CommitResult {
  int64_t version = 0;  // the version this transaction committed
  int attempts = 0;     // PutIfAbsent calls made over every Commit call
  // The commit was found in the log after a lost reply (see the header comment).
  bool recovered_own_commit = false;
  // A checkpoint was written at `version`.
  bool checkpoint_written = false;
  // Why a due checkpoint or cleanup failed (OK otherwise); the commit stands either way.
  Status checkpoint_status;
};

// A random (version 4) UUID in its 36-character text form, e.g. for Metadata::id.
std::string GenerateUuid();

class Transaction {
 public:
  // A transaction on the table at `table_root` in `store`, starting from `read_snapshot` (the
  // version it read), or creating the table when `read_snapshot` is null (UpdateMetadata is then
  // required; the protocol defaults to what the metadata needs, (1,2) at least).
  // NotSupported when medallion cannot write the snapshot's protocol (protocol_requirements.h).
  static Result<std::unique_ptr<Transaction>> ForTable(
      storage::ObjectStore& store, std::string table_root,
      std::shared_ptr<const Snapshot> read_snapshot, TransactionOptions options = {});

  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;

  // commitInfo.operation ("WRITE", "DELETE", "CREATE TABLE", ...) and operationParameters. Values
  // are written as the strings given; as Spark does, structured values are JSON text
  // (partitionBy -> "[\"date\"]"). Default: "CREATE TABLE" when creating, else "WRITE".
  void SetOperation(std::string operation, StringMap parameters = {});
  // commitInfo.operationMetrics ("numFiles", "numOutputRows", ...); written as strings.
  void SetOperationMetrics(std::map<std::string, int64_t> metrics);

  // Replaces the table's metadata (schema, partitioning, properties). The protocol is raised to
  // what the new metadata needs (protocol_requirements.h).
  void UpdateMetadata(Metadata metadata);
  // Sets the protocol explicitly (never below what the metadata needs).
  void UpdateProtocol(Protocol protocol);

  // Files to add / remove / change-data files to add, in this commit. Removing a file counts as
  // reading it.
  void AddFiles(std::vector<AddFile> files);
  void RemoveFiles(std::vector<RemoveFile> files);
  void AddCdcFiles(std::vector<AddCdcFile> files);

  // Records the application transaction (appId, version) in this commit (one per appId).
  void SetTxn(std::string app_id, int64_t version);

  // What the transaction read, for conflict detection: specific files (paths as in the log) ...
  void RecordReadFiles(const std::vector<std::string>& paths);
  // ... or the whole table (any concurrent append or delete then conflicts).
  void RecordReadWholeTable();

  // No reads recorded and nothing removed.
  bool is_blind_append() const;
  // The version read; -1 when creating a table.
  int64_t read_version() const { return read_version_; }
  // This transaction's id (commitInfo.txnId).
  const std::string& txn_id() const { return txn_id_; }

  // Commits (see the header comment). `parquet` reads checkpoints when one is due. After success,
  // a further call is InvalidArgument.
  Result<CommitResult> Commit(ParquetHandler& parquet);

 private:
  Transaction(storage::ObjectStore& store, std::string table_root,
              std::shared_ptr<const Snapshot> read_snapshot, TransactionOptions options);

  int64_t NowMs() const;
  std::string TableName() const;
  // Validates the actions and builds the commit file's text (once).
  Status Prepare();
  // Reads commits after `checked_through_` until the first absent one; Conflict when one conflicts;
  // sets *own_version when one is this transaction's commit.
  Status CheckWinningCommits(std::optional<int64_t>* own_version);
  Status CheckWinningCommit(int64_t version, const std::vector<Action>& actions) const;
  // The commit at `version` exists: is it ours?
  Result<bool> IsOwnCommit(int64_t version);
  void AfterCommit(int64_t version, ParquetHandler& parquet, CommitResult* result);
  // The snapshot of the version this transaction committed: built in memory from the read
  // snapshot and the commit when the commit directly follows the read version, else read from the
  // log.
  Result<std::shared_ptr<const Snapshot>> SnapshotOfCommit(int64_t version,
                                                           ParquetHandler& parquet);

  storage::ObjectStore& store_;
  std::string table_root_;
  std::shared_ptr<const Snapshot> read_snapshot_;
  TransactionOptions options_;
  int64_t read_version_ = -1;
  std::string txn_id_;

  std::optional<std::string> operation_;
  StringMap operation_parameters_;
  std::map<std::string, int64_t> operation_metrics_;
  std::optional<Metadata> new_metadata_;
  std::optional<Protocol> new_protocol_;
  std::vector<AddFile> adds_;
  std::vector<RemoveFile> removes_;
  std::vector<AddCdcFile> cdcs_;
  std::map<std::string, int64_t> txns_;
  std::set<std::string> read_files_;     // canonical keys (file_path.h)
  std::set<std::string> removed_files_;  // canonical keys
  bool read_whole_table_ = false;

  // Set by Prepare.
  bool prepared_ = false;
  std::string commit_text_;
  Metadata effective_metadata_;
  // Commit state across Commit calls.
  int64_t next_version_ = 0;     // the version to try next
  int64_t checked_through_ = 0;  // winners up to this version were checked
  int attempts_ = 0;
  bool committed_ = false;
};

}  // namespace medallion::delta
