// PlanCacheCounters: the plan caches of one model version's workers, summed:
// plans built, cache hits, evictions, and the plans' estimated bytes held now.
// Each worker's SessionExecutor adds what its session did since it last
// reported; EngineCollector reads the sums at scrape time.
// Thread-safety: relaxed atomics; any thread.
#ifndef ATTNSERVE_SERVER_OBSERVABILITY_PLAN_CACHE_COUNTERS_H_
#define ATTNSERVE_SERVER_OBSERVABILITY_PLAN_CACHE_COUNTERS_H_

#include <atomic>
#include <cstdint>

#include "engine/session.h"

namespace attnserve::server {

struct PlanCacheCounters {
  std::atomic<int64_t> built{0};
  std::atomic<int64_t> hits{0};
  std::atomic<int64_t> evictions{0};
  std::atomic<int64_t> bytes{0};

  // Adds the difference between two snapshots of one session's stats.
  void AddDelta(const engine::SessionStats& before, const engine::SessionStats& after) {
    built.fetch_add(after.plans_built - before.plans_built, std::memory_order_relaxed);
    hits.fetch_add(after.plan_cache_hits - before.plan_cache_hits, std::memory_order_relaxed);
    evictions.fetch_add(after.plans_evicted - before.plans_evicted, std::memory_order_relaxed);
    bytes.fetch_add(after.plan_bytes - before.plan_bytes, std::memory_order_relaxed);
  }
};

}  // namespace attnserve::server

#endif  // ATTNSERVE_SERVER_OBSERVABILITY_PLAN_CACHE_COUNTERS_H_
