// BatchMetrics: records a model version's batching in its Prometheus handles:
// queue wait and depth and sequences dropped by reason (as the Batcher's
// BatcherObserver), and each batch run (size, compute time, timesteps
// requested and computed; from the serving layer's executor).
// Ownership: keeps the version's metric handles alive. Thread-safety: called
// from batcher threads; handles are thread-safe.
#ifndef ATTNSERVE_SERVER_OBSERVABILITY_BATCH_METRICS_H_
#define ATTNSERVE_SERVER_OBSERVABILITY_BATCH_METRICS_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <utility>

#include "server/batching/batcher_observer.h"
#include "server/observability/metrics.h"

namespace attnserve::server {

class BatchMetrics : public BatcherObserver {
 public:
  explicit BatchMetrics(std::shared_ptr<const ModelMetrics> metrics) : m_(std::move(metrics)) {}

  // One batch ran: `size` sequences, `steps_requested` their own timesteps,
  // `steps_computed` the timesteps computed (padding included).
  void OnBatch(int64_t size, int64_t steps_requested, int64_t steps_computed, int64_t compute_us);

  void OnDropped(absl::StatusCode code, int64_t count) override;
  void OnQueueWait(int64_t queue_us) override;
  void OnQueueDepth(size_t depth) override;

 private:
  const std::shared_ptr<const ModelMetrics> m_;
};

}  // namespace attnserve::server

#endif  // ATTNSERVE_SERVER_OBSERVABILITY_BATCH_METRICS_H_
