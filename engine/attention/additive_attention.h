// `additive` attention (HAN-style, Yang et al. 2016; the "temporal attention
// on LSTM" recipe): e_t = w2 . tanh(W1 h_t + b1) + b2, output c, or c + q with
// residual_last (q: the encoder output at the last valid step).
// Tensors: attention.{i}.proj.weight [units, d], attention.{i}.proj.bias
// [units], attention.{i}.score.weight [1, units], attention.{i}.score.bias [1].
// Immutable after construction; see temporal_attention.h for the plan contract.
#ifndef ATTNSERVE_ENGINE_ATTENTION_ADDITIVE_ATTENTION_H_
#define ATTNSERVE_ENGINE_ATTENTION_ADDITIVE_ATTENTION_H_

#include <memory>

#include "engine/dense_layer.h"
#include "engine/temporal_attention.h"

namespace attnserve::engine {

class AdditiveAttention : public TemporalAttention {
 public:
  AdditiveAttention(DenseLayer proj, DenseLayer score, bool residual_last)
      : proj_(std::move(proj)), score_(std::move(score)), residual_last_(residual_last) {}
  int64_t output_size() const override { return proj_.in(); }
  std::unique_ptr<TemporalAttentionPlan> Plan(int64_t batch, int64_t steps) const override;

 private:
  DenseLayer proj_;   // d -> units, tanh
  DenseLayer score_;  // units -> 1
  bool residual_last_;
};

}  // namespace attnserve::engine

#endif  // ATTNSERVE_ENGINE_ATTENTION_ADDITIVE_ATTENTION_H_
