// Open Inference Protocol metadata and repository answers, independent of
// their transport: server metadata (name, version, extensions), model
// metadata (the versions that serve, the platform, the input and output
// tensors of v2_tensor_contract.h) and the repository index (one entry per
// model version with its state and reason, or one per model that has none).
// Thread-safety: pure functions.
#ifndef ATTNSERVE_SERVER_KSERVE_V2_METADATA_H_
#define ATTNSERVE_SERVER_KSERVE_V2_METADATA_H_

#include <string>
#include <vector>

#include "server/kserve/v2_tensor_contract.h"
#include "server/serving/registry_snapshot.h"
#include "server/serving/repository_index.h"
#include "server/serving/servable.h"

namespace attnserve::server {

inline constexpr char kV2ServerName[] = "attnserve";
inline constexpr char kV2Platform[] = "attnserve_onednn";

// The protocol extensions attnserve implements.
std::vector<std::string> V2Extensions();

struct V2ModelMetadata {
  std::string name;
  std::vector<std::string> versions;  // the model's ready versions, oldest first
  std::string platform;
  std::vector<V2TensorInfo> inputs;
  std::vector<V2TensorInfo> outputs;
};

// `servable`: the version asked for (its tensors); `model`: its record (its
// ready versions), may be null.
V2ModelMetadata BuildV2ModelMetadata(const Servable& servable, const ModelRecord* model);

struct V2RepositoryEntry {
  std::string name;
  std::string version;  // "" for a model with no version entry
  std::string state;    // READY, LOADING, UNLOADING, UNAVAILABLE (failed), UNLOADED
  std::string reason;
};

// `ready_only`: only versions that serve.
std::vector<V2RepositoryEntry> BuildV2RepositoryIndex(const std::vector<ModelIndex>& index,
                                                      bool ready_only);

}  // namespace attnserve::server

#endif  // ATTNSERVE_SERVER_KSERVE_V2_METADATA_H_
