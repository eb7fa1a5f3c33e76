#include "engine/attention/feature_attention.h"

#include <algorithm>

#include "engine/attention/primitive_step.h"
#include "engine/dnnl_util.h"

namespace attnserve::engine {
namespace {

using dnnl::algorithm;

struct FeatureWeights {
  int64_t features;  // D
  bool single_vector;
  dnnl::memory weight;  // Wf^T [D, D]
  dnnl::memory bias;    // [1, D]
};

class FeaturePlan : public InputAttentionPlan {
 public:
  FeaturePlan(const FeatureWeights& w, int64_t batch, int64_t steps)
      : batch_(batch), steps_(steps), features_(w.features), single_(w.single_vector) {
    const int64_t D = w.features;
    const Operand rows = Operand::Runtime(PlainF32({steps * batch, D}));
    const Operand bias = Operand::Constant(w.bias);
    score_ = MatmulStep(rows, Operand::Constant(w.weight), &bias, rows);
    softmax_ = SoftmaxStep(rows, rows, 1);
    if (single_) {
      mean_ = MatmulStep(Operand::Runtime(PlainF32({batch, 1, steps})),
                         Operand::Runtime(BatchMajorView(steps, batch, D)), nullptr,
                         Operand::Runtime(PlainF32({batch, 1, D})));
      const Operand input = Operand::Runtime(PlainF32({steps, batch, D}));
      reweigh_ = BinaryStep(algorithm::binary_mul, input,
                            Operand::Runtime(PlainF32({1, batch, D})), input);
    } else {
      to_map_ = ReorderStep(Operand::Runtime(BatchMajorView(steps, batch, D)),
                            Operand::Runtime(PlainF32({batch, steps, D})));
      reweigh_ = BinaryStep(algorithm::binary_mul, rows, rows, rows);
    }
  }

  size_t scratchpad_bytes() const override {
    size_t bytes = std::max({score_.scratchpad_bytes(), softmax_.scratchpad_bytes(),
                             reweigh_.scratchpad_bytes()});
    return std::max({bytes, mean_.scratchpad_bytes(), to_map_.scratchpad_bytes()});
  }

  void Run(dnnl::stream& stream, absl::Span<const int> lengths, Workspace& ws,
           float* weights) override {
    const dnnl::memory& scratchpad = ws.Scratchpad(scratchpad_bytes());
    float* input = ws.input.data();
    float* b = ws.projection.Reserve(static_cast<size_t>(steps_ * batch_ * features_));
    score_.Run(stream, scratchpad, {input, b});
    softmax_.Run(stream, scratchpad, {b, b});
    if (single_) {
      // weights = sum over valid t of b_t / l: a [B, 1, T] x [B, T, D] product.
      float* mean = ws.scores.Reserve(static_cast<size_t>(batch_ * steps_));
      for (int64_t s = 0; s < batch_; ++s) {
        float* row = mean + s * steps_;
        std::fill(row, row + lengths[s], 1.0f / static_cast<float>(lengths[s]));
        std::fill(row + lengths[s], row + steps_, 0.0f);
      }
      mean_.Run(stream, scratchpad, {mean, b, weights});
      reweigh_.Run(stream, scratchpad, {input, weights, input});
      stream.wait();
      return;
    }
    to_map_.Run(stream, scratchpad, {b, weights});
    reweigh_.Run(stream, scratchpad, {input, b, input});
    stream.wait();
    for (int64_t s = 0; s < batch_; ++s) {  // the map covers valid steps only
      std::fill(weights + (s * steps_ + lengths[s]) * features_,
                weights + (s + 1) * steps_ * features_, 0.0f);
    }
  }

 private:
  int64_t batch_;
  int64_t steps_;
  int64_t features_;
  bool single_;
  PrimitiveStep score_;
  PrimitiveStep softmax_;
  PrimitiveStep mean_;    // single_vector
  PrimitiveStep to_map_;  // per step
  PrimitiveStep reweigh_;
};

class FeatureAttention : public InputAttention {
 public:
  explicit FeatureAttention(FeatureWeights w) : w_(std::move(w)) {}
  std::unique_ptr<InputAttentionPlan> Plan(int64_t batch, int64_t steps) const override {
    return std::make_unique<FeaturePlan>(w_, batch, steps);
  }

 private:
  FeatureWeights w_;
};

}  // namespace

std::unique_ptr<InputAttention> MakeFeatureAttention(const AttentionSpec& spec,
                                                     const FloatTensor& weight,
                                                     const FloatTensor& bias) {
  const int64_t D = weight.shape.at(0);
  return std::make_unique<FeatureAttention>(FeatureWeights{
      D, spec.single_vector, TransposedMemory({D, D}, weight), ConstantMemory({1, D}, bias)});
}

}  // namespace attnserve::engine
