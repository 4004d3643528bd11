#include "orchestrate/task_graph.h"

#include <algorithm>
#include <cmath>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <mutex>
#include <queue>
#include <string_view>
#include <system_error>
#include <thread>
#include <unordered_map>
#include <utility>

#include "common/macros.h"

namespace medallion::orchestrate {

namespace {

using Clock = std::chrono::steady_clock;

// How often idle workers look at RunOptions::cancel while they wait only for retry backoffs.
constexpr std::chrono::milliseconds kCancelPollInterval{50};

std::string Quoted(std::string_view name) { return "'" + std::string(name) + "'"; }

}  // namespace

bool IsTransientByDefault(const Status& status) {
  return status.IsIOError() || status.IsConflict();
}

std::chrono::milliseconds RetryPolicy::BackoffAfter(int failed_attempt) const {
  const double cap = static_cast<double>(max_backoff.count());
  double ms = static_cast<double>(initial_backoff.count()) *
              std::pow(multiplier, static_cast<double>(std::max(failed_attempt, 1) - 1));
  if (!(ms < cap)) ms = cap;  // also catches inf and NaN
  if (!(ms > 0)) ms = 0;
  return std::chrono::milliseconds(static_cast<int64_t>(ms));
}

std::string_view TaskStateName(TaskState state) {
  switch (state) {
    case TaskState::kCompleted:
      return "Completed";
    case TaskState::kFailed:
      return "Failed";
    case TaskState::kSkipped:
      return "Skipped";
    case TaskState::kCancelled:
      return "Cancelled";
  }
  return "Unknown";
}

// ---- TaskGraph ----

TaskId TaskGraph::Add(std::string name, TaskFn fn) {
  tasks_.push_back(Task{std::move(name), std::move(fn), {}});
  return tasks_.size() - 1;
}

Status TaskGraph::AddDependency(TaskId task, TaskId depends_on) {
  for (TaskId id : {task, depends_on}) {
    if (id >= tasks_.size()) {
      return Status::InvalidArgument("unknown task id " + std::to_string(id) + " (the graph has " +
                                     std::to_string(tasks_.size()) + " tasks)");
    }
  }
  if (task == depends_on) {
    return Status::InvalidArgument("task " + Quoted(tasks_[task].name) +
                                   " cannot depend on itself");
  }
  std::vector<TaskId>& deps = tasks_[task].dependencies;
  if (std::find(deps.begin(), deps.end(), depends_on) == deps.end()) deps.push_back(depends_on);
  return Status::OK();
}

Status TaskGraph::Validate() const {
  std::unordered_map<std::string_view, TaskId> by_name;
  for (TaskId id = 0; id < tasks_.size(); ++id) {
    auto [it, inserted] = by_name.emplace(tasks_[id].name, id);
    if (!inserted) {
      return Status::InvalidArgument("duplicate task name " + Quoted(tasks_[id].name) + " (tasks " +
                                     std::to_string(it->second) + " and " + std::to_string(id) +
                                     ")");
    }
    if (!tasks_[id].fn) {
      return Status::InvalidArgument("task " + Quoted(tasks_[id].name) + " has no function");
    }
  }

  // Depth-first search along run order (from a task to the tasks that depend on it), starting
  // from each task in Add order and visiting dependents in Add order, so the cycle reported is
  // deterministic. Iterative: a long chain must not overflow the stack.
  std::vector<std::vector<TaskId>> dependents(tasks_.size());
  for (TaskId id = 0; id < tasks_.size(); ++id) {
    for (TaskId dep : tasks_[id].dependencies) dependents[dep].push_back(id);
  }
  enum class Color : uint8_t { kWhite, kGray, kBlack };  // unvisited, on the path, done
  std::vector<Color> color(tasks_.size(), Color::kWhite);
  struct Frame {
    TaskId id;
    size_t next;  // index into dependents[id] of the next edge to follow
  };
  std::vector<Frame> path;
  for (TaskId root = 0; root < tasks_.size(); ++root) {
    if (color[root] != Color::kWhite) continue;
    color[root] = Color::kGray;
    path.push_back({root, 0});
    while (!path.empty()) {
      Frame& top = path.back();
      if (top.next == dependents[top.id].size()) {
        color[top.id] = Color::kBlack;
        path.pop_back();
        continue;
      }
      TaskId next = dependents[top.id][top.next++];
      if (color[next] == Color::kWhite) {
        color[next] = Color::kGray;
        path.push_back({next, 0});
      } else if (color[next] == Color::kGray) {
        // The cycle is the part of the path from `next` to the top; report it from its first
        // added task.
        std::vector<TaskId> cycle;
        auto start =
            std::find_if(path.begin(), path.end(), [next](const Frame& f) { return f.id == next; });
        for (auto it = start; it != path.end(); ++it) cycle.push_back(it->id);
        std::rotate(cycle.begin(), std::min_element(cycle.begin(), cycle.end()), cycle.end());
        std::string text;
        for (TaskId id : cycle) text += tasks_[id].name + " -> ";
        text += tasks_[cycle.front()].name;
        return Status::InvalidArgument("dependency cycle: " + text);
      }
    }
  }
  return Status::OK();
}

// ---- The executor ----

namespace {

// One run of a graph: the scheduling state shared by the worker threads. See RunTaskGraph.
//
// Every worker runs WorkerLoop: under `mu_` it picks the next attempt (a retry whose backoff is
// over first, else the ready task added first), runs it without the lock, then records the result
// under the lock and wakes the others. Events go out without `mu_` held, serialized by `event_mu_`.
class Executor {
 public:
  Executor(const TaskGraph& graph, const RunOptions& options)
      : graph_(graph), options_(options), dependents_(graph.size()), runs_(graph.size()) {
    for (TaskId id = 0; id < graph.size(); ++id) {
      runs_[id].outcome.name = graph.name(id);
      runs_[id].unfinished_dependencies = graph.dependencies(id).size();
      for (TaskId dep : graph.dependencies(id)) dependents_[dep].push_back(id);
      if (graph.dependencies(id).empty()) {
        runs_[id].phase = Phase::kReady;
        ready_.push(id);
      }
    }
    unfinished_ = graph.size();
  }
  Executor(const Executor&) = delete;
  Executor& operator=(const Executor&) = delete;

