// ModelRegistry: see model_registry.h.
#include "server/serving/model_registry.h"

#include <algorithm>
#include <set>
#include <utility>

namespace attnserve::server {

std::shared_ptr<const RegistrySnapshot> ModelRegistry::snapshot() const {
  absl::ReaderMutexLock lock(&mu_);
  return snapshot_;
}

absl::StatusOr<ServableHandle> ModelRegistry::Resolve(const ModelRef& ref) const {
  return snapshot()->Resolve(ref);
}

void ModelRegistry::Publish(std::shared_ptr<const RegistrySnapshot> snapshot) {
  std::shared_ptr<const RegistrySnapshot> previous;  // released outside the lock
  absl::MutexLock lock(&mu_);
  std::set<const Servable*> known;
  published_.erase(std::remove_if(published_.begin(), published_.end(),
                                  [](const std::weak_ptr<const Servable>& w) { return w.expired(); }),
                   published_.end());
  for (const std::weak_ptr<const Servable>& w : published_) {
    if (ServableHandle s = w.lock()) known.insert(s.get());
  }
  for (const auto& [name, model] : snapshot->models()) {
    for (const auto& [number, record] : model->versions) {
      if (record->servable != nullptr && known.insert(record->servable.get()).second) {
        published_.push_back(record->servable);
      }
    }
  }
  previous = std::move(snapshot_);
  snapshot_ = std::move(snapshot);
}

std::vector<ServableHandle> ModelRegistry::Live() const {
  std::vector<ServableHandle> live;
  absl::MutexLock lock(&mu_);
  for (const std::weak_ptr<const Servable>& w : published_) {
    if (ServableHandle s = w.lock()) live.push_back(std::move(s));
  }
  return live;
}

std::vector<ServableHandle> ModelRegistry::Retiring() const {
  std::shared_ptr<const RegistrySnapshot> current = snapshot();
  std::set<const Servable*> serving;
  for (const auto& [name, model] : current->models()) {
    for (const auto& [number, record] : model->versions) {
      if (record->servable != nullptr) serving.insert(record->servable.get());
    }
  }
  std::vector<ServableHandle> retiring;
  for (ServableHandle& s : Live()) {
    if (serving.count(s.get()) == 0) retiring.push_back(std::move(s));
  }
  return retiring;
}

void ModelRegistry::Shutdown(Clock::Duration grace) {
  std::vector<ServableHandle> live = Live();
  // Every batcher drains at once (each answers what is left after `grace`),
  // then each is joined: its queue is empty, its last batch has finished.
  for (const ServableHandle& s : live) s->batcher().Drain(grace);
  for (const ServableHandle& s : live) s->batcher().Stop(grace);
}

}  // namespace attnserve::server
