// ValidateRequest: see request_validation.h.
#include "server/serving/request_validation.h"

#include <cmath>
#include <string>

#include "absl/strings/str_cat.h"
#include "engine/model_outputs.h"

namespace attnserve::server {
namespace {

absl::Status InvalidSequence(size_t index, const std::string& what) {
  return absl::InvalidArgumentError(absl::StrCat("sequence ", index, ": ", what));
}

}  // namespace

int64_t StepsOf(const SequenceInput& sequence, int64_t input_size) {
  if (!sequence.ids.empty()) return static_cast<int64_t>(sequence.ids.size());
  return sequence.steps != 0 ? sequence.steps
                             : static_cast<int64_t>(sequence.values.size()) / input_size;
}

bool IsTokenSequence(const SequenceInput& sequence, const engine::ModelSpec& spec) {
  return spec.has_embedding || !sequence.ids.empty();
}

namespace {

absl::Status ValidateTokenSequence(size_t i, const SequenceInput& seq,
                                   const engine::ModelSpec& spec, const ServerLimits& limits) {
  if (!spec.has_embedding) {
    return InvalidSequence(i, absl::StrCat("carries token ids; the model reads values (",
                                           spec.input_size, " features per step)"));
  }
  if (!seq.values.empty()) {
    return InvalidSequence(i, "carries values; the model reads token ids (field ids)");
  }
  if (seq.ids.empty()) return InvalidSequence(i, "is empty (no token ids)");
  if (seq.features > 1) {
    return InvalidSequence(i, absl::StrCat("has ", seq.features,
                                           " features; a token model takes one id per step"));
  }
  const int64_t steps = static_cast<int64_t>(seq.ids.size());
  if (seq.steps != 0 && seq.steps != steps) {
    return InvalidSequence(i, absl::StrCat("steps is ", seq.steps, " but it has ", steps, " ids"));
  }
  if (limits.max_sequence_length > 0 && steps > limits.max_sequence_length) {
    return InvalidSequence(i, absl::StrCat("has ", steps, " steps; the server accepts at most ",
                                           limits.max_sequence_length));
  }
  if (absl::Status length = engine::CheckSequenceLength(spec, steps); !length.ok()) {
    return InvalidSequence(i, std::string(length.message()));
  }
  for (int64_t t = 0; t < steps; ++t) {
    const int64_t id = seq.ids[static_cast<size_t>(t)];
    if (id < 0 || id >= spec.embedding.vocab) {
      return InvalidSequence(i, absl::StrCat("step ", t, ": token id ", id,
                                             " is outside the vocabulary [0, ",
                                             spec.embedding.vocab, ")"));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ValidateRequest(const InferenceRequest& request, const engine::ModelSpec& spec,
                             const ServerLimits& limits, int64_t max_sequences) {
  const int64_t count = static_cast<int64_t>(request.sequences.size());
  if (count == 0) return absl::InvalidArgumentError("the request has no sequences");
  if (count > max_sequences) {
    return absl::ResourceExhaustedError(
        absl::StrCat("the request has ", count, " sequences; at most ", max_sequences,
                     " are accepted in one request; split it"));
  }
  const int64_t features = spec.input_size;
  for (size_t i = 0; i < request.sequences.size(); ++i) {
    const SequenceInput& seq = request.sequences[i];
    if (IsTokenSequence(seq, spec)) {
      if (absl::Status s = ValidateTokenSequence(i, seq, spec, limits); !s.ok()) return s;
      continue;
    }
    const int64_t values = static_cast<int64_t>(seq.values.size());
    if (seq.features != 0 && seq.features != features) {
      return InvalidSequence(i, absl::StrCat("has ", seq.features, " features; the model takes ",
                                             features, " per step"));
    }
    if (values == 0) return InvalidSequence(i, "is empty (no values)");
    if (values % features != 0) {
      return InvalidSequence(
          i, absl::StrCat(values, " values are not a multiple of ", features, " features"));
    }
    if (seq.steps < 0 || (seq.steps != 0 && seq.steps * features != values)) {
      return InvalidSequence(i, absl::StrCat("steps is ", seq.steps, " but ", values,
                                             " values make ", values / features, " steps of ",
                                             features, " features"));
    }
    const int64_t steps = StepsOf(seq, features);
    if (limits.max_sequence_length > 0 && steps > limits.max_sequence_length) {
      return InvalidSequence(i, absl::StrCat("has ", steps, " steps; the server accepts at most ",
                                             limits.max_sequence_length));
    }
    if (absl::Status length = engine::CheckSequenceLength(spec, steps); !length.ok()) {
      return InvalidSequence(i, std::string(length.message()));
    }
    for (int64_t v = 0; v < values; ++v) {
      const float value = seq.values[static_cast<size_t>(v)];
      if (!std::isfinite(value)) {
        return InvalidSequence(i, absl::StrCat("step ", v / features, ", feature ", v % features,
                                               " is ", std::isnan(value) ? "NaN" : "infinite"));
      }
    }
  }
  return absl::OkStatus();
}

}  // namespace attnserve::server
