// BatchQueue: the batching policy. Holds waiting tasks, one first-in first-out
// flow per client, and decides when a batch is due and which tasks form it.
// No threads, no clock of its own: every decision takes `now`, so the policy is
// tested with plain time points. TaskT: see queued_task.h.
//
// Policy:
// - A batch is due when max_batch_size tasks wait, when the oldest task has
//   waited max_queue_delay, or when flushing (shutdown).
// - Cost: a task costs its length (TaskT::length(), e.g. timesteps; at
//   least 1), the unit the engine's work grows with.
// - Fair sharing, weighted by cost: with fair_queueing, each client
//   (TaskT::client()) has a flow of its own, and every flow carries a virtual
//   start tag: the cost it has been served (start-time fair queueing). A
//   batch is anchored by the oldest task of the flow with the smallest tag
//   (ties: the flow that has waited longest in line), then filled by always
//   offering the next place to the flow with the smallest tag so far; each
//   task taken advances its flow's tag by its cost. A flow that was empty
//   starts at the queue's virtual time (the tag the last batch was anchored
//   at, or where the flow itself left off, whichever is later), so a client
//   cannot bank credit while idle, and a client that sends one short
//   sequence now and then anchors the very next batch instead of waiting
//   behind a noisy client's queue. A client sending sequences four times as
//   long gets a quarter as many places. Without fair_queueing every task is
//   in one flow: the oldest task anchors every batch.
// - Batch share: while other clients are active (waiting now, or having had
//   a task in one of the last kRecentBatches batches) a batch takes at most
//   max_flow_batch_share x max_batch_size tasks from one client, so the
//   batch a quiet client's request arrives behind is short.
// - Length grouping: within a flow, the task offered next is the one whose
//   length is closest to the anchor's (ties: the oldest), admitted only while
//   every member's padding stays within max_padding_fraction of the batch's
//   longest (shortest >= (1 - f) x longest); the others wait for a batch of
//   their own length. Without grouping, each flow offers its oldest.
// - Tasks whose deadline passed or that were cancelled are removed before a
//   batch is formed, so they are never run (past its deadline counts first).
// - Capacity: at most max_queue_size tasks wait; Fits(n) says whether n more
//   can be admitted together. QueuedFor(client) counts a client's waiting
//   tasks (the per-client limit is the Batcher's); CostAhead() estimates the
//   cost that runs before a new task of a client under this policy.
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
#include <unordered_map>
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
  // Batches after its last task during which a client still counts as
  // active for the batch share.
  static constexpr uint64_t kRecentBatches = 8;

  explicit BatchQueue(const BatchingOptions& options) : options_(options) {}

  // The cost of one task: its length, at least 1.
  static int64_t CostOf(const TaskT& task) { return std::max<int64_t>(1, task.length()); }

  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  // The cost of every waiting task.
  int64_t cost() const { return cost_; }
  size_t max_size() const { return static_cast<size_t>(std::max(1, options_.max_queue_size)); }
  // Room left: how many more tasks would be admitted now.
  size_t capacity() const { return size_ >= max_size() ? 0 : max_size() - size_; }
  bool Fits(size_t count) const { return count <= capacity(); }
  // Tasks of `client` waiting.
  size_t QueuedFor(uint64_t client) const {
    auto it = per_client_.find(client);
    return it == per_client_.end() ? 0 : it->second;
  }
  // Clients with waiting tasks.
  size_t flows() const { return ring_.size(); }

  // The cost that runs before a new task of `client` that follows `own_before`
  // cost of that client's own new tasks (0: the first of a new group): under
  // fair sharing, the client's own waiting cost and `own_before`, plus, from
  // every other flow, the tasks whose virtual start comes no later than the
  // new task's; without fair sharing everything waiting and `own_before`.
  int64_t CostAhead(uint64_t client, int64_t own_before = 0) const {
    if (!options_.fair_queueing) return cost_ + own_before;
    auto found = index_.find(client);
    const Flow* mine = found == index_.end() ? nullptr : &*found->second;
    const int64_t start = mine != nullptr ? mine->tag + mine->cost : StartTag(client);
    const int64_t tag = start + own_before;
    int64_t ahead = (mine != nullptr ? mine->cost : 0) + own_before;
    for (const Flow& flow : ring_) {
      if (&flow == mine || flow.tag > tag) continue;
      // Its tasks starting at or before `tag`: up to one task's cost past it.
      const int64_t average = flow.cost / static_cast<int64_t>(flow.tasks.size());
      ahead += std::min(flow.cost, tag - flow.tag + average);
    }
    return ahead;
  }

  // Appends a task to its client's flow; the caller has checked Fits().
  void Push(std::unique_ptr<TaskT> task, Clock::TimePoint enqueued,
            Clock::Duration estimated_wait = Clock::Duration::zero()) {
    const uint64_t client = task->client();
    const uint64_t key = KeyOf(client);
    const int64_t cost = CostOf(*task);
    auto found = index_.find(key);
    FlowIt flow;
    if (found == index_.end()) {
      flow = ring_.insert(ring_.end(), Flow{key, {}, 0, StartTag(key)});
      finish_.erase(key);
      index_.emplace(key, flow);
    } else {
      flow = found->second;
    }
    flow->tasks.push_back(QueuedTask<TaskT>{std::move(task), enqueued, estimated_wait});
    flow->cost += cost;
    cost_ += cost;
    ++per_client_[client];
    ++size_;
    recent_[key] = batches_;
  }

  // Moves out tasks whose deadline is at or before `now`, and cancelled ones.
  void RemoveDead(Clock::TimePoint now, TaskList* expired, TaskList* cancelled) {
    for (FlowIt flow = ring_.begin(); flow != ring_.end();) {
      for (TaskIt it = flow->tasks.begin(); it != flow->tasks.end();) {
        // A task past its deadline is expired even if its call was cancelled
        // since: gRPC cancels a call when its deadline passes.
        TaskList* out = it->task->deadline() <= now ? expired
                        : it->task->cancelled()       ? cancelled
                                                      : nullptr;
        if (out == nullptr) {
          ++it;
          continue;
        }
        Uncount(*flow, *it->task);
        out->push_back(std::move(*it));
        it = flow->tasks.erase(it);
      }
      flow = flow->tasks.empty() ? DropFlow(flow) : std::next(flow);
    }
  }

  // Moves out every task (shutdown past its grace period).
  void TakeAll(TaskList* tasks) {
    for (Flow& flow : ring_) {
      for (auto& entry : flow.tasks) tasks->push_back(std::move(entry));
    }
    ring_.clear();
    index_.clear();
    per_client_.clear();
    finish_.clear();
    size_ = 0;
    cost_ = 0;
  }

  bool Due(Clock::TimePoint now, bool flush) const {
    if (empty()) return false;
    if (flush || size_ >= static_cast<size_t>(options_.max_batch_size)) return true;
    return now - Oldest() >= options_.max_queue_delay;
  }

  // Forms the next batch (appends to `batch`); the queue must not be empty.
  void TakeBatch(TaskList* batch);

  // The next instant something changes without new arrivals: the oldest
  // task's batch becomes due or a deadline passes. TimePoint::max() if empty.
  Clock::TimePoint NextWakeup() const {
    if (empty()) return Clock::TimePoint::max();
    Clock::TimePoint wake = Oldest() + options_.max_queue_delay;
    for (const Flow& flow : ring_) {
      for (const auto& entry : flow.tasks) wake = std::min(wake, entry.task->deadline());
    }
    return wake;
  }

 private:
  using TaskIt = typename std::list<QueuedTask<TaskT>>::iterator;
  struct Flow {
    uint64_t key = 0;
    std::list<QueuedTask<TaskT>> tasks;  // arrival order
    int64_t cost = 0;                    // of its waiting tasks
    int64_t tag = 0;                     // virtual start of its next task
  };
  using FlowIt = typename std::list<Flow>::iterator;

  uint64_t KeyOf(uint64_t client) const { return options_.fair_queueing ? client : 0; }

  // Where a flow that has nothing waiting starts.
  int64_t StartTag(uint64_t key) const {
    auto it = finish_.find(key);
    return it == finish_.end() ? virtual_time_ : std::max(virtual_time_, it->second);
  }

  Clock::TimePoint Oldest() const {
    Clock::TimePoint oldest = Clock::TimePoint::max();
    for (const Flow& flow : ring_) {
      if (!flow.tasks.empty()) oldest = std::min(oldest, flow.tasks.front().enqueued);
    }
    return oldest;
  }

  FlowIt DropFlow(FlowIt flow) {
    if (flow->tag > virtual_time_) finish_[flow->key] = flow->tag;
    index_.erase(flow->key);
    return ring_.erase(flow);
  }

  void Uncount(Flow& flow, const TaskT& task) {
    const int64_t cost = CostOf(task);
    flow.cost -= cost;
    cost_ -= cost;
    auto it = per_client_.find(task.client());
    if (it == per_client_.end()) return;
    if (--it->second == 0) per_client_.erase(it);
    --size_;
  }

  // Clients active now or within the last kRecentBatches batches.
  size_t ActiveFlows() {
    for (auto it = recent_.begin(); it != recent_.end();) {
      it = batches_ - it->second > kRecentBatches && index_.count(it->first) == 0
               ? recent_.erase(it)
               : std::next(it);
    }
    return recent_.size();
  }

  BatchingOptions options_;
  std::list<Flow> ring_;  // in the order flows became non-empty (ties)
  std::unordered_map<uint64_t, FlowIt> index_;
  std::unordered_map<uint64_t, size_t> per_client_;
  // Where flows that left the ring stopped, while that is ahead of the
  // virtual time.
  std::unordered_map<uint64_t, int64_t> finish_;
  // The batch count when each flow last had a task waiting.
  std::unordered_map<uint64_t, uint64_t> recent_;
  int64_t virtual_time_ = 0;
  uint64_t batches_ = 0;
  size_t size_ = 0;
  int64_t cost_ = 0;
};

