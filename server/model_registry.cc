#include "server/model_registry.h"

#include <chrono>
#include <filesystem>
#include <system_error>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "server/batch_executor.h"

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
          engine::Model::Load(version_dir.path().string());
      if (metrics != nullptr) {
        metrics->load_duration->Set(
            std::chrono::duration<double>(std::chrono::steady_clock::now() - load_start).count());
      }
      if (!model.ok()) {
        servable->state = VersionState::kFailed;
        servable->reason = std::string(model.status().message());
        if (metrics != nullptr) metrics->SetState(ModelStateMetric::kFailed);
      } else {
        servable->model = *model;
        const int threads = options.threads_per_worker;
        std::shared_ptr<const engine::Model> shared = *model;
        if (metrics != nullptr) servable->batch_metrics = std::make_unique<BatchMetrics>(metrics);
        servable->batcher = std::make_unique<Batcher>(
            options.batching, options.workers,
            [shared, threads](int) { return std::make_unique<SessionExecutor>(shared, threads); },
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
    return absl::UnavailableError(absl::StrCat("model '", name, "' has no ready version (",
                                               newest.reason, ")"));
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
