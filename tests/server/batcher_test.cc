// The threaded batcher with a fake clock and a fake executor: no sleeps; every
// wait is on a latch or notification that the code under test releases.
#include "server/batching/batcher.h"

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "absl/synchronization/blocking_counter.h"
#include "absl/synchronization/notification.h"
#include "gtest/gtest.h"
#include "tests/server/fake_clock.h"

namespace attnserve::server {
namespace {

using attnserve::testing::FakeClock;
using std::chrono::microseconds;

// Answers each sequence with its first value; records batch sizes. Optionally
// blocks inside Run() until `gate` is notified (announcing `entered` first).
class FakeExecutor : public BatchExecutor {
 public:
  struct Shared {
    std::mutex mu;
    std::vector<int> batch_sizes;
    absl::Notification* entered = nullptr;
    absl::Notification* gate = nullptr;
  };
  explicit FakeExecutor(Shared* shared) : shared_(shared) {}
  absl::Status Run(absl::Span<const engine::SequenceView> batch,
                   engine::BatchOutput* out) override {
    {
      std::lock_guard<std::mutex> lock(shared_->mu);
      shared_->batch_sizes.push_back(static_cast<int>(batch.size()));
    }
    if (shared_->entered != nullptr && !shared_->entered->HasBeenNotified()) {
      shared_->entered->Notify();
    }
    if (shared_->gate != nullptr) shared_->gate->WaitForNotification();
    out->batch_size = static_cast<int64_t>(batch.size());
    out->num_outputs = 1;
    out->padded_steps = 0;
    out->outputs.clear();
    for (const auto& seq : batch) {
      out->outputs.push_back(seq.values[0]);
      out->padded_steps = std::max<int64_t>(out->padded_steps, seq.length);
    }
    return absl::OkStatus();
  }

