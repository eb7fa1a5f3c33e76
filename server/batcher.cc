#include "server/batcher.h"

#include <algorithm>
#include <chrono>

#include "absl/strings/str_cat.h"
#include "engine/shape_policy.h"

namespace attnserve::server {
namespace {

int64_t Micros(Clock::Duration d) {
  return std::chrono::duration_cast<std::chrono::microseconds>(d).count();
}

}  // namespace

Batcher::Batcher(const BatchingOptions& options, int workers, ExecutorFactory factory,
                 Clock* clock, BatcherObserver* observer)
    : clock_(clock), observer_(observer), queue_(options) {
  for (int i = 0; i < std::max(1, workers); ++i) {
    workers_.emplace_back(&Batcher::WorkerLoop, this, i, factory);
  }
}

Batcher::~Batcher() { Stop(Clock::Duration::zero()); }

absl::Status Batcher::Schedule(std::unique_ptr<BatchTask>* task) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return absl::UnavailableError("the server is shutting down");
    if (queue_.full()) {
      return absl::UnavailableError(
          absl::StrCat("the model's queue is full (", queue_.size(), " waiting); retry later"));
    }
    (*task)->enqueued = clock_->Now();
    queue_.Push(std::move(*task));
    if (observer_ != nullptr) observer_->OnQueueDepth(queue_.size());
  }
  cv_.notify_one();
  return absl::OkStatus();
}

void Batcher::Wake() {
  { std::lock_guard<std::mutex> lock(mu_); }  // a worker is either before its check or waiting
  cv_.notify_all();
}

void Batcher::Drain(Clock::Duration grace) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return;
    stopping_ = true;
    drain_deadline_ = clock_->Now() + grace;
  }
  cv_.notify_all();
}

void Batcher::Stop(Clock::Duration grace) {
  Drain(grace);
  std::lock_guard<std::mutex> stop_lock(stop_mu_);
  for (std::thread& worker : workers_) {
    if (worker.joinable()) worker.join();
  }
}

bool Batcher::stopping() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stopping_;
}

size_t Batcher::queue_depth() const {
  std::lock_guard<std::mutex> lock(mu_);
  return queue_.size();
}

void Batcher::Answer(BatchQueue::TaskList& tasks, const absl::Status& status) {
  if (tasks.empty()) return;
  if (observer_ != nullptr) observer_->OnDropped(status.code(), static_cast<int64_t>(tasks.size()));
  TaskResult result;
  result.status = status;
  for (auto& task : tasks) task->done(result);
  tasks.clear();
}

void Batcher::RunBatch(BatchExecutor& executor, BatchQueue::TaskList& batch,
                       engine::BatchOutput& out, std::vector<engine::SequenceView>& views) {
  views.clear();
  int64_t requested = 0;
  int64_t longest = 0;
  for (const auto& task : batch) {
    views.push_back(task->ids.empty()
                        ? engine::SequenceView{task->values.data(), task->length}
                        : engine::SequenceView::Ids(task->ids.data(), task->length));
    requested += task->length;
    longest = std::max<int64_t>(longest, task->length);
  }
  const Clock::TimePoint start = clock_->Now();
  const absl::Status status = executor.Run(views, &out);
  const Clock::TimePoint end = clock_->Now();
  const int64_t size = static_cast<int64_t>(batch.size());
  if (observer_ != nullptr && status.ok()) {
    // Inert rows the engine added to bucket the batch are computed too; the
    // engine reports the LSTM timesteps it computed (executors that do not:
    // the padded shape).
    const int64_t rows = std::max(out.padded_rows, size);
    const int64_t computed = out.steps_computed > 0 ? out.steps_computed : out.padded_steps * rows;
    observer_->OnBatch(size, requested, computed, Micros(end - start));
  }
  TaskResult result;
  result.status = status;
  result.output = status.ok() ? &out : nullptr;
  result.timing.compute_us = Micros(end - start);
  result.timing.batch_size = size;
  for (int64_t row = 0; row < size; ++row) {
    result.row = row;
    result.timing.queue_us = Micros(start - batch[row]->enqueued);
    if (observer_ != nullptr) observer_->OnQueueWait(result.timing.queue_us);
    batch[row]->done(result);
  }
  batch.clear();
}

void Batcher::WorkerLoop(int index, ExecutorFactory factory) {
  std::unique_ptr<BatchExecutor> executor = factory(index);
  engine::BatchOutput out;
  std::vector<engine::SequenceView> views;
  BatchQueue::TaskList batch, expired, cancelled, refused;
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    const Clock::TimePoint now = clock_->Now();
    queue_.RemoveDead(now, &expired, &cancelled);
    if (stopping_ && now >= drain_deadline_) queue_.TakeAll(&refused);
    if (queue_.Due(now, stopping_)) queue_.TakeBatch(&batch);
    if (!batch.empty() || !expired.empty() || !cancelled.empty() || !refused.empty()) {
      // Under the lock, so the gauge always ends at the latest depth.
      if (observer_ != nullptr) observer_->OnQueueDepth(queue_.size());
      lock.unlock();
      Answer(expired, absl::DeadlineExceededError(
                          "the deadline passed while the request waited in the queue"));
      Answer(cancelled, absl::CancelledError("the call was cancelled"));
      Answer(refused, absl::UnavailableError(
                          "the server shut down before the request could run"));
      if (!batch.empty()) RunBatch(*executor, batch, out, views);
      lock.lock();
      continue;
    }
    if (stopping_ && queue_.empty()) break;
    Clock::TimePoint wake = queue_.NextWakeup();
    if (stopping_) wake = std::min(wake, drain_deadline_);
    if (wake == Clock::TimePoint::max()) {
      cv_.wait(lock);
    } else {
      clock_->WaitUntil(cv_, lock, wake);
    }
  }
  lock.unlock();
  cv_.notify_all();  // let the other workers see the empty queue too
}

}  // namespace attnserve::server
