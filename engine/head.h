// Head: dense layers (relu between them, none after the last) and the output
// activation (softmax over classes, elementwise sigmoid, or linear).
// Tensors: head.layers.{j}.weight [out_j, in_j], head.layers.{j}.bias [out_j].
// HeadPlan: the head prepared for a batch of B vectors, with the model's gate
// (dense_gate.h) where it runs: after `gate_after` of the dense layers.
//
// Ownership/thread-safety: Head is immutable after Create and shared by
// sessions; a plan belongs to one session thread; Run() may throw dnnl::error.
#ifndef ATTNSERVE_ENGINE_HEAD_H_
#define ATTNSERVE_ENGINE_HEAD_H_

#include <cstddef>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/attention/dense_gate.h"
#include "engine/dense_layer.h"
#include "engine/model_spec.h"
#include "engine/tensor_file.h"
#include "engine/workspace.h"

namespace attnserve::engine {

class Head {
 public:
  // Dense layers compute in `precision` (see dense_layer.h), their prepared
  // weights charged to `ledger` (may be null); the output activation is
  // always f32.
  static absl::StatusOr<std::unique_ptr<Head>> Create(
      const HeadSpec& spec, const std::map<std::string, FloatTensor>& weights,
      Precision precision = Precision::kF32, std::shared_ptr<WeightLedger> ledger = nullptr);

  const std::vector<DenseLayer>& layers() const { return layers_; }
  OutputActivation output() const { return output_; }
  int64_t num_outputs() const { return layers_.back().out(); }

 private:
  Head() = default;
  std::vector<DenseLayer> layers_;
  OutputActivation output_ = OutputActivation::kSoftmax;
};

class HeadPlan {
 public:
  // `gate` (may be null) runs after `gate_after` dense layers. Throws dnnl::error.
  HeadPlan(const Head& head, const DenseGate* gate, int gate_after, int64_t batch);

  size_t scratchpad_bytes() const { return scratchpad_bytes_; }
  // out[batch, C] = activation(head(input[batch, in])); with a gate, its
  // weights go to gate_weights [batch, n]. Throws dnnl::error.
  void Run(dnnl::stream& stream, const float* input, Workspace& ws, float* out,
           float* gate_weights = nullptr);

 private:
  const Head& head_;
  int64_t batch_;
  std::vector<DensePlan> layers_;
  std::unique_ptr<DenseGatePlan> gate_;  // null without a gate
  int gate_after_ = 0;
  int64_t gate_size_ = 0;
  size_t scratchpad_bytes_ = 0;
};

// Applies the output activation in place to [batch, classes] logits.
void ApplyOutputActivation(OutputActivation activation, int64_t batch, int64_t classes,
                           float* values);

}  // namespace attnserve::engine

#endif  // ATTNSERVE_ENGINE_HEAD_H_
