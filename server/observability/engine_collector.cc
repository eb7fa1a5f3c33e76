// EngineCollector: see engine_collector.h.
#include "server/observability/engine_collector.h"

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

void EngineCollector::Add(const std::string& model, int64_t version,
                          std::shared_ptr<const engine::Model> loaded,
                          std::shared_ptr<const PlanCacheCounters> counters) {
  absl::MutexLock lock(&mu_);
  entries_[{model, version}] = Entry{std::move(loaded), std::move(counters)};
}

void EngineCollector::Remove(const std::string& model, int64_t version) {
  absl::MutexLock lock(&mu_);
  entries_.erase({model, version});
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
  absl::MutexLock lock(&mu_);
  for (const auto& [key, entry] : entries_) {
    const auto& [model, version] = key;
    const PlanCacheCounters& c = *entry.counters;
    const engine::WeightStats weights = entry.model->weight_stats();
    Append(families[0], model, version, static_cast<double>(c.built.load()));
    Append(families[1], model, version, static_cast<double>(c.hits.load()));
    Append(families[2], model, version, static_cast<double>(c.evictions.load()));
    Append(families[3], model, version, static_cast<double>(c.bytes.load()));
    Append(families[4], model, version, static_cast<double>(weights.reorders));
    Append(families[5], model, version, static_cast<double>(weights.bytes));
  }
  return families;
}

}  // namespace attnserve::server
