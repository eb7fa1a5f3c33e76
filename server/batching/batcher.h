// Batcher<TaskT>: the dynamic batcher of one model version, generic over the
// task it batches (queued_task.h lists what a TaskT provides). Tasks wait in a
// bounded BatchQueue (batch_queue.h: the policy); `workers` threads each own a
// BatchExecutor and pull the next due batch when free, so batches grow with
// load and never wait for a busy worker.
//
// Latency bound: with a free worker, a task waits at most max_queue_delay
// before its batch starts (less when max_batch_size tasks are queued).
//
// Contract:
// - Schedule() admits a group of tasks (of one client: the first task's
//   client() counts for all) all together or not at all: it takes ownership
//   of every task only when it returns OK; on UNAVAILABLE the caller still
//   owns and answers all of them, and `refusal` says why: the batcher is
//   stopping, the group does not fit in the queue, the client would have more
//   than max_queued_per_client tasks waiting, or the group's estimated wait
//   exceeds max_queue_wait. SchedulingCapacity() is the room left.
// - The estimated wait of a group (until it starts running) is the batches
//   ahead of it (BatchQueue::AheadOf() tasks, in batches of max_batch_size)
//   times the measured run time of a batch (a moving average over the last
//   batches), divided by the workers. Counting whole batches keeps the
//   estimate stable: when admission keeps the queue short, batches are small
//   and quick, so the estimate falls and more is admitted (a cost per task
//   would rise instead, as small batches cost more per task, and shrink the
//   queue further). Before the first batch the run time is unknown, and with
//   nothing ahead the wait is none: such groups are never refused for their
//   wait (so a stale estimate cannot refuse everything).
//   The estimate is calibrated against what happens: each admitted group's
//   estimate is kept with its first task, and when that task's batch starts
//   the ratio of its real wait to the estimate feeds a moving correction
//   factor (between 0.5 and 20) applied to later estimates. Length grouping
//   forms batches smaller than max_batch_size, and a loaded machine runs them
//   slower than measured alone: the factor absorbs both.
// - Every admitted task is answered exactly once: by the executor that ran it;
//   or through TaskT::Fail with DEADLINE_EXCEEDED if its deadline passed while
//   queued (never run), CANCELLED if it was cancelled while queued (Wake()
//   makes the workers notice at once), UNAVAILABLE if Stop()'s grace period
//   ran out before it started. A batch that started always finishes.
// - WaitUntilStarted() returns once every worker has built its executor (and
//   so has warmed up, if its executor does).
// - Drain(grace) stops admitting, runs what is queued without waiting for
//   fuller batches and answers what is left after `grace`; Stop(grace) does
//   the same and joins the workers. Both are idempotent (the first call's
//   grace counts); the destructor calls Stop(0). Stop() and the destructor
//   must not run on one of this batcher's workers (a worker cannot join
//   itself): the serving layer destroys batchers on a thread of its own.
// Thread-safety: all methods are safe from any thread; executors and
// TaskT::Fail run on worker threads, outside the batcher's lock.
#ifndef ATTNSERVE_SERVER_BATCHING_BATCHER_H_
#define ATTNSERVE_SERVER_BATCHING_BATCHER_H_

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/types/span.h"
#include "server/batching/batch_executor.h"
#include "server/batching/batch_queue.h"
#include "server/batching/batcher_observer.h"
#include "server/batching/batching_options.h"
#include "server/batching/clock.h"
#include "server/batching/schedule_refusal.h"

namespace attnserve::server {

template <typename TaskT>
class Batcher {
 public:
  // `clock` must outlive the batcher; `observer` may be null, else it too.
  Batcher(const BatchingOptions& options, int workers, ExecutorFactory<TaskT> factory,
          Clock* clock, BatcherObserver* observer = nullptr);
  ~Batcher() { Stop(Clock::Duration::zero()); }
  Batcher(const Batcher&) = delete;
  Batcher& operator=(const Batcher&) = delete;

  // All of `*tasks` or none of them; on OK `*tasks` is left empty. `refusal`
  // (may be null) says why a group was refused (kNone when admitted).
  absl::Status Schedule(std::vector<std::unique_ptr<TaskT>>* tasks,
                        ScheduleRefusal* refusal = nullptr) ABSL_LOCKS_EXCLUDED(mu_);
  // One task; on OK `*task` is null.
  absl::Status Schedule(std::unique_ptr<TaskT>* task) ABSL_LOCKS_EXCLUDED(mu_);

