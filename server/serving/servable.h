// Servable: one loaded model version, ready to serve: its engine Model, the
// Batcher (with one SessionExecutor per worker) that runs it, and its metrics.
//
// Lifetime: calls hold it through a ServableHandle (a shared_ptr<const
// Servable>), so a version that is unloaded stays alive, and keeps serving
// the calls that hold it, until the last of them completes. Handles come from
// ServableReaper::Adopt, whose deleter destroys the servable on the reaper's
// thread: the last handle may drop on one of the servable's own workers.
//
// Contract: Create() starts the workers and returns once each has warmed its
// session (warmup_seconds() includes that time). The destructor stops the
// batcher (its queue is empty by then: queued tasks hold their call, which
// holds a handle), unregisters the engine metrics and releases the metric
// series. Thread-safety: const methods are safe from any thread; batcher()
// is thread-safe.
#ifndef ATTNSERVE_SERVER_SERVING_SERVABLE_H_
#define ATTNSERVE_SERVER_SERVING_SERVABLE_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "engine/batch.h"
#include "engine/model.h"
#include "server/batching/batch_executor.h"
#include "server/batching/batcher.h"
#include "server/batching/clock.h"
#include "server/observability/batch_metrics.h"
#include "server/observability/engine_collector.h"
#include "server/observability/metrics.h"
#include "server/observability/plan_cache_counters.h"
#include "server/serving/sequence_task.h"
#include "server/serving/serving_settings.h"

namespace attnserve::server {

class Servable;
using ServableHandle = std::shared_ptr<const Servable>;

class Servable {
 public:
  struct Dependencies {
    Clock* clock = nullptr;                        // never null
    std::shared_ptr<const ModelMetrics> metrics;   // null: metrics off
    EngineCollector* engine_metrics = nullptr;     // null: no engine metrics
    // What the workers run batches with; null: a SessionExecutor per worker
    // (tests run fakes).
    ExecutorFactory<SequenceTask> executor_factory;
  };

  // `warmup`: the shapes each worker's session prepares before it serves.
  // `load_seconds`, `prewarm_seconds`: what loading and the loader's own
  // warm-up took (reported with the workers' warm-up).
  static std::unique_ptr<Servable> Create(const std::string& name, int64_t version,
                                          std::shared_ptr<const engine::Model> model,
                                          const ServingSettings& settings,
                                          const std::vector<engine::BatchShape>& warmup,
                                          double load_seconds, double prewarm_seconds,
                                          const Dependencies& deps);
  ~Servable();
  Servable(const Servable&) = delete;
  Servable& operator=(const Servable&) = delete;

  const std::string& name() const { return name_; }
  int64_t version() const { return version_; }
  const engine::Model& model() const { return *model_; }
  const engine::ModelSpec& spec() const { return model_->spec(); }
  const ServingSettings& settings() const { return settings_; }
  Batcher<SequenceTask>& batcher() const { return *batcher_; }
  const ModelMetrics* metrics() const { return metrics_.get(); }  // null: metrics off
  double load_seconds() const { return load_seconds_; }
  double warmup_seconds() const { return warmup_seconds_; }

 private:
  Servable(const std::string& name, int64_t version, std::shared_ptr<const engine::Model> model,
           const ServingSettings& settings, const Dependencies& deps);

  const std::string name_;
  const int64_t version_;
  const std::shared_ptr<const engine::Model> model_;
  const ServingSettings settings_;
  const std::shared_ptr<const ModelMetrics> metrics_;
  EngineCollector* const engine_metrics_;
  uint64_t engine_metrics_id_ = 0;
  double load_seconds_ = 0;
  double warmup_seconds_ = 0;
  std::shared_ptr<PlanCacheCounters> plan_cache_;
  std::unique_ptr<BatchMetrics> batch_metrics_;     // outlives the batcher
  std::unique_ptr<Batcher<SequenceTask>> batcher_;  // last: stopped first
};

}  // namespace attnserve::server

#endif  // ATTNSERVE_SERVER_SERVING_SERVABLE_H_