  // Runs every task on the calling thread plus `workers - 1` threads; returns the outcomes.
  std::vector<TaskOutcome> Run(int workers) {
    std::vector<std::thread> threads;
    for (int i = 1; i < workers; ++i) {
      try {
        threads.emplace_back([this] { WorkerLoop(); });
      } catch (const std::system_error&) {
        break;  // run with the workers we have; the calling thread is always one
      }
    }
    WorkerLoop();
    for (std::thread& t : threads) t.join();
    std::vector<TaskOutcome> outcomes;
    outcomes.reserve(runs_.size());
    for (TaskRun& run : runs_) outcomes.push_back(std::move(run.outcome));
    return outcomes;
  }

 private:
  enum class Phase {
    kWaiting,  // some dependency has not completed
    kReady,    // in ready_
    kRunning,  // an attempt is running
    kBackoff,  // in retries_, waiting to retry
    kDone,     // outcome is final
  };
  struct TaskRun {
    Phase phase = Phase::kWaiting;
    size_t unfinished_dependencies = 0;
    int attempts = 0;
    Clock::time_point first_start;
    Status last_error;  // of the last failed attempt (kBackoff)
    TaskOutcome outcome;
  };
  using Retry = std::pair<Clock::time_point, TaskId>;  // due time, task

  void WorkerLoop() {
    std::unique_lock<std::mutex> lock(mu_);
    while (unfinished_ > 0) {
      if (!cancelled_ && options_.cancel != nullptr && options_.cancel->load()) cancelled_ = true;
      if (cancelled_) {
        if (running_ > 0) {
          cv_.wait(lock);  // an attempt finishing notifies
          continue;
        }
        std::vector<TaskEvent> events = CancelRemainingLocked();
        cv_.notify_all();
        lock.unlock();
        for (const TaskEvent& event : events) Emit(event);
        return;
      }
      const Clock::time_point now = Clock::now();
      if (!retries_.empty() && retries_.top().first <= now) {
        TaskId id = retries_.top().second;
        retries_.pop();
        RunAttempt(lock, id);
      } else if (!ready_.empty()) {
        TaskId id = ready_.top();
        ready_.pop();
        RunAttempt(lock, id);
      } else if (!retries_.empty()) {
        Clock::time_point until = retries_.top().first;
        if (options_.cancel != nullptr) until = std::min(until, now + kCancelPollInterval);
        cv_.wait_until(lock, until);
      } else {
        cv_.wait(lock);  // an attempt finishing or backing off notifies
      }
    }
  }

