// BuildRepositoryIndex: see repository_index.h.
#include "server/serving/repository_index.h"

#include <algorithm>
#include <map>

namespace attnserve::server {

std::vector<ModelIndex> BuildRepositoryIndex(const RegistrySnapshot& snapshot,
                                             const std::vector<ServableHandle>& retiring) {
  std::map<std::string, ModelIndex> index;
  for (const auto& [name, model] : snapshot.models()) {
    ModelIndex& entry = index[name];
    entry.name = name;
    entry.state = model->state();
    entry.reason = model->reason;
    for (const auto& [number, record] : model->versions) {
      VersionIndex v;
      v.version = number;
      v.state = record->state;
      v.reason = record->reason;
      v.labels = model->LabelsOf(number);
      v.load_seconds = record->load_seconds;
      v.warmup_seconds = record->warmup_seconds;
      entry.versions.push_back(std::move(v));
    }
  }
  for (const ServableHandle& servable : retiring) {
    ModelIndex& entry = index[servable->name()];
    if (entry.name.empty()) {
      entry.name = servable->name();
      entry.state = ModelState::kUnloaded;
    }
    VersionIndex v;
    v.version = servable->version();
    v.state = VersionState::kUnloading;
    v.reason = "draining the requests it holds";
    v.load_seconds = servable->load_seconds();
    v.warmup_seconds = servable->warmup_seconds();
    entry.versions.push_back(std::move(v));
  }
  std::vector<ModelIndex> models;
  for (auto& [name, entry] : index) {
    std::stable_sort(entry.versions.begin(), entry.versions.end(),
                     [](const VersionIndex& a, const VersionIndex& b) { return a.version < b.version; });
    models.push_back(std::move(entry));
  }
  return models;
}

}  // namespace attnserve::server
