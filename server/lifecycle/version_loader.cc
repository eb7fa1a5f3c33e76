// EngineVersionLoader: see version_loader.h.
#include "server/lifecycle/version_loader.h"

#include <chrono>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "engine/model.h"
#include "engine/session.h"
#include "engine/shape_policy.h"

namespace attnserve::server {
namespace {

double SecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

absl::StatusOr<ServableHandle> EngineVersionLoader::Load(const VersionToLoad& version) {
  const ServingSettings& settings = version.settings;
  const ModelMetrics* metrics = version.metrics.get();
  // --lstm_impl=auto times the implementations on the shapes warm-up prepares.
  engine::LoadOptions load = settings.load;
  load.warmup_max_batch_size = settings.batching.max_batch_size;
  load.warmup_lengths = settings.warmup_lengths;
  const auto load_start = std::chrono::steady_clock::now();
  absl::StatusOr<std::shared_ptr<const engine::Model>> model =
      engine::Model::Load(version.directory, load);
  const double load_seconds = SecondsSince(load_start);
  if (metrics != nullptr) metrics->load_duration->Set(load_seconds);
  if (!model.ok()) return model.status();

  engine::SessionOptions session_options;
  session_options.threads = settings.threads_per_worker;
  session_options.max_cached_plans = settings.max_cached_plans;
  session_options.max_plan_bytes = settings.max_plan_bytes;
  const std::vector<engine::BatchShape> warmup = engine::WarmupShapes(
      (*model)->spec(), settings.batching.max_batch_size, settings.warmup_lengths);
  // Builds every warm-up shape's primitives once: the workers' sessions then
  // find them in oneDNN's primitive cache. On a thread of its own, so that its
  // OpenMP team ends with it.
  const auto warm_start = std::chrono::steady_clock::now();
  absl::Status warmed;
  std::thread([&] {
    engine::Session warm(*model, session_options);
    warmed = warm.Warm(warmup);
  }).join();
  const double prewarm_seconds = SecondsSince(warm_start);
  if (!warmed.ok()) {
    return absl::Status(warmed.code(), absl::StrCat("warm-up failed: ", warmed.message()));
  }
  Servable::Dependencies deps;
  deps.clock = clock_;
  deps.metrics = version.metrics;
  deps.engine_metrics = engine_metrics_;
  return reaper_->Adopt(Servable::Create(version.model, version.version, *std::move(model),
                                         settings, warmup, load_seconds, prewarm_seconds, deps));
}

}  // namespace attnserve::server
