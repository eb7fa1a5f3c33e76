// Servable: see servable.h.
#include "server/serving/servable.h"

#include <chrono>
#include <utility>

#include "engine/session.h"
#include "server/serving/session_executor.h"

namespace attnserve::server {

Servable::Servable(const std::string& name, int64_t version,
                   std::shared_ptr<const engine::Model> model, const ServingSettings& settings,
                   const Dependencies& deps)
    : name_(name),
      version_(version),
      model_(std::move(model)),
      settings_(settings),
      metrics_(deps.metrics),
      engine_metrics_(deps.engine_metrics) {}

std::unique_ptr<Servable> Servable::Create(const std::string& name, int64_t version,
                                           std::shared_ptr<const engine::Model> model,
                                           const ServingSettings& settings,
                                           const std::vector<engine::BatchShape>& warmup,
                                           double load_seconds, double prewarm_seconds,
                                           const Dependencies& deps) {
  std::unique_ptr<Servable> servable(new Servable(name, version, model, settings, deps));
  Servable& s = *servable;
  s.load_seconds_ = load_seconds;
  s.plan_cache_ = std::make_shared<PlanCacheCounters>();
  if (s.engine_metrics_ != nullptr) {
    s.engine_metrics_id_ = s.engine_metrics_->Add(name, version, model, s.plan_cache_);
  }
  if (s.metrics_ != nullptr) s.batch_metrics_ = std::make_unique<BatchMetrics>(s.metrics_);

  engine::SessionOptions session_options;
  session_options.threads = settings.threads_per_worker;
  session_options.max_cached_plans = settings.max_cached_plans;
  session_options.max_plan_bytes = settings.max_plan_bytes;
  Clock* clock = deps.clock;
  BatchMetrics* batch_metrics = s.batch_metrics_.get();
  // Registered once per version; null when attention metrics are off.
  const AttentionSeries* attention =
      s.metrics_ != nullptr ? s.metrics_->AttentionFor(model->attention_outputs()) : nullptr;
  std::shared_ptr<PlanCacheCounters> counters = s.plan_cache_;
  ExecutorFactory<SequenceTask> factory = deps.executor_factory;
  if (!factory) {
    factory = [model, session_options, warmup, counters, clock, batch_metrics,
               attention](int) -> std::unique_ptr<BatchExecutor<SequenceTask>> {
      return std::make_unique<SessionExecutor>(model, session_options, warmup, counters, clock,
                                               batch_metrics, attention);
    };
  }
  const auto start = std::chrono::steady_clock::now();
  s.batcher_ = std::make_unique<Batcher<SequenceTask>>(settings.batching, settings.workers,
                                                       std::move(factory), clock, batch_metrics);
  s.batcher_->WaitUntilStarted();  // every worker's session is warm
  s.warmup_seconds_ =
      prewarm_seconds +
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (s.metrics_ != nullptr) s.metrics_->warmup_duration->Set(s.warmup_seconds_);
  return servable;
}

Servable::~Servable() {
  batcher_.reset();  // joins the workers; their sessions report their last plans
  if (engine_metrics_ != nullptr && engine_metrics_id_ != 0) {
    engine_metrics_->Remove(engine_metrics_id_);
  }
}

}  // namespace attnserve::server
