#include "server/serving/model_registry.h"

#include <chrono>
#include <filesystem>
#include <system_error>
#include <thread>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "engine/session.h"
#include "engine/shape_policy.h"
#include "server/serving/session_executor.h"

namespace attnserve::server {
namespace fs = std::filesystem;

const char* VersionStateName(VersionState state) {
  switch (state) {
    case VersionState::kLoading:
      return "LOADING";
    case VersionState::kReady:
      return "READY";
    case VersionState::kFailed:
      return "FAILED";
  }
  return "UNKNOWN";
}

absl::StatusOr<std::unique_ptr<ModelRegistry>> ModelRegistry::Load(
    const std::string& repository, const RegistryOptions& options) {
  std::error_code ec;
  if (!fs::is_directory(repository, ec)) {
    return absl::NotFoundError(
        absl::StrCat("model repository '", repository, "' is not a directory"));
  }
  std::unique_ptr<ModelRegistry> registry(new ModelRegistry());
  Clock* clock = options.clock != nullptr ? options.clock : RealClock();
  for (const fs::directory_entry& model_dir : fs::directory_iterator(repository, ec)) {
    if (!model_dir.is_directory()) continue;
    const std::string name = model_dir.path().filename().string();
    if (name.empty() || name[0] == '.') continue;
    auto& versions = registry->models_[name];
    for (const fs::directory_entry& version_dir : fs::directory_iterator(model_dir.path(), ec)) {
      int64_t number = 0;
      if (!version_dir.is_directory() ||
          !absl::SimpleAtoi(version_dir.path().filename().string(), &number) || number <= 0) {
        continue;
      }
      auto servable = std::make_unique<ServableVersion>();
      servable->name = name;
      servable->version = number;
      ModelMetrics* metrics =
          options.metrics != nullptr ? options.metrics->ForModel(name, absl::StrCat(number))
                                     : nullptr;
      servable->metrics = metrics;
      if (metrics != nullptr) metrics->SetState(ModelStateMetric::kLoading);
      const auto load_start = std::chrono::steady_clock::now();
      absl::StatusOr<std::shared_ptr<const engine::Model>> model =
          engine::Model::Load(version_dir.path().string(), options.load);
      if (metrics != nullptr) {
        metrics->load_duration->Set(
            std::chrono::duration<double>(std::chrono::steady_clock::now() - load_start).count());
      }
      engine::SessionOptions session_options;
      session_options.threads = options.threads_per_worker;
      session_options.max_cached_plans = options.max_cached_plans;
      session_options.max_plan_bytes = options.max_plan_bytes;
      std::vector<engine::BatchShape> warmup;
      if (model.ok()) {
        warmup = engine::WarmupShapes((*model)->spec(), options.batching.max_batch_size,
                                      options.warmup_lengths);
        // Builds every warm-up shape's primitives once, off the serving path:
        // the workers' sessions then find them in oneDNN's primitive cache.
        // On a thread of its own, so that its OpenMP team ends with it.
        const auto warm_start = std::chrono::steady_clock::now();
        absl::Status warmed;
        std::thread([&] {
          engine::Session warm(*model, session_options);
          warmed = warm.Warm(warmup);
        }).join();
        servable->warmup_seconds =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - warm_start).count();
        if (metrics != nullptr) metrics->warmup_duration->Set(servable->warmup_seconds);
        if (!warmed.ok()) {
          model = absl::Status(warmed.code(), absl::StrCat("warm-up failed: ", warmed.message()));
        }
      }
      if (!model.ok()) {
        servable->state = VersionState::kFailed;
        servable->reason = std::string(model.status().message());
        servable->load_status = model.status();
        if (metrics != nullptr) metrics->SetState(ModelStateMetric::kFailed);
      } else {
        servable->model = *model;
        std::shared_ptr<const engine::Model> shared = *model;
        auto counters = std::make_shared<PlanCacheCounters>();
        servable->plan_cache = counters;
        if (options.engine_metrics != nullptr) {
          options.engine_metrics->Add(name, number, shared, counters);
        }
        if (metrics != nullptr) servable->batch_metrics = std::make_unique<BatchMetrics>(metrics);
        servable->batcher = std::make_unique<Batcher>(
            options.batching, options.workers,
            [shared, session_options, warmup, counters](int) {
              return std::make_unique<SessionExecutor>(shared, session_options, warmup, counters);
            },
            clock, servable->batch_metrics.get());
        servable->state = VersionState::kReady;
        if (metrics != nullptr) metrics->SetState(ModelStateMetric::kReady);
      }
      versions[number] = std::move(servable);
    }
    if (versions.empty()) {
      // A model directory without any version: report it as a failed model.
      auto servable = std::make_unique<ServableVersion>();
      servable->name = name;
      servable->version = 0;
      servable->state = VersionState::kFailed;
      servable->reason = absl::StrCat("no version directories (positive integers) under ",
                                      model_dir.path().string());
      if (options.metrics != nullptr) {
        servable->metrics = options.metrics->ForModel(name, "0");
        servable->metrics->SetState(ModelStateMetric::kFailed);
      }
      versions[0] = std::move(servable);
    }
  }
  return registry;
}

