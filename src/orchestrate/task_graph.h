// TaskGraph and RunTaskGraph: run a set of tasks as a DAG, in dependency order, in parallel.
//
// A pipeline update runs its flows this way (docs/architecture.md, "orchestrate"). A task is a
// named function that returns a Status; an edge says "this task needs that one first". The
// executor:
//   - starts a task only after every task it depends on has *completed* (returned OK);
//   - runs independent tasks at the same time, never more than `RunOptions::parallelism`
//     attempts at once, preferring the task added first when several could start (so a run
//     with parallelism 1 is deterministic, apart from retry timing);
//   - retries a failed attempt whose Status the `RetryPolicy` calls transient, after an
//     exponential backoff; a task waiting out its backoff gives its slot back, so other tasks
//     run meanwhile;
//   - when a task fails for good, marks every task downstream of it (transitively) kSkipped: they
//     never run. Tasks that do not depend on the failed one run to the end;
//   - on cancellation, starts nothing new, lets running attempts finish, and reports every
//     task that did not finish as kCancelled;
//   - turns an exception thrown by a task into an Internal status (never crashes).
// The caller learns each task's final state from the returned `TaskOutcome`s.
//
// Example:
//   TaskGraph graph;
//   TaskId bronze = graph.Add("bronze.orders", [&](int) { return IngestOrders(); });
//   TaskId silver = graph.Add("silver.orders", [&](int) { return CleanOrders(); });
//   RETURN_NOT_OK(graph.AddDependency(silver, bronze));
//   ASSIGN_OR_RETURN(std::vector<TaskOutcome> outcomes, RunTaskGraph(graph, RunOptions{}));
//
// Thread-safety: building a TaskGraph (Add, AddDependency) is not thread-safe; a built graph may be
// validated and run from any thread, even by several runs at once, provided its task functions
// allow that. The graph must outlive the RunTaskGraph call and not change during it.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "common/status.h"

namespace medallion::orchestrate {

// A task's index in Add order: 0, 1, 2, ...
using TaskId = size_t;

// The work of one task. `attempt` is 1 for the first call and grows with each retry. A task
// function is called from the thread that called RunTaskGraph or from one of its workers, at most
// once at a time per run; tasks that may run at the same time must not race on shared state.
// Returning a non-OK Status fails the attempt; throwing does too (the exception becomes Internal).
using TaskFn = std::function<Status(int attempt)>;

// The default `RetryPolicy::is_transient`: IOError (the OS or a remote store failed) and Conflict
// (a concurrent writer won a Delta commit) are worth another attempt; every other code is not.
bool IsTransientByDefault(const Status& status);

// When and how often a failed attempt is tried again.
struct RetryPolicy {
  // Attempts per task in total, the first included: 1 means never retry. Must be >= 1.
  int max_attempts = 3;
  // Delay before the second attempt. Must be >= 0.
  std::chrono::milliseconds initial_backoff{100};
  // Each further delay is the previous one times this. Must be >= 1.
  double multiplier = 2.0;
  // No delay is longer than this. Must be >= 0.
  std::chrono::milliseconds max_backoff{5000};
  // Whether a failed attempt's Status is worth retrying; empty means IsTransientByDefault. Called
  // from worker threads, possibly several at once; it must be thread-safe. If it throws, the
  // failure counts as not transient.
  std::function<bool(const Status&)> is_transient;

