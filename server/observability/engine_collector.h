// EngineCollector: the engine's caches per model version, read at scrape
// time: plans built, plan cache hits and evictions, the plans' estimated
// bytes (PlanCacheCounters, summed over the version's workers), and the
// model's prepared weights: bytes held and reorders run (engine::WeightStats).
//
// Families (labels model, version): attnserve_plans_built_total,
// attnserve_plan_cache_hits_total, attnserve_plan_cache_evictions_total,
// attnserve_plan_cache_bytes, attnserve_weight_reorders_total,
// attnserve_prepared_weight_bytes. docs/metrics.md describes them.
//
// Each Add() is one loaded servable and returns its id; Remove(id) drops it
// (its series disappear from the next scrape). Two servables of the same
// model version (one draining, one new) are reported summed under one series.
// Ownership: keeps each added version's Model and counters alive until
// Remove(). Thread-safety: Add/Remove/Collect are safe from any thread.
#ifndef ATTNSERVE_SERVER_OBSERVABILITY_ENGINE_COLLECTOR_H_
#define ATTNSERVE_SERVER_OBSERVABILITY_ENGINE_COLLECTOR_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "engine/model.h"
#include "prometheus/collectable.h"
#include "prometheus/metric_family.h"
#include "server/observability/plan_cache_counters.h"

namespace attnserve::server {

class EngineCollector : public prometheus::Collectable {
 public:
  uint64_t Add(const std::string& model, int64_t version,
               std::shared_ptr<const engine::Model> loaded,
               std::shared_ptr<const PlanCacheCounters> counters) ABSL_LOCKS_EXCLUDED(mu_);
  void Remove(uint64_t id) ABSL_LOCKS_EXCLUDED(mu_);

  std::vector<prometheus::MetricFamily> Collect() const override ABSL_LOCKS_EXCLUDED(mu_);

 private:
  struct Entry {
    std::string model;
    int64_t version = 0;
    std::shared_ptr<const engine::Model> loaded;
    std::shared_ptr<const PlanCacheCounters> counters;
  };
  mutable absl::Mutex mu_;
  uint64_t next_id_ ABSL_GUARDED_BY(mu_) = 1;
  std::map<uint64_t, Entry> entries_ ABSL_GUARDED_BY(mu_);
};

}  // namespace attnserve::server

#endif  // ATTNSERVE_SERVER_OBSERVABILITY_ENGINE_COLLECTOR_H_
