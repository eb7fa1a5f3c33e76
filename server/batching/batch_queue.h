// BatchQueue: the batching policy. Holds waiting tasks in arrival order and
// decides when a batch is due and which tasks form it. No threads, no clock of
// its own: every decision takes `now`, so the policy is tested with plain time
// points. TaskT: see queued_task.h.
//
// Policy:
// - A batch is due when max_batch_size tasks wait, when the oldest task has
//   waited max_queue_delay, or when flushing (shutdown).
// - A batch always contains the oldest task (no task waits behind younger
//   ones forever). With length grouping, it is completed with the tasks whose
//   lengths are closest to the oldest's, each admitted only while every
//   member's padding stays within max_padding_fraction of the batch's longest
//   (shortest >= (1 - f) x longest); the others wait for a batch of their own
//   length. Without grouping, the oldest max_batch_size tasks form the batch.
// - Tasks whose deadline passed or that were cancelled are removed before a
//   batch is formed, so they are never run.
// - Capacity: at most max_queue_size tasks wait; Fits(n) says whether n more
//   can be admitted together.
//
// Thread-safety: none; the Batcher guards it with its mutex.
#ifndef ATTNSERVE_SERVER_BATCHING_BATCH_QUEUE_H_
#define ATTNSERVE_SERVER_BATCHING_BATCH_QUEUE_H_

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <iterator>
#include <list>
#include <memory>
#include <utility>
#include <vector>

#include "server/batching/batching_options.h"
#include "server/batching/clock.h"
#include "server/batching/queued_task.h"

namespace attnserve::server {

template <typename TaskT>
class BatchQueue {
 public:
  using TaskList = std::vector<QueuedTask<TaskT>>;

  explicit BatchQueue(const BatchingOptions& options) : options_(options) {}

  size_t size() const { return tasks_.size(); }
  bool empty() const { return tasks_.empty(); }
  size_t max_size() const { return static_cast<size_t>(std::max(1, options_.max_queue_size)); }
  // Room left: how many more tasks would be admitted now.
  size_t capacity() const { return tasks_.size() >= max_size() ? 0 : max_size() - tasks_.size(); }
  bool Fits(size_t count) const { return count <= capacity(); }

  // Appends a task; the caller has checked Fits().
  void Push(std::unique_ptr<TaskT> task, Clock::TimePoint enqueued) {
    tasks_.push_back(QueuedTask<TaskT>{std::move(task), enqueued});
  }

  // Moves out tasks whose deadline is at or before `now`, and cancelled ones.
  void RemoveDead(Clock::TimePoint now, TaskList* expired, TaskList* cancelled) {
    for (auto it = tasks_.begin(); it != tasks_.end();) {
      if (it->task->cancelled()) {
        cancelled->push_back(std::move(*it));
        it = tasks_.erase(it);
      } else if (it->task->deadline() <= now) {
        expired->push_back(std::move(*it));
        it = tasks_.erase(it);
      } else {
        ++it;
      }
    }
  }

  // Moves out every task (shutdown past its grace period).
  void TakeAll(TaskList* tasks) {
    for (auto& entry : tasks_) tasks->push_back(std::move(entry));
    tasks_.clear();
  }

  bool Due(Clock::TimePoint now, bool flush) const {
    if (tasks_.empty()) return false;
    if (flush || tasks_.size() >= static_cast<size_t>(options_.max_batch_size)) return true;
    return now - tasks_.front().enqueued >= options_.max_queue_delay;
  }

  // Forms the next batch (appends to `batch`); the queue must not be empty.
  void TakeBatch(TaskList* batch);

  // The next instant something changes without new arrivals: the oldest
  // task's batch becomes due or a deadline passes. TimePoint::max() if empty.
  Clock::TimePoint NextWakeup() const {
    if (tasks_.empty()) return Clock::TimePoint::max();
    Clock::TimePoint wake = tasks_.front().enqueued + options_.max_queue_delay;
    for (const auto& entry : tasks_) wake = std::min(wake, entry.task->deadline());
    return wake;
  }

 private:
  BatchingOptions options_;
  std::list<QueuedTask<TaskT>> tasks_;  // arrival order
};

template <typename TaskT>
void BatchQueue<TaskT>::TakeBatch(TaskList* batch) {
  const size_t limit = static_cast<size_t>(std::max(1, options_.max_batch_size));
  if (!options_.group_by_length) {
    while (!tasks_.empty() && batch->size() < limit) {
      batch->push_back(std::move(tasks_.front()));
      tasks_.pop_front();
    }
    return;
  }
  using Iterator = typename std::list<QueuedTask<TaskT>>::iterator;
  const Iterator anchor = tasks_.begin();
  const int64_t anchor_length = anchor->task->length();
  // Candidates by closeness to the anchor's length; ties keep arrival order.
  std::vector<Iterator> candidates;
  candidates.reserve(tasks_.size());
  for (Iterator it = std::next(anchor); it != tasks_.end(); ++it) candidates.push_back(it);
  std::stable_sort(candidates.begin(), candidates.end(), [&](Iterator a, Iterator b) {
    return std::abs(a->task->length() - anchor_length) < std::abs(b->task->length() - anchor_length);
  });
  std::vector<Iterator> chosen = {anchor};
  int64_t shortest = anchor_length;
  int64_t longest = anchor_length;
  for (Iterator it : candidates) {
    if (chosen.size() >= limit) break;
    const int64_t length = it->task->length();
    const int64_t new_shortest = std::min(shortest, length);
    const int64_t new_longest = std::max(longest, length);
    if (static_cast<double>(new_longest - new_shortest) >
        options_.max_padding_fraction * static_cast<double>(new_longest)) {
      continue;
    }
    chosen.push_back(it);
    shortest = new_shortest;
    longest = new_longest;
  }
  for (Iterator it : chosen) {
    batch->push_back(std::move(*it));
    tasks_.erase(it);
  }
}

}  // namespace attnserve::server

#endif  // ATTNSERVE_SERVER_BATCHING_BATCH_QUEUE_H_