  // Runs one attempt of `id` with `lock` released; returns with it held again.
  void RunAttempt(std::unique_lock<std::mutex>& lock, TaskId id) {
    TaskRun& run = runs_[id];
    run.phase = Phase::kRunning;
    const int attempt = ++run.attempts;
    const Clock::time_point start = Clock::now();
    if (attempt == 1) run.first_start = start;
    const Clock::time_point first_start = run.first_start;
    ++running_;
    lock.unlock();

    Emit(MakeEvent(TaskEvent::Kind::kStarted, id, attempt));
    Status status = CallTask(id, attempt);
    const Clock::time_point end = Clock::now();

    if (!status.ok() && attempt < options_.retry.max_attempts && IsTransient(status)) {
      const std::chrono::milliseconds backoff = options_.retry.BackoffAfter(attempt);
      TaskEvent event = MakeEvent(TaskEvent::Kind::kRetrying, id, attempt);
      event.status = status;
      event.backoff = backoff;
      Emit(event);
      lock.lock();
      run.last_error = std::move(status);
      run.phase = Phase::kBackoff;
      retries_.push({end + backoff, id});
      --running_;
      cv_.notify_all();  // idle workers re-plan their wait; a cancelled run may be able to end
      return;
    }

    const TaskState state = status.ok() ? TaskState::kCompleted : TaskState::kFailed;
    TaskEvent finished = MakeEvent(TaskEvent::Kind::kFinished, id, attempt);
    finished.status = status;
    finished.state = state;
    // Before any dependent can start: a task's kFinished precedes its dependents' kStarted.
    Emit(finished);

    lock.lock();
    --running_;
    Finish(id, state, std::move(status), end - first_start);
    std::vector<TaskEvent> skipped;
    if (state == TaskState::kCompleted) {
      for (TaskId dependent : dependents_[id]) {
        TaskRun& next = runs_[dependent];
        if (--next.unfinished_dependencies == 0 && next.phase == Phase::kWaiting) {
          next.phase = Phase::kReady;
          ready_.push(dependent);
        }
      }
    } else {
      skipped = SkipDownstreamLocked(id);
    }
    cv_.notify_all();
    if (!skipped.empty()) {
      lock.unlock();
      for (const TaskEvent& event : skipped) Emit(event);
      lock.lock();
    }
  }

  // Marks every not yet finished task downstream of failed task `failed` kSkipped; returns their
  // kFinished events. Requires mu_.
  std::vector<TaskEvent> SkipDownstreamLocked(TaskId failed) {
    std::vector<TaskEvent> events;
    std::vector<TaskId> stack(dependents_[failed].rbegin(), dependents_[failed].rend());
    const std::string& failed_name = graph_.name(failed);
    while (!stack.empty()) {
      TaskId id = stack.back();
      stack.pop_back();
      // Downstream tasks cannot have started; kDone ones were skipped by an earlier failure
      // (together with their own downstream tasks).
      if (runs_[id].phase != Phase::kWaiting) continue;
      runs_[id].outcome.skipped_because = failed_name;
      Finish(id, TaskState::kSkipped,
             Status::Cancelled("upstream task " + Quoted(failed_name) + " failed"),
             Clock::duration::zero());
      events.push_back(FinishedEvent(id));
      stack.insert(stack.end(), dependents_[id].rbegin(), dependents_[id].rend());
    }
    return events;
  }

  // Marks every unfinished task kCancelled; returns their kFinished events. Requires mu_, and no
  // attempt running.
  std::vector<TaskEvent> CancelRemainingLocked() {
    std::vector<TaskEvent> events;
    const Clock::time_point now = Clock::now();
    for (TaskId id = 0; id < runs_.size(); ++id) {
      TaskRun& run = runs_[id];
      if (run.phase == Phase::kDone) continue;
      if (run.phase == Phase::kBackoff) {
        Finish(id, TaskState::kCancelled,
               Status::Cancelled("run cancelled while waiting to retry after attempt " +
                                 std::to_string(run.attempts) +
                                 " failed: " + run.last_error.ToString()),
               now - run.first_start);
      } else {
        Finish(id, TaskState::kCancelled,
               Status::Cancelled("run cancelled before the task started"), Clock::duration::zero());
      }
      events.push_back(FinishedEvent(id));
    }
    while (!ready_.empty()) ready_.pop();
    while (!retries_.empty()) retries_.pop();
    return events;
  }

