// SessionExecutor: the BatchExecutor of a served model version: an
// engine::Session owned by one batcher worker, warmed up on that worker's
// thread before it takes its first batch, reporting its plan cache to the
// version's PlanCacheCounters after every batch.
//
// Contract: the constructor warms `warmup` shapes (Session::Warm); a shape
// that fails to warm is reported by warmup_status() and does not stop the
// worker (the batch that needs it builds it). Ownership: keeps the Model and
// the counters alive. Thread-safety: used by one worker thread only.
#ifndef ATTNSERVE_SERVER_SERVING_SESSION_EXECUTOR_H_
#define ATTNSERVE_SERVER_SERVING_SESSION_EXECUTOR_H_

#include <memory>
#include <vector>

#include "absl/status/status.h"
#include "engine/model.h"
#include "engine/session.h"
#include "server/batching/batch_executor.h"
#include "server/observability/plan_cache_counters.h"

namespace attnserve::server {

class SessionExecutor : public BatchExecutor {
 public:
  // `counters` may be null.
  SessionExecutor(std::shared_ptr<const engine::Model> model, const engine::SessionOptions& options,
                  const std::vector<engine::BatchShape>& warmup,
                  std::shared_ptr<PlanCacheCounters> counters);
  ~SessionExecutor() override;

  absl::Status Run(absl::Span<const engine::SequenceView> batch,
                   engine::BatchOutput* out) override;

  const absl::Status& warmup_status() const { return warmup_status_; }

 private:
  void Report();

  engine::Session session_;
  std::shared_ptr<PlanCacheCounters> counters_;
  engine::SessionStats reported_;  // what counters_ has seen of this session
  absl::Status warmup_status_;
};

}  // namespace attnserve::server

#endif  // ATTNSERVE_SERVER_SERVING_SESSION_EXECUTOR_H_
