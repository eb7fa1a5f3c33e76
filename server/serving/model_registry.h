// ModelRegistry: every model version found in a model repository, each with
// its state and, when ready, its loaded Model and Batcher.
//
// Contract: Load() scans <repository>/<model>/<version>/ and loads every
// version (engine::Model::Load with options.load), then warms it up: a
// session on the loading thread prepares the warm-up shapes
// (engine::WarmupShapes of options.warmup_lengths), so their primitives are
// built before the version is READY, and each batcher worker warms its own
// session from them before its first batch. A version that fails is kept as
// FAILED with the reason and its status (logged by the caller), and the
// others serve. Find() resolves a (name, version) request: version 0 means
// the newest READY version. Errors: NOT_FOUND (unknown model or version,
// naming what exists), FAILED_PRECONDITION (the version failed because this
// server cannot run it as configured, e.g. bf16 on a CPU without bf16),
// UNAVAILABLE (any other version not ready, with the reason).
// Ownership: owns the models and batchers. Thread-safety: the set of versions
// is fixed after Load(); Find()/versions() are safe from any thread;
// Drain()/Stop() are safe to call concurrently with Find().
#ifndef ATTNSERVE_SERVER_SERVING_MODEL_REGISTRY_H_
#define ATTNSERVE_SERVER_SERVING_MODEL_REGISTRY_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/model.h"
#include "server/observability/batch_metrics.h"
#include "server/batching/batch_queue.h"
#include "server/batching/batcher.h"
#include "server/batching/clock.h"
#include "server/observability/engine_collector.h"
#include "server/observability/metrics.h"
#include "server/observability/plan_cache_counters.h"

namespace attnserve::server {

enum class VersionState { kLoading, kReady, kFailed };
const char* VersionStateName(VersionState state);

struct ServableVersion {
  std::string name;
  int64_t version = 0;
  VersionState state = VersionState::kLoading;
  std::string reason;  // why it failed
  absl::Status load_status;  // OK unless FAILED
  double warmup_seconds = 0;
  std::shared_ptr<const engine::Model> model;
  const ModelMetrics* metrics = nullptr;       // null when metrics are off
  std::unique_ptr<BatchMetrics> batch_metrics;  // outlives the batcher
  std::shared_ptr<PlanCacheCounters> plan_cache;
  std::unique_ptr<Batcher> batcher;
};

struct RegistryOptions {
  BatchingOptions batching;
  int workers = 2;             // batcher workers per model version
  int threads_per_worker = 1;  // oneDNN threads per worker
  engine::LoadOptions load;    // precision fallback
  size_t max_cached_plans = 64;              // per worker session
  size_t max_plan_bytes = size_t{64} << 20;  // per worker session
  std::vector<int> warmup_lengths = {16, 32, 64, 128};  // empty: no warm-up
  Clock* clock = nullptr;      // null: the real clock
  Metrics* metrics = nullptr;  // null: no metrics
  EngineCollector* engine_metrics = nullptr;  // null: no engine metrics
};

class ModelRegistry {
 public:
  // NOT_FOUND if `repository` is not a directory; otherwise OK even when some
  // (or all) versions failed to load.
  static absl::StatusOr<std::unique_ptr<ModelRegistry>> Load(const std::string& repository,
                                                            const RegistryOptions& options);
  ~ModelRegistry();

  absl::StatusOr<const ServableVersion*> Find(const std::string& name, int64_t version) const;

  // All versions, by model name then version.
  const std::map<std::string, std::map<int64_t, std::unique_ptr<ServableVersion>>>& models()
      const {
    return models_;
  }

  void Drain(Clock::Duration grace);
  void Stop(Clock::Duration grace);

 private:
  ModelRegistry() = default;
  std::map<std::string, std::map<int64_t, std::unique_ptr<ServableVersion>>> models_;
};

}  // namespace attnserve::server

#endif  // ATTNSERVE_SERVER_SERVING_MODEL_REGISTRY_H_