ModelRegistry::~ModelRegistry() { Stop(Clock::Duration::zero()); }

absl::StatusOr<const ServableVersion*> ModelRegistry::Find(const std::string& name,
                                                           int64_t version) const {
  auto model = models_.find(name);
  if (model == models_.end()) {
    std::vector<std::string> names;
    for (const auto& [known, unused] : models_) names.push_back(known);
    return absl::NotFoundError(absl::StrCat("model '", name, "' not found; known models: ",
                                            names.empty() ? "none" : absl::StrJoin(names, ", ")));
  }
  const auto& versions = model->second;
  if (version == 0) {
    for (auto it = versions.rbegin(); it != versions.rend(); ++it) {
      if (it->second->state == VersionState::kReady) return it->second.get();
    }
    const ServableVersion& newest = *versions.rbegin()->second;
    return absl::Status(newest.load_status.code() == absl::StatusCode::kFailedPrecondition
                            ? absl::StatusCode::kFailedPrecondition
                            : absl::StatusCode::kUnavailable,
                        absl::StrCat("model '", name, "' has no ready version (", newest.reason,
                                     ")"));
  }
  auto found = versions.find(version);
  if (found == versions.end() || version <= 0) {
    std::vector<int64_t> numbers;
    for (const auto& [number, unused] : versions) {
      if (number > 0) numbers.push_back(number);
    }
    return absl::NotFoundError(absl::StrCat("model '", name, "' has no version ", version,
                                            "; versions: ", absl::StrJoin(numbers, ", ")));
  }
  if (found->second->load_status.code() == absl::StatusCode::kFailedPrecondition) {
    return absl::FailedPreconditionError(absl::StrCat("model '", name, "' version ", version,
                                                      " is FAILED: ", found->second->reason));
  }
  if (found->second->state != VersionState::kReady) {
    return absl::UnavailableError(absl::StrCat("model '", name, "' version ", version, " is ",
                                               VersionStateName(found->second->state), ": ",
                                               found->second->reason));
  }
  return found->second.get();
}

void ModelRegistry::Drain(Clock::Duration grace) {
  for (auto& [name, versions] : models_) {
    for (auto& [number, servable] : versions) {
      if (servable->batcher) servable->batcher->Drain(grace);
    }
  }
}

void ModelRegistry::Stop(Clock::Duration grace) {
  Drain(grace);
  for (auto& [name, versions] : models_) {
    for (auto& [number, servable] : versions) {
      if (servable->batcher) servable->batcher->Stop(grace);
    }
  }
}

}  // namespace attnserve::server
