// Open Inference Protocol metadata and repository answers, independent of
// their transport: server metadata (name, version, extensions), model
// metadata (the versions that serve, the platform, the input and output
// tensors of v2_tensor_contract.h, and the model's own details: classes,
// attention recipe, input kind) and the repository index (one entry per
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

// What the protocol's tensor list cannot say about a model version (the v1
// API's ModelMetadata says it too). HTTP answers carry it as the metadata's
// "parameters" object (the protocol's optional field); the gRPC message has
// no such field and leaves it out.
struct V2ModelDetails {
  std::string version;      // the version answering (resolved from "" or a label)
  std::string description;
  bool token_ids = false;   // INPUT carries token ids (model.json input.embedding)
  int64_t features = 0;     // values per step (token-id models: 1)
  int64_t vocab = 0;        // token-id models: ids are in [0, vocab)
  int64_t max_sequence_length = 0;  // the tighter of the model's and the server's; 0: none
  int64_t window = 0;       // a fixed window every sequence is padded/truncated to; 0: none
  std::vector<std::string> labels;  // the classes, in PROBABILITIES order
  std::string output_activation;    // "softmax", "sigmoid" or "linear"
  std::string encoder;              // e.g. "lstm 2x64 bidirectional", "none"
  std::vector<std::string> attention_blocks;  // in pipeline order, e.g. {"additive"}
  std::string precision;            // what it computes in: "f32" or "bf16"
  std::vector<std::string> version_labels;    // the labels naming this version
};

struct V2ModelMetadata {
  std::string name;
  std::vector<std::string> versions;  // the model's ready versions, oldest first
  std::string platform;
  std::vector<V2TensorInfo> inputs;
  std::vector<V2TensorInfo> outputs;
  V2ModelDetails details;
};

// `servable`: the version asked for (its tensors); `model`: its record (its
// ready versions and labels), may be null; `server_max_length`: the server's
// --max_sequence_length (0: none).
V2ModelMetadata BuildV2ModelMetadata(const Servable& servable, const ModelRecord* model,
                                     int64_t server_max_length = 0);

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
