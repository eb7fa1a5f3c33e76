// Batcher: the dynamic batcher of one model version. Tasks wait in a bounded
// BatchQueue (see batch_queue.h for the policy); `workers` threads each own a
// BatchExecutor and pull the next due batch when free, so batches grow with
// load and never wait for a busy worker.
//
// Latency bound: with a free worker, a task waits at most max_queue_delay
// before its batch starts (less when max_batch_size tasks are queued).
//
// Contract:
// - Schedule() takes ownership of *task only when it returns OK; on
//   UNAVAILABLE (queue full, or stopping) the caller still owns and answers it.
// - Every accepted task's `done` runs exactly once: with the result; with
//   DEADLINE_EXCEEDED if its deadline passed while queued (never computed);
//   with CANCELLED if cancelled while queued; with UNAVAILABLE if Stop()'s
//   grace period ran out before it started. A batch that started always
//   finishes.
// - Stop(grace) stops accepting, runs what is queued without waiting for
//   fuller batches, answers what is left after `grace`, and joins the workers.
//   Drain(grace) does the same without waiting (the first call's grace
//   counts). Both are idempotent; the destructor calls Stop(0).
// Thread-safety: all methods are safe from any thread; `done` callbacks run on
// worker threads, outside the batcher's lock.
#ifndef ATTNSERVE_SERVER_BATCHING_BATCHER_H_
#define ATTNSERVE_SERVER_BATCHING_BATCHER_H_

#include <condition_variable>
#include <cstddef>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "server/batching/batch_executor.h"
#include "server/batching/batch_queue.h"
#include "server/batching/batch_task.h"
#include "server/batching/clock.h"

namespace attnserve::server {

// Observes the batcher; called on worker threads outside the lock, except
// OnQueueDepth, which runs under the batcher's lock (so successive depths are
// never reordered) and must only record the value. Default: no-op.
class BatcherObserver {
 public:
  virtual ~BatcherObserver() = default;
  virtual void OnBatch(int64_t /*size*/, int64_t /*steps_requested*/,
                       int64_t /*steps_computed*/, int64_t /*compute_us*/) {}
  virtual void OnDropped(absl::StatusCode /*code*/, int64_t /*count*/) {}
  virtual void OnQueueWait(int64_t /*queue_us*/) {}
  virtual void OnQueueDepth(size_t /*depth*/) {}
};

class Batcher {
 public:
  Batcher(const BatchingOptions& options, int workers, ExecutorFactory factory, Clock* clock,
          BatcherObserver* observer = nullptr);
  ~Batcher();
  Batcher(const Batcher&) = delete;
  Batcher& operator=(const Batcher&) = delete;

  absl::Status Schedule(std::unique_ptr<BatchTask>* task);
  // Makes the workers re-check the queue now (e.g. after a task was cancelled).
  void Wake();
  void Drain(Clock::Duration grace);
  void Stop(Clock::Duration grace);

  size_t queue_depth() const;
  // True once Drain() or Stop() has been called.
  bool stopping() const;

 private:
  void WorkerLoop(int index, ExecutorFactory factory);
  void RunBatch(BatchExecutor& executor, BatchQueue::TaskList& batch, engine::BatchOutput& out,
                std::vector<engine::SequenceView>& views);
  void Answer(BatchQueue::TaskList& tasks, const absl::Status& status);

  Clock* const clock_;
  BatcherObserver* const observer_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  BatchQueue queue_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  Clock::TimePoint drain_deadline_ ABSL_GUARDED_BY(mu_) = Clock::TimePoint::max();
  std::mutex stop_mu_;  // serialises Stop() callers
  std::vector<std::thread> workers_;
};

}  // namespace attnserve::server

#endif  // ATTNSERVE_SERVER_BATCHING_BATCHER_H_
