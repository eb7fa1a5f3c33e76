// The batching policy with explicit time points: when a batch is due, which
// tasks form it, deadlines and cancellation.
#include "server/batching/batch_queue.h"

#include <atomic>
#include <chrono>
#include <memory>
#include <vector>

#include "gtest/gtest.h"

namespace attnserve::server {
namespace {

using std::chrono::microseconds;
const Clock::TimePoint kT0{std::chrono::seconds(100)};

std::unique_ptr<BatchTask> Task(int length, Clock::TimePoint enqueued = kT0) {
  auto task = std::make_unique<BatchTask>();
  task->length = length;
  task->enqueued = enqueued;
  task->done = [](const TaskResult&) {};
  return task;
}

std::vector<int> Lengths(const BatchQueue::TaskList& tasks) {
  std::vector<int> lengths;
  for (const auto& t : tasks) lengths.push_back(t->length);
  return lengths;
}

BatchingOptions Options(int max_batch, bool group = true) {
  BatchingOptions o;
  o.max_batch_size = max_batch;
  o.max_queue_delay = microseconds(1000);
  o.max_queue_size = 4;
  o.group_by_length = group;
  return o;
}

TEST(BatchQueueTest, DueWhenFullOrWhenTheOldestWaitedTheDelay) {
  BatchQueue queue(Options(3));
  EXPECT_FALSE(queue.Due(kT0, false));
  queue.Push(Task(5, kT0));
  queue.Push(Task(5, kT0 + microseconds(400)));
  EXPECT_FALSE(queue.Due(kT0 + microseconds(999), false));
  EXPECT_TRUE(queue.Due(kT0 + microseconds(1000), false));
  EXPECT_TRUE(queue.Due(kT0, /*flush=*/true));
  EXPECT_EQ(queue.NextWakeup(), kT0 + microseconds(1000));
  queue.Push(Task(5, kT0 + microseconds(500)));
  EXPECT_TRUE(queue.Due(kT0 + microseconds(500), false));
}

TEST(BatchQueueTest, FullAtMaxQueueSize) {
  BatchQueue queue(Options(8));
  for (int i = 0; i < 4; ++i) {
    EXPECT_FALSE(queue.full());
    queue.Push(Task(1));
  }
  EXPECT_TRUE(queue.full());
}

TEST(BatchQueueTest, GroupsSimilarLengthsAroundTheOldest) {
  BatchingOptions options = Options(8);
  options.max_queue_size = 100;
  BatchQueue queue(options);
  for (int length : {50, 10, 52, 12, 48, 11, 200}) queue.Push(Task(length));
  BatchQueue::TaskList batch;
  queue.TakeBatch(&batch);
  EXPECT_EQ(Lengths(batch), (std::vector<int>{50, 52, 48}));
  batch.clear();
  queue.TakeBatch(&batch);
  EXPECT_EQ(Lengths(batch), (std::vector<int>{10, 11, 12}));
  batch.clear();
  queue.TakeBatch(&batch);
  EXPECT_EQ(Lengths(batch), (std::vector<int>{200}));
  EXPECT_TRUE(queue.empty());
}

TEST(BatchQueueTest, RespectsMaxBatchSizeAndPaddingBudget) {
  BatchingOptions options = Options(2);
  options.max_queue_size = 100;
  BatchQueue queue(options);
  for (int length : {20, 20, 20}) queue.Push(Task(length));
  BatchQueue::TaskList batch;
  queue.TakeBatch(&batch);
  EXPECT_EQ(batch.size(), 2u);
  EXPECT_EQ(queue.size(), 1u);

  // 80 pads by 20% of 100 (admitted), 70 and 40 by 30% and 60% (not).
  BatchQueue second(Options(8));
  for (int length : {100, 40, 70, 80}) second.Push(Task(length));
  batch.clear();
  second.TakeBatch(&batch);
  EXPECT_EQ(Lengths(batch), (std::vector<int>{100, 80}));
}

TEST(BatchQueueTest, ArrivalOrderWithoutGrouping) {
  BatchingOptions options = Options(3, /*group=*/false);
  options.max_queue_size = 100;
  BatchQueue queue(options);
  for (int length : {50, 10, 52, 12}) queue.Push(Task(length));
  BatchQueue::TaskList batch;
  queue.TakeBatch(&batch);
  EXPECT_EQ(Lengths(batch), (std::vector<int>{50, 10, 52}));
}

TEST(BatchQueueTest, RemovesExpiredAndCancelledTasks) {
  BatchingOptions options = Options(8);
  options.max_queue_size = 100;
  BatchQueue queue(options);
  auto expiring = Task(3);
  expiring->deadline = kT0 + microseconds(300);
  auto cancelled = Task(4);
  cancelled->cancelled = std::make_shared<std::atomic<bool>>(false);
  auto cancel_flag = cancelled->cancelled;
  queue.Push(std::move(expiring));
  queue.Push(std::move(cancelled));
  queue.Push(Task(5));
  EXPECT_EQ(queue.NextWakeup(), kT0 + microseconds(300));

  BatchQueue::TaskList expired, dropped;
  queue.RemoveDead(kT0 + microseconds(299), &expired, &dropped);
  EXPECT_TRUE(expired.empty());
  EXPECT_TRUE(dropped.empty());
  cancel_flag->store(true);
  queue.RemoveDead(kT0 + microseconds(300), &expired, &dropped);
  EXPECT_EQ(Lengths(expired), (std::vector<int>{3}));
  EXPECT_EQ(Lengths(dropped), (std::vector<int>{4}));
  EXPECT_EQ(queue.size(), 1u);
}

}  // namespace
}  // namespace attnserve::server
