// EngineCollector: see engine_collector.h.
#include "server/observability/engine_collector.h"

#include <array>

#include "absl/strings/str_cat.h"

namespace attnserve::server {
namespace {

prometheus::MetricFamily Family(const char* name, const char* help, prometheus::MetricType type) {
  prometheus::MetricFamily family;
  family.name = name;
  family.help = help;
  family.type = type;
  return family;
}

void Append(prometheus::MetricFamily& family, const std::string& model, int64_t version,
            double value) {
  prometheus::ClientMetric metric;
  metric.label = {{"model", model}, {"version", absl::StrCat(version)}};
  if (family.type == prometheus::MetricType::Counter) {
    metric.counter.value = value;
  } else {
    metric.gauge.value = value;
  }
  family.metric.push_back(std::move(metric));
}

}  // namespace

uint64_t EngineCollector::Add(const std::string& model, int64_t version,
                              std::shared_ptr<const engine::Model> loaded,
                              std::shared_ptr<const PlanCacheCounters> counters) {
  absl::MutexLock lock(&mu_);
  const uint64_t id = next_id_++;
  entries_[id] = Entry{model, version, std::move(loaded), std::move(counters)};
  return id;
}

void EngineCollector::Remove(uint64_t id) {
  absl::MutexLock lock(&mu_);
  entries_.erase(id);
}

std::vector<prometheus::MetricFamily> EngineCollector::Collect() const {
  using prometheus::MetricType;
  std::vector<prometheus::MetricFamily> families = {
      Family("attnserve_plans_built_total",
             "Execution plans (prepared primitives for one batch shape) built by the version's "
             "workers, warm-up included",
             MetricType::Counter),
      Family("attnserve_plan_cache_hits_total", "Batches that found their shape's plan cached",
             MetricType::Counter),
      Family("attnserve_plan_cache_evictions_total",
             "Plans evicted from the workers' caches (entry or byte bound)", MetricType::Counter),
      Family("attnserve_plan_cache_bytes",
             "Estimated bytes held by the workers' cached plans (heap growth while each was "
             "built)",
             MetricType::Gauge),
      Family("attnserve_weight_reorders_total",
             "Weight reorders run to prepare a layout, at load and later (one per layout)",
             MetricType::Counter),
      Family("attnserve_prepared_weight_bytes",
             "Bytes held by the version's prepared weights (plain copies and every layout)",
             MetricType::Gauge),
  };
  // Summed per (model, version): a draining servable and its replacement
  // share one series.
  std::map<std::pair<std::string, int64_t>, std::array<double, 6>> sums;
  {
    absl::MutexLock lock(&mu_);
    for (const auto& [id, entry] : entries_) {
      const PlanCacheCounters& c = *entry.counters;
      const engine::WeightStats weights = entry.loaded->weight_stats();
      std::array<double, 6>& sum = sums[{entry.model, entry.version}];
      sum[0] += static_cast<double>(c.built.load());
      sum[1] += static_cast<double>(c.hits.load());
      sum[2] += static_cast<double>(c.evictions.load());
      sum[3] += static_cast<double>(c.bytes.load());
      sum[4] += static_cast<double>(weights.reorders);
      sum[5] += static_cast<double>(weights.bytes);
    }
  }
  for (const auto& [key, sum] : sums) {
    for (size_t f = 0; f < families.size(); ++f) Append(families[f], key.first, key.second, sum[f]);
  }
  return families;
}

}  // namespace attnserve::server
