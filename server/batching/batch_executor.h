// BatchExecutor: what a batcher worker runs a batch with. Each worker builds
// its own from the ExecutorFactory, on its own thread, before it takes its
// first batch (so an executor may warm up there), and uses it from that thread
// only. The serving layer's executor runs an engine session
// (server/serving/session_executor.h); tests use fakes.
#ifndef ATTNSERVE_SERVER_BATCHING_BATCH_EXECUTOR_H_
#define ATTNSERVE_SERVER_BATCHING_BATCH_EXECUTOR_H_

#include <functional>
#include <memory>

#include "absl/types/span.h"
#include "server/batching/clock.h"
#include "server/batching/queued_task.h"

namespace attnserve::server {

template <typename TaskT>
class BatchExecutor {
 public:
  virtual ~BatchExecutor() = default;
  // Runs one batch and answers every task in it, each exactly once (with its
  // result, or with the batch's failure). `start` is when the batch left the
  // queue: a task's queue wait is start - enqueued.
  virtual void Run(absl::Span<QueuedTask<TaskT>> batch, Clock::TimePoint start) = 0;
};

// Called once per worker, on the worker's own thread.
template <typename TaskT>
using ExecutorFactory = std::function<std::unique_ptr<BatchExecutor<TaskT>>(int worker)>;

}  // namespace attnserve::server

#endif  // ATTNSERVE_SERVER_BATCHING_BATCH_EXECUTOR_H_