  // Tasks that would be admitted now (0 while stopping).
  size_t SchedulingCapacity() const ABSL_LOCKS_EXCLUDED(mu_);
  size_t NumEnqueuedTasks() const ABSL_LOCKS_EXCLUDED(mu_);
  // The measured run time of a batch (a moving average; zero before the
  // first batch).
  Clock::Duration BatchTime() const ABSL_LOCKS_EXCLUDED(mu_);
  // The factor estimated waits are multiplied by (1 until calibrated).
  double WaitCorrection() const ABSL_LOCKS_EXCLUDED(mu_);
  const BatchingOptions& options() const { return options_; }

  void WaitUntilStarted() ABSL_LOCKS_EXCLUDED(mu_);
  // Makes the workers re-check the queue now (e.g. after a task was cancelled).
  void Wake() ABSL_LOCKS_EXCLUDED(mu_);
  void Drain(Clock::Duration grace) ABSL_LOCKS_EXCLUDED(mu_);
  void Stop(Clock::Duration grace) ABSL_LOCKS_EXCLUDED(mu_, stop_mu_);
  // True once Drain() or Stop() has been called.
  bool stopping() const ABSL_LOCKS_EXCLUDED(mu_);

 private:
  using TaskList = typename BatchQueue<TaskT>::TaskList;
  static constexpr double kMinCorrection = 0.5;
  static constexpr double kMaxCorrection = 20;

  void WorkerLoop(int index, ExecutorFactory<TaskT> factory) ABSL_LOCKS_EXCLUDED(mu_);
  void Answer(TaskList& tasks, const absl::Status& status) ABSL_LOCKS_EXCLUDED(mu_);
  bool AllStarted() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return started_ == worker_count_; }

  const BatchingOptions options_;
  const int worker_count_;
  Clock* const clock_;
  BatcherObserver* const observer_;
  mutable absl::Mutex mu_;
  absl::CondVar cv_;  // a task arrived, the batcher is stopping, or a worker left
  BatchQueue<TaskT> queue_ ABSL_GUARDED_BY(mu_);
  int started_ ABSL_GUARDED_BY(mu_) = 0;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  double batch_time_ns_ ABSL_GUARDED_BY(mu_) = 0;  // moving average
  double wait_correction_ ABSL_GUARDED_BY(mu_) = 1;  // real / estimated waits, moving
  Clock::TimePoint drain_deadline_ ABSL_GUARDED_BY(mu_) = Clock::TimePoint::max();
  absl::Mutex stop_mu_;  // serialises Stop() callers
  std::vector<std::thread> workers_ ABSL_GUARDED_BY(stop_mu_);
};

namespace batcher_internal {
inline int64_t Micros(Clock::Duration d) {
  return std::chrono::duration_cast<std::chrono::microseconds>(d).count();
}
}  // namespace batcher_internal

template <typename TaskT>
Batcher<TaskT>::Batcher(const BatchingOptions& options, int workers,
                        ExecutorFactory<TaskT> factory, Clock* clock, BatcherObserver* observer)
    : options_(options),
      worker_count_(std::max(1, workers)),
      clock_(clock),
      observer_(observer),
      queue_(options) {
  absl::MutexLock lock(&stop_mu_);
  for (int i = 0; i < worker_count_; ++i) {
    workers_.emplace_back(&Batcher::WorkerLoop, this, i, factory);
  }
}

