// The batching policy with explicit time points: when a batch is due, which
// tasks form it, capacity, deadlines and cancellation.
#include "server/batching/batch_queue.h"

#include <atomic>
#include <chrono>
#include <memory>
#include <vector>

#include "gtest/gtest.h"
#include "tests/server/fake_task.h"

namespace attnserve::server {
namespace {

using attnserve::testing::FakeTask;
using attnserve::testing::MakeFakeTask;
using std::chrono::microseconds;
using Queue = BatchQueue<FakeTask>;
const Clock::TimePoint kT0{std::chrono::seconds(100)};

// Pushes a task of `length` enqueued at `enqueued`.
void Push(Queue& queue, int length, Clock::TimePoint enqueued = kT0) {
  queue.Push(MakeFakeTask(length), enqueued);
}

std::vector<int> Lengths(const Queue::TaskList& tasks) {
  std::vector<int> lengths;
  for (const auto& t : tasks) lengths.push_back(static_cast<int>(t.task->length()));
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
  Queue queue(Options(3));
  EXPECT_FALSE(queue.Due(kT0, false));
  Push(queue, 5, kT0);
  Push(queue, 5, kT0 + microseconds(400));
  EXPECT_FALSE(queue.Due(kT0 + microseconds(999), false));
  EXPECT_TRUE(queue.Due(kT0 + microseconds(1000), false));
  EXPECT_TRUE(queue.Due(kT0, /*flush=*/true));
  EXPECT_EQ(queue.NextWakeup(), kT0 + microseconds(1000));
  Push(queue, 5, kT0 + microseconds(500));
  EXPECT_TRUE(queue.Due(kT0 + microseconds(500), false));
}

TEST(BatchQueueTest, CapacityIsWhatMaxQueueSizeLeaves) {
  Queue queue(Options(8));
  EXPECT_EQ(queue.capacity(), 4u);
  EXPECT_TRUE(queue.Fits(4));
  EXPECT_FALSE(queue.Fits(5));
  for (int i = 0; i < 3; ++i) Push(queue, 1);
  EXPECT_EQ(queue.capacity(), 1u);
  EXPECT_TRUE(queue.Fits(1));
  EXPECT_FALSE(queue.Fits(2));
  Push(queue, 1);
  EXPECT_EQ(queue.capacity(), 0u);
  EXPECT_FALSE(queue.Fits(1));
  EXPECT_TRUE(queue.Fits(0));
}

TEST(BatchQueueTest, GroupsSimilarLengthsAroundTheOldest) {
  BatchingOptions options = Options(8);
  options.max_queue_size = 100;
  Queue queue(options);
  for (int length : {50, 10, 52, 12, 48, 11, 200}) Push(queue, length);
  Queue::TaskList batch;
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
  Queue queue(options);
  for (int length : {20, 20, 20}) Push(queue, length);
  Queue::TaskList batch;
  queue.TakeBatch(&batch);
  EXPECT_EQ(batch.size(), 2u);
  EXPECT_EQ(queue.size(), 1u);

  // 80 pads by 20% of 100 (admitted), 70 and 40 by 30% and 60% (not).
  Queue second(Options(8));
  for (int length : {100, 40, 70, 80}) Push(second, length);
  batch.clear();
  second.TakeBatch(&batch);
  EXPECT_EQ(Lengths(batch), (std::vector<int>{100, 80}));
}

TEST(BatchQueueTest, ArrivalOrderWithoutGrouping) {
  BatchingOptions options = Options(3, /*group=*/false);
  options.max_queue_size = 100;
  Queue queue(options);
  for (int length : {50, 10, 52, 12}) Push(queue, length);
  Queue::TaskList batch;
  queue.TakeBatch(&batch);
  EXPECT_EQ(Lengths(batch), (std::vector<int>{50, 10, 52}));
}

TEST(BatchQueueTest, RemovesExpiredAndCancelledTasks) {
  BatchingOptions options = Options(8);
  options.max_queue_size = 100;
  Queue queue(options);
  auto cancelled = MakeFakeTask(4);
  cancelled->cancel = std::make_shared<std::atomic<bool>>(false);
  auto cancel_flag = cancelled->cancel;
  queue.Push(MakeFakeTask(3, kT0 + microseconds(300)), kT0);
  queue.Push(std::move(cancelled), kT0);
  Push(queue, 5);
  EXPECT_EQ(queue.NextWakeup(), kT0 + microseconds(300));

  Queue::TaskList expired, dropped;
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
