// LifecycleObserver: told of every snapshot the model lifecycle publishes (a
// version loading, ready, failed or unloading; a model loaded or unloaded),
// after the registry serves it. Health reporting (server/grpc/
// health_reporter.h) follows the lifecycle through it. Called on the
// lifecycle's thread, one snapshot at a time, in order; must not block.
#ifndef ATTNSERVE_SERVER_LIFECYCLE_LIFECYCLE_OBSERVER_H_
#define ATTNSERVE_SERVER_LIFECYCLE_LIFECYCLE_OBSERVER_H_

#include "server/serving/registry_snapshot.h"

namespace attnserve::server {

class LifecycleObserver {
 public:
  virtual ~LifecycleObserver() = default;
  virtual void OnSnapshot(const RegistrySnapshot& snapshot) = 0;
};

}  // namespace attnserve::server

#endif  // ATTNSERVE_SERVER_LIFECYCLE_LIFECYCLE_OBSERVER_H_
