// What a model returns besides its outputs: one entry per attention map, with
// its name and per-sequence shape, and the one rule for which input lengths a
// model accepts. Shared by Session (at run time) and the server (to validate a
// request before it is queued, and to describe the model in its metadata).
// Pure functions of the spec; thread-safe.
#ifndef ATTNSERVE_ENGINE_MODEL_OUTPUTS_H_
#define ATTNSERVE_ENGINE_MODEL_OUTPUTS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "engine/model_spec.h"

namespace attnserve::engine {

// Dimension value meaning "the sequence's own length".
inline constexpr int64_t kSequenceLength = -1;

struct AttentionOutputInfo {
  std::string name;           // "feature", "time" or "temporal"
  std::vector<int64_t> dims;  // per sequence, e.g. {kSequenceLength} or {T, k}
};

// The attention maps the model returns, one per attention block in the
// model's (pipeline) order, as BatchOutput::attention lists them:
//   feature attention: "feature", {l, D}, or {D} with single_vector;
//   time_dense:        "time", {T, k} (k = D before the LSTM, d after), or {T};
//   temporal blocks:   "temporal", {l};
// then, with a head gate, "gate", {n} (the gate's sigmoid, n = gate_size()).
// With a window (time_dense, score_mix) every sequence is padded or truncated
// to it, so l is T for every map of that model.
std::vector<AttentionOutputInfo> AttentionOutputs(const ModelSpec& spec);

// OK if the model accepts a sequence of `length` steps; InvalidArgument saying
// why otherwise: `length` < 1; other than 1 for a model without an LSTM;
// above the window of a windowed model that does not truncate (shorter
// sequences are padded to it); above the model's max_length. The one rule
// Session and the server apply.
absl::Status CheckSequenceLength(const ModelSpec& spec, int64_t length);

}  // namespace attnserve::engine

#endif  // ATTNSERVE_ENGINE_MODEL_OUTPUTS_H_
