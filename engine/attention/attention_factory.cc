#include "engine/attention/attention_factory.h"

#include "absl/strings/str_cat.h"
#include "engine/attention/additive_attention.h"
#include "engine/attention/feedforward_attention.h"
#include "engine/dense_layer.h"

namespace attnserve::engine {

absl::StatusOr<std::unique_ptr<TemporalAttention>> CreateTemporalAttention(
    const AttentionSpec& spec, int index, const std::map<std::string, FloatTensor>& weights) {
  const std::string prefix = absl::StrCat("attention.", index, ".");
  auto dense = [&](const char* name, DenseActivation act) {
    return DenseLayer::Create(weights.at(prefix + name + ".weight"),
                              weights.at(prefix + name + ".bias"), act);
  };
  switch (spec.kind) {
    case AttentionKind::kFeedForward: {
      absl::StatusOr<DenseLayer> score = dense("score", DenseActivation::kTanh);
      if (!score.ok()) return score.status();
      return std::unique_ptr<TemporalAttention>(
          new FeedForwardAttention(*std::move(score)));
    }
    case AttentionKind::kAdditive: {
      absl::StatusOr<DenseLayer> proj = dense("proj", DenseActivation::kTanh);
      if (!proj.ok()) return proj.status();
      absl::StatusOr<DenseLayer> score = dense("score", DenseActivation::kNone);
      if (!score.ok()) return score.status();
      return std::unique_ptr<TemporalAttention>(
          new AdditiveAttention(*std::move(proj), *std::move(score), spec.residual_last));
    }
  }
  return absl::InvalidArgumentError(
      absl::StrCat("attention[", index, "]: unsupported attention kind"));
}

}  // namespace attnserve::engine
