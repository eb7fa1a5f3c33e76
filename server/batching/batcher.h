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
// - Precheck() answers whether a group of `count` tasks costing `cost`
//   would be refused now, without queuing anything: the same checks as
//   Schedule(), so that a caller can refuse before it has decoded a request
//   (pass the fewest tasks and the least cost the request can have: a
//   refusal then holds for any larger group, since every check grows with
//   both). Schedule() checks again.
// - The estimated wait of a group (until its last task starts) is in units
//   of cost (a task's length, batch_queue.h): the cost that runs before its
//   last task under fair sharing (BatchQueue::CostAhead: the client's own
//   waiting cost and the group's own tasks but the last, and from every other
//   flow what its turn takes meanwhile), plus what the running batches have
//   left (each batch's cost at the rate measured when it started, less the
//   time it has run), times the measured time per unit of cost, divided by
//   the workers. The time per unit of cost is the ratio of two moving
//   averages updated after every batch: its run time and its cost (the sum
//   of its tasks' lengths), so small batches' higher cost per unit shows in
//   it as they happen. Before the first batch that time is unknown, and with
//   nothing waiting ahead of it a group is not refused for its wait (so a
//   stale estimate cannot refuse everything).
//   The estimate is calibrated against what happens: every admitted task
//   keeps its own estimate (the group's first to last, interpolated), and
//   when a batch starts, the largest ratio among its tasks of real wait to
//   estimate (both plus a floor, a tenth of max_queue_wait and at least
//   1 ms, so that a few ms of scheduling delay on a tiny estimate do not
//   count as a large error) moves a correction factor (between 0.25 and 8)
//   that tracks the 95th percentile of that ratio over batches: up by
//   about 5% when the batch's worst task waited longer than estimate x
//   factor, down by 0.25% otherwise. One update per batch, not per task:
//   a stall that delays every queued task moves the factor a few steps, not
//   hundreds. Admission compares estimate x factor with max_queue_wait, so
//   about one batch in twenty holds a task that waits past it when every
//   group is admitted at the edge, and fewer otherwise. Length grouping,
//   batches that fill from newer arrivals and a machine slower under load
//   than measured all show in the factor.
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
#include <cmath>
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
  // The refusal Schedule() would answer now for `count` tasks of `client`
  // costing `cost` in all (OK: it would not refuse them), queuing nothing.
  absl::Status Precheck(uint64_t client, size_t count, int64_t cost,
                        ScheduleRefusal* refusal = nullptr) const ABSL_LOCKS_EXCLUDED(mu_);

  // Tasks that would be admitted now (0 while stopping).
  size_t SchedulingCapacity() const ABSL_LOCKS_EXCLUDED(mu_);
  size_t NumEnqueuedTasks() const ABSL_LOCKS_EXCLUDED(mu_);
  // The measured run time per unit of cost (zero before the first batch).
  double NanosPerCost() const ABSL_LOCKS_EXCLUDED(mu_);
  // The uncorrected estimate of the wait of `count` new tasks of `client`
  // costing `cost` (until the last starts); zero before the first batch.
  Clock::Duration EstimatedWait(uint64_t client, size_t count, int64_t cost) const
      ABSL_LOCKS_EXCLUDED(mu_);
  // The factor estimated waits are multiplied by (1 until calibrated).
  double WaitCorrection() const ABSL_LOCKS_EXCLUDED(mu_);
  const BatchingOptions& options() const { return options_; }

  void WaitUntilStarted() ABSL_LOCKS_EXCLUDED(mu_);
  // Returns once nothing is queued and no worker is running a batch (its
  // measurements of the last batch recorded).
  void WaitUntilIdle() ABSL_LOCKS_EXCLUDED(mu_);
  // Makes the workers re-check the queue now (e.g. after a task was cancelled).
  void Wake() ABSL_LOCKS_EXCLUDED(mu_);
  void Drain(Clock::Duration grace) ABSL_LOCKS_EXCLUDED(mu_);
  void Stop(Clock::Duration grace) ABSL_LOCKS_EXCLUDED(mu_, stop_mu_);
  // True once Drain() or Stop() has been called.
  bool stopping() const ABSL_LOCKS_EXCLUDED(mu_);

  // Calibration (see the contract above).
  static constexpr double kMinCorrection = 0.25;
  static constexpr double kMaxCorrection = 8;
  static constexpr double kCorrectionQuantile = 0.95;
  static constexpr double kCorrectionStep = 0.05;
  static constexpr Clock::Duration kCalibrationFloor = std::chrono::milliseconds(1);

 private:
  using TaskList = typename BatchQueue<TaskT>::TaskList;
  // A worker's batch in progress.
  struct Running {
    bool busy = false;
    Clock::TimePoint start{};
    double expected_ns = 0;
  };
  // Estimated waits (ns, uncorrected) of a group's first and last task.
  struct Estimate {
    double first_ns = 0;
    double last_ns = 0;
    bool anything_ahead = false;
  };

  // The refusal of a group now (OK: admitted), with its estimate.
  absl::Status Check(uint64_t client, size_t count, int64_t cost, ScheduleRefusal* refusal,
                     Estimate* estimate) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  Estimate EstimateOf(uint64_t client, size_t count, int64_t cost, Clock::TimePoint now) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Calibrate(const TaskList& batch, Clock::TimePoint now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void WorkerLoop(int index, ExecutorFactory<TaskT> factory) ABSL_LOCKS_EXCLUDED(mu_);
  void Answer(TaskList& tasks, const absl::Status& status) ABSL_LOCKS_EXCLUDED(mu_);
  bool AllStarted() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return started_ == worker_count_; }
  bool Idle() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (!queue_.empty()) return false;
    for (const Running& r : running_) {
      if (r.busy) return false;
    }
    return true;
  }
  double NanosPerCostLocked() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return batch_cost_ > 0 ? batch_ns_ / batch_cost_ : 0;
  }

  const BatchingOptions options_;
  const int worker_count_;
  Clock* const clock_;
  BatcherObserver* const observer_;
  mutable absl::Mutex mu_;
  absl::CondVar cv_;  // a task arrived, the batcher is stopping, or a worker left
  BatchQueue<TaskT> queue_ ABSL_GUARDED_BY(mu_);
  std::vector<Running> running_ ABSL_GUARDED_BY(mu_);  // per worker
  int started_ ABSL_GUARDED_BY(mu_) = 0;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  double batch_ns_ ABSL_GUARDED_BY(mu_) = 0;    // moving average of batch run times
  double batch_cost_ ABSL_GUARDED_BY(mu_) = 0;  // moving average of batch costs
  double wait_correction_ ABSL_GUARDED_BY(mu_) = 1;  // tracks real / estimated waits
  Clock::TimePoint drain_deadline_ ABSL_GUARDED_BY(mu_) = Clock::TimePoint::max();
  absl::Mutex stop_mu_;  // serialises Stop() callers
  std::vector<std::thread> workers_ ABSL_GUARDED_BY(stop_mu_);
};

