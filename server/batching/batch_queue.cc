#include "server/batching/batch_queue.h"

#include <algorithm>
#include <cstdint>
#include <cstdlib>

namespace attnserve::server {

void BatchQueue::RemoveDead(Clock::TimePoint now, TaskList* expired, TaskList* cancelled) {
  for (auto it = tasks_.begin(); it != tasks_.end();) {
    if ((*it)->IsCancelled()) {
      cancelled->push_back(std::move(*it));
      it = tasks_.erase(it);
    } else if ((*it)->deadline <= now) {
      expired->push_back(std::move(*it));
      it = tasks_.erase(it);
    } else {
      ++it;
    }
  }
}

void BatchQueue::TakeAll(TaskList* tasks) {
  for (auto& task : tasks_) tasks->push_back(std::move(task));
  tasks_.clear();
}

bool BatchQueue::Due(Clock::TimePoint now, bool flush) const {
  if (tasks_.empty()) return false;
  if (flush || tasks_.size() >= static_cast<size_t>(options_.max_batch_size)) return true;
  return now - tasks_.front()->enqueued >= options_.max_queue_delay;
}

void BatchQueue::TakeBatch(TaskList* batch) {
  const size_t limit = static_cast<size_t>(std::max(1, options_.max_batch_size));
  if (!options_.group_by_length) {
    while (!tasks_.empty() && batch->size() < limit) {
      batch->push_back(std::move(tasks_.front()));
      tasks_.pop_front();
    }
    return;
  }
  using Iterator = std::list<std::unique_ptr<BatchTask>>::iterator;
  const Iterator anchor = tasks_.begin();
  const int anchor_length = (*anchor)->length;
  // Candidates by closeness to the anchor's length; ties keep arrival order.
  std::vector<Iterator> candidates;
  candidates.reserve(tasks_.size());
  for (Iterator it = std::next(anchor); it != tasks_.end(); ++it) candidates.push_back(it);
  std::stable_sort(candidates.begin(), candidates.end(), [&](Iterator a, Iterator b) {
    return std::abs((*a)->length - anchor_length) < std::abs((*b)->length - anchor_length);
  });
  std::vector<Iterator> chosen = {anchor};
  int64_t shortest = anchor_length;
  int64_t longest = anchor_length;
  for (Iterator it : candidates) {
    if (chosen.size() >= limit) break;
    const int64_t length = (*it)->length;
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

Clock::TimePoint BatchQueue::NextWakeup() const {
  if (tasks_.empty()) return Clock::TimePoint::max();
  Clock::TimePoint wake = tasks_.front()->enqueued + options_.max_queue_delay;
  for (const auto& task : tasks_) wake = std::min(wake, task->deadline);
  return wake;
}

}  // namespace attnserve::server
