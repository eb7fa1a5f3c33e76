// Internal to the model.json parser: the "attention" array (attention_spec.cc)
// as used by ParseModelSpec and RequiredTensors (model_spec.cc).
// Thread-safety: free functions without shared state.
#ifndef ATTNSERVE_ENGINE_ATTENTION_SPEC_PARSER_H_
#define ATTNSERVE_ENGINE_ATTENTION_SPEC_PARSER_H_

#include <vector>

#include "absl/status/status.h"
#include "engine/json_fields.h"
#include "engine/model_spec.h"

namespace attnserve::engine {

// Parses root["attention"] into spec->attention and checks the combination
// rules and the window against `input` (spec->input_size, spec->encoder and
// spec->max_length must already be parsed). A time_dense model that does not
// truncate gets max_length = its window when model.json gives none.
absl::Status ParseAttention(const json_fields::Json& root, ModelSpec* spec);

// Appends the tensors of every attention block, in block order.
void AppendAttentionTensors(const ModelSpec& spec, std::vector<TensorRequirement>* out);

}  // namespace attnserve::engine

#endif  // ATTNSERVE_ENGINE_ATTENTION_SPEC_PARSER_H_
