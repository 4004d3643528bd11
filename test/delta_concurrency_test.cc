// Concurrent appends to one Delta table: real processes (forked children, each with its own
// Session, and the `medallion` binary) and threads, each appending rows that identify the writer
// and the statement. Optimistic concurrency (delta/transaction.h) must give one commit per append,
// versions without gaps, and every row exactly once; the protocol validator (test/delta_validity.h)
// checks the result.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "child_process.h"
#include "delta/log_segment.h"
#include "delta/snapshot.h"
#include "delta/transaction.h"
#include "delta_validity.h"
#include "engine/duckdb_parquet_handler.h"
#include "engine/session.h"
#include "storage/local_object_store.h"
#include "storage/test_util.h"

namespace medallion::engine {
namespace {

using testutil::ChildExit;
using testutil::ProcessLatch;
using testutil::StartChild;
using testutil::WaitChild;

constexpr auto kChildTimeout = std::chrono::seconds(50);

class DeltaConcurrencyTest : public ::testing::Test {
 protected:
  std::string Path() const { return folder_.path() + "/t"; }
  std::string Ref() const { return "delta.`" + Path() + "`"; }
  std::string InsertSql(int writer, int seq) const {
    return fmt::format("INSERT INTO {} SELECT {} AS writer, {} AS seq", Ref(), writer, seq);
  }

  // Creates the empty table (version 0), with a Session that is closed again: processes are
  // forked while the parent holds no DuckDB database.
  void CreateTable() {
    ASSERT_OK_AND_ASSIGN(auto session, Session::Open());
    ASSERT_OK(session->Query(
        fmt::format("CREATE TABLE {} AS SELECT 0 AS writer, 0 AS seq LIMIT 0", Ref())));
  }

  // The table holds versions 0..writers*appends, one per append after the create, and each
  // (writer, seq) with writer < writers and seq < appends exactly once; the validator passes.
  void ExpectEveryRowOnce(int writers, int appends) {
    const int64_t commits = int64_t{writers} * appends;
    ASSERT_OK_AND_ASSIGN(auto store, storage::LocalObjectStore::Make(Path(), {/*sync=*/false}));
    ASSERT_OK_AND_ASSIGN(delta::LogListing listing, delta::ListLog(*store, ""));
    ASSERT_EQ(listing.commits.size(), static_cast<size_t>(commits + 1));
    for (size_t i = 0; i < listing.commits.size(); ++i) {
      EXPECT_EQ(listing.commits[i].name.version, static_cast<int64_t>(i)) << "versions have a gap";
    }
    ASSERT_OK_AND_ASSIGN(auto parquet, DuckDbParquetHandler::Make());
    ASSERT_OK_AND_ASSIGN(auto snapshot, delta::SnapshotBuilder(*store, "").Build(*parquet));
    EXPECT_EQ(snapshot->version(), commits);
    EXPECT_EQ(snapshot->files().size(), static_cast<size_t>(commits));

    ASSERT_OK_AND_ASSIGN(auto session, Session::Open());
    ASSERT_OK_AND_ASSIGN(
        QueryResult dups,
        session->Query(fmt::format(
            "SELECT writer, seq, count(*) FROM {} GROUP BY ALL HAVING count(*) <> 1", Ref())));
    for (size_t r = 0; r < dups.row_count(); ++r) {
      ADD_FAILURE() << "writer " << dups.GetText(0, r) << " seq " << dups.GetText(1, r) << ": "
                    << dups.GetText(2, r) << " rows";
    }
    ASSERT_OK_AND_ASSIGN(
        QueryResult counts,
        session->Query(fmt::format(
            "SELECT count(*), count(DISTINCT (writer, seq)), "
            "count(*) FILTER (WHERE writer NOT BETWEEN 0 AND {} OR seq NOT BETWEEN 0 AND {}) "
            "FROM {}",
            writers - 1, appends - 1, Ref())));
    EXPECT_EQ(*counts.GetInt64(0, 0), commits);
    EXPECT_EQ(*counts.GetInt64(1, 0), commits);
    EXPECT_EQ(*counts.GetInt64(2, 0), 0);
    EXPECT_OK(validity::ValidateDeltaTable(Path()));
  }

  // Runs `writers` children started together; each runs `child(writer)` (its exit code).
  void RunProcesses(int writers, const std::function<int(int)>& child) {
    ProcessLatch start;
    ASSERT_TRUE(start.valid());
    std::vector<pid_t> pids;
    for (int w = 0; w < writers; ++w) {
      pid_t pid = StartChild([&, w] {
        start.CloseWrite();
        if (!start.Wait()) return 3;
        return child(w);
      });
      ASSERT_GE(pid, 0) << "fork failed";
      pids.push_back(pid);
    }
    start.CloseRead();
    start.Notify(writers);
    for (int w = 0; w < writers; ++w) {
      ChildExit e = WaitChild(pids[w], kChildTimeout);
      EXPECT_TRUE(e.ok()) << "writer " << w << ": " << e.ToString();
    }
  }

