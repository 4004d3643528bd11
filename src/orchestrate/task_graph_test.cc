#include "orchestrate/task_graph.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "common/status.h"

namespace medallion::orchestrate {
namespace {

using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

// Runs `graph`; fails the test (and returns no outcomes) when the run itself is an error.
std::vector<TaskOutcome> RunOk(const TaskGraph& graph, const RunOptions& options) {
  Result<std::vector<TaskOutcome>> result = RunTaskGraph(graph, options);
  if (!result.ok()) {
    ADD_FAILURE() << "RunTaskGraph: " << result.status().ToString();
    return {};
  }
  return std::move(result).ValueOrDie();
}

RunOptions FastRetries(int parallelism) {
  RunOptions options;
  options.parallelism = parallelism;
  options.retry.initial_backoff = milliseconds(1);
  options.retry.max_backoff = milliseconds(5);
  return options;
}

// Records the order in which tasks ran, from any thread.
class Trace {
 public:
  void Record(std::string name) {
    std::lock_guard<std::mutex> lock(mu_);
    order_.push_back(std::move(name));
  }
  // A task that records its name and returns `result`.
  TaskFn Task(std::string name, Status result = Status::OK()) {
    return [this, name, result](int) {
      Record(name);
      return result;
    };
  }
  std::vector<std::string> order() {
    std::lock_guard<std::mutex> lock(mu_);
    return order_;
  }