template <typename TaskT>
absl::Status Batcher<TaskT>::Schedule(std::vector<std::unique_ptr<TaskT>>* tasks,
                                      ScheduleRefusal* refusal) {
  ScheduleRefusal ignored;
  if (refusal == nullptr) refusal = &ignored;
  *refusal = ScheduleRefusal::kNone;
  if (tasks->empty()) return absl::OkStatus();
  const size_t count = tasks->size();
  const uint64_t client = tasks->front()->client();
  {
    absl::MutexLock lock(&mu_);
    if (stopping_) {
      *refusal = ScheduleRefusal::kStopping;
      return absl::UnavailableError("the server is shutting down");
    }
    const size_t per_client = static_cast<size_t>(std::max(0, options_.max_queued_per_client));
    const size_t mine = queue_.QueuedFor(client);
    if (per_client > 0 && mine + count > per_client) {
      *refusal = ScheduleRefusal::kClientLimit;
      return absl::UnavailableError(absl::StrCat(
          "this client already has ", mine, " sequences waiting and asked for ", count,
          " more; at most ", per_client, " may wait per client; retry later"));
    }
    if (!queue_.Fits(count)) {
      *refusal = ScheduleRefusal::kQueueFull;
      return absl::UnavailableError(absl::StrCat(
          "the model's queue is full (", queue_.size(), " waiting", count > 1 ? ", " : "",
          count > 1 ? absl::StrCat(count, " more asked") : "", "); retry later"));
    }
    double raw_wait_ns = 0;  // the uncorrected estimate, kept for calibration
    if (options_.max_queue_wait > Clock::Duration::zero() && batch_time_ns_ > 0) {
      const size_t batch = static_cast<size_t>(std::max(1, options_.max_batch_size));
      const size_t batches_ahead = (queue_.AheadOf(client) + batch - 1) / batch;
      raw_wait_ns = static_cast<double>(batches_ahead) * batch_time_ns_ /
                    static_cast<double>(worker_count_);
      const double wait_ns = raw_wait_ns * wait_correction_;
      const double bound_ns =
          static_cast<double>(std::chrono::nanoseconds(options_.max_queue_wait).count());
      if (wait_ns > bound_ns) {
        *refusal = ScheduleRefusal::kQueueWait;
        return absl::UnavailableError(absl::StrCat(
            "the model is overloaded: the request would wait about ",
            static_cast<int64_t>(wait_ns / 1e6), " ms to start, more than the queue's bound of ",
            static_cast<int64_t>(bound_ns / 1e6), " ms; retry later"));
      }
    }
    const Clock::TimePoint now = clock_->Now();
    Clock::Duration estimate = std::chrono::duration_cast<Clock::Duration>(
        std::chrono::duration<double, std::nano>(raw_wait_ns));
    for (std::unique_ptr<TaskT>& task : *tasks) {
      queue_.Push(std::move(task), now, estimate);
      estimate = Clock::Duration::zero();  // the group's first task carries it
    }
    tasks->clear();
    if (observer_ != nullptr) observer_->OnQueueDepth(queue_.size());
  }
  if (count > 1) {
    cv_.SignalAll();  // enough for several batches, perhaps
  } else {
    cv_.Signal();
  }
  return absl::OkStatus();
}

template <typename TaskT>
absl::Status Batcher<TaskT>::Schedule(std::unique_ptr<TaskT>* task) {
  std::vector<std::unique_ptr<TaskT>> one;
  one.push_back(std::move(*task));
  absl::Status status = Schedule(&one);
  if (!status.ok()) *task = std::move(one.front());
  return status;
}

template <typename TaskT>
size_t Batcher<TaskT>::SchedulingCapacity() const {
  absl::MutexLock lock(&mu_);
  return stopping_ ? 0 : queue_.capacity();
}

template <typename TaskT>
size_t Batcher<TaskT>::NumEnqueuedTasks() const {
  absl::MutexLock lock(&mu_);
  return queue_.size();
}

template <typename TaskT>
Clock::Duration Batcher<TaskT>::BatchTime() const {
  absl::MutexLock lock(&mu_);
  return std::chrono::duration_cast<Clock::Duration>(
      std::chrono::duration<double, std::nano>(batch_time_ns_));
}

template <typename TaskT>
double Batcher<TaskT>::WaitCorrection() const {
  absl::MutexLock lock(&mu_);
  return wait_correction_;
}

template <typename TaskT>
void Batcher<TaskT>::WaitUntilStarted() {
  absl::MutexLock lock(&mu_);
  mu_.Await(absl::Condition(this, &Batcher::AllStarted));
}

template <typename TaskT>
void Batcher<TaskT>::Wake() {
  { absl::MutexLock lock(&mu_); }  // a worker is either before its check or waiting
  cv_.SignalAll();
}

