// SessionExecutor: the BatchExecutor of a served model version: an
// engine::Session owned by one batcher worker, warmed up on that worker's
// thread before it takes its first batch, answering each task of a batch with
// its row of the output (or the batch's failure), and reporting its plan cache
// to the version's PlanCacheCounters and each batch to its BatchMetrics, and
// (after answering the batch's tasks) the summaries of the attention maps it
// returned to the version's attention histograms.
//
// Contract: the constructor warms `warmup` shapes (Session::Warm); a shape
// that fails to warm is reported by warmup_status() and does not stop the
// worker (the batch that needs it builds it). Ownership: keeps the Model and
// the counters alive; `clock`, `metrics` and `attention` (both may be null)
// must outlive it.
// Thread-safety: used by one worker thread only.
#ifndef ATTNSERVE_SERVER_SERVING_SESSION_EXECUTOR_H_
#define ATTNSERVE_SERVER_SERVING_SESSION_EXECUTOR_H_

#include <memory>
#include <vector>

#include "absl/status/status.h"
#include "engine/batch.h"
#include "engine/model.h"
#include "engine/session.h"
#include "server/batching/batch_executor.h"
#include "server/batching/clock.h"
#include "server/observability/attention_metrics.h"
#include "server/observability/batch_metrics.h"
#include "server/observability/plan_cache_counters.h"
#include "server/serving/sequence_task.h"

namespace attnserve::server {

class SessionExecutor : public BatchExecutor<SequenceTask> {
 public:
  // `counters`, `metrics` and `attention` may be null (attention: no
  // attention summaries).
  SessionExecutor(std::shared_ptr<const engine::Model> model, const engine::SessionOptions& options,
                  const std::vector<engine::BatchShape>& warmup,
                  std::shared_ptr<PlanCacheCounters> counters, Clock* clock,
                  BatchMetrics* metrics, const AttentionSeries* attention = nullptr);
  ~SessionExecutor() override;

  void Run(absl::Span<QueuedTask<SequenceTask>> batch, Clock::TimePoint start) override;

  const absl::Status& warmup_status() const { return warmup_status_; }

 private:
  void Report();

  engine::Session session_;
  std::shared_ptr<PlanCacheCounters> counters_;
  Clock* const clock_;
  BatchMetrics* const metrics_;
  engine::SessionStats reported_;  // what counters_ has seen of this session
  absl::Status warmup_status_;
  engine::BatchOutput out_;                // reused: steady-state batches allocate nothing
  std::vector<engine::SequenceView> views_;
  std::unique_ptr<AttentionRecorder> attention_;  // null: no attention summaries
};

}  // namespace attnserve::server

#endif  // ATTNSERVE_SERVER_SERVING_SESSION_EXECUTOR_H_
