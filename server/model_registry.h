// ModelRegistry: every model version found in a model repository, each with
// its state and, when ready, its loaded Model and Batcher.
//
// Contract: Load() scans <repository>/<model>/<version>/ and loads every
// version; a version that fails is kept as FAILED with the reason (logged by
// the caller), and the others serve. Find() resolves a (name, version)
// request: version 0 means the newest READY version. Errors: NOT_FOUND
// (unknown model or version, naming what exists), UNAVAILABLE (version not
// ready, with the reason).
// Ownership: owns the models and batchers. Thread-safety: the set of versions
// is fixed after Load(); Find()/versions() are safe from any thread;
// Drain()/Stop() are safe to call concurrently with Find().
#ifndef ATTNSERVE_SERVER_MODEL_REGISTRY_H_
#define ATTNSERVE_SERVER_MODEL_REGISTRY_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/model.h"
#include "server/batch_metrics.h"
#include "server/batch_queue.h"
#include "server/batcher.h"
#include "server/clock.h"
#include "server/metrics.h"

namespace attnserve::server {

enum class VersionState { kLoading, kReady, kFailed };
const char* VersionStateName(VersionState state);

struct ServableVersion {
  std::string name;
  int64_t version = 0;
  VersionState state = VersionState::kLoading;
  std::string reason;  // why it failed
  std::shared_ptr<const engine::Model> model;
  const ModelMetrics* metrics = nullptr;       // null when metrics are off
  std::unique_ptr<BatchMetrics> batch_metrics;  // outlives the batcher
  std::unique_ptr<Batcher> batcher;
};

struct RegistryOptions {
  BatchingOptions batching;
  int workers = 2;             // batcher workers per model version
  int threads_per_worker = 1;  // oneDNN threads per worker
  Clock* clock = nullptr;      // null: the real clock
  Metrics* metrics = nullptr;  // null: no metrics
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

#endif  // ATTNSERVE_SERVER_MODEL_REGISTRY_H_
