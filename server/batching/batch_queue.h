// BatchQueue: the batching policy. Holds waiting tasks in arrival order and
// decides when a batch is due and which tasks form it. No threads, no clock of
// its own: every decision takes `now`, so the policy is tested with plain
// time points.
//
// Policy:
// - A batch is due when max_batch_size tasks wait, when the oldest task has
//   waited max_queue_delay, or when flushing (shutdown).
// - A batch always contains the oldest task (no task waits behind younger
//   ones forever). With length grouping, it is completed with the tasks whose
//   lengths are closest to the oldest's, each admitted only while every
//   member's padding stays within max_padding_fraction of the batch's longest
//   sequence (shortest >= (1 - f) x longest); the others wait for a batch of
//   their own length.
//   Without grouping, the oldest max_batch_size tasks form the batch.
// - Tasks whose deadline passed or that were cancelled are removed before a
//   batch is formed, so they are never computed.
//
// Thread-safety: none; the Batcher guards it with its mutex.
#ifndef ATTNSERVE_SERVER_BATCHING_BATCH_QUEUE_H_
#define ATTNSERVE_SERVER_BATCHING_BATCH_QUEUE_H_

#include <cstddef>
#include <list>
#include <memory>
#include <vector>

#include "server/batching/batch_task.h"
#include "server/batching/clock.h"

namespace attnserve::server {

struct BatchingOptions {
  // Most sequences in one batch.
  int max_batch_size = 32;
  // Longest time the oldest task waits for a fuller batch.
  Clock::Duration max_queue_delay = std::chrono::microseconds(0);
  // Tasks waiting at most; beyond it Schedule() answers UNAVAILABLE.
  int max_queue_size = 1024;
  // Group by length (true) or take tasks in arrival order (false).
  bool group_by_length = true;
  // Padding any member of a length-grouped batch may carry, as a fraction of
  // the batch's longest sequence.
  double max_padding_fraction = 0.25;
};

class BatchQueue {
 public:
  using TaskList = std::vector<std::unique_ptr<BatchTask>>;

  explicit BatchQueue(const BatchingOptions& options) : options_(options) {}

  size_t size() const { return tasks_.size(); }
  bool empty() const { return tasks_.empty(); }
  bool full() const { return tasks_.size() >= static_cast<size_t>(options_.max_queue_size); }

  // Appends a task; the caller has checked full().
  void Push(std::unique_ptr<BatchTask> task) { tasks_.push_back(std::move(task)); }

  // Moves out tasks whose deadline is at or before `now`, and cancelled ones.
  void RemoveDead(Clock::TimePoint now, TaskList* expired, TaskList* cancelled);

  // Moves out every task (shutdown past its grace period).
  void TakeAll(TaskList* tasks);

  bool Due(Clock::TimePoint now, bool flush) const;

  // Forms the next batch (appends to `batch`); the queue must not be empty.
  void TakeBatch(TaskList* batch);

  // The next instant something changes without new arrivals: the oldest
  // task's batch becomes due or a deadline passes. TimePoint::max() if empty.
  Clock::TimePoint NextWakeup() const;

 private:
  BatchingOptions options_;
  std::list<std::unique_ptr<BatchTask>> tasks_;  // arrival order
};

}  // namespace attnserve::server

#endif  // ATTNSERVE_SERVER_BATCHING_BATCH_QUEUE_H_
