// Crash safety of Delta appends: a writer that dies at any point, or whose store fails any one
// call, never leaves a table that cannot be read, and each append is all or nothing.
//
// - Real processes: a forked child appends one batch (rows tagged with a unique batch id) and the
//   parent kills it with SIGKILL after a seeded random delay, spread over the child's append (data
//   files, statistics, commit, checkpoint and log cleanup: the table checkpoints every 3 versions
//   and keeps no expired log). After each kill the table must load, every batch must have 0 or all
//   of its rows (all of them when the child reported success), and the protocol validator must
//   pass. Data files of a killed writer are left behind unreferenced, which the protocol allows.
// - In process: FaultInjectingObjectStore fails the nth store call of one append (every n, before
//   and after the call is carried out, on appends with and without a checkpoint due). The append
//   returns an error (and then committed nothing) or succeeds (and committed everything); a retry
//   then succeeds.
//
// Replay: the delays come from MEDALLION_CRASH_SEED (printed on failure; default kDefaultSeed).
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "child_process.h"
#include "delta/log_segment.h"
#include "delta/snapshot.h"
#include "delta_validity.h"
#include "engine/delta_writer.h"
#include "engine/duckdb_parquet_handler.h"
#include "engine/session.h"
#include "storage/fault_injecting_object_store.h"
#include "storage/local_object_store.h"
#include "storage/test_util.h"

namespace medallion::engine {
namespace {

using storage::FaultInjectingObjectStore;
using testutil::ChildExit;
using testutil::ProcessLatch;
using testutil::StartChild;
using testutil::WaitChild;

constexpr uint64_t kDefaultSeed = 20261121;
constexpr int kBatchRows = 3;
// Every batch of the table's history before the trials: 0 (the create) .. kHistoryBatches - 1.
constexpr int kHistoryBatches = 5;
constexpr char kTableProperties[] =
    "'delta.checkpointInterval' = '3', 'delta.logRetentionDuration' = 'interval 0 seconds'";

uint64_t Seed() {
  const char* env = std::getenv("MEDALLION_CRASH_SEED");
  return env != nullptr && *env != '\0' ? std::strtoull(env, nullptr, 10) : kDefaultSeed;
}

std::string BatchSql(int64_t batch) {
  return fmt::format("SELECT {} AS batch, range AS i FROM range({})", batch, kBatchRows);
}

class DeltaCrashTest : public ::testing::Test {
 protected:
  std::string Path() const { return folder_.path() + "/t"; }
  std::string Ref() const { return "delta.`" + Path() + "`"; }
  std::string InsertSql(int64_t batch) const {
    return fmt::format("INSERT INTO {} {}", Ref(), BatchSql(batch));
  }

  // Rows per batch id, read through the Delta scan of a new Session (closed again, so that the
  // next child is forked while the parent holds no DuckDB database).
  Result<std::map<int64_t, int64_t>> BatchCounts() {
    ASSIGN_OR_RETURN(auto session, Session::Open());
    ASSIGN_OR_RETURN(QueryResult r, session->Query(fmt::format(
                                        "SELECT batch, count(*) FROM {} GROUP BY batch", Ref())));
    std::map<int64_t, int64_t> counts;
    for (size_t row = 0; row < r.row_count(); ++row) {
      ASSIGN_OR_RETURN(int64_t batch, r.GetInt64(0, row));
      ASSIGN_OR_RETURN(int64_t n, r.GetInt64(1, row));
      counts[batch] = n;
    }
    return counts;
  }

  // The table loads, holds all rows of every batch in `committed`, and of `pending` (a batch
  // whose writer failed or died) none or all; nothing else. Returns whether `pending` landed.
  bool ExpectAllOrNothing(const std::set<int64_t>& committed, int64_t pending,
                          const std::string& where) {
    auto store = storage::LocalObjectStore::Make(Path(), {/*sync=*/false});
    EXPECT_TRUE(store.ok()) << where << ": " << store.status().ToString();
    if (!store.ok()) return false;
    auto parquet = DuckDbParquetHandler::Make();
    EXPECT_TRUE(parquet.ok()) << parquet.status().ToString();
    if (!parquet.ok()) return false;
    auto snapshot = delta::SnapshotBuilder(**store, "").Build(**parquet);
    EXPECT_TRUE(snapshot.ok()) << where
                               << ": the table does not load: " << snapshot.status().ToString();
    if (!snapshot.ok()) return false;
    parquet->reset();
    auto counts = BatchCounts();
    EXPECT_TRUE(counts.ok()) << where
                             << ": the table does not read: " << counts.status().ToString();
    if (!counts.ok()) return false;
    for (int64_t b : committed) {
      EXPECT_EQ((*counts)[b], kBatchRows) << where << ": committed batch " << b;
    }
    bool landed = counts->count(pending) > 0;
    for (const auto& [b, n] : *counts) {
      if (b == pending) {
        EXPECT_EQ(n, kBatchRows) << where << ": torn write of batch " << b;
      } else {
        EXPECT_TRUE(committed.count(b))
            << where << ": unexpected batch " << b << " (" << n << " rows)";
      }
    }
    return landed;
  }

