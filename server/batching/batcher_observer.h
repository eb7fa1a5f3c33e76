// BatcherObserver: what a Batcher reports about its queue. Called on worker
// threads outside the batcher's lock, except OnQueueDepth, which runs under it
// (so successive depths are never reordered) and must only record the value.
// Default: no-op. Thread-safety: implementations are called concurrently.
#ifndef ATTNSERVE_SERVER_BATCHING_BATCHER_OBSERVER_H_
#define ATTNSERVE_SERVER_BATCHING_BATCHER_OBSERVER_H_

#include <cstddef>
#include <cstdint>

#include "absl/status/status.h"

namespace attnserve::server {

class BatcherObserver {
 public:
  virtual ~BatcherObserver() = default;
  // `count` queued tasks answered without running, with `code`
  // (DEADLINE_EXCEEDED, CANCELLED, UNAVAILABLE at shutdown).
  virtual void OnDropped(absl::StatusCode /*code*/, int64_t /*count*/) {}
  // A task left the queue in a batch after waiting `queue_us`.
  virtual void OnQueueWait(int64_t /*queue_us*/) {}
  virtual void OnQueueDepth(size_t /*depth*/) {}
};

}  // namespace attnserve::server

#endif  // ATTNSERVE_SERVER_BATCHING_BATCHER_OBSERVER_H_