namespace batcher_internal {
inline int64_t Micros(Clock::Duration d) {
  return std::chrono::duration_cast<std::chrono::microseconds>(d).count();
}
inline double Nanos(Clock::Duration d) {
  return static_cast<double>(std::chrono::nanoseconds(d).count());
}
inline Clock::Duration FromNanos(double ns) {
  return std::chrono::duration_cast<Clock::Duration>(std::chrono::duration<double, std::nano>(ns));
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
  {
    absl::MutexLock lock(&mu_);
    running_.resize(static_cast<size_t>(worker_count_));
  }
  absl::MutexLock lock(&stop_mu_);
  for (int i = 0; i < worker_count_; ++i) {
    workers_.emplace_back(&Batcher::WorkerLoop, this, i, factory);
  }
}

template <typename TaskT>
typename Batcher<TaskT>::Estimate Batcher<TaskT>::EstimateOf(uint64_t client, size_t count,
                                                             int64_t cost,
                                                             Clock::TimePoint now) const {
  Estimate estimate;
  const double per_cost = NanosPerCostLocked();
  if (per_cost <= 0 || count == 0) return estimate;
  double in_progress = 0;
  for (const Running& r : running_) {
    if (r.busy) in_progress += std::max(0.0, r.expected_ns - batcher_internal::Nanos(now - r.start));
  }
  const int64_t first_ahead = queue_.CostAhead(client, 0);
  // The last task follows the group's others: its cost but one task's.
  const int64_t own_before = cost - cost / static_cast<int64_t>(count);
  const int64_t last_ahead = queue_.CostAhead(client, own_before) - own_before;
  estimate.anything_ahead = last_ahead > 0;
  const double workers = static_cast<double>(worker_count_);
  estimate.first_ns = (in_progress + static_cast<double>(first_ahead) * per_cost) / workers;
  estimate.last_ns =
      (in_progress + static_cast<double>(last_ahead + own_before) * per_cost) / workers;
  return estimate;
}

template <typename TaskT>
absl::Status Batcher<TaskT>::Check(uint64_t client, size_t count, int64_t cost,
                                   ScheduleRefusal* refusal, Estimate* estimate) const {
  *refusal = ScheduleRefusal::kNone;
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
  *estimate = EstimateOf(client, count, cost, clock_->Now());
  if (options_.max_queue_wait > Clock::Duration::zero() && estimate->anything_ahead) {
    const double wait_ns = estimate->last_ns * wait_correction_;
    const double bound_ns = batcher_internal::Nanos(options_.max_queue_wait);
    if (wait_ns > bound_ns) {
      *refusal = ScheduleRefusal::kQueueWait;
      return absl::UnavailableError(absl::StrCat(
          "the model is overloaded: the request would wait about ",
          static_cast<int64_t>(wait_ns / 1e6), " ms to start, more than the queue's bound of ",
          static_cast<int64_t>(bound_ns / 1e6), " ms; retry later"));
    }
  }
  return absl::OkStatus();
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
  int64_t cost = 0;
  for (const std::unique_ptr<TaskT>& task : *tasks) cost += BatchQueue<TaskT>::CostOf(*task);
  {
    absl::MutexLock lock(&mu_);
    Estimate estimate;
    if (absl::Status refused = Check(client, count, cost, refusal, &estimate); !refused.ok()) {
      return refused;
    }
    const Clock::TimePoint now = clock_->Now();
    // Each task carries its own estimate, the group's first to last.
    const double step =
        count > 1 ? (estimate.last_ns - estimate.first_ns) / static_cast<double>(count - 1) : 0;
    for (size_t i = 0; i < count; ++i) {
      queue_.Push(std::move((*tasks)[i]), now,
                  batcher_internal::FromNanos(estimate.first_ns + step * static_cast<double>(i)));
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
absl::Status Batcher<TaskT>::Precheck(uint64_t client, size_t count, int64_t cost,
                                      ScheduleRefusal* refusal) const {
  ScheduleRefusal ignored;
  if (refusal == nullptr) refusal = &ignored;
  absl::MutexLock lock(&mu_);
  Estimate estimate;
  return Check(client, std::max<size_t>(1, count), std::max<int64_t>(1, cost), refusal, &estimate);
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
double Batcher<TaskT>::NanosPerCost() const {
  absl::MutexLock lock(&mu_);
  return NanosPerCostLocked();
}

template <typename TaskT>
Clock::Duration Batcher<TaskT>::EstimatedWait(uint64_t client, size_t count, int64_t cost) const {
  absl::MutexLock lock(&mu_);
  return batcher_internal::FromNanos(EstimateOf(client, count, cost, clock_->Now()).last_ns);
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
void Batcher<TaskT>::WaitUntilIdle() {
  absl::MutexLock lock(&mu_);
  mu_.Await(absl::Condition(this, &Batcher::Idle));
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
void Batcher<TaskT>::Calibrate(const TaskList& batch, Clock::TimePoint now) {
  const double floor = std::max(batcher_internal::Nanos(kCalibrationFloor),
                                batcher_internal::Nanos(options_.max_queue_wait) / 10);
  double worst = -1;
  for (const QueuedTask<TaskT>& entry : batch) {
    if (entry.estimated_wait <= Clock::Duration::zero()) continue;
    worst = std::max(worst, (batcher_internal::Nanos(now - entry.enqueued) + floor) /
                                (batcher_internal::Nanos(entry.estimated_wait) + floor));
  }
  if (worst < 0) return;
  const double step = worst > wait_correction_ ? kCorrectionStep * kCorrectionQuantile
                                               : -kCorrectionStep * (1 - kCorrectionQuantile);
  wait_correction_ = std::clamp(wait_correction_ * std::exp(step), kMinCorrection, kMaxCorrection);
}

template <typename TaskT>
void Batcher<TaskT>::WorkerLoop(int index, ExecutorFactory<TaskT> factory) {
  std::unique_ptr<BatchExecutor<TaskT>> executor = factory(index);
  TaskList batch, expired, cancelled, refused;
  mu_.Lock();
  ++started_;
  Running& running = running_[static_cast<size_t>(index)];
  while (true) {
    const Clock::TimePoint now = clock_->Now();
    queue_.RemoveDead(now, &expired, &cancelled);
    if (stopping_ && now >= drain_deadline_) queue_.TakeAll(&refused);
    int64_t batch_cost = 0;
    if (queue_.Due(now, stopping_)) {
      queue_.TakeBatch(&batch);
      Calibrate(batch, now);
      for (const QueuedTask<TaskT>& entry : batch) {
        batch_cost += BatchQueue<TaskT>::CostOf(*entry.task);
      }
      running.busy = true;
      running.start = now;
      running.expected_ns = static_cast<double>(batch_cost) * NanosPerCostLocked();
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
        const double run_ns = batcher_internal::Nanos(clock_->Now() - start);
        batch.clear();
        mu_.Lock();
        running.busy = false;
        // Moving averages over the last few batches: what admission
        // estimates waits with (their ratio is the time per unit of cost).
        const double c = static_cast<double>(batch_cost);
        if (batch_cost_ == 0) {
          batch_ns_ = run_ns;
          batch_cost_ = c;
        } else {
          batch_ns_ = 0.8 * batch_ns_ + 0.2 * run_ns;
          batch_cost_ = 0.8 * batch_cost_ + 0.2 * c;
        }
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