template <typename TaskT>
void Batcher<TaskT>::Drain(Clock::Duration grace) {
  {
    absl::MutexLock lock(&mu_);
    if (stopping_) return;
    stopping_ = true;
    drain_deadline_ = clock_->Now() + grace;
  }
  cv_.SignalAll();
}

template <typename TaskT>
void Batcher<TaskT>::Stop(Clock::Duration grace) {
  Drain(grace);
  absl::MutexLock stop_lock(&stop_mu_);
  for (std::thread& worker : workers_) {
    if (!worker.joinable()) continue;
    if (worker.get_id() == std::this_thread::get_id()) {
      std::fprintf(stderr, "attnserve: a batcher was stopped from its own worker thread\n");
      std::abort();
    }
    worker.join();
  }
}

template <typename TaskT>
bool Batcher<TaskT>::stopping() const {
  absl::MutexLock lock(&mu_);
  return stopping_;
}

template <typename TaskT>
void Batcher<TaskT>::Answer(TaskList& tasks, const absl::Status& status) {
  if (tasks.empty()) return;
  if (observer_ != nullptr) observer_->OnDropped(status.code(), static_cast<int64_t>(tasks.size()));
  for (QueuedTask<TaskT>& entry : tasks) entry.task->Fail(status);
  tasks.clear();
}

template <typename TaskT>
void Batcher<TaskT>::WorkerLoop(int index, ExecutorFactory<TaskT> factory) {
  std::unique_ptr<BatchExecutor<TaskT>> executor = factory(index);
  TaskList batch, expired, cancelled, refused;
  mu_.Lock();
  ++started_;
  while (true) {
    const Clock::TimePoint now = clock_->Now();
    queue_.RemoveDead(now, &expired, &cancelled);
    if (stopping_ && now >= drain_deadline_) queue_.TakeAll(&refused);
    if (queue_.Due(now, stopping_)) {
      queue_.TakeBatch(&batch);
      // Calibrate the wait estimate on the groups whose first task starts now.
      for (const QueuedTask<TaskT>& entry : batch) {
        if (entry.estimated_wait <= Clock::Duration::zero()) continue;
        const double ratio =
            std::chrono::duration<double>(now - entry.enqueued).count() /
            std::chrono::duration<double>(entry.estimated_wait).count();
        wait_correction_ =
            std::clamp(0.9 * wait_correction_ + 0.1 * ratio, kMinCorrection, kMaxCorrection);
      }
    }
    if (!batch.empty() || !expired.empty() || !cancelled.empty() || !refused.empty()) {
      // Under the lock, so the gauge always ends at the latest depth.
      if (observer_ != nullptr) observer_->OnQueueDepth(queue_.size());
      mu_.Unlock();
      Answer(expired,
             absl::DeadlineExceededError("the deadline passed while the request waited in the queue"));
      Answer(cancelled, absl::CancelledError("the call was cancelled"));
      Answer(refused, absl::UnavailableError("the server shut down before the request could run"));
      if (!batch.empty()) {
        const Clock::TimePoint start = clock_->Now();
        if (observer_ != nullptr) {
          for (const QueuedTask<TaskT>& entry : batch) {
            observer_->OnQueueWait(batcher_internal::Micros(start - entry.enqueued));
          }
        }
        executor->Run(absl::MakeSpan(batch), start);
        const double run_ns =
            static_cast<double>(std::chrono::nanoseconds(clock_->Now() - start).count());
        batch.clear();
        mu_.Lock();
        // A moving average over the last few batches: what admission
        // estimates waits with.
        batch_time_ns_ = batch_time_ns_ == 0 ? run_ns : 0.8 * batch_time_ns_ + 0.2 * run_ns;
        continue;
      }
      mu_.Lock();
      continue;
    }
    if (stopping_ && queue_.empty()) break;
    Clock::TimePoint wake = queue_.NextWakeup();
    if (stopping_) wake = std::min(wake, drain_deadline_);
    if (wake == Clock::TimePoint::max()) {
      cv_.Wait(&mu_);
    } else {
      clock_->WaitUntil(&cv_, &mu_, wake);
    }
  }
  mu_.Unlock();
  cv_.SignalAll();  // let the other workers see the empty queue too
}

}  // namespace attnserve::server

#endif  // ATTNSERVE_SERVER_BATCHING_BATCHER_H_
