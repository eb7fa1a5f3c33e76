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

// Pushes `count` tasks of `length` from `client`.
void PushFrom(Queue& queue, uint64_t client, int count, int length,
              Clock::TimePoint enqueued = kT0) {
  for (int i = 0; i < count; ++i) {
    queue.Push(MakeFakeTask(length, Clock::TimePoint::max(), client), enqueued);
  }
}

std::vector<uint64_t> Clients(const Queue::TaskList& tasks) {
  std::vector<uint64_t> clients;
  for (const auto& t : tasks) clients.push_back(t.task->client());
  return clients;
}

BatchingOptions FairOptions(int max_batch, bool fair = true) {
  BatchingOptions o = Options(max_batch);
  o.max_queue_size = 1000;
  o.fair_queueing = fair;
  return o;
}

TEST(BatchQueueTest, ClientsShareEveryBatchInTurn) {
  // Client 1 queued 100 tasks before client 2 sent two: client 2's both get
  // slots in the very next batch, alternating with client 1's.
  Queue queue(FairOptions(5));
  PushFrom(queue, 1, 100, 20, kT0);
  PushFrom(queue, 2, 2, 20, kT0 + microseconds(10));
  EXPECT_EQ(queue.QueuedFor(1), 100u);
  EXPECT_EQ(queue.QueuedFor(2), 2u);
  EXPECT_EQ(queue.flows(), 2u);
  Queue::TaskList batch;
  queue.TakeBatch(&batch);
  EXPECT_EQ(Clients(batch), (std::vector<uint64_t>{1, 2, 1, 2, 1}));
  EXPECT_EQ(queue.QueuedFor(1), 97u);
  EXPECT_EQ(queue.QueuedFor(2), 0u);
  EXPECT_EQ(queue.flows(), 1u);
  EXPECT_EQ(queue.size(), 97u);
}

TEST(BatchQueueTest, WithoutFairQueueingTheOldestClientFillsTheBatches) {
  Queue queue(FairOptions(5, /*fair=*/false));
  PushFrom(queue, 1, 100, 20, kT0);
  PushFrom(queue, 2, 2, 20, kT0 + microseconds(10));
  Queue::TaskList batch;
  queue.TakeBatch(&batch);
  EXPECT_EQ(Clients(batch), (std::vector<uint64_t>(5, 1)));
  EXPECT_EQ(queue.QueuedFor(2), 2u);  // counted per client all the same
}

TEST(BatchQueueTest, FlowsTakeTurnsAnchoringBatchesOfTheirOwnLength) {
  // Client 2's lengths cannot share client 1's batches (padding): it anchors
  // the second batch instead of waiting behind all of client 1's tasks.
  Queue queue(FairOptions(4));
  PushFrom(queue, 1, 12, 10, kT0);
  PushFrom(queue, 2, 3, 100, kT0 + microseconds(10));
  PushFrom(queue, 3, 1, 11, kT0 + microseconds(20));
  Queue::TaskList batch;
  queue.TakeBatch(&batch);
  EXPECT_EQ(Clients(batch), (std::vector<uint64_t>{1, 3, 1, 1}));
  EXPECT_EQ(Lengths(batch), (std::vector<int>{10, 11, 10, 10}));
  batch.clear();
  queue.TakeBatch(&batch);
  EXPECT_EQ(Lengths(batch), (std::vector<int>{100, 100, 100}));
  batch.clear();
  queue.TakeBatch(&batch);
  EXPECT_EQ(Clients(batch), (std::vector<uint64_t>{1, 1, 1, 1}));
  EXPECT_EQ(queue.size(), 5u);

  Queue unfair(FairOptions(4, /*fair=*/false));
  PushFrom(unfair, 1, 12, 10, kT0);
  PushFrom(unfair, 2, 3, 100, kT0 + microseconds(10));
  for (int i = 0; i < 3; ++i) {
    batch.clear();
    unfair.TakeBatch(&batch);
    EXPECT_EQ(Clients(batch), (std::vector<uint64_t>(4, 1))) << "batch " << i;
  }
}

