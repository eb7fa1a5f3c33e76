// IsReady: the server's readiness from a snapshot, the same for every
// protocol (grpc.health.v1 today): with `strict`, every model that should
// serve (not UNLOADED) has a ready version (vacuously true with none);
// otherwise at least one has. Thread-safety: a pure function.
#ifndef ATTNSERVE_SERVER_SERVING_READINESS_H_
#define ATTNSERVE_SERVER_SERVING_READINESS_H_

#include "server/serving/registry_snapshot.h"

namespace attnserve::server {

inline bool IsReady(const RegistrySnapshot& snapshot, bool strict) {
  int wanted = 0;
  int ready = 0;
  for (const auto& [name, model] : snapshot.models()) {
    if (!model->loaded) continue;
    ++wanted;
    if (model->state() == ModelState::kReady) ++ready;
  }
  return strict ? ready == wanted : ready > 0;
}

}  // namespace attnserve::server

#endif  // ATTNSERVE_SERVER_SERVING_READINESS_H_