  storage::TempFolder folder_;
};

// A writer killed with SIGKILL at a random point of its append.
TEST_F(DeltaCrashTest, WriterKilledAtRandomPointsLeavesReadableAllOrNothingTable) {
  constexpr int kTrials = 100;
  constexpr int kCalibrationRuns = 3;
  const uint64_t seed = Seed();
  SCOPED_TRACE(fmt::format("MEDALLION_CRASH_SEED={}", seed));
  std::set<int64_t> committed;
  {
    ASSERT_OK_AND_ASSIGN(auto session, Session::Open());
    ASSERT_OK(session->Query(fmt::format("CREATE TABLE {} TBLPROPERTIES ({}) AS {}", Ref(),
                                         kTableProperties, BatchSql(0))));
    committed.insert(0);
    for (int b = 1; b < kHistoryBatches; ++b) {
      ASSERT_OK(session->Query(InsertSql(b)));
      committed.insert(b);
    }
  }

  // One child append of `batch`, killed `delay` after its Session is open (never when nullopt).
  // Returns how it ended and how long the append ran (from ready to exit or kill).
  auto run_child = [&](int64_t batch, std::optional<std::chrono::microseconds> delay,
                       std::chrono::microseconds* ran) -> ChildExit {
    ProcessLatch ready;
    const std::string sql = InsertSql(batch);
    pid_t pid = StartChild([&] {
      ready.CloseRead();
      auto session = Session::Open();
      if (!session.ok()) return 2;
      ready.Notify();
      auto r = (*session)->Query(sql);
      if (!r.ok()) {
        std::fprintf(stderr, "batch %lld: %s\n", static_cast<long long>(batch),
                     r.status().ToString().c_str());
        return 1;
      }
      return 0;
    });
    EXPECT_GE(pid, 0) << "fork failed";
    ready.CloseWrite();
    ready.Wait();  // false when the child died first: killing it is then harmless
    const auto t0 = std::chrono::steady_clock::now();
    if (delay) {
      std::this_thread::sleep_until(t0 + *delay);
      ::kill(pid, SIGKILL);
    }
    ChildExit e = WaitChild(pid, std::chrono::seconds(30));
    *ran = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() -
                                                                 t0);
    return e;
  };

  // Calibration: how long an append takes here, uninterrupted.
  std::vector<int64_t> durations;
  int64_t next_batch = 1000;
  for (int i = 0; i < kCalibrationRuns; ++i) {
    std::chrono::microseconds ran{};
    ChildExit e = run_child(next_batch, std::nullopt, &ran);
    ASSERT_TRUE(e.ok()) << "calibration append: " << e.ToString();
    committed.insert(next_batch++);
    durations.push_back(ran.count());
  }
  std::sort(durations.begin(), durations.end());
  const int64_t append_us = durations[durations.size() / 2];

  std::mt19937_64 rng(seed);
  // Up to 25% past the typical append, so that some kills come after the child finished.
  std::uniform_real_distribution<double> fraction(0.0, 1.25);
  int killed_absent = 0, killed_landed = 0, finished = 0;
  int killed_before_checkpoint = 0, killed_during_cleanup = 0;
  const auto t_start = std::chrono::steady_clock::now();
  for (int trial = 0; trial < kTrials; ++trial) {
    const double f = fraction(rng);
    const auto delay = std::chrono::microseconds(static_cast<int64_t>(f * append_us));
    const int64_t batch = next_batch++;
    const std::string where =
        fmt::format("seed {} trial {} (batch {}, kill after {} us = {:.3f} of {} us)", seed, trial,
                    batch, delay.count(), f, append_us);
    SCOPED_TRACE(where);
    std::chrono::microseconds ran{};
    ChildExit e = run_child(batch, delay, &ran);
    ASSERT_FALSE(e.timed_out) << where;
    ASSERT_TRUE(e.ok() || (!e.exited && e.signal == SIGKILL)) << where << ": " << e.ToString();
    bool landed = ExpectAllOrNothing(committed, batch, where);
    if (e.ok()) {
      EXPECT_TRUE(landed) << where << ": the writer reported success but its rows are missing";
      ++finished;
    } else {
      ++(landed ? killed_landed : killed_absent);
    }
    if (landed) committed.insert(batch);
    if (landed && !e.ok()) {
      // Killed after the commit: was it a checkpoint version, and did the kill interrupt the
      // checkpoint or the log cleanup after it?
      auto store = storage::LocalObjectStore::Make(Path(), {/*sync=*/false});
      ASSERT_OK(store);
      ASSERT_OK_AND_ASSIGN(delta::LogListing listing, delta::ListLog(**store, ""));
      const int64_t v = listing.commits.back().name.version;
      if (v % 3 == 0) {
        if (listing.checkpoints.empty() || listing.checkpoints.back().version != v) {
          ++killed_before_checkpoint;
        } else if (listing.commits.front().name.version != v) {
          ++killed_during_cleanup;
        }
      }
    }
    Status valid = validity::ValidateDeltaTable(Path());
    ASSERT_OK(valid) << where;
    if (HasFailure()) break;
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t_start).count();
  std::printf(
      "seed %llu: %d trials in %.1f s (append ~%lld us): killed before commit %d, killed after "
      "commit %d (of which before its checkpoint %d, during log cleanup %d), finished %d\n",
      static_cast<unsigned long long>(seed), kTrials, seconds, static_cast<long long>(append_us),
      killed_absent, killed_landed, killed_before_checkpoint, killed_during_cleanup, finished);