TEST(BatchQueueTest, LengthGroupingWorksWithinEveryFlow) {
  Queue queue(FairOptions(6));
  for (int length : {50, 10, 52, 12}) queue.Push(MakeFakeTask(length, Clock::TimePoint::max(), 1), kT0);
  for (int length : {9, 49, 200}) queue.Push(MakeFakeTask(length, Clock::TimePoint::max(), 2), kT0);
  Queue::TaskList batch;
  queue.TakeBatch(&batch);
  EXPECT_EQ(Lengths(batch), (std::vector<int>{50, 49, 52}));
  batch.clear();
  queue.TakeBatch(&batch);  // client 2's turn: its oldest left is 9
  EXPECT_EQ(Lengths(batch), (std::vector<int>{9, 10, 12}));
}

TEST(BatchQueueTest, PlacesAreSharedByCostNotByCount) {
  // Client 2's sequences cost 32 steps, client 1's 40 (close enough to share
  // a batch): each place goes to the client served least so far, so client 2
  // gets three of five places.
  Queue queue(FairOptions(5));
  PushFrom(queue, 1, 10, 40, kT0);
  PushFrom(queue, 2, 10, 32, kT0 + microseconds(10));
  EXPECT_EQ(queue.cost(), 10 * 40 + 10 * 32);
  Queue::TaskList batch;
  queue.TakeBatch(&batch);
  // Served after each place: 1: 40; 2: 32, 64; 1: 80; 2: 96.
  EXPECT_EQ(Clients(batch), (std::vector<uint64_t>{1, 2, 2, 1, 2}));
  EXPECT_EQ(queue.cost(), 8 * 40 + 7 * 32);
}

TEST(BatchQueueTest, AnIdleClientAnchorsTheNextBatchButBanksNoCredit) {
  // A noisy client's long sequences and a quiet client's short ones never
  // share a batch (padding).
  Queue queue(FairOptions(4));
  PushFrom(queue, 1, 100, 64, kT0);
  Queue::TaskList batch;
  queue.TakeBatch(&batch);
  EXPECT_EQ(Clients(batch), (std::vector<uint64_t>(4, 1)));
  // The quiet client arrives while the noisy one has 96 waiting: its task
  // anchors the very next batch.
  PushFrom(queue, 2, 1, 16, kT0 + microseconds(10));
  batch.clear();
  queue.TakeBatch(&batch);
  EXPECT_EQ(Clients(batch), (std::vector<uint64_t>{2}));
  batch.clear();
  queue.TakeBatch(&batch);
  EXPECT_EQ(Clients(batch), (std::vector<uint64_t>(4, 1)));
  // Again, as long as it has cost less than the noisy client.
  PushFrom(queue, 2, 1, 16, kT0 + microseconds(20));
  batch.clear();
  queue.TakeBatch(&batch);
  EXPECT_EQ(Clients(batch), (std::vector<uint64_t>{2}));
  // Idle through four noisy batches, then 40 tasks at once: it starts where
  // the queue's virtual time is, not where it left off, so it takes turns
  // with the noisy client instead of taking the next batches alone.
  for (int i = 0; i < 4; ++i) {
    batch.clear();
    queue.TakeBatch(&batch);
    EXPECT_EQ(Clients(batch), (std::vector<uint64_t>(4, 1)));
  }
  // (Had it kept the place it left, over 1,000 steps behind, it would take
  // the next batches whole.)
  PushFrom(queue, 2, 40, 64, kT0 + microseconds(30));
  batch.clear();
  queue.TakeBatch(&batch);  // it catches up with the noisy client's cost ...
  EXPECT_EQ(Clients(batch), (std::vector<uint64_t>(4, 2)));
  for (int i = 0; i < 3; ++i) {  // ... and from then on they alternate
    batch.clear();
    queue.TakeBatch(&batch);
    EXPECT_EQ(Clients(batch), (std::vector<uint64_t>{1, 2, 1, 2})) << "batch " << i;
  }
}

