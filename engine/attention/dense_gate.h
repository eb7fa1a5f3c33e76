// The head's optional `gate` (the "attention on a dense layer" recipe):
// g = sigmoid(Wg v + bg), output v * g, on the head's vector after
// head.gate_after of its hidden layers (0: the vector the head reads).
// Tensors: head.gate.weight [n, n], head.gate.bias [n]. g is the model's map
// "gate" ([n] per sequence). One matmul with the bias and the sigmoid fused,
// then a binary multiply by v.
// Ownership/thread-safety: DenseGate is immutable after construction and
// shared by sessions; a plan belongs to one session thread. Construction and
// Run() throw dnnl::error.
#ifndef ATTNSERVE_ENGINE_ATTENTION_DENSE_GATE_H_
#define ATTNSERVE_ENGINE_ATTENTION_DENSE_GATE_H_

#include <cstddef>
#include <cstdint>
#include <vector>

#include "engine/attention/primitive_step.h"
#include "engine/tensor_file.h"
#include "engine/workspace.h"

namespace attnserve::engine {

class DenseGate {
 public:
  DenseGate(const FloatTensor& weight, const FloatTensor& bias);

  int64_t size() const { return size_; }
  const dnnl::memory& weight() const { return weight_; }
  const dnnl::memory& bias() const { return bias_; }

 private:
  int64_t size_;
  dnnl::memory weight_;  // Wg^T [n, n]
  dnnl::memory bias_;    // [1, n]
};

class DenseGatePlan {
 public:
  DenseGatePlan(const DenseGate& gate, int64_t batch);

  size_t scratchpad_bytes() const;
  // weights[batch, n] = sigmoid(v Wg^T + bg), out[batch, n] = v * weights;
  // `out` and `weights` must not alias `v`.
  void Run(dnnl::stream& stream, Workspace& ws, const float* v, float* weights, float* out);

 private:
  PrimitiveStep gate_;
  PrimitiveStep apply_;
};

}  // namespace attnserve::engine

#endif  // ATTNSERVE_ENGINE_ATTENTION_DENSE_GATE_H_