  // The table stays writable, and holds what was committed.
  {
    ASSERT_OK_AND_ASSIGN(auto session, Session::Open());
    ASSERT_OK(session->Query(InsertSql(next_batch)));
    committed.insert(next_batch);
  }
  ExpectAllOrNothing(committed, -1, "after the trials");
  EXPECT_OK(validity::ValidateDeltaTable(Path()));
}

// The nth store call of an append fails (kFail: not carried out; kFailAfter: carried out, reply
// lost), for every n, on appends that are due a checkpoint (and log cleanup) and appends that are
// not.
TEST_F(DeltaCrashTest, AppendWhoseNthStoreCallFailsIsAllOrNothingAndRetrySucceeds) {
  ASSERT_OK_AND_ASSIGN(auto session, Session::Open());
  ASSERT_OK_AND_ASSIGN(auto base, storage::LocalObjectStore::Make(folder_.path(), {false}));
  FaultInjectingObjectStore store(base.get());
  ASSERT_OK_AND_ASSIGN(auto parquet, DuckDbParquetHandler::Make());
  WriteOptions options;
  options.table_properties = {{"delta.checkpointInterval", "3"},
                              {"delta.logRetentionDuration", "interval 0 seconds"}};
  auto write = [&](int64_t batch) {
    return WriteDelta(session->connection(), BatchSql(batch), store, "t", *parquet, options);
  };
  std::set<int64_t> committed;
  int64_t version = -1;
  for (int b = 0; b < kHistoryBatches; ++b) {
    ASSERT_OK_AND_ASSIGN(WriteResult w, write(b));
    committed.insert(b);
    version = w.version;
  }

  using Action = FaultInjectingObjectStore::Action;
  int64_t next_batch = 1000;
  int faults = 0, failed_appends = 0, succeeded_despite_fault = 0;
  const auto t0 = std::chrono::steady_clock::now();
  for (Action action : {Action::kFail, Action::kFailAfter}) {
    for (bool checkpoint_due : {false, true}) {
      for (int64_t n = 1;; ++n) {
        // Clean appends until the next version is (or is not) a checkpoint version.
        while (((version + 1) % 3 == 0) != checkpoint_due) {
          ASSERT_OK_AND_ASSIGN(WriteResult w, write(next_batch));
          committed.insert(next_batch++);
          version = w.version;
        }
        const int64_t batch = next_batch++;
        const std::string where = fmt::format(
            "{} call {} of the append of batch {} (checkpoint due: {})",
            action == Action::kFail ? "failing" : "losing the reply of", n, batch, checkpoint_due);
        SCOPED_TRACE(where);
        FaultInjectingObjectStore::Fault fault;
        fault.nth = n;
        fault.action = action;
        store.ResetCounters();
        store.AddFault(fault);
        Result<WriteResult> w = write(batch);
        const bool injected = store.InjectedFaultCount() > 0;
        store.ClearFaults();
        if (!injected) {  // the append makes fewer than n calls: every position was covered
          ASSERT_OK(w);
          committed.insert(batch);
          version = w->version;
          break;
        }
        ++faults;
        bool landed = ExpectAllOrNothing(committed, batch, where);
        if (w.ok()) {
          ++succeeded_despite_fault;
          EXPECT_TRUE(landed) << where << ": the append reported success but its rows are missing";
          version = w->version;
          committed.insert(batch);
        } else {
          ++failed_appends;
          EXPECT_FALSE(landed) << where << ": the append failed (" << w.status().ToString()
                               << ") but committed";
          if (landed) {
            committed.insert(batch);
          } else {
            // A retry of the same batch succeeds.
            Result<WriteResult> retry = write(batch);
            ASSERT_OK(retry) << where << ": retry";
            committed.insert(batch);
            version = retry->version;
          }
        }
        if (HasFailure()) return;
      }
    }
  }
  std::printf("%d faults injected in %.1f s: %d appends failed, %d succeeded regardless\n", faults,
              std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(),
              failed_appends, succeeded_despite_fault);
  ExpectAllOrNothing(committed, -1, "after the faults");
  EXPECT_OK(validity::ValidateDeltaTable(Path()));
  EXPECT_GT(faults, 0);
}

}  // namespace
}  // namespace medallion::engine