  // Records the final outcome of `id`. Requires mu_.
  void Finish(TaskId id, TaskState state, Status status, Clock::duration duration) {
    TaskRun& run = runs_[id];
    run.phase = Phase::kDone;
    run.outcome.state = state;
    run.outcome.status = std::move(status);
    run.outcome.attempts = run.attempts;
    run.outcome.duration = duration;
    --unfinished_;
  }

  // The kFinished event of a task whose outcome is final. Requires mu_.
  TaskEvent FinishedEvent(TaskId id) const {
    const TaskOutcome& outcome = runs_[id].outcome;
    TaskEvent event = MakeEvent(TaskEvent::Kind::kFinished, id, outcome.attempts);
    event.status = outcome.status;
    event.state = outcome.state;
    return event;
  }

  TaskEvent MakeEvent(TaskEvent::Kind kind, TaskId id, int attempt) const {
    TaskEvent event;
    event.kind = kind;
    event.task = id;
    event.name = graph_.name(id);
    event.attempt = attempt;
    return event;
  }

  Status CallTask(TaskId id, int attempt) const {
    try {
      return graph_.fn(id)(attempt);
    } catch (const std::exception& e) {
      return Status::Internal("task " + Quoted(graph_.name(id)) +
                              " threw an exception: " + e.what());
    } catch (...) {
      return Status::Internal("task " + Quoted(graph_.name(id)) +
                              " threw an exception of unknown type");
    }
  }

  bool IsTransient(const Status& status) const {
    try {
      return options_.retry.is_transient ? options_.retry.is_transient(status)
                                         : IsTransientByDefault(status);
    } catch (...) {
      return false;
    }
  }

  // Calls on_event, one call at a time. Must be called without mu_.
  void Emit(const TaskEvent& event) {
    if (!options_.on_event) return;
    std::lock_guard<std::mutex> guard(event_mu_);
    try {
      options_.on_event(event);
    } catch (...) {
      // Documented: exceptions from the callback are ignored.
    }
  }

  const TaskGraph& graph_;
  const RunOptions& options_;
  std::vector<std::vector<TaskId>> dependents_;  // immutable after construction

  std::mutex mu_;
  std::condition_variable cv_;  // signalled whenever an attempt ends or the run ends
  std::vector<TaskRun> runs_;   // guarded by mu_; indexed by TaskId
  // Ready tasks, first added first. Guarded by mu_.
  std::priority_queue<TaskId, std::vector<TaskId>, std::greater<>> ready_;
  // Tasks waiting to retry, soonest due first. Guarded by mu_.
  std::priority_queue<Retry, std::vector<Retry>, std::greater<>> retries_;
  size_t unfinished_ = 0;   // tasks not kDone; guarded by mu_
  int running_ = 0;         // attempts running; guarded by mu_
  bool cancelled_ = false;  // cancellation observed; guarded by mu_

  std::mutex event_mu_;  // serializes on_event calls
};

Status ValidateOptions(const RunOptions& options) {
  const RetryPolicy& retry = options.retry;
  if (options.parallelism < 0) {
    return Status::InvalidArgument("RunOptions.parallelism must be >= 0, got " +
                                   std::to_string(options.parallelism));
  }
  if (retry.max_attempts < 1) {
    return Status::InvalidArgument("RetryPolicy.max_attempts must be >= 1, got " +
                                   std::to_string(retry.max_attempts));
  }
  if (retry.initial_backoff.count() < 0 || retry.max_backoff.count() < 0) {
    return Status::InvalidArgument("RetryPolicy backoffs must be >= 0 ms");
  }
  if (!(retry.multiplier >= 1.0)) {
    return Status::InvalidArgument("RetryPolicy.multiplier must be >= 1, got " +
                                   std::to_string(retry.multiplier));
  }
  return Status::OK();
}

}  // namespace

Result<std::vector<TaskOutcome>> RunTaskGraph(const TaskGraph& graph, const RunOptions& options) {
  RETURN_NOT_OK(ValidateOptions(options));
  RETURN_NOT_OK(graph.Validate());
  if (graph.size() == 0) return std::vector<TaskOutcome>{};
  int parallelism = options.parallelism;
  if (parallelism == 0) parallelism = static_cast<int>(std::thread::hardware_concurrency());
  if (parallelism <= 0) parallelism = 1;
  const int workers =
      static_cast<int>(std::min<size_t>(static_cast<size_t>(parallelism), graph.size()));
  Executor executor(graph, options);
  return executor.Run(workers);
}

}  // namespace medallion::orchestrate
