// Child processes for tests that need real processes (concurrent writers, writers killed with
// SIGKILL): fork a child that runs a function and exits, wait for it with a deadline, kill it.
//
// A forked child inherits only the forking thread. Fork while the parent holds no DuckDB database
// (so no DuckDB worker thread can hold a lock the child would then need); open a new Session in the
// child. The child leaves with _exit (no atexit handlers, no GoogleTest teardown, no destructors of
// the parent's objects), reporting failure through its exit code and stderr.
//
// Test-only (POSIX). Thread-safety: call from the test's main thread.
#pragma once

#include <signal.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <functional>
#include <string>
#include <thread>

namespace medallion::testutil {

// How a child ended.
struct ChildExit {
  bool exited = false;     // exited normally with `code`
  int code = -1;           // exit code when `exited`
  int signal = 0;          // the terminating signal otherwise (SIGKILL for a killed child)
  bool timed_out = false;  // WaitChild's deadline passed; the child was killed

  bool ok() const { return exited && code == 0; }
  std::string ToString() const {
    if (timed_out) return "timed out (killed)";
    if (exited) return "exit code " + std::to_string(code);
    return "signal " + std::to_string(signal);
  }
};

// Forks; the child runs `body` and _exits with its return value (1 if it throws). Returns the
// child's pid (-1 when fork fails) in the parent.
inline pid_t StartChild(const std::function<int()>& body) {
  std::fflush(nullptr);
  pid_t pid = ::fork();
  if (pid != 0) return pid;
  int code = 1;
  try {
    code = body();
  } catch (...) {
    std::fputs("child: uncaught exception\n", stderr);
  }
  std::fflush(nullptr);
  ::_exit(code);
}

// Waits for `pid`; after `timeout` kills it with SIGKILL, reaps it and reports timed_out.
inline ChildExit WaitChild(pid_t pid, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  ChildExit result;
  int status = 0;
  for (;;) {
    pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid) break;
    if (r < 0) return result;  // not our child, or already reaped
    if (std::chrono::steady_clock::now() > deadline) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      result.timed_out = true;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  if (WIFEXITED(status)) {
    result.exited = true;
    result.code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    result.signal = WTERMSIG(status);
  }
  return result;
}

// A one-shot signal between processes over a pipe: the parent creates it before forking; one side
// Notify()s, the other Wait()s until notified (or the notifier's end closes, e.g. it died).
class ProcessLatch {
 public:
  ProcessLatch() {
    if (::pipe(fds_) != 0) fds_[0] = fds_[1] = -1;
  }
  ProcessLatch(const ProcessLatch&) = delete;
  ProcessLatch& operator=(const ProcessLatch&) = delete;
  ~ProcessLatch() {
    CloseRead();
    CloseWrite();
  }

  bool valid() const { return fds_[0] >= 0; }
  // Writes one byte per waiter to release.
  void Notify(int waiters = 1) {
    for (int i = 0; i < waiters; ++i) {
      char c = 1;
      if (::write(fds_[1], &c, 1) != 1) break;
    }
  }
  // Blocks until a byte arrives (true) or every write end is closed (false).
  bool Wait() {
    char c = 0;
    ssize_t n;
    do {
      n = ::read(fds_[0], &c, 1);
    } while (n < 0 && errno == EINTR);
    return n == 1;
  }
  // Each process closes the end it does not use, so that a dead peer is seen as EOF.
  void CloseRead() {
    if (fds_[0] >= 0) ::close(fds_[0]);
    fds_[0] = -1;
  }
  void CloseWrite() {
    if (fds_[1] >= 0) ::close(fds_[1]);
    fds_[1] = -1;
  }

 private:
  int fds_[2] = {-1, -1};
};

}  // namespace medallion::testutil
