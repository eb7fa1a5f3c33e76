// ScoreMix: the `score_mix` option of the query-based blocks (the "temporal
// attention over 8 hidden states" code: Dense(T, softmax) applied to the
// scores): over a fixed window of T steps, e' = Ws^T e + bs, mixing the
// scores of every position before the softmax. Tensors: attention.{i}.
// mix.weight [T, T] (nn.Linear layout: Ws transposed), mix.bias [T]. One
// matmul with the bias over the batch's scores [B, T].
// Ownership/thread-safety: ScoreMix is immutable and shared by sessions; a
// plan belongs to one session thread. Construction and Run() throw dnnl::error.
#ifndef ATTNSERVE_ENGINE_ATTENTION_SCORE_MIX_H_
#define ATTNSERVE_ENGINE_ATTENTION_SCORE_MIX_H_

#include <cstddef>
#include <cstdint>

#include "engine/attention/primitive_step.h"
#include "engine/tensor_file.h"
#include "engine/workspace.h"

namespace attnserve::engine {

class ScoreMix {
 public:
  ScoreMix(const FloatTensor& weight, const FloatTensor& bias);

  int64_t window() const { return window_; }
  const dnnl::memory& weight() const { return weight_; }
  const dnnl::memory& bias() const { return bias_; }

 private:
  int64_t window_;
  dnnl::memory weight_;  // Ws [T, T] (Keras kernel layout: in x out)
  dnnl::memory bias_;    // [1, T]
};

class ScoreMixPlan {
 public:
  // `steps` must be the window.
  ScoreMixPlan(const ScoreMix& mix, int64_t batch, int64_t steps);

  size_t scratchpad_bytes() const { return step_.scratchpad_bytes(); }
  // mixed[batch, T] = scores[batch, T] Ws + bs; the two must not alias.
  void Run(dnnl::stream& stream, Workspace& ws, const float* scores, float* mixed);

 private:
  PrimitiveStep step_;
};

}  // namespace attnserve::engine

#endif  // ATTNSERVE_ENGINE_ATTENTION_SCORE_MIX_H_
