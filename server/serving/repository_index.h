// RepositoryIndex: the protocol-neutral view of the repository the admin APIs
// answer with (attnserve.v1.ModelControl today): every model the snapshot
// knows, with each version's state, reason, labels and timings, plus the
// versions that left the snapshot and are still draining (UNLOADING).
// Thread-safety: a pure function of its arguments.
#ifndef ATTNSERVE_SERVER_SERVING_REPOSITORY_INDEX_H_
#define ATTNSERVE_SERVER_SERVING_REPOSITORY_INDEX_H_

#include <cstdint>
#include <string>
#include <vector>

#include "server/serving/registry_snapshot.h"
#include "server/serving/servable.h"

namespace attnserve::server {

struct VersionIndex {
  int64_t version = 0;
  VersionState state = VersionState::kLoading;
  std::string reason;
  std::vector<std::string> labels;
  double load_seconds = 0;
  double warmup_seconds = 0;
};

struct ModelIndex {
  std::string name;
  ModelState state = ModelState::kUnloaded;
  std::string reason;
  std::vector<VersionIndex> versions;  // by version
};

// By model name. `retiring`: ModelRegistry::Retiring().
std::vector<ModelIndex> BuildRepositoryIndex(const RegistrySnapshot& snapshot,
                                             const std::vector<ServableHandle>& retiring);

}  // namespace attnserve::server

#endif  // ATTNSERVE_SERVER_SERVING_REPOSITORY_INDEX_H_
