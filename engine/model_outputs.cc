#include "engine/model_outputs.h"

#include "absl/strings/str_cat.h"

namespace attnserve::engine {

std::vector<AttentionOutputInfo> AttentionOutputs(const ModelSpec& spec) {
  // With a window every block sees all of its steps; otherwise a sequence's own length.
  const int64_t steps = spec.window() > 0 ? spec.window() : kSequenceLength;
  const int64_t d = spec.encoder.output_size();
  std::vector<AttentionOutputInfo> outputs;
  for (const AttentionSpec& block : spec.attention) {
    switch (block.kind) {
      case AttentionKind::kFeature:
        outputs.push_back({"feature", block.single_vector
                                          ? std::vector<int64_t>{spec.input_size}
                                          : std::vector<int64_t>{steps, spec.input_size}});
        break;
      case AttentionKind::kTimeDense: {
        const int64_t k = block.placement == Placement::kBeforeLstm ? spec.input_size : d;
        outputs.push_back({"time", block.single_vector ? std::vector<int64_t>{block.window}
                                                       : std::vector<int64_t>{block.window, k}});
        break;
      }
      default:
        outputs.push_back({"temporal", {steps}});
        break;
    }
  }
  if (spec.head.gate) outputs.push_back({"gate", {spec.gate_size()}});
  return outputs;
}

absl::Status CheckSequenceLength(const ModelSpec& spec, int64_t length) {
  if (length < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("sequence length is ", length, "; it must be at least 1"));
  }
  if (!spec.has_encoder && length != 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("sequence length is ", length, "; a model without an LSTM reads exactly one "
                                                    "step of ",
                     spec.input_size, " values"));
  }
  const AttentionSpec* window = spec.windowed();
  if (window != nullptr && window->truncate == Truncation::kNone && length > window->window) {
    return absl::InvalidArgumentError(absl::StrCat(
        "sequence length ", length, " exceeds the model's window of ", window->window, " steps (its ",
        AttentionKindName(window->kind), " attention does not truncate)"));
  }
  if (spec.max_length > 0 && length > spec.max_length) {
    return absl::InvalidArgumentError(absl::StrCat(
        "sequence length ", length, " exceeds the model's max_length ", spec.max_length));
  }
  return absl::OkStatus();
}

}  // namespace attnserve::engine