TEST(BatchQueueTest, OneClientTakesAtMostItsShareOfABatchWhileOthersAreActive) {
  BatchingOptions options = FairOptions(8);
  options.max_flow_batch_share = 0.5;
  Queue queue(options);
  PushFrom(queue, 1, 100, 64, kT0);
  Queue::TaskList batch;
  queue.TakeBatch(&batch);
  EXPECT_EQ(batch.size(), 8u);  // alone: whole batches
  PushFrom(queue, 2, 1, 16, kT0 + microseconds(10));
  batch.clear();
  queue.TakeBatch(&batch);  // the quiet client's own
  EXPECT_EQ(Clients(batch), (std::vector<uint64_t>{2}));
  // The quiet client was active within the last batches: the noisy client's
  // batches are half as large, so the next quiet request waits for less.
  for (uint64_t i = 0; i < Queue::kRecentBatches; ++i) {
    batch.clear();
    queue.TakeBatch(&batch);
    EXPECT_EQ(batch.size(), 4u) << "batch " << i;
  }
  batch.clear();
  queue.TakeBatch(&batch);  // the quiet client has been gone long enough
  EXPECT_EQ(batch.size(), 8u);

  // Without fair sharing there is one flow and no cap.
  options.fair_queueing = false;
  Queue unfair(options);
  PushFrom(unfair, 1, 20, 64, kT0);
  PushFrom(unfair, 2, 20, 64, kT0);
  batch.clear();
  unfair.TakeBatch(&batch);
  EXPECT_EQ(batch.size(), 8u);
}

TEST(BatchQueueTest, CostAheadCountsEachOtherFlowUpToTheClientsOwnShare) {
  Queue queue(FairOptions(8));
  EXPECT_EQ(queue.CostAhead(1), 0);
  PushFrom(queue, 1, 100, 20);  // cost 2000, virtual start 0
  PushFrom(queue, 2, 3, 10);    // cost 30, virtual start 0
  // A new client starts at the virtual time (0): one task of each flow
  // starts no later.
  EXPECT_EQ(queue.CostAhead(7), 20 + 10);
  // Its third new task (40 of its own cost before it): other flows' tasks up
  // to 40 of cost, and one more.
  EXPECT_EQ(queue.CostAhead(7, 40), 40 + (40 + 20) + 30);
  // Client 2's next starts at 30: its own 30, and client 1's first 50.
  EXPECT_EQ(queue.CostAhead(2), 30 + (30 + 20));
  // Client 1's next starts at 2000: its own and all of client 2's.
  EXPECT_EQ(queue.CostAhead(1), 2000 + 30);
  Queue unfair(FairOptions(8, /*fair=*/false));
  PushFrom(unfair, 1, 100, 20);
  EXPECT_EQ(unfair.CostAhead(7), 2000);
  EXPECT_EQ(unfair.CostAhead(7, 5), 2005);
}

TEST(BatchQueueTest, PerClientCountsFollowRemovals) {
  Queue queue(FairOptions(8));
  auto cancelled = MakeFakeTask(4, Clock::TimePoint::max(), 1);
  cancelled->cancel = std::make_shared<std::atomic<bool>>(true);
  queue.Push(std::move(cancelled), kT0);
  queue.Push(MakeFakeTask(4, kT0 + microseconds(5), 2), kT0);
  PushFrom(queue, 2, 2, 4);
  Queue::TaskList expired, dropped;
  queue.RemoveDead(kT0 + microseconds(5), &expired, &dropped);
  EXPECT_EQ(expired.size(), 1u);
  EXPECT_EQ(dropped.size(), 1u);
  EXPECT_EQ(queue.QueuedFor(1), 0u);
  EXPECT_EQ(queue.QueuedFor(2), 2u);
  EXPECT_EQ(queue.flows(), 1u);
  Queue::TaskList all;
  queue.TakeAll(&all);
  EXPECT_EQ(all.size(), 2u);
  EXPECT_EQ(queue.QueuedFor(2), 0u);
  EXPECT_TRUE(queue.empty());
  EXPECT_EQ(queue.NextWakeup(), Clock::TimePoint::max());
}

}  // namespace
}  // namespace attnserve::server
