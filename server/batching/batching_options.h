// BatchingOptions: the knobs of one Batcher (docs/batching.md). Plain values,
// copied into the batcher at construction; thread-safe to read.
#ifndef ATTNSERVE_SERVER_BATCHING_BATCHING_OPTIONS_H_
#define ATTNSERVE_SERVER_BATCHING_BATCHING_OPTIONS_H_

#include <chrono>

#include "server/batching/clock.h"

namespace attnserve::server {

struct BatchingOptions {
  // Most tasks in one batch.
  int max_batch_size = 32;
  // Longest time the oldest task waits for a fuller batch while a worker is
  // free: the latency bound the batcher promises (see batcher.h).
  Clock::Duration max_queue_delay = std::chrono::microseconds(0);
  // Tasks waiting at most; a group that does not fit is refused whole.
  int max_queue_size = 1024;
  // Tasks one client (TaskT::client()) may have waiting at once; a group that
  // would exceed it is refused whole. 0: no limit but max_queue_size.
  int max_queued_per_client = 0;
  // Batches shared in turn among clients (true) or formed around the oldest
  // task whoever sent it (false). See batch_queue.h.
  bool fair_queueing = true;
  // While other clients are active, the most of one batch (a fraction of
  // max_batch_size, at least one task) one client's tasks may take. 1 (or
  // 0): no cap. See batch_queue.h.
  double max_flow_batch_share = 1.0;
  // A group whose estimated wait (the cost that would run before its last
  // task under fair sharing, plus what the workers have left of their
  // batches, at the measured time per unit of cost, over the workers, times
  // the calibration factor) exceeds this is refused whole. Zero: no bound.
  Clock::Duration max_queue_wait = Clock::Duration::zero();
  // Group by length (true) or take tasks in arrival order (false).
  bool group_by_length = true;
  // Padding any member of a length-grouped batch may carry, as a fraction of
  // the batch's longest task.
  double max_padding_fraction = 0.25;
};

}  // namespace attnserve::server

#endif  // ATTNSERVE_SERVER_BATCHING_BATCHING_OPTIONS_H_
