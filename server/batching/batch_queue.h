// BatchQueue: the batching policy. Holds waiting tasks, one first-in first-out
// flow per client, and decides when a batch is due and which tasks form it.
// No threads, no clock of its own: every decision takes `now`, so the policy is
// tested with plain time points. TaskT: see queued_task.h.
//
// Policy:
// - A batch is due when max_batch_size tasks wait, when the oldest task has
//   waited max_queue_delay, or when flushing (shutdown).
// - Fair sharing: with fair_queueing, each client (TaskT::client()) has a
//   flow of its own, and the flows take turns: a batch is formed around the
//   oldest task of the flow whose turn it is (the anchor), then every flow
//   with waiting tasks adds one task per round, in turn, until the batch is
//   full. A client with 1,000 waiting tasks and one with one task therefore
//   each get a slot in the next batch, and no flow waits for more than one
//   batch per other flow before it anchors one. Without fair_queueing every
//   task is in one flow: the oldest task anchors every batch.
// - Length grouping: within a flow, the task a round adds is the one whose
//   length is closest to the anchor's (ties: the oldest), admitted only while
//   every member's padding stays within max_padding_fraction of the batch's
//   longest (shortest >= (1 - f) x longest); the others wait for a batch of
//   their own length. Without grouping, each round adds each flow's oldest.
// - Tasks whose deadline passed or that were cancelled are removed before a
//   batch is formed, so they are never run (past its deadline counts first).
// - Capacity: at most max_queue_size tasks wait; Fits(n) says whether n more
//   can be admitted together. QueuedFor(client) counts a client's waiting
//   tasks (the per-client limit is the Batcher's); AheadOf() estimates how
//   many waiting tasks run before a client's next one under fair sharing.
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

  explicit BatchQueue(const BatchingOptions& options) : options_(options) {}

  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
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

  // How many waiting tasks would run before a new task of `client` if every
  // flow were served one task per turn: the client's own waiting tasks, plus,
  // from every other flow, one more than that (or all it has). Without fair
  // queueing: everything waiting. 0 when the queue is empty.
  size_t AheadOf(uint64_t client) const {
    if (!options_.fair_queueing) return size_;
    const size_t mine = QueuedFor(client);
    size_t ahead = mine;
    for (const Flow& flow : ring_) {
      if (flow.key != client) ahead += std::min(flow.tasks.size(), mine + 1);
    }
    return ahead;
  }

  // Appends a task to its client's flow; the caller has checked Fits().
  void Push(std::unique_ptr<TaskT> task, Clock::TimePoint enqueued,
            Clock::Duration estimated_wait = Clock::Duration::zero()) {
    const uint64_t client = task->client();
    const uint64_t key = options_.fair_queueing ? client : 0;
    auto found = index_.find(key);
    FlowIt flow;
    if (found == index_.end()) {
      flow = ring_.insert(ring_.end(), Flow{key, {}});
      index_.emplace(key, flow);
    } else {
      flow = found->second;
    }
    flow->tasks.push_back(QueuedTask<TaskT>{std::move(task), enqueued, estimated_wait});
    ++per_client_[client];
    ++size_;
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
        Uncount(it->task->client());
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
    size_ = 0;
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
  };
  using FlowIt = typename std::list<Flow>::iterator;

  Clock::TimePoint Oldest() const {
    Clock::TimePoint oldest = Clock::TimePoint::max();
    for (const Flow& flow : ring_) {
      if (!flow.tasks.empty()) oldest = std::min(oldest, flow.tasks.front().enqueued);
    }
    return oldest;
  }

  FlowIt DropFlow(FlowIt flow) {
    index_.erase(flow->key);
    return ring_.erase(flow);
  }

  void Uncount(uint64_t client) {
    auto it = per_client_.find(client);
    if (it == per_client_.end()) return;
    if (--it->second == 0) per_client_.erase(it);
    --size_;
  }

  BatchingOptions options_;
  std::list<Flow> ring_;  // front: the flow whose turn it is to anchor a batch
  std::unordered_map<uint64_t, FlowIt> index_;
  std::unordered_map<uint64_t, size_t> per_client_;
  size_t size_ = 0;
};

template <typename TaskT>
void BatchQueue<TaskT>::TakeBatch(TaskList* batch) {
  const size_t limit = static_cast<size_t>(std::max(1, options_.max_batch_size));
  const FlowIt anchor_flow = ring_.begin();
  const TaskIt anchor = anchor_flow->tasks.begin();
  const int64_t anchor_length = anchor->task->length();

  // Each flow's candidates, in the order its rounds offer them: by closeness
  // to the anchor's length (ties keep arrival order), or arrival order.
  struct Offer {
    FlowIt flow;
    std::vector<TaskIt> candidates;
    size_t next = 0;
  };
  std::vector<Offer> offers;
  offers.reserve(ring_.size());
  for (FlowIt flow = ring_.begin(); flow != ring_.end(); ++flow) {
    Offer offer{flow, {}, 0};
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
    offers.push_back(std::move(offer));
  }

  std::vector<std::pair<FlowIt, TaskIt>> chosen = {{anchor_flow, anchor}};
  int64_t shortest = anchor_length;
  int64_t longest = anchor_length;
  // The anchor is its flow's task of the first round.
  for (size_t round = 0; chosen.size() < limit; ++round) {
    bool added = false;
    for (size_t f = round == 0 ? 1 : 0; f < offers.size() && chosen.size() < limit; ++f) {
      Offer& offer = offers[f];
      while (offer.next < offer.candidates.size()) {
        const TaskIt it = offer.candidates[offer.next++];
        const int64_t length = it->task->length();
        const int64_t new_shortest = std::min(shortest, length);
        const int64_t new_longest = std::max(longest, length);
        if (options_.group_by_length &&
            static_cast<double>(new_longest - new_shortest) >
                options_.max_padding_fraction * static_cast<double>(new_longest)) {
          continue;  // too far from the batch's lengths: waits for a batch of its own
        }
        chosen.emplace_back(offer.flow, it);
        shortest = new_shortest;
        longest = new_longest;
        added = true;
        break;
      }
    }
    if (!added && round > 0) break;  // (round 0 leaves out the anchor's flow)
  }

  for (const auto& [flow, it] : chosen) {
    Uncount(it->task->client());
    batch->push_back(std::move(*it));
    flow->tasks.erase(it);
  }
  // The anchor's flow has had its turn; flows left empty leave the ring.
  if (!anchor_flow->tasks.empty()) ring_.splice(ring_.end(), ring_, anchor_flow);
  for (FlowIt flow = ring_.begin(); flow != ring_.end();) {
    flow = flow->tasks.empty() ? DropFlow(flow) : std::next(flow);
  }
}

}  // namespace attnserve::server

#endif  // ATTNSERVE_SERVER_BATCHING_BATCH_QUEUE_H_
