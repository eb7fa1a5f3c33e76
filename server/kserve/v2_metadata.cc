// Open Inference Protocol metadata: see v2_metadata.h.
#include "server/kserve/v2_metadata.h"

#include "absl/strings/str_cat.h"
#include "engine/attention_spec.h"
#include "engine/model_spec.h"

namespace attnserve::server {
namespace {

const char* V2StateName(VersionState state) {
  switch (state) {
    case VersionState::kLoading:
      return "LOADING";
    case VersionState::kReady:
      return "READY";
    case VersionState::kUnloading:
      return "UNLOADING";
    case VersionState::kFailed:
      return "UNAVAILABLE";
  }
  return "UNAVAILABLE";
}

V2ModelDetails BuildDetails(const Servable& servable, const ModelRecord* model,
                            int64_t server_max_length) {
  const engine::ModelSpec& spec = servable.spec();
  V2ModelDetails d;
  d.version = absl::StrCat(servable.version());
  d.description = spec.description;
  d.token_ids = spec.has_embedding;
  d.features = spec.has_embedding ? 1 : spec.input_size;
  d.vocab = spec.has_embedding ? spec.embedding.vocab : 0;
  d.max_sequence_length = spec.max_length;
  if (server_max_length > 0 &&
      (d.max_sequence_length == 0 || server_max_length < d.max_sequence_length)) {
    d.max_sequence_length = server_max_length;
  }
  d.window = spec.window();
  d.labels = spec.labels;
  d.output_activation = engine::OutputActivationName(spec.head.output);
  d.encoder = spec.has_encoder
                  ? absl::StrCat("lstm ", spec.encoder.num_layers, "x", spec.encoder.hidden_size,
                                 spec.encoder.bidirectional ? " bidirectional" : "")
                  : "none";
  for (const engine::AttentionSpec& block : spec.attention) {
    d.attention_blocks.push_back(engine::AttentionKindName(block.kind));
  }
  d.precision = engine::PrecisionName(spec.precision);
  if (model != nullptr) d.version_labels = model->LabelsOf(servable.version());
  return d;
}

}  // namespace

std::vector<std::string> V2Extensions() {
  return {"model_repository", "binary_tensor_data"};
}

V2ModelMetadata BuildV2ModelMetadata(const Servable& servable, const ModelRecord* model,
                                     int64_t server_max_length) {
  V2ModelMetadata m;
  m.name = servable.name();
  if (model != nullptr) {
    for (const auto& [number, record] : model->versions) {
      if (record->state == VersionState::kReady) m.versions.push_back(absl::StrCat(number));
    }
  } else {
    m.versions.push_back(absl::StrCat(servable.version()));
  }
  m.platform = kV2Platform;
  m.inputs = V2ModelInputs(servable.spec());
  m.outputs = V2ModelOutputs(servable.spec(), servable.model().attention_outputs());
  m.details = BuildDetails(servable, model, server_max_length);
  return m;
}

std::vector<V2RepositoryEntry> BuildV2RepositoryIndex(const std::vector<ModelIndex>& index,
                                                      bool ready_only) {
  std::vector<V2RepositoryEntry> entries;
  for (const ModelIndex& model : index) {
    bool listed = false;
    for (const VersionIndex& version : model.versions) {
      if (version.version == 0) continue;  // the model as a whole: below
      if (ready_only && version.state != VersionState::kReady) continue;
      entries.push_back({model.name, absl::StrCat(version.version), V2StateName(version.state),
                         version.reason});
      listed = true;
    }
    if (!listed && !ready_only) {
      const char* state = model.state == ModelState::kUnloaded ? "UNLOADED"
                          : model.state == ModelState::kLoading ? "LOADING"
                          : model.state == ModelState::kFailed  ? "UNAVAILABLE"
                                                                : "READY";
      entries.push_back({model.name, "", state, model.reason});
    }
  }
  return entries;
}

}  // namespace attnserve::server