 private:
  std::mutex mu_;
  std::vector<std::string> order_;
};

// ---- Building and validating graphs ----

TEST(TaskGraphTest, AddReturnsIdsInAddOrder) {
  TaskGraph graph;
  EXPECT_EQ(graph.Add("a", [](int) { return Status::OK(); }), 0u);
  EXPECT_EQ(graph.Add("b", [](int) { return Status::OK(); }), 1u);
  EXPECT_EQ(graph.size(), 2u);
  EXPECT_EQ(graph.name(1), "b");
}

TEST(TaskGraphTest, AddDependencyRejectsUnknownIdsAndSelfEdges) {
  TaskGraph graph;
  TaskId a = graph.Add("a", [](int) { return Status::OK(); });
  TaskId b = graph.Add("b", [](int) { return Status::OK(); });
  Status unknown = graph.AddDependency(a, 7);
  EXPECT_TRUE(unknown.IsInvalidArgument()) << unknown.ToString();
  EXPECT_EQ(unknown.message(), "unknown task id 7 (the graph has 2 tasks)");
  EXPECT_TRUE(graph.AddDependency(9, a).IsInvalidArgument());
  Status self = graph.AddDependency(b, b);
  EXPECT_TRUE(self.IsInvalidArgument());
  EXPECT_EQ(self.message(), "task 'b' cannot depend on itself");
  EXPECT_TRUE(graph.AddDependency(b, a).ok());
  EXPECT_TRUE(graph.AddDependency(b, a).ok());  // the same edge again is a no-op
  EXPECT_EQ(graph.dependencies(b), std::vector<TaskId>{a});
}

TEST(TaskGraphTest, ValidateNamesTheCycleInRunOrderFromItsFirstAddedTask) {
  TaskGraph graph;
  TaskId x = graph.Add("x", [](int) { return Status::OK(); });
  TaskId a = graph.Add("a", [](int) { return Status::OK(); });
  TaskId b = graph.Add("b", [](int) { return Status::OK(); });
  TaskId c = graph.Add("c", [](int) { return Status::OK(); });
  ASSERT_TRUE(graph.AddDependency(a, x).ok());  // x is upstream of the cycle, not part of it
  ASSERT_TRUE(graph.AddDependency(b, a).ok());
  ASSERT_TRUE(graph.AddDependency(c, b).ok());
  ASSERT_TRUE(graph.Validate().ok());
  ASSERT_TRUE(graph.AddDependency(a, c).ok());
  Status status = graph.Validate();
  EXPECT_TRUE(status.IsInvalidArgument());
  EXPECT_EQ(status.message(), "dependency cycle: a -> b -> c -> a");

  // The run is refused before any task starts.
  std::atomic<int> calls{0};
  TaskGraph counted;
  TaskId p = counted.Add("p", [&](int) { return ++calls, Status::OK(); });
  TaskId q = counted.Add("q", [&](int) { return ++calls, Status::OK(); });
  ASSERT_TRUE(counted.AddDependency(p, q).ok());
  ASSERT_TRUE(counted.AddDependency(q, p).ok());
  Result<std::vector<TaskOutcome>> result = RunTaskGraph(counted, RunOptions{});
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().message(), "dependency cycle: p -> q -> p");
  EXPECT_EQ(calls.load(), 0);
}

TEST(TaskGraphTest, ValidateRejectsDuplicateNamesAndMissingFunctions) {
  TaskGraph graph;
  graph.Add("a", [](int) { return Status::OK(); });
  graph.Add("a", [](int) { return Status::OK(); });
  EXPECT_EQ(graph.Validate().message(), "duplicate task name 'a' (tasks 0 and 1)");

  TaskGraph empty_fn;
  empty_fn.Add("a", nullptr);
  EXPECT_EQ(empty_fn.Validate().message(), "task 'a' has no function");
}

TEST(TaskGraphTest, InvalidOptionsAreRefused) {
  TaskGraph graph;
  graph.Add("a", [](int) { return Status::OK(); });
  RunOptions options;
  options.parallelism = -1;
  EXPECT_TRUE(RunTaskGraph(graph, options).status().IsInvalidArgument());
  options = RunOptions{};
  options.retry.max_attempts = 0;
  EXPECT_TRUE(RunTaskGraph(graph, options).status().IsInvalidArgument());
  options = RunOptions{};
  options.retry.multiplier = 0.5;
  EXPECT_TRUE(RunTaskGraph(graph, options).status().IsInvalidArgument());
}

TEST(TaskGraphTest, EmptyGraphHasNoOutcomes) {
  TaskGraph graph;
  EXPECT_TRUE(RunOk(graph, RunOptions{}).empty());
}

TEST(RetryPolicyTest, BackoffGrowsExponentiallyUpToTheCap) {
  RetryPolicy policy;  // 100 ms, x2, at most 5000 ms
  EXPECT_EQ(policy.BackoffAfter(1), milliseconds(100));
  EXPECT_EQ(policy.BackoffAfter(2), milliseconds(200));
  EXPECT_EQ(policy.BackoffAfter(3), milliseconds(400));
  EXPECT_EQ(policy.BackoffAfter(7), milliseconds(5000));
  EXPECT_EQ(policy.BackoffAfter(10000), milliseconds(5000));  // no overflow
}

TEST(RetryPolicyTest, DefaultTransientCodesAreIOErrorAndConflict) {
  EXPECT_TRUE(IsTransientByDefault(Status::IOError("x")));
  EXPECT_TRUE(IsTransientByDefault(Status::Conflict("x")));
  EXPECT_FALSE(IsTransientByDefault(Status::InvalidArgument("x")));
  EXPECT_FALSE(IsTransientByDefault(Status::Internal("x")));
  EXPECT_FALSE(IsTransientByDefault(Status::Cancelled("x")));
}

// ---- Ordering ----

TEST(RunTaskGraphTest, LinearChainRunsInDependencyOrder) {
  Trace trace;
  TaskGraph graph;
  // Added in reverse so Add order alone would give the wrong answer.
  TaskId d = graph.Add("d", trace.Task("d"));
  TaskId c = graph.Add("c", trace.Task("c"));
  TaskId b = graph.Add("b", trace.Task("b"));
  TaskId a = graph.Add("a", trace.Task("a"));
  ASSERT_TRUE(graph.AddDependency(b, a).ok());
  ASSERT_TRUE(graph.AddDependency(c, b).ok());
  ASSERT_TRUE(graph.AddDependency(d, c).ok());
  std::vector<TaskOutcome> outcomes = RunOk(graph, FastRetries(4));
  EXPECT_EQ(trace.order(), (std::vector<std::string>{"a", "b", "c", "d"}));
  ASSERT_EQ(outcomes.size(), 4u);
  EXPECT_EQ(outcomes[d].name, "d");  // outcomes are in Add order
  for (const TaskOutcome& outcome : outcomes) {
    EXPECT_EQ(outcome.state, TaskState::kCompleted) << outcome.name;
    EXPECT_TRUE(outcome.status.ok());
    EXPECT_EQ(outcome.attempts, 1);
  }
}

TEST(RunTaskGraphTest, DiamondJoinRunsAfterBothBranches) {
  Trace trace;
  TaskGraph graph;
  TaskId top = graph.Add("top", trace.Task("top"));
  TaskId left = graph.Add("left", trace.Task("left"));
  TaskId right = graph.Add("right", trace.Task("right"));
  TaskId join = graph.Add("join", trace.Task("join"));
  ASSERT_TRUE(graph.AddDependency(left, top).ok());
  ASSERT_TRUE(graph.AddDependency(right, top).ok());
  ASSERT_TRUE(graph.AddDependency(join, left).ok());
  ASSERT_TRUE(graph.AddDependency(join, right).ok());
  std::vector<TaskOutcome> outcomes = RunOk(graph, FastRetries(4));
  std::vector<std::string> order = trace.order();
  ASSERT_EQ(order.size(), 4u);
  EXPECT_EQ(order.front(), "top");
  EXPECT_EQ(order.back(), "join");
  for (const TaskOutcome& outcome : outcomes) EXPECT_EQ(outcome.state, TaskState::kCompleted);
}

TEST(RunTaskGraphTest, ParallelismOneBreaksTiesByAddOrder) {
  Trace trace;
  TaskGraph graph;
  TaskId late = graph.Add("late", trace.Task("late"));  // waits for "first"
  graph.Add("second", trace.Task("second"));
  TaskId first = graph.Add("first", trace.Task("first"));
  graph.Add("third", trace.Task("third"));
  ASSERT_TRUE(graph.AddDependency(late, first).ok());
  for (int run = 0; run < 3; ++run) {
    RunOk(graph, FastRetries(1));
  }
  std::vector<std::string> once = {"second", "first", "late", "third"};
  std::vector<std::string> expected;
  for (int run = 0; run < 3; ++run) expected.insert(expected.end(), once.begin(), once.end());
  EXPECT_EQ(trace.order(), expected);
}

TEST(RunTaskGraphTest, RandomDagOfAThousandTasksRunsInTopologicalOrder) {
  constexpr int kTasks = 1000;
  std::mt19937 rng(20240611);
  // Task i sits at position pos[i] of a random order; it depends on up to 3 tasks placed earlier.
  std::vector<int> pos(kTasks);
  for (int i = 0; i < kTasks; ++i) pos[i] = i;
  std::shuffle(pos.begin(), pos.end(), rng);
  std::vector<int> at(kTasks);  // at[position] = task
  for (int i = 0; i < kTasks; ++i) at[pos[i]] = i;

  std::atomic<int> clock{0};
  std::vector<int> started(kTasks, -1), finished(kTasks, -1);
  TaskGraph graph;
  for (int i = 0; i < kTasks; ++i) {
    graph.Add("t" + std::to_string(i), [&, i](int) {
      started[i] = clock++;
      finished[i] = clock++;
      return Status::OK();
    });
  }
  for (int i = 0; i < kTasks; ++i) {
    if (pos[i] == 0) continue;
    std::uniform_int_distribution<int> earlier(0, pos[i] - 1);
    for (int k = 0; k < 3; ++k) {
      ASSERT_TRUE(graph.AddDependency(i, at[earlier(rng)]).ok());
    }
  }
  std::vector<TaskOutcome> outcomes = RunOk(graph, FastRetries(4));
  ASSERT_EQ(outcomes.size(), static_cast<size_t>(kTasks));
  for (int i = 0; i < kTasks; ++i) {
    ASSERT_EQ(outcomes[i].state, TaskState::kCompleted) << outcomes[i].name;
    for (TaskId dep : graph.dependencies(i)) {
      ASSERT_LT(finished[dep], started[i]) << "t" << i << " started before its dependency t" << dep;
    }
  }
}

// ---- Parallelism ----

TEST(RunTaskGraphTest, IndependentTasksOverlap) {
  // Each task waits for the other to have started: this completes only if both run at once.
  std::mutex mu;
  std::condition_variable cv;
  int arrived = 0;
  auto meet = [&](int) {
    std::unique_lock<std::mutex> lock(mu);
    ++arrived;
    cv.notify_all();
    if (!cv.wait_for(lock, std::chrono::seconds(2), [&] { return arrived == 2; })) {
      return Status::Internal("the other task never ran at the same time");
    }
    return Status::OK();
  };
  TaskGraph graph;
  graph.Add("a", meet);
  graph.Add("b", meet);
  for (const TaskOutcome& outcome : RunOk(graph, FastRetries(2))) {
    EXPECT_EQ(outcome.state, TaskState::kCompleted) << outcome.status.ToString();
  }
}

TEST(RunTaskGraphTest, ConcurrencyNeverExceedsParallelism) {
  constexpr int kParallelism = 3;
  std::atomic<int> running{0};
  std::atomic<int> max_running{0};
  TaskGraph graph;
  for (int i = 0; i < 24; ++i) {
    graph.Add("t" + std::to_string(i), [&](int) {
      int now = ++running;
      int seen = max_running.load();
      while (now > seen && !max_running.compare_exchange_weak(seen, now)) {
      }
      std::this_thread::sleep_for(milliseconds(3));
      --running;
      return Status::OK();
    });
  }
  for (const TaskOutcome& outcome : RunOk(graph, FastRetries(kParallelism))) {
    EXPECT_EQ(outcome.state, TaskState::kCompleted);
  }
  EXPECT_LE(max_running.load(), kParallelism);
  EXPECT_GE(max_running.load(), 1);
}

// ---- Retries ----

TEST(RunTaskGraphTest, TransientFailureSucceedsOnThirdAttemptWithGrowingBackoff) {
  std::vector<Clock::time_point> attempt_starts;
  TaskGraph graph;
  graph.Add("flaky", [&](int attempt) {
    attempt_starts.push_back(Clock::now());
    if (attempt < 3) return Status::IOError("connection reset, attempt " + std::to_string(attempt));
    return Status::OK();
  });
  RunOptions options;
  options.parallelism = 1;
  options.retry.initial_backoff = milliseconds(20);
  options.retry.multiplier = 3.0;
  std::vector<milliseconds> announced;
  options.on_event = [&](const TaskEvent& event) {
    if (event.kind == TaskEvent::Kind::kRetrying) announced.push_back(event.backoff);
  };
  std::vector<TaskOutcome> outcomes = RunOk(graph, options);
  ASSERT_EQ(outcomes.size(), 1u);
  EXPECT_EQ(outcomes[0].state, TaskState::kCompleted);
  EXPECT_EQ(outcomes[0].attempts, 3);
  EXPECT_EQ(announced, (std::vector<milliseconds>{milliseconds(20), milliseconds(60)}));
  ASSERT_EQ(attempt_starts.size(), 3u);
  // Lower bounds only: the executor may wait longer, never shorter.
  auto first_gap = attempt_starts[1] - attempt_starts[0];
  auto second_gap = attempt_starts[2] - attempt_starts[1];
  EXPECT_GE(first_gap, milliseconds(20));
  EXPECT_GE(second_gap, milliseconds(60));
  EXPECT_GE(outcomes[0].duration, milliseconds(80));
}

TEST(RunTaskGraphTest, RetriesStopAtMaxAttempts) {
  TaskGraph graph;
  graph.Add("always", [](int attempt) {
    return Status::Conflict("lost commit race, attempt " + std::to_string(attempt));
  });
  std::vector<TaskOutcome> outcomes = RunOk(graph, FastRetries(1));
  ASSERT_EQ(outcomes.size(), 1u);
  EXPECT_EQ(outcomes[0].state, TaskState::kFailed);
  EXPECT_EQ(outcomes[0].attempts, 3);
  EXPECT_EQ(outcomes[0].status, Status::Conflict("lost commit race, attempt 3"));
}

TEST(RunTaskGraphTest, NonTransientFailureIsNotRetried) {
  std::atomic<int> calls{0};
  TaskGraph graph;
  graph.Add("bad", [&](int) {
    ++calls;
    return Status::InvalidArgument("column x does not exist");
  });
  std::vector<TaskOutcome> outcomes = RunOk(graph, FastRetries(1));
  ASSERT_EQ(outcomes.size(), 1u);
  EXPECT_EQ(outcomes[0].state, TaskState::kFailed);
  EXPECT_EQ(outcomes[0].attempts, 1);
  EXPECT_EQ(calls.load(), 1);
  EXPECT_TRUE(outcomes[0].status.IsInvalidArgument());
}

TEST(RunTaskGraphTest, CallerDecidesWhatIsTransient) {
  TaskGraph graph;
  graph.Add("late-file", [](int attempt) {
    return attempt == 1 ? Status::NotFound("not there yet") : Status::OK();
  });
  graph.Add("io", [](int) { return Status::IOError("disk full"); });
  RunOptions options = FastRetries(2);
  options.retry.is_transient = [](const Status& status) { return status.IsNotFound(); };
  std::vector<TaskOutcome> outcomes = RunOk(graph, options);
  ASSERT_EQ(outcomes.size(), 2u);
  EXPECT_EQ(outcomes[0].state, TaskState::kCompleted);
  EXPECT_EQ(outcomes[0].attempts, 2);
  EXPECT_EQ(outcomes[1].state, TaskState::kFailed);
  EXPECT_EQ(outcomes[1].attempts, 1);
}

TEST(RunTaskGraphTest, TaskWaitingToRetryGivesItsSlotBack) {
  Trace trace;
  TaskGraph graph;
  graph.Add("flaky", [&](int attempt) {
    trace.Record("flaky" + std::to_string(attempt));
    return attempt == 1 ? Status::IOError("timeout") : Status::OK();
  });
  graph.Add("other", trace.Task("other"));
  RunOptions options;
  options.parallelism = 1;
  options.retry.initial_backoff = milliseconds(30);
  std::vector<TaskOutcome> outcomes = RunOk(graph, options);
  EXPECT_EQ(trace.order(), (std::vector<std::string>{"flaky1", "other", "flaky2"}));
  EXPECT_EQ(outcomes[0].state, TaskState::kCompleted);
}

// ---- Failures ----

TEST(RunTaskGraphTest, FailureSkipsDownstreamTransitivelyWhileUnrelatedBranchCompletes) {
  Trace trace;
  TaskGraph graph;
  TaskId bronze = graph.Add("bronze", trace.Task("bronze", Status::Corruption("torn file")));
  TaskId silver = graph.Add("silver", trace.Task("silver"));
  TaskId gold = graph.Add("gold", trace.Task("gold"));
  TaskId other_bronze = graph.Add("other_bronze", trace.Task("other_bronze"));
  TaskId other_silver = graph.Add("other_silver", trace.Task("other_silver"));
  TaskId report = graph.Add("report", trace.Task("report"));  // needs both branches
  ASSERT_TRUE(graph.AddDependency(silver, bronze).ok());
  ASSERT_TRUE(graph.AddDependency(gold, silver).ok());
  ASSERT_TRUE(graph.AddDependency(other_silver, other_bronze).ok());
  ASSERT_TRUE(graph.AddDependency(report, gold).ok());
  ASSERT_TRUE(graph.AddDependency(report, other_silver).ok());
  std::vector<TaskOutcome> outcomes = RunOk(graph, FastRetries(2));
  ASSERT_EQ(outcomes.size(), 6u);

  EXPECT_EQ(outcomes[bronze].state, TaskState::kFailed);
  EXPECT_EQ(outcomes[bronze].status, Status::Corruption("torn file"));
  for (TaskId id : {silver, gold, report}) {
    EXPECT_EQ(outcomes[id].state, TaskState::kSkipped) << outcomes[id].name;
    EXPECT_EQ(outcomes[id].skipped_because, "bronze");
    EXPECT_EQ(outcomes[id].attempts, 0);
    EXPECT_EQ(outcomes[id].status, Status::Cancelled("upstream task 'bronze' failed"));
  }
  EXPECT_EQ(outcomes[other_bronze].state, TaskState::kCompleted);
  EXPECT_EQ(outcomes[other_silver].state, TaskState::kCompleted);
  std::vector<std::string> order = trace.order();
  std::sort(order.begin(), order.end());
  EXPECT_EQ(order, (std::vector<std::string>{"bronze", "other_bronze", "other_silver"}));
}

TEST(RunTaskGraphTest, ExceptionsBecomeInternalFailures) {
  TaskGraph graph;
  TaskId std_throw = graph.Add("std", [](int) -> Status { throw std::runtime_error("boom"); });
  TaskId int_throw = graph.Add("int", [](int) -> Status { throw 42; });
  TaskId after = graph.Add("after", [](int) { return Status::OK(); });
  ASSERT_TRUE(graph.AddDependency(after, std_throw).ok());
  std::vector<TaskOutcome> outcomes = RunOk(graph, FastRetries(2));
  ASSERT_EQ(outcomes.size(), 3u);
  EXPECT_EQ(outcomes[std_throw].state, TaskState::kFailed);
  EXPECT_EQ(outcomes[std_throw].status, Status::Internal("task 'std' threw an exception: boom"));
  EXPECT_EQ(outcomes[std_throw].attempts, 1);  // Internal is not transient
  EXPECT_EQ(outcomes[int_throw].status,
            Status::Internal("task 'int' threw an exception of unknown type"));
  EXPECT_EQ(outcomes[after].state, TaskState::kSkipped);
}

// ---- Cancellation ----

TEST(RunTaskGraphTest, CancellationLetsRunningTasksFinishAndStartsNothingNew) {
  std::atomic<bool> cancel{false};
  Trace trace;
  TaskGraph graph;
  TaskId first = graph.Add("first", [&](int) {
    cancel = true;  // as if the user pressed Ctrl-C while this task ran
    trace.Record("first");
    return Status::OK();
  });
  TaskId second = graph.Add("second", trace.Task("second"));
  TaskId third = graph.Add("third", trace.Task("third"));
  ASSERT_TRUE(graph.AddDependency(third, first).ok());
  RunOptions options = FastRetries(1);
  options.cancel = &cancel;
  std::vector<TaskOutcome> outcomes = RunOk(graph, options);
  ASSERT_EQ(outcomes.size(), 3u);
  EXPECT_EQ(trace.order(), std::vector<std::string>{"first"});
  EXPECT_EQ(outcomes[first].state, TaskState::kCompleted);
  for (TaskId id : {second, third}) {
    EXPECT_EQ(outcomes[id].state, TaskState::kCancelled);
    EXPECT_EQ(outcomes[id].attempts, 0);
    EXPECT_EQ(outcomes[id].status, Status::Cancelled("run cancelled before the task started"));
  }
}

TEST(RunTaskGraphTest, CancellationEndsAWaitForRetryPromptly) {
  std::atomic<bool> cancel{false};
  TaskGraph graph;
  graph.Add("flaky", [](int) { return Status::IOError("store unavailable"); });
  RunOptions options;
  options.parallelism = 2;
  options.retry.initial_backoff = std::chrono::seconds(10);
  options.retry.max_backoff = std::chrono::seconds(10);
  options.cancel = &cancel;
  // Cancelled from another thread while the run waits out the 10 s backoff.
  std::atomic<bool> waiting{false};
  options.on_event = [&](const TaskEvent& event) {
    if (event.kind == TaskEvent::Kind::kRetrying) waiting = true;
  };
  std::thread canceller([&] {
    while (!waiting) std::this_thread::sleep_for(milliseconds(1));
    std::this_thread::sleep_for(milliseconds(10));
    cancel = true;
  });
  const Clock::time_point start = Clock::now();
  std::vector<TaskOutcome> outcomes = RunOk(graph, options);
  canceller.join();
  EXPECT_LT(Clock::now() - start, std::chrono::seconds(2));
  ASSERT_EQ(outcomes.size(), 1u);
  EXPECT_EQ(outcomes[0].state, TaskState::kCancelled);
  EXPECT_EQ(outcomes[0].attempts, 1);
  EXPECT_EQ(outcomes[0].status.message(),
            "run cancelled while waiting to retry after attempt 1 failed: "
            "IOError: store unavailable");
}

// ---- Events ----

TEST(RunTaskGraphTest, EventsFollowEachTaskInOrderAndEveryTaskFinishesOnce) {
  TaskGraph graph;
  TaskId a = graph.Add(
      "a", [](int attempt) { return attempt == 1 ? Status::IOError("flaky") : Status::OK(); });
  TaskId b = graph.Add("b", [](int) { return Status::NotSupported("no"); });
  TaskId c = graph.Add("c", [](int) { return Status::OK(); });
  ASSERT_TRUE(graph.AddDependency(b, a).ok());
  ASSERT_TRUE(graph.AddDependency(c, b).ok());
  std::vector<std::string> log;  // the executor serializes calls: no lock needed
  RunOptions options = FastRetries(3);
  options.on_event = [&](const TaskEvent& event) {
    static constexpr const char* kKinds[] = {"started", "retrying", "finished"};
    std::string line = std::string(event.name) + " " + kKinds[static_cast<int>(event.kind)] + " " +
                       std::to_string(event.attempt);
    if (event.kind == TaskEvent::Kind::kFinished) {
      line += " " + std::string(TaskStateName(event.state));
    }
    if (!event.status.ok()) line += " " + event.status.ToString();
    log.push_back(line);
    throw std::runtime_error("ignored");  // a throwing callback does not disturb the run
  };
  std::vector<TaskOutcome> outcomes = RunOk(graph, options);
  EXPECT_EQ(log, (std::vector<std::string>{
                     "a started 1",
                     "a retrying 1 IOError: flaky",
                     "a started 2",
                     "a finished 2 Completed",
                     "b started 1",
                     "b finished 1 Failed NotSupported: no",
                     "c finished 0 Skipped Cancelled: upstream task 'b' failed",
                 }));
  EXPECT_EQ(outcomes[a].state, TaskState::kCompleted);
  EXPECT_EQ(outcomes[c].state, TaskState::kSkipped);
}

}  // namespace
}  // namespace medallion::orchestrate
