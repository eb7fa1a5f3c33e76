// `feedforward` attention (Raffel & Ellis 2015; Keras Dense(1, tanh) ->
// softmax -> weighted sum): e_t = tanh(w . h_t + b), output c = sum_t a_t h_t.
// Tensors: attention.{i}.score.weight [1, d], attention.{i}.score.bias [1].
// Immutable after Create; see temporal_attention.h for the plan contract.
#ifndef ATTNSERVE_ENGINE_ATTENTION_FEEDFORWARD_ATTENTION_H_
#define ATTNSERVE_ENGINE_ATTENTION_FEEDFORWARD_ATTENTION_H_

#include <memory>

#include "engine/dense_layer.h"
#include "engine/temporal_attention.h"

namespace attnserve::engine {

class FeedForwardAttention : public TemporalAttention {
 public:
  explicit FeedForwardAttention(DenseLayer score) : score_(std::move(score)) {}
  int64_t output_size() const override { return score_.in(); }
  std::unique_ptr<TemporalAttentionPlan> Plan(int64_t batch, int64_t steps) const override;

 private:
  DenseLayer score_;  // d -> 1, tanh
};

}  // namespace attnserve::engine

#endif  // ATTNSERVE_ENGINE_ATTENTION_FEEDFORWARD_ATTENTION_H_
