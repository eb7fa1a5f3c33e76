// SessionExecutor: see session_executor.h.
#include "server/serving/session_executor.h"

#include <algorithm>
#include <chrono>
#include <utility>

namespace attnserve::server {
namespace {

int64_t Micros(Clock::Duration d) {
  return std::chrono::duration_cast<std::chrono::microseconds>(d).count();
}

}  // namespace

SessionExecutor::SessionExecutor(std::shared_ptr<const engine::Model> model,
                                 const engine::SessionOptions& options,
                                 const std::vector<engine::BatchShape>& warmup,
                                 std::shared_ptr<PlanCacheCounters> counters, Clock* clock,
                                 BatchMetrics* metrics, const AttentionSeries* attention)
    : session_(std::move(model), options),
      counters_(std::move(counters)),
      clock_(clock),
      metrics_(metrics),
      attention_(attention != nullptr ? std::make_unique<AttentionRecorder>(attention) : nullptr) {
  warmup_status_ = session_.Warm(warmup);
  Report();
}

SessionExecutor::~SessionExecutor() {
  // The plans go with the session: they no longer hold memory.
  if (counters_ != nullptr) {
    counters_->bytes.fetch_sub(reported_.plan_bytes, std::memory_order_relaxed);
  }
}

void SessionExecutor::Run(absl::Span<QueuedTask<SequenceTask>> batch, Clock::TimePoint start) {
  views_.clear();
  int64_t requested = 0;
  for (const QueuedTask<SequenceTask>& entry : batch) {
    const int steps = static_cast<int>(entry.task->steps);
    views_.push_back(entry.task->ids != nullptr
                         ? engine::SequenceView::Ids(entry.task->ids, steps)
                         : engine::SequenceView{entry.task->values, steps});
    requested += entry.task->steps;
  }
  const absl::Status status = session_.Run(views_, &out_);
  const Clock::TimePoint end = clock_->Now();
  Report();
  const int64_t size = static_cast<int64_t>(batch.size());
  if (metrics_ != nullptr && status.ok()) {
    // Inert rows the engine added to bucket the batch are computed too; the
    // engine reports the LSTM timesteps it computed (else: the padded shape).
    const int64_t rows = std::max(out_.padded_rows, size);
    const int64_t computed =
        out_.steps_computed > 0 ? out_.steps_computed : out_.padded_steps * rows;
    metrics_->OnBatch(size, requested, computed, Micros(end - start));
  }
  SequenceTiming timing;
  timing.compute_us = Micros(end - start);
  timing.batch_size = size;
  for (int64_t row = 0; row < size; ++row) {
    SequenceTask& task = *batch[static_cast<size_t>(row)].task;
    if (!status.ok()) {
      task.Fail(status);
      continue;
    }
    timing.queue_us = Micros(start - batch[static_cast<size_t>(row)].enqueued);
    task.Complete(SequenceResult(out_, row, timing));
  }
  // After the answers: the summaries cost the callers no latency. out_ stays
  // valid until the next batch.
  if (attention_ != nullptr && status.ok()) attention_->Record(out_, size);
}

void SessionExecutor::Report() {
  if (counters_ == nullptr) return;
  const engine::SessionStats& now = session_.stats();
  counters_->AddDelta(reported_, now);
  reported_ = now;
}

}  // namespace attnserve::server
