// VersionLoader: turns one model version directory into a ready Servable, off
// the serving path (the lifecycle's thread calls it; requests keep going to
// the versions already serving).
//
// EngineVersionLoader loads with engine::Model::Load (settings.load: the
// precision fallback and the LSTM implementation, chosen on the version's own
// warm-up shapes when it is "auto"), warms the version's common shapes up (engine::
// WarmupShapes of settings.warmup_lengths) on a thread of its own with a
// throwaway session, so their primitives are built before it serves, then
// builds the Servable, whose workers each warm their own session from them.
// Its load and warm-up times go to the version's metrics.
//
// Contract: Load() returns the handle of a servable whose every worker is warm,
// or the load's status (the model files' problem, FAILED_PRECONDITION for a
// model this CPU cannot run as configured, or the warm-up's failure).
// Ownership: borrows the clock, engine collector (may be null) and reaper,
// which must outlive it and every servable it makes. Thread-safety: Load() may
// run on any thread; concurrent loads are independent.
#ifndef ATTNSERVE_SERVER_LIFECYCLE_VERSION_LOADER_H_
#define ATTNSERVE_SERVER_LIFECYCLE_VERSION_LOADER_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "server/batching/clock.h"
#include "server/observability/engine_collector.h"
#include "server/observability/metrics.h"
#include "server/serving/servable.h"
#include "server/serving/servable_reaper.h"
#include "server/serving/serving_settings.h"

namespace attnserve::server {

// What to load: a model version's directory and how to serve it.
struct VersionToLoad {
  std::string model;
  int64_t version = 0;
  std::string directory;
  ServingSettings settings;
  std::shared_ptr<const ModelMetrics> metrics;  // null: metrics off
};

class VersionLoader {
 public:
  virtual ~VersionLoader() = default;
  virtual absl::StatusOr<ServableHandle> Load(const VersionToLoad& version) = 0;
};

class EngineVersionLoader : public VersionLoader {
 public:
  EngineVersionLoader(Clock* clock, EngineCollector* engine_metrics, ServableReaper* reaper)
      : clock_(clock), engine_metrics_(engine_metrics), reaper_(reaper) {}

  absl::StatusOr<ServableHandle> Load(const VersionToLoad& version) override;

 private:
  Clock* const clock_;
  EngineCollector* const engine_metrics_;
  ServableReaper* const reaper_;
};

}  // namespace attnserve::server

#endif  // ATTNSERVE_SERVER_LIFECYCLE_VERSION_LOADER_H_
