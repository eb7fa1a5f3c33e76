// Fuzz target: request validation of the attnserve.v1 protocol. The input's
// first byte picks the model (bit 0: one that reads 4 values per step, or one
// that reads token ids from a vocabulary of 20) and the server's length limit
// (bit 1: none, or 300 steps); the rest is a serialized ClassifyRequest. The
// request goes through the v1 adapter's conversion (InferenceRequestOf) and
// ValidateRequest, as a real call would before anything is queued.
//
// Checks: a refusal is INVALID_ARGUMENT with a bounded message; an accepted
// request is exactly what the engine may be given: 1..max sequences, each with
// 1..limit steps, values that fill steps x features and are all finite, or
// token ids inside the vocabulary.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "absl/status/statusor.h"
#include "attnserve/v1/attnserve.pb.h"
#include "engine/model_spec.h"
#include "server/grpc/v1_conversion.h"
#include "server/serving/request_validation.h"

namespace {

using attnserve::engine::ModelSpec;

void Check(bool condition) {
  if (!condition) std::abort();
}

constexpr char kValuesModel[] = R"({
  "format": "attnserve.model", "format_version": 1,
  "input": {"size": 4, "max_length": 256},
  "encoder": {"type": "lstm", "hidden_size": 8, "num_layers": 1, "bidirectional": false},
  "attention": [{"type": "additive", "units": 4}],
  "head": {"hidden": [], "output": "softmax"},
  "labels": ["a", "b"], "precision": "f32"})";

constexpr char kTokenModel[] = R"({
  "format": "attnserve.model", "format_version": 1,
  "input": {"embedding": {"vocab": 20, "dim": 6}, "max_length": 512},
  "encoder": {"type": "lstm", "hidden_size": 8, "num_layers": 1, "bidirectional": false},
  "attention": [{"type": "feedforward"}],
  "head": {"hidden": [], "output": "softmax"},
  "labels": ["a", "b", "c"], "precision": "f32"})";

const ModelSpec& Spec(bool tokens) {
  static const ModelSpec* const values = new ModelSpec(*attnserve::engine::ParseModelSpec(kValuesModel));
  static const ModelSpec* const ids = new ModelSpec(*attnserve::engine::ParseModelSpec(kTokenModel));
  return tokens ? *ids : *values;
}

constexpr int64_t kMaxSequences = 64;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const bool tokens = (data[0] & 1) != 0;
  attnserve::server::ServerLimits limits;
  limits.max_sequence_length = (data[0] & 2) != 0 ? 300 : 0;
  limits.max_sequences_per_request = kMaxSequences;
  attnserve::v1::ClassifyRequest message;
  if (!message.ParseFromArray(data + 1, static_cast<int>(size - 1))) return 0;

  const ModelSpec& spec = Spec(tokens);
  const attnserve::server::InferenceRequest request = attnserve::server::InferenceRequestOf(
      message, attnserve::server::Clock::TimePoint::max());
  const absl::Status status = ValidateRequest(request, spec, limits, kMaxSequences);
  if (!status.ok()) {
    Check(status.code() == absl::StatusCode::kInvalidArgument);
    Check(!status.message().empty() && status.message().size() <= 512);
    return 0;
  }
  const int64_t limit = limits.max_sequence_length > 0
                            ? std::min<int64_t>(limits.max_sequence_length, spec.max_length)
                            : spec.max_length;
  Check(!request.sequences.empty());
  Check(static_cast<int64_t>(request.sequences.size()) <= kMaxSequences);
  for (const attnserve::server::SequenceInput& seq : request.sequences) {
    const int64_t steps = attnserve::server::StepsOf(seq, spec.input_size);
    Check(steps >= 1 && steps <= limit);
    if (tokens) {
      Check(seq.values.empty() && static_cast<int64_t>(seq.ids.size()) == steps);
      for (int64_t id : seq.ids) Check(id >= 0 && id < 20);
    } else {
      Check(seq.ids.empty() && static_cast<int64_t>(seq.values.size()) == steps * spec.input_size);
      for (float v : seq.values) Check(std::isfinite(v));
    }
  }
  return 0;
}