 private:
  Shared* shared_;
};

// Collects each task's answer; counts down a latch per answer.
struct Answers {
  explicit Answers(int expected) : latch(expected) {}
  std::unique_ptr<BatchTask> Make(float value, int length = 4) {
    auto task = std::make_unique<BatchTask>();
    task->values.assign(static_cast<size_t>(length), value);
    task->length = length;
    task->done = [this, value](const TaskResult& r) {
      {
        std::lock_guard<std::mutex> lock(mu);
        ++calls[value];
        codes[value] = r.status.code();
        if (r.status.ok()) {
          got[value] = r.output->outputs[r.row];
          batch_size[value] = r.timing.batch_size;
        }
      }
      latch.DecrementCount();
    };
    return task;
  }
  std::mutex mu;
  std::map<float, int> calls;
  std::map<float, absl::StatusCode> codes;
  std::map<float, float> got;
  std::map<float, int64_t> batch_size;
  absl::BlockingCounter latch;
};

BatchingOptions Options(int max_batch, int max_queue = 64) {
  BatchingOptions o;
  o.max_batch_size = max_batch;
  o.max_queue_delay = microseconds(1000);
  o.max_queue_size = max_queue;
  return o;
}

ExecutorFactory Factory(FakeExecutor::Shared* shared) {
  return [shared](int) { return std::make_unique<FakeExecutor>(shared); };
}

TEST(BatcherTest, FullBatchRunsWithoutWaitingForTheDelay) {
  FakeClock clock;
  FakeExecutor::Shared shared;
  Batcher batcher(Options(4), 1, Factory(&shared), &clock);
  Answers answers(4);
  for (float v : {1.f, 2.f, 3.f, 4.f}) {
    auto task = answers.Make(v);
    ASSERT_TRUE(batcher.Schedule(&task).ok());
  }
  answers.latch.Wait();  // the clock never moved
  EXPECT_EQ(shared.batch_sizes, (std::vector<int>{4}));
  for (float v : {1.f, 2.f, 3.f, 4.f}) {
    EXPECT_EQ(answers.got[v], v);
    EXPECT_EQ(answers.batch_size[v], 4);
  }
}

TEST(BatcherTest, PartialBatchRunsWhenTheOldestHasWaitedTheDelay) {
  FakeClock clock;
  FakeExecutor::Shared shared;
  Batcher batcher(Options(8), 1, Factory(&shared), &clock);
  Answers answers(3);
  for (float v : {1.f, 2.f, 3.f}) {
    auto task = answers.Make(v);
    ASSERT_TRUE(batcher.Schedule(&task).ok());
  }
  clock.Advance(microseconds(1000));
  answers.latch.Wait();
  // Not due before the delay, so all three ran together.
  EXPECT_EQ(shared.batch_sizes, (std::vector<int>{3}));
}

TEST(BatcherTest, ExpiredTasksAreAnsweredWithoutBeingComputed) {
  FakeClock clock;
  FakeExecutor::Shared shared;
  Batcher batcher(Options(8), 1, Factory(&shared), &clock);
  Answers answers(1);
  auto task = answers.Make(7.f);
  task->deadline = clock.Now() + microseconds(300);
  ASSERT_TRUE(batcher.Schedule(&task).ok());
  clock.Advance(microseconds(300));
  answers.latch.Wait();
  EXPECT_EQ(answers.codes[7.f], absl::StatusCode::kDeadlineExceeded);
  EXPECT_TRUE(shared.batch_sizes.empty());
}

TEST(BatcherTest, CancelledTasksAreDroppedFromTheirBatch) {
  FakeClock clock;
  FakeExecutor::Shared shared;
  Batcher batcher(Options(8), 1, Factory(&shared), &clock);
  Answers answers(2);
  auto cancelled = answers.Make(1.f);
  cancelled->cancelled = std::make_shared<std::atomic<bool>>(false);
  auto flag = cancelled->cancelled;
  auto kept = answers.Make(2.f);
  ASSERT_TRUE(batcher.Schedule(&cancelled).ok());
  ASSERT_TRUE(batcher.Schedule(&kept).ok());
  flag->store(true);
  clock.Advance(microseconds(1000));
  answers.latch.Wait();
  EXPECT_EQ(answers.codes[1.f], absl::StatusCode::kCancelled);
  EXPECT_EQ(answers.codes[2.f], absl::StatusCode::kOk);
  EXPECT_EQ(shared.batch_sizes, (std::vector<int>{1}));
}

TEST(BatcherTest, FullQueueRefusesAndLeavesTheTaskWithTheCaller) {
  FakeClock clock;
  FakeExecutor::Shared shared;
  absl::Notification entered, gate;
  shared.entered = &entered;
  shared.gate = &gate;
  Batcher batcher(Options(1, /*max_queue=*/2), 1, Factory(&shared), &clock);
  Answers answers(3);
  auto first = answers.Make(1.f);
  ASSERT_TRUE(batcher.Schedule(&first).ok());
  entered.WaitForNotification();  // the only worker is busy
  auto second = answers.Make(2.f);
  auto third = answers.Make(3.f);
  ASSERT_TRUE(batcher.Schedule(&second).ok());
  ASSERT_TRUE(batcher.Schedule(&third).ok());
  EXPECT_EQ(batcher.queue_depth(), 2u);
  auto fourth = answers.Make(4.f);
  absl::Status full = batcher.Schedule(&fourth);
  EXPECT_EQ(full.code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(full.message().find("queue is full"), std::string::npos);
  ASSERT_NE(fourth, nullptr);  // still ours to answer
  gate.Notify();
  answers.latch.Wait();
  EXPECT_EQ(answers.calls[1.f] + answers.calls[2.f] + answers.calls[3.f], 3);
  EXPECT_EQ(answers.calls.count(4.f), 0u);
}

TEST(BatcherTest, StopRunsEverythingQueuedThenRefusesNewTasks) {
  FakeClock clock;
  FakeExecutor::Shared shared;
  absl::Notification entered, gate;
  shared.entered = &entered;
  shared.gate = &gate;
  Batcher batcher(Options(2), 1, Factory(&shared), &clock);
  Answers answers(5);
  std::vector<std::unique_ptr<BatchTask>> tasks;
  auto first = answers.Make(0.f);
  ASSERT_TRUE(batcher.Schedule(&first).ok());
  clock.Advance(microseconds(1000));
  entered.WaitForNotification();
  for (float v : {1.f, 2.f, 3.f, 4.f}) {
    auto task = answers.Make(v);
    ASSERT_TRUE(batcher.Schedule(&task).ok());
  }
  batcher.Drain(std::chrono::hours(1));
  gate.Notify();
  answers.latch.Wait();
  batcher.Stop(std::chrono::hours(1));
  for (float v : {0.f, 1.f, 2.f, 3.f, 4.f}) {
    EXPECT_EQ(answers.codes[v], absl::StatusCode::kOk) << v;
    EXPECT_EQ(answers.calls[v], 1) << v;
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
  Batcher batcher(Options(1), 1, Factory(&shared), &clock);
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
  EXPECT_EQ(answers.codes[1.f], absl::StatusCode::kOk);  // a started batch finishes
  EXPECT_EQ(answers.codes[2.f], absl::StatusCode::kUnavailable);
  EXPECT_EQ(answers.codes[3.f], absl::StatusCode::kUnavailable);
}

TEST(BatcherTest, ManyProducersEveryTaskAnsweredOnceWithItsOwnRow) {
  FakeClock clock;
  FakeExecutor::Shared shared;
  BatchingOptions options = Options(8, /*max_queue=*/4096);
  options.max_queue_delay = microseconds(0);
  Batcher batcher(options, 2, Factory(&shared), &clock);
  constexpr int kThreads = 4;
  constexpr int kPerThread = 250;
  Answers answers(kThreads * kPerThread);
  std::vector<std::thread> producers;
  for (int p = 0; p < kThreads; ++p) {
    producers.emplace_back([&, p] {
      for (int i = 0; i < kPerThread; ++i) {
        const float value = static_cast<float>(p * kPerThread + i);
        std::unique_ptr<BatchTask> task;
        {
          std::lock_guard<std::mutex> lock(answers.mu);
          task = answers.Make(value, 1 + (i % 37));
        }
        ASSERT_TRUE(batcher.Schedule(&task).ok());
      }
    });
  }
  for (auto& t : producers) t.join();
  answers.latch.Wait();
  ASSERT_EQ(answers.calls.size(), static_cast<size_t>(kThreads * kPerThread));
  for (const auto& [value, calls] : answers.calls) {
    EXPECT_EQ(calls, 1);
    EXPECT_EQ(answers.got[value], value);
  }
}

}  // namespace
}  // namespace attnserve::server
