// BatchMetrics: a BatcherObserver that records a model version's batching in
// its Prometheus handles (batch size, compute time, timesteps requested and
// computed, queue wait and depth, sequences dropped by reason).
// Thread-safety: called from batcher threads; handles are thread-safe.
#ifndef ATTNSERVE_SERVER_OBSERVABILITY_BATCH_METRICS_H_
#define ATTNSERVE_SERVER_OBSERVABILITY_BATCH_METRICS_H_

#include "server/batching/batcher.h"
#include "server/observability/metrics.h"

namespace attnserve::server {

class BatchMetrics : public BatcherObserver {
 public:
  explicit BatchMetrics(const ModelMetrics* metrics) : m_(metrics) {}

  void OnBatch(int64_t size, int64_t steps_requested, int64_t steps_computed,
               int64_t compute_us) override;
  void OnDropped(absl::StatusCode code, int64_t count) override;
  void OnQueueWait(int64_t queue_us) override;
  void OnQueueDepth(size_t depth) override;

 private:
  const ModelMetrics* const m_;
};

}  // namespace attnserve::server

#endif  // ATTNSERVE_SERVER_OBSERVABILITY_BATCH_METRICS_H_
