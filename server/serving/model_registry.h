// ModelRegistry: where requests find their model version. It holds the current
// RegistrySnapshot; the model lifecycle publishes a new one on every change
// (a version loading, becoming ready, failing, unloading), atomically.
//
// Contract: Resolve() answers from the snapshot current at the call (see
// registry_snapshot.h for the rules and errors); the handle it returns keeps
// the version alive even if a later snapshot drops it. Retiring() lists the
// servables no snapshot holds any more that are still alive (draining their
// last calls). Shutdown(grace) drains every live servable (the current ones
// and the retiring ones), answering what is still queued after `grace`, and
// returns when every request they accepted has been answered.
// Ownership: shares the snapshots and their servables. Thread-safety: every
// method is safe from any thread; readers hold the lock only to copy a pointer.
#ifndef ATTNSERVE_SERVER_SERVING_MODEL_REGISTRY_H_
#define ATTNSERVE_SERVER_SERVING_MODEL_REGISTRY_H_

#include <memory>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "server/batching/clock.h"
#include "server/serving/model_ref.h"
#include "server/serving/registry_snapshot.h"
#include "server/serving/servable.h"

namespace attnserve::server {

class ModelRegistry {
 public:
  ModelRegistry() : snapshot_(std::make_shared<const RegistrySnapshot>()) {}

  std::shared_ptr<const RegistrySnapshot> snapshot() const ABSL_LOCKS_EXCLUDED(mu_);
  absl::StatusOr<ServableHandle> Resolve(const ModelRef& ref) const ABSL_LOCKS_EXCLUDED(mu_);

  void Publish(std::shared_ptr<const RegistrySnapshot> snapshot) ABSL_LOCKS_EXCLUDED(mu_);

  std::vector<ServableHandle> Retiring() const ABSL_LOCKS_EXCLUDED(mu_);
  void Shutdown(Clock::Duration grace) ABSL_LOCKS_EXCLUDED(mu_);

 private:
  std::vector<ServableHandle> Live() const ABSL_LOCKS_EXCLUDED(mu_);

  mutable absl::Mutex mu_;
  std::shared_ptr<const RegistrySnapshot> snapshot_ ABSL_GUARDED_BY(mu_);
  // Every servable any published snapshot held, while it lives.
  mutable std::vector<std::weak_ptr<const Servable>> published_ ABSL_GUARDED_BY(mu_);
};

}  // namespace attnserve::server

#endif  // ATTNSERVE_SERVER_SERVING_MODEL_REGISTRY_H_
