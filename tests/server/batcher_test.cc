// The threaded batcher with a fake clock, fake tasks and a fake executor: no
// sleeps; every wait is on a latch or notification that the code under test
// releases.
#include "server/batching/batcher.h"

#include <atomic>
#include <cmath>
#include <functional>
#include <map>
#include <memory>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/blocking_counter.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "gtest/gtest.h"
#include "tests/server/fake_clock.h"
#include "tests/server/fake_task.h"

namespace attnserve::server {
namespace {

using attnserve::testing::FakeClock;
using attnserve::testing::FakeTask;
using std::chrono::microseconds;

// Answers each task OK with its batch's size; records batch sizes. Optionally
// blocks inside Run() until `gate` is notified (announcing `entered` first).
class FakeExecutor : public BatchExecutor<FakeTask> {
 public:
  struct Shared {
    absl::Mutex mu;
    std::vector<int> batch_sizes ABSL_GUARDED_BY(mu);
    int executors_built ABSL_GUARDED_BY(mu) = 0;
    absl::Notification* entered = nullptr;
    absl::Notification* gate = nullptr;
  };
  explicit FakeExecutor(Shared* shared) : shared_(shared) {
    absl::MutexLock lock(&shared_->mu);
    ++shared_->executors_built;
  }
  void Run(absl::Span<QueuedTask<FakeTask>> batch, Clock::TimePoint /*start*/) override {
    {
      absl::MutexLock lock(&shared_->mu);
      shared_->batch_sizes.push_back(static_cast<int>(batch.size()));
    }
    if (shared_->entered != nullptr && !shared_->entered->HasBeenNotified()) {
      shared_->entered->Notify();
    }
    if (shared_->gate != nullptr) shared_->gate->WaitForNotification();
    for (QueuedTask<FakeTask>& entry : batch) {
      entry.task->answer(absl::OkStatus(), static_cast<int64_t>(batch.size()));
    }
  }