  // The delay after failed attempt number `failed_attempt` (1-based), before the next one:
  // min(initial_backoff * multiplier^(failed_attempt - 1), max_backoff).
  std::chrono::milliseconds BackoffAfter(int failed_attempt) const;
};

// A task's final state.
enum class TaskState {
  kCompleted,  // an attempt returned OK
  kFailed,     // an attempt failed and no retry was left (or the failure was not transient)
  kSkipped,    // never ran: a task it depends on (directly or not) failed
  kCancelled,  // never ran, or stopped waiting to retry, because the run was cancelled
};

// "Completed", "Failed", "Skipped", "Cancelled".
std::string_view TaskStateName(TaskState state);

// What happened to one task in a run.
struct TaskOutcome {
  std::string name;
  TaskState state = TaskState::kCancelled;
  // kCompleted: OK. kFailed: the last attempt's Status, as the task returned it. kSkipped:
  // Cancelled("upstream task 'x' failed"). kCancelled: Cancelled(...) saying when, and carrying
  // the last error if the task was waiting to retry.
  Status status;
  // Attempts made (calls of the task function); 0 for a task that never ran.
  int attempts = 0;
  // From the start of the first attempt to the end of the last, backoff delays included; zero for a
  // task that never ran.
  std::chrono::steady_clock::duration duration{0};
  // kSkipped only: the name of the failed upstream task that caused the skip. When several of its
  // upstream tasks failed, the one whose failure the executor handled first.
  std::string skipped_because;
};

// A progress notification (see RunOptions::on_event).
struct TaskEvent {
  enum class Kind {
    kStarted,   // an attempt is about to call the task function
    kRetrying,  // an attempt failed transiently; the next one follows after `backoff`
    kFinished,  // the task reached its final state (every task gets exactly one of these)
  };
  Kind kind = Kind::kStarted;
  TaskId task = 0;
  std::string_view name;  // the task's name; valid during the callback only
  // kStarted: the attempt starting. kRetrying: the attempt that failed. kFinished: attempts made.
  int attempt = 0;
  // kRetrying: the transient failure. kFinished: the final status (as in TaskOutcome). Else OK.
  Status status;
  // kRetrying only: the delay before the next attempt.
  std::chrono::milliseconds backoff{0};
  // kFinished only: the final state.
  TaskState state = TaskState::kCompleted;
};

// How to run a graph.
struct RunOptions {
  // Most task attempts running at once; 0 means std::thread::hardware_concurrency() (1 if that is
  // unknown). Must be >= 0. A task waiting out a retry backoff does not count.
  int parallelism = 0;
  // Retries of failed attempts.
  RetryPolicy retry;
  // Called on every TaskEvent, from the calling thread or a worker thread. Calls are serialized
  // (never two at once), so the callback needs no locking of its own, but it holds up the other
  // threads' events while it runs: keep it short. For one task the order is
  // kStarted (kRetrying kStarted)* kFinished; a task's kFinished precedes the kStarted of every
  // task that depends on it. Every call happens before RunTaskGraph returns. The callback may set
  // `*cancel`; it must not modify the graph. Exceptions it throws are caught and ignored.
  std::function<void(const TaskEvent&)> on_event;
  // When non-null and it becomes true: no new attempt starts (neither a new task nor a retry),
  // running attempts finish, and every task that has not finished ends kCancelled. It is read at
  // each scheduling step (an attempt finishing or a worker looking for work) and at least every
  // 50 ms while workers wait only for retry backoffs. Must outlive the RunTaskGraph call.
  const std::atomic<bool>* cancel = nullptr;
};

// A set of named tasks and the dependencies between them. See the file comment.
class TaskGraph {
 public:
  TaskGraph() = default;
  TaskGraph(const TaskGraph&) = delete;
  TaskGraph& operator=(const TaskGraph&) = delete;
  TaskGraph(TaskGraph&&) = default;
  TaskGraph& operator=(TaskGraph&&) = default;

  // Adds a task; returns its id (the number of tasks added before it). Names should be unique and
  // non-empty: Validate rejects duplicates, since outcomes and messages refer to tasks by name.
  TaskId Add(std::string name, TaskFn fn);

  // `task` runs only after `depends_on` completed. Adding an edge twice is the same as once.
  // InvalidArgument for an unknown id or when `task == depends_on`. Cycles are found by Validate.
  Status AddDependency(TaskId task, TaskId depends_on);

  // OK when the graph can run: InvalidArgument for two tasks with the same name, or for a cycle,
  // named in the order the tasks would have to run, starting at the first added:
  // "dependency cycle: a -> b -> c -> a" (b depends on a, c on b, a on c).
  Status Validate() const;

  size_t size() const { return tasks_.size(); }
  // Preconditions: id < size().
  const std::string& name(TaskId id) const { return tasks_[id].name; }
  const TaskFn& fn(TaskId id) const { return tasks_[id].fn; }
  // The tasks `id` depends on, in the order added.
  const std::vector<TaskId>& dependencies(TaskId id) const { return tasks_[id].dependencies; }

 private:
  struct Task {
    std::string name;
    TaskFn fn;
    std::vector<TaskId> dependencies;
  };
  std::vector<Task> tasks_;
};

// Runs every task of `graph` as described in the file comment and returns one outcome per task, in
// Add order (outcomes[id]). Blocks until every task reached its final state; it runs tasks on the
// calling thread and on up to `parallelism - 1` threads it starts and joins.
//
// Errors: InvalidArgument when `graph.Validate()` fails or `options` break their documented
// limits; nothing has run then. Task failures are not errors of the call: they are in the outcomes.
Result<std::vector<TaskOutcome>> RunTaskGraph(const TaskGraph& graph, const RunOptions& options);

}  // namespace medallion::orchestrate