  storage::TempFolder folder_;
};

// Each child opens its own Session (after the fork) and commits its appends one by one.
TEST_F(DeltaConcurrencyTest, FourProcessesAppendFiftyTimesEachEveryRowOnce) {
  constexpr int kWriters = 4, kAppends = 50;
  CreateTable();
  const auto t0 = std::chrono::steady_clock::now();
  RunProcesses(kWriters, [&](int writer) {
    auto session = Session::Open();
    if (!session.ok()) {
      std::fprintf(stderr, "writer %d: %s\n", writer, session.status().ToString().c_str());
      return 2;
    }
    for (int seq = 0; seq < kAppends; ++seq) {
      auto r = (*session)->Query(InsertSql(writer, seq));
      if (!r.ok()) {
        std::fprintf(stderr, "writer %d seq %d: %s\n", writer, seq, r.status().ToString().c_str());
        return 1;
      }
    }
    return 0;
  });
  std::printf("%d processes x %d appends: %.2f s\n", kWriters, kAppends,
              std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  ExpectEveryRowOnce(kWriters, kAppends);
}

#ifdef MEDALLION_BIN
// The same through the CLI: each process is `medallion sql "INSERT ...; INSERT ...; ..."`, whose
// statements each commit.
TEST_F(DeltaConcurrencyTest, FourMedallionCliProcessesAppendFiftyTimesEachEveryRowOnce) {
  constexpr int kWriters = 4, kAppends = 50;
  CreateTable();
  std::vector<std::string> scripts;
  for (int w = 0; w < kWriters; ++w) {
    std::string sql;
    for (int seq = 0; seq < kAppends; ++seq) sql += InsertSql(w, seq) + ";\n";
    scripts.push_back(std::move(sql));
  }
  const auto t0 = std::chrono::steady_clock::now();
  RunProcesses(kWriters, [&](int writer) {
    // Only the result tables go to /dev/null; errors stay on stderr.
    if (std::freopen("/dev/null", "w", stdout) == nullptr) return 5;
    ::execl(MEDALLION_BIN, MEDALLION_BIN, "sql", scripts[writer].c_str(),
            static_cast<char*>(nullptr));
    std::perror("execl " MEDALLION_BIN);
    return 4;
  });
  std::printf("%d medallion processes x %d appends: %.2f s\n", kWriters, kAppends,
              std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  ExpectEveryRowOnce(kWriters, kAppends);
}
#endif

// Threads of one process, each with its own Session (a Session is used by one thread at a time).
TEST_F(DeltaConcurrencyTest, EightThreadsWithOwnSessionsAppendTwentyFiveTimesEachEveryRowOnce) {
  constexpr int kWriters = 8, kAppends = 25;
  CreateTable();
  std::vector<std::unique_ptr<Session>> sessions;
  for (int w = 0; w < kWriters; ++w) {
    ASSERT_OK_AND_ASSIGN(auto session, Session::Open());
    sessions.push_back(std::move(session));
  }
  std::atomic<int> ready{0};
  std::vector<std::string> errors(kWriters);
  std::vector<std::thread> threads;
  const auto t0 = std::chrono::steady_clock::now();
  for (int w = 0; w < kWriters; ++w) {
    threads.emplace_back([&, w] {
      ready.fetch_add(1);
      while (ready.load() < kWriters) std::this_thread::yield();
      for (int seq = 0; seq < kAppends; ++seq) {
        auto r = sessions[w]->Query(InsertSql(w, seq));
        if (!r.ok()) {
          errors[w] = fmt::format("seq {}: {}", seq, r.status().ToString());
          return;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  std::printf("%d threads x %d appends: %.2f s\n", kWriters, kAppends,
              std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  for (int w = 0; w < kWriters; ++w) EXPECT_EQ(errors[w], "") << "writer " << w;
  sessions.clear();
  ExpectEveryRowOnce(kWriters, kAppends);
}

// Regression: delta::GenerateUuid drew from a per-thread generator seeded once, which a forked
// child inherits, so processes forked from one parent generated the same UUIDs (staging folders,
// data file names, commitInfo.txnId) and their appends collided.
TEST(ForkedProcessTest, ForkedChildrenGenerateDistinctUuids) {
  const std::string before = delta::GenerateUuid();  // seeds the parent's generator
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  std::vector<pid_t> pids;
  for (int i = 0; i < 2; ++i) {
    pid_t pid = StartChild([&] {
      std::string uuid = delta::GenerateUuid();
      return ::write(fds[1], uuid.data(), uuid.size()) == static_cast<ssize_t>(uuid.size()) ? 0 : 1;
    });
    ASSERT_GE(pid, 0);
    pids.push_back(pid);
  }
  ::close(fds[1]);
  for (pid_t pid : pids) EXPECT_TRUE(WaitChild(pid, std::chrono::seconds(10)).ok());
  std::string all(200, '\0');
  ssize_t n = ::read(fds[0], all.data(), all.size());
  ::close(fds[0]);
  ASSERT_EQ(n, 72);  // two 36-character UUIDs (writes this short are atomic on a pipe)
  std::set<std::string> uuids = {all.substr(0, 36), all.substr(36, 36), delta::GenerateUuid()};
  EXPECT_EQ(uuids.size(), 3u) << all.substr(0, 72);
  EXPECT_EQ(uuids.count(before), 0u);
}

}  // namespace
}  // namespace medallion::engine
