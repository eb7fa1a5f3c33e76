#include "engine/model_outputs.h"

#include "absl/strings/str_cat.h"

namespace attnserve::engine {

std::vector<AttentionOutputInfo> AttentionOutputs(const ModelSpec& spec) {
  std::vector<AttentionOutputInfo> outputs;
  if (!spec.attention.empty()) outputs.push_back({"temporal", {kSequenceLength}});
  return outputs;
}

absl::Status CheckSequenceLength(const ModelSpec& spec, int64_t length) {
  if (length < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("sequence length is ", length, "; it must be at least 1"));
  }
  if (spec.max_length > 0 && length > spec.max_length) {
    return absl::InvalidArgumentError(absl::StrCat(
        "sequence length ", length, " exceeds the model's max_length ", spec.max_length));
  }
  return absl::OkStatus();
}

}  // namespace attnserve::engine
