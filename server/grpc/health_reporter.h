// HealthReporter: grpc.health.v1 statuses that follow the model lifecycle
// (a LifecycleObserver, told of every published snapshot):
//   ""                       SERVING while the process serves (liveness);
//   "attnserve.v1.AttnServe" readiness: SERVING when every model that should
//                            serve has a ready version (strict readiness,
//                            the default), or when at least one has (not
//                            strict);
//   each model's name        SERVING while a version of it is READY.
// A model that leaves the repository turns NOT_SERVING; names never known
// are NOT_FOUND (gRPC's health service). At shutdown gRPC turns every name
// NOT_SERVING and ignores later changes.
// Ownership: borrows gRPC's health service. Thread-safety: OnSnapshot is
// called on the lifecycle's thread; the health service is thread-safe.
#ifndef ATTNSERVE_SERVER_GRPC_HEALTH_REPORTER_H_
#define ATTNSERVE_SERVER_GRPC_HEALTH_REPORTER_H_

#include <set>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "grpcpp/health_check_service_interface.h"
#include "server/lifecycle/lifecycle_observer.h"
#include "server/serving/readiness.h"

namespace attnserve::server {

inline constexpr char kAttnServeServiceName[] = "attnserve.v1.AttnServe";

class HealthReporter : public LifecycleObserver {
 public:
  HealthReporter(grpc::HealthCheckServiceInterface* health, bool strict_readiness)
      : health_(health), strict_(strict_readiness) {}

  void OnSnapshot(const RegistrySnapshot& snapshot) override ABSL_LOCKS_EXCLUDED(mu_);

 private:
  grpc::HealthCheckServiceInterface* const health_;
  const bool strict_;
  absl::Mutex mu_;
  std::set<std::string> models_ ABSL_GUARDED_BY(mu_);  // every name ever reported
};

}  // namespace attnserve::server

#endif  // ATTNSERVE_SERVER_GRPC_HEALTH_REPORTER_H_