template <typename TaskT>
void BatchQueue<TaskT>::TakeBatch(TaskList* batch) {
  const size_t limit = static_cast<size_t>(std::max(1, options_.max_batch_size));
  // The anchor: the oldest task of the flow with the smallest tag.
  FlowIt anchor_flow = ring_.begin();
  for (FlowIt flow = ring_.begin(); flow != ring_.end(); ++flow) {
    if (flow->tag < anchor_flow->tag) anchor_flow = flow;
  }
  virtual_time_ = std::max(virtual_time_, anchor_flow->tag);
  for (auto it = finish_.begin(); it != finish_.end();) {
    it = it->second <= virtual_time_ ? finish_.erase(it) : std::next(it);
  }
  const TaskIt anchor = anchor_flow->tasks.begin();
  const int64_t anchor_length = anchor->task->length();

  // What one flow may take while others are active.
  size_t per_flow = limit;
  const double share = options_.max_flow_batch_share;
  if (options_.fair_queueing && share > 0 && share < 1 && ActiveFlows() > 1) {
    per_flow = std::max<size_t>(1, static_cast<size_t>(share * static_cast<double>(limit)));
  }

  // Each flow's candidates, in the order it offers them: by closeness to the
  // anchor's length (ties keep arrival order), or arrival order.
  struct Offer {
    FlowIt flow;
    std::vector<TaskIt> candidates;
    size_t next = 0;
    size_t taken = 0;
    int64_t tag = 0;
  };
  std::vector<Offer> offers;
  offers.reserve(ring_.size());
  for (FlowIt flow = ring_.begin(); flow != ring_.end(); ++flow) {
    Offer offer{flow, {}, 0, 0, flow->tag};
    offer.candidates.reserve(flow->tasks.size());
    for (TaskIt it = flow->tasks.begin(); it != flow->tasks.end(); ++it) {
      if (it != anchor) offer.candidates.push_back(it);
    }
    if (options_.group_by_length) {
      std::stable_sort(offer.candidates.begin(), offer.candidates.end(), [&](TaskIt a, TaskIt b) {
        return std::abs(a->task->length() - anchor_length) <
               std::abs(b->task->length() - anchor_length);
      });
    }
    if (flow == anchor_flow) {
      offer.taken = 1;
      offer.tag += CostOf(*anchor->task);
    }
    offers.push_back(std::move(offer));
  }

  std::vector<std::pair<Offer*, TaskIt>> chosen;
  chosen.emplace_back(nullptr, anchor);
  int64_t shortest = anchor_length;
  int64_t longest = anchor_length;
  while (chosen.size() < limit) {
    // The flow with the smallest tag that may still offer a task.
    Offer* next = nullptr;
    for (Offer& offer : offers) {
      if (offer.next >= offer.candidates.size() || offer.taken >= per_flow) continue;
      if (next == nullptr || offer.tag < next->tag) next = &offer;
    }
    if (next == nullptr) break;
    while (next->next < next->candidates.size()) {
      const TaskIt it = next->candidates[next->next++];
      const int64_t length = it->task->length();
      const int64_t new_shortest = std::min(shortest, length);
      const int64_t new_longest = std::max(longest, length);
      if (options_.group_by_length &&
          static_cast<double>(new_longest - new_shortest) >
              options_.max_padding_fraction * static_cast<double>(new_longest)) {
        continue;  // too far from the batch's lengths: waits for a batch of its own
      }
      chosen.emplace_back(next, it);
      ++next->taken;
      next->tag += CostOf(*it->task);
      shortest = new_shortest;
      longest = new_longest;
      break;
    }
  }

  for (Offer& offer : offers) offer.flow->tag = offer.tag;
  for (const auto& [offer, it] : chosen) {
    Flow& flow = offer == nullptr ? *anchor_flow : *offer->flow;
    Uncount(flow, *it->task);
    recent_[flow.key] = batches_;
    batch->push_back(std::move(*it));
    flow.tasks.erase(it);
  }
  ++batches_;
  for (FlowIt flow = ring_.begin(); flow != ring_.end();) {
    flow = flow->tasks.empty() ? DropFlow(flow) : std::next(flow);
  }
}

}  // namespace attnserve::server

#endif  // ATTNSERVE_SERVER_BATCHING_BATCH_QUEUE_H_