 private:
  Shared* shared_;
};

// Collects each task's answer; counts down a latch per answer.
struct Answers {
  explicit Answers(int expected) : latch(expected) {}
  std::unique_ptr<FakeTask> Make(float value, int length = 4) {
    auto task = std::make_unique<FakeTask>();
    task->value = value;
    task->steps = length;
    task->answer = [this, value](const absl::Status& status, int64_t batch_size) {
      {
        absl::MutexLock lock(&mu);
        ++calls[value];
        codes[value] = status.code();
        sizes[value] = batch_size;
      }
      latch.DecrementCount();
    };
    return task;
  }
  int Calls(float value) {
    absl::MutexLock lock(&mu);
    return calls[value];
  }
  absl::StatusCode Code(float value) {
    absl::MutexLock lock(&mu);
    return codes[value];
  }
  int64_t BatchSize(float value) {
    absl::MutexLock lock(&mu);
    return sizes[value];
  }
  absl::Mutex mu;
  std::map<float, int> calls ABSL_GUARDED_BY(mu);
  std::map<float, absl::StatusCode> codes ABSL_GUARDED_BY(mu);
  std::map<float, int64_t> sizes ABSL_GUARDED_BY(mu);
  absl::BlockingCounter latch;
};

BatchingOptions Options(int max_batch, int max_queue = 64) {
  BatchingOptions o;
  o.max_batch_size = max_batch;
  o.max_queue_delay = microseconds(1000);
  o.max_queue_size = max_queue;
  return o;
}

ExecutorFactory<FakeTask> Factory(FakeExecutor::Shared* shared) {
  return [shared](int) { return std::make_unique<FakeExecutor>(shared); };
}

std::vector<int> BatchSizes(FakeExecutor::Shared& shared) {
  absl::MutexLock lock(&shared.mu);
  return shared.batch_sizes;
}

TEST(BatcherTest, FullBatchRunsWithoutWaitingForTheDelay) {
  FakeClock clock;
  FakeExecutor::Shared shared;
  Batcher<FakeTask> batcher(Options(4), 1, Factory(&shared), &clock);
  Answers answers(4);
  for (float v : {1.f, 2.f, 3.f, 4.f}) {
    auto task = answers.Make(v);
    ASSERT_TRUE(batcher.Schedule(&task).ok());
  }
  answers.latch.Wait();  // the clock never moved
  EXPECT_EQ(BatchSizes(shared), (std::vector<int>{4}));
  for (float v : {1.f, 2.f, 3.f, 4.f}) {
    EXPECT_EQ(answers.Code(v), absl::StatusCode::kOk);
    EXPECT_EQ(answers.BatchSize(v), 4);
  }
}

TEST(BatcherTest, PartialBatchRunsWhenTheOldestHasWaitedTheDelay) {
  FakeClock clock;
  FakeExecutor::Shared shared;
  Batcher<FakeTask> batcher(Options(8), 1, Factory(&shared), &clock);
  Answers answers(3);
  for (float v : {1.f, 2.f, 3.f}) {
    auto task = answers.Make(v);
    ASSERT_TRUE(batcher.Schedule(&task).ok());
  }
  clock.Advance(microseconds(1000));
  answers.latch.Wait();
  // Not due before the delay, so all three ran together.
  EXPECT_EQ(BatchSizes(shared), (std::vector<int>{3}));
}

TEST(BatcherTest, ExpiredTasksAreAnsweredWithoutBeingRun) {
  FakeClock clock;
  FakeExecutor::Shared shared;
  Batcher<FakeTask> batcher(Options(8), 1, Factory(&shared), &clock);
  Answers answers(1);
  auto task = answers.Make(7.f);
  task->deadline_at = clock.Now() + microseconds(300);
  ASSERT_TRUE(batcher.Schedule(&task).ok());
  clock.Advance(microseconds(300));
  answers.latch.Wait();
  EXPECT_EQ(answers.Code(7.f), absl::StatusCode::kDeadlineExceeded);
  EXPECT_TRUE(BatchSizes(shared).empty());
}

TEST(BatcherTest, CancelledTasksAreDroppedFromTheirBatch) {
  FakeClock clock;
  FakeExecutor::Shared shared;
  Batcher<FakeTask> batcher(Options(8), 1, Factory(&shared), &clock);
  Answers answers(2);
  auto cancelled = answers.Make(1.f);
  cancelled->cancel = std::make_shared<std::atomic<bool>>(false);
  auto flag = cancelled->cancel;
  auto kept = answers.Make(2.f);
  ASSERT_TRUE(batcher.Schedule(&cancelled).ok());
  ASSERT_TRUE(batcher.Schedule(&kept).ok());
  flag->store(true);
  clock.Advance(microseconds(1000));
  answers.latch.Wait();
  EXPECT_EQ(answers.Code(1.f), absl::StatusCode::kCancelled);
  EXPECT_EQ(answers.Code(2.f), absl::StatusCode::kOk);
  EXPECT_EQ(BatchSizes(shared), (std::vector<int>{1}));
}

TEST(BatcherTest, WakeDropsACancelledTaskAtOnce) {
  // The batch would be due only in 1000 us; the clock never moves.
  FakeClock clock;
  FakeExecutor::Shared shared;
  Batcher<FakeTask> batcher(Options(8), 1, Factory(&shared), &clock);
  Answers answers(1);
  auto task = answers.Make(1.f);
  task->cancel = std::make_shared<std::atomic<bool>>(false);
  auto flag = task->cancel;
  ASSERT_TRUE(batcher.Schedule(&task).ok());
  flag->store(true);
  batcher.Wake();
  answers.latch.Wait();
  EXPECT_EQ(answers.Code(1.f), absl::StatusCode::kCancelled);
  EXPECT_EQ(batcher.NumEnqueuedTasks(), 0u);
}

TEST(BatcherTest, AGroupIsAdmittedWholeOrRefusedWhole) {
  FakeClock clock;
  FakeExecutor::Shared shared;
  absl::Notification entered, gate;
  shared.entered = &entered;
  shared.gate = &gate;
  Batcher<FakeTask> batcher(Options(1, /*max_queue=*/4), 1, Factory(&shared), &clock);
  Answers answers(4);
  auto first = answers.Make(1.f);
  ASSERT_TRUE(batcher.Schedule(&first).ok());
  entered.WaitForNotification();  // the only worker is busy; the queue is empty
  EXPECT_EQ(batcher.SchedulingCapacity(), 4u);

  std::vector<std::unique_ptr<FakeTask>> three;
  for (float v : {2.f, 3.f, 4.f}) three.push_back(answers.Make(v));
  ASSERT_TRUE(batcher.Schedule(&three).ok());
  EXPECT_TRUE(three.empty());  // all taken
  EXPECT_EQ(batcher.NumEnqueuedTasks(), 3u);
  EXPECT_EQ(batcher.SchedulingCapacity(), 1u);

  // Two more do not fit in the one place left: neither is queued.
  std::vector<std::unique_ptr<FakeTask>> two;
  for (float v : {5.f, 6.f}) two.push_back(answers.Make(v));
  const absl::Status full = batcher.Schedule(&two);
  EXPECT_EQ(full.code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(full.message().find("queue is full (3 waiting, 2 more asked)"), std::string::npos)
      << full.message();
  ASSERT_EQ(two.size(), 2u);  // still ours to answer
  EXPECT_NE(two[0], nullptr);
  EXPECT_NE(two[1], nullptr);
  EXPECT_EQ(batcher.NumEnqueuedTasks(), 3u);

  gate.Notify();
  answers.latch.Wait();
  for (float v : {1.f, 2.f, 3.f, 4.f}) EXPECT_EQ(answers.Calls(v), 1) << v;
  EXPECT_EQ(answers.Calls(5.f), 0);
  EXPECT_EQ(answers.Calls(6.f), 0);
}

TEST(BatcherTest, FullQueueRefusesAndLeavesTheTaskWithTheCaller) {
  FakeClock clock;
  FakeExecutor::Shared shared;
  absl::Notification entered, gate;
  shared.entered = &entered;
  shared.gate = &gate;
  Batcher<FakeTask> batcher(Options(1, /*max_queue=*/2), 1, Factory(&shared), &clock);
  Answers answers(3);
  auto first = answers.Make(1.f);
  ASSERT_TRUE(batcher.Schedule(&first).ok());
  entered.WaitForNotification();  // the only worker is busy
  auto second = answers.Make(2.f);
  auto third = answers.Make(3.f);
  ASSERT_TRUE(batcher.Schedule(&second).ok());
  ASSERT_TRUE(batcher.Schedule(&third).ok());
  EXPECT_EQ(batcher.NumEnqueuedTasks(), 2u);
  EXPECT_EQ(batcher.SchedulingCapacity(), 0u);
  auto fourth = answers.Make(4.f);
  absl::Status full = batcher.Schedule(&fourth);
  EXPECT_EQ(full.code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(full.message().find("queue is full"), std::string::npos);
  ASSERT_NE(fourth, nullptr);  // still ours to answer
  gate.Notify();
  answers.latch.Wait();
  EXPECT_EQ(answers.Calls(1.f) + answers.Calls(2.f) + answers.Calls(3.f), 3);
  EXPECT_EQ(answers.Calls(4.f), 0);
}

std::vector<std::unique_ptr<FakeTask>> FromClient(Answers& answers, uint64_t client,
                                                  std::initializer_list<float> values) {
  std::vector<std::unique_ptr<FakeTask>> tasks;
  for (float v : values) {
    tasks.push_back(answers.Make(v));
    tasks.back()->client_id = client;
  }
  return tasks;
}

TEST(BatcherTest, AClientOverItsLimitIsRefusedWholeWhileOthersAreAdmitted) {
  FakeClock clock;
  FakeExecutor::Shared shared;
  absl::Notification entered, gate;
  shared.entered = &entered;
  shared.gate = &gate;
  BatchingOptions options = Options(1, /*max_queue=*/8);
  options.max_queued_per_client = 3;
  Batcher<FakeTask> batcher(options, 1, Factory(&shared), &clock);
  Answers answers(7);
  auto busy = FromClient(answers, 1, {1.f});
  ASSERT_TRUE(batcher.Schedule(&busy).ok());
  entered.WaitForNotification();  // the only worker is busy; the queue is empty

  auto two = FromClient(answers, 1, {2.f, 3.f});
  ScheduleRefusal refusal = ScheduleRefusal::kQueueFull;
  ASSERT_TRUE(batcher.Schedule(&two, &refusal).ok());
  EXPECT_EQ(refusal, ScheduleRefusal::kNone);
  auto more = FromClient(answers, 1, {4.f, 5.f});
  const absl::Status over = batcher.Schedule(&more, &refusal);
  EXPECT_EQ(over.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(refusal, ScheduleRefusal::kClientLimit);
  EXPECT_NE(over.message().find("this client already has 2 sequences waiting and asked for 2 "
                                "more; at most 3 may wait per client"),
            std::string::npos)
      << over.message();
  EXPECT_EQ(more.size(), 2u);  // still ours
  auto other = FromClient(answers, 2, {6.f, 7.f, 8.f});
  ASSERT_TRUE(batcher.Schedule(&other, &refusal).ok());
  auto last = FromClient(answers, 1, {9.f});
  ASSERT_TRUE(batcher.Schedule(&last).ok());  // 3 of client 1 now
  EXPECT_EQ(batcher.NumEnqueuedTasks(), 6u);

  gate.Notify();
  answers.latch.Wait();
  EXPECT_EQ(answers.Calls(4.f) + answers.Calls(5.f), 0);
}

// Advances the fake clock by `per_step` x the batch's timesteps inside every
// run (its measured cost); before run `i` it calls hooks[i] if there is one
// (a test blocks a run there).
class CostExecutor : public BatchExecutor<FakeTask> {
 public:
  CostExecutor(FakeClock* clock, Clock::Duration per_step,
               std::map<int, std::function<void()>> hooks)
      : clock_(clock), per_step_(per_step), hooks_(std::move(hooks)) {}
  void Run(absl::Span<QueuedTask<FakeTask>> batch, Clock::TimePoint /*start*/) override {
    if (auto hook = hooks_.find(runs_++); hook != hooks_.end()) hook->second();
    int64_t steps = 0;
    for (const QueuedTask<FakeTask>& entry : batch) steps += entry.task->steps;
    clock_->Advance(per_step_ * steps);
    for (QueuedTask<FakeTask>& entry : batch) {
      entry.task->answer(absl::OkStatus(), static_cast<int64_t>(batch.size()));
    }
  }

 private:
  FakeClock* clock_;
  Clock::Duration per_step_;
  std::map<int, std::function<void()>> hooks_;
  int runs_ = 0;
};

// A run that announces itself and blocks until released.
struct Hold {
  absl::Notification entered, release;
  std::function<void()> Hook() {
    return [this] {
      entered.Notify();
      release.WaitForNotification();
    };
  }
};

std::vector<std::unique_ptr<FakeTask>> Lengths(Answers& answers, uint64_t client,
                                               std::initializer_list<std::pair<float, int>> tasks) {
  std::vector<std::unique_ptr<FakeTask>> out;
  for (const auto& [value, length] : tasks) {
    out.push_back(answers.Make(value, length));
    out.back()->client_id = client;
  }
  return out;
}

TEST(BatcherTest, TheWaitEstimateCountsQueuedCostAndWorkInProgress) {
  // Batches of one; a timestep takes 1 ms (the executor advances the fake
  // clock); the bound is 24 ms of waiting.
  FakeClock clock;
  Hold busy;
  BatchingOptions options = Options(1, /*max_queue=*/64);
  options.max_queue_wait = std::chrono::milliseconds(24);
  Batcher<FakeTask> batcher(
      options, 1,
      [&](int) {
        return std::make_unique<CostExecutor>(
            &clock, std::chrono::milliseconds(1),
            std::map<int, std::function<void()>>{{1, busy.Hook()}});
      },
      &clock);
  // Before any batch ran the cost is unknown: nothing is refused for it.
  EXPECT_EQ(batcher.NanosPerCost(), 0);
  {
    Answers first(1);
    auto probe = Lengths(first, 9, {{0.f, 10}});
    ASSERT_TRUE(batcher.Schedule(&probe).ok());
    first.latch.Wait();
  }
  batcher.WaitUntilIdle();  // the batch is measured
  EXPECT_DOUBLE_EQ(batcher.NanosPerCost(), 1e6);  // 10 ms for 10 steps

  Answers answers(5);  // the admitted tasks
  auto running = Lengths(answers, 1, {{1.f, 20}});
  ASSERT_TRUE(batcher.Schedule(&running).ok());
  busy.entered.WaitForNotification();  // 20 ms of work has just started
  EXPECT_EQ(batcher.EstimatedWait(5, 1, 3), std::chrono::milliseconds(20));
  // Nothing waits ahead of a group of two: admitted whatever its wait.
  auto group = Lengths(answers, 1, {{2.f, 4}, {3.f, 6}});
  ASSERT_TRUE(batcher.Schedule(&group).ok());
  clock.Advance(std::chrono::milliseconds(5));  // the running batch has 15 ms left

  // Client 1's next waits for the 15 ms left and its 10 queued steps.
  EXPECT_EQ(batcher.EstimatedWait(1, 1, 3), std::chrono::milliseconds(25));
  // A group's estimate is for its last task: its own others come first.
  EXPECT_EQ(batcher.EstimatedWait(1, 2, 8), std::chrono::milliseconds(25 + 4));
  ScheduleRefusal refusal = ScheduleRefusal::kNone;
  auto late = Lengths(answers, 1, {{4.f, 3}});
  const absl::Status refused = batcher.Schedule(&late, &refusal);
  EXPECT_EQ(refused.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(refusal, ScheduleRefusal::kQueueWait);
  EXPECT_NE(refused.message().find(
                "would wait about 25 ms to start, more than the queue's bound of 24 ms"),
            std::string::npos)
      << refused.message();
  // The early check says the same without queuing anything.
  EXPECT_EQ(batcher.Precheck(1, 1, 1, &refusal).code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(refusal, ScheduleRefusal::kQueueWait);
  EXPECT_EQ(batcher.NumEnqueuedTasks(), 2u);

  // Client 2 has been served nothing: under fair sharing its tasks go before
  // client 1's waiting ones, so only the running batch is ahead of its first.
  EXPECT_EQ(batcher.EstimatedWait(2, 1, 3), std::chrono::milliseconds(15));
  EXPECT_TRUE(batcher.Precheck(2, 1, 1).ok());
  auto other = Lengths(answers, 2, {{5.f, 3}});
  ASSERT_TRUE(batcher.Schedule(&other).ok());
  // Its next: after its 3 steps (18 ms).
  auto other_more = Lengths(answers, 2, {{6.f, 3}});
  ASSERT_TRUE(batcher.Schedule(&other_more).ok());
  // A group of two 10-step tasks: its last follows 6 queued steps and its
  // own first 10: 15 + 16 = 31 ms.
  auto other_group = Lengths(answers, 2, {{7.f, 10}, {8.f, 10}});
  EXPECT_EQ(batcher.Schedule(&other_group, &refusal).code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(refusal, ScheduleRefusal::kQueueWait);
  EXPECT_EQ(other_group.size(), 2u);  // still ours

  busy.release.Notify();
  answers.latch.Wait();  // 1, 2, 3, 5, 6 ran (and the refused 4, 7, 8 did not)
  for (float v : {1.f, 2.f, 3.f, 5.f, 6.f}) EXPECT_EQ(answers.Calls(v), 1) << v;
  for (float v : {4.f, 7.f, 8.f}) EXPECT_EQ(answers.Calls(v), 0) << v;
}

TEST(BatcherTest, TheCorrectionTracksAHighQuantileOfRealOverEstimatedWaits) {
  FakeClock clock;
  Hold slow, exact;
  Batcher<FakeTask> batcher(
      Options(1, /*max_queue=*/64), 1,
      [&](int) {
        return std::make_unique<CostExecutor>(
            &clock, std::chrono::milliseconds(1),
            std::map<int, std::function<void()>>{{1, slow.Hook()}, {12, exact.Hook()}});
      },
      &clock);
  {
    Answers first(1);
    auto probe = Lengths(first, 1, {{0.f, 10}});
    ASSERT_TRUE(batcher.Schedule(&probe).ok());
    first.latch.Wait();
  }
  batcher.WaitUntilIdle();
  EXPECT_EQ(batcher.WaitCorrection(), 1.0);
  using B = Batcher<FakeTask>;
  const double up = std::exp(B::kCorrectionStep * B::kCorrectionQuantile);
  const double down = std::exp(-B::kCorrectionStep * (1 - B::kCorrectionQuantile));

  // A 20-step batch that takes 100 ms longer than its cost says: the ten
  // tasks behind it each wait over five times their estimate, and each moves
  // the correction up one step.
  {
    Answers answers(11);
    auto running = Lengths(answers, 1, {{1.f, 20}});
    ASSERT_TRUE(batcher.Schedule(&running).ok());
    slow.entered.WaitForNotification();
    for (int i = 0; i < 10; ++i) {
      auto task = Lengths(answers, 1, {{10.f + static_cast<float>(i), 1}});
      ASSERT_TRUE(batcher.Schedule(&task).ok());
    }
    clock.Advance(std::chrono::milliseconds(100));
    slow.release.Notify();
    answers.latch.Wait();
    batcher.WaitUntilIdle();  // so that the next batch starts on an idle worker
  }
  EXPECT_NEAR(batcher.WaitCorrection(), std::pow(up, 10), 1e-9);

  // Then waits shorter than estimated (the measured time per step still
  // carries the slow batch): each of five tasks moves it down one (much
  // smaller) step.
  {
    Answers answers(6);
    auto running = Lengths(answers, 1, {{1.f, 20}});
    ASSERT_TRUE(batcher.Schedule(&running).ok());
    exact.entered.WaitForNotification();
    for (int i = 0; i < 5; ++i) {
      auto task = Lengths(answers, 1, {{10.f + static_cast<float>(i), 1}});
      ASSERT_TRUE(batcher.Schedule(&task).ok());
    }
    exact.release.Notify();
    answers.latch.Wait();
  }
  EXPECT_NEAR(batcher.WaitCorrection(), std::pow(up, 10) * std::pow(down, 5), 1e-9);
}

TEST(BatcherTest, StoppingBatcherSaysSo) {
  FakeClock clock;
  FakeExecutor::Shared shared;
  Batcher<FakeTask> batcher(Options(1), 1, Factory(&shared), &clock);
  batcher.Stop(Clock::Duration::zero());
  Answers answers(1);
  auto task = FromClient(answers, 1, {1.f});
  ScheduleRefusal refusal = ScheduleRefusal::kNone;
  EXPECT_EQ(batcher.Schedule(&task, &refusal).code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(refusal, ScheduleRefusal::kStopping);
}

TEST(BatcherTest, WaitUntilStartedReturnsOnceEveryWorkerBuiltItsExecutor) {
  FakeClock clock;
  FakeExecutor::Shared shared;
  Batcher<FakeTask> batcher(Options(4), 3, Factory(&shared), &clock);
  batcher.WaitUntilStarted();
  absl::MutexLock lock(&shared.mu);
  EXPECT_EQ(shared.executors_built, 3);
}

TEST(BatcherTest, StopRunsEverythingQueuedThenRefusesNewTasks) {
  FakeClock clock;
  FakeExecutor::Shared shared;
  absl::Notification entered, gate;
  shared.entered = &entered;
  shared.gate = &gate;
  Batcher<FakeTask> batcher(Options(2), 1, Factory(&shared), &clock);
  Answers answers(5);
  auto first = answers.Make(0.f);
  ASSERT_TRUE(batcher.Schedule(&first).ok());
  clock.Advance(microseconds(1000));
  entered.WaitForNotification();
  for (float v : {1.f, 2.f, 3.f, 4.f}) {
    auto task = answers.Make(v);
    ASSERT_TRUE(batcher.Schedule(&task).ok());
  }
  batcher.Drain(std::chrono::hours(1));
  EXPECT_EQ(batcher.SchedulingCapacity(), 0u);
  gate.Notify();
  answers.latch.Wait();
  batcher.Stop(std::chrono::hours(1));
  for (float v : {0.f, 1.f, 2.f, 3.f, 4.f}) {
    EXPECT_EQ(answers.Code(v), absl::StatusCode::kOk) << v;
    EXPECT_EQ(answers.Calls(v), 1) << v;
  }
  auto late = answers.Make(9.f);
  EXPECT_EQ(batcher.Schedule(&late).code(), absl::StatusCode::kUnavailable);
}

TEST(BatcherTest, StopAnswersWhatTheGracePeriodCouldNotRun) {
  FakeClock clock;
  FakeExecutor::Shared shared;
  absl::Notification entered, gate;
  shared.entered = &entered;
  shared.gate = &gate;
  Batcher<FakeTask> batcher(Options(1), 1, Factory(&shared), &clock);
  Answers answers(3);
  auto first = answers.Make(1.f);
  ASSERT_TRUE(batcher.Schedule(&first).ok());
  entered.WaitForNotification();
  for (float v : {2.f, 3.f}) {
    auto task = answers.Make(v);
    ASSERT_TRUE(batcher.Schedule(&task).ok());
  }
  batcher.Drain(Clock::Duration::zero());
  gate.Notify();
  answers.latch.Wait();
  batcher.Stop(Clock::Duration::zero());
  EXPECT_EQ(answers.Code(1.f), absl::StatusCode::kOk);  // a started batch finishes
  EXPECT_EQ(answers.Code(2.f), absl::StatusCode::kUnavailable);
  EXPECT_EQ(answers.Code(3.f), absl::StatusCode::kUnavailable);
}

TEST(BatcherTest, ManyProducersEveryTaskAnsweredOnce) {
  FakeClock clock;
  FakeExecutor::Shared shared;
  BatchingOptions options = Options(8, /*max_queue=*/4096);
  options.max_queue_delay = microseconds(0);
  Batcher<FakeTask> batcher(options, 2, Factory(&shared), &clock);
  constexpr int kThreads = 4;
  constexpr int kPerThread = 250;
  Answers answers(kThreads * kPerThread);
  std::vector<std::thread> producers;
  for (int p = 0; p < kThreads; ++p) {
    producers.emplace_back([&, p] {
      for (int i = 0; i < kPerThread; ++i) {
        auto task = answers.Make(static_cast<float>(p * kPerThread + i), 1 + (i % 37));
        ASSERT_TRUE(batcher.Schedule(&task).ok());
      }
    });
  }
  for (auto& t : producers) t.join();
  answers.latch.Wait();
  absl::MutexLock lock(&answers.mu);
  ASSERT_EQ(answers.calls.size(), static_cast<size_t>(kThreads * kPerThread));
  for (const auto& [value, calls] : answers.calls) {
    EXPECT_EQ(calls, 1) << value;
    EXPECT_EQ(answers.codes[value], absl::StatusCode::kOk) << value;
  }
}

}  // namespace
}  // namespace attnserve::server
