#include "engine/attention/time_dense_attention.h"

#include <algorithm>
#include <stdexcept>

#include "engine/attention/primitive_step.h"
#include "engine/dnnl_util.h"

namespace attnserve::engine {
namespace {

using dnnl::algorithm;

struct TimeDenseWeights {
  int64_t window;
  int64_t channels;  // k
  bool single_vector;
  Placement placement;
  dnnl::memory weight;  // Wt = W^T as [1, T, T] (in, out)
  dnnl::memory bias;    // [1, 1, T]
};

// The block for one batch size: Z [T, B, k] time-major in; weights and Z * A out.
class TimeDenseCore {
 public:
  TimeDenseCore(const TimeDenseWeights& w, int64_t batch, int64_t steps)
      : batch_(batch), window_(w.window), channels_(w.channels), single_(w.single_vector) {
    if (steps != w.window) throw std::invalid_argument("time_dense plans need steps == window");
    const int64_t T = w.window;
    const int64_t k = w.channels;
    const Operand pre = Operand::Runtime(PlainF32({batch, k, T}));
    const Operand bias = Operand::Constant(w.bias);
    score_ = MatmulStep(Operand::Runtime(StridedF32({batch, k, T}, {k, 1, batch * k})),
                        Operand::Constant(w.weight), &bias, pre);
    softmax_ = SoftmaxStep(pre, pre, 2);
    if (single_) {
      weigh_ = ReductionStep(algorithm::reduction_mean, pre,
                             Operand::Runtime(PlainF32({batch, 1, T})));
    } else {
      weigh_ = ReorderStep(pre, Operand::Runtime(StridedF32({batch, k, T}, {T * k, 1, k})));
    }
    const int64_t width = single_ ? 1 : k;
    if (w.placement == Placement::kAfterLstm) {
      // Z read as [B, T, k]; the output is the flattened [B, T * k].
      product_ = BinaryStep(algorithm::binary_mul, Operand::Runtime(BatchMajorView(T, batch, k)),
                            Operand::Runtime(PlainF32({batch, T, width})),
                            Operand::Runtime(PlainF32({batch, T, k})));
    } else {
      // In place on the time-major input; the weights read as [T, B, width].
      const Operand input = Operand::Runtime(PlainF32({T, batch, k}));
      product_ = BinaryStep(algorithm::binary_mul, input,
                            Operand::Runtime(StridedF32({T, batch, width},
                                                        {width, T * width, 1})),
                            input);
    }
  }

  size_t scratchpad_bytes() const {
    return std::max({score_.scratchpad_bytes(), softmax_.scratchpad_bytes(),
                     weigh_.scratchpad_bytes(), product_.scratchpad_bytes()});
  }

  // `weights`: [B, T] or [B, T, k]; `out`: [B, T * k] (after) or `z` itself (before).
  void Run(dnnl::stream& stream, Workspace& ws, const float* z, float* weights, float* out) {
    const dnnl::memory& scratchpad = ws.Scratchpad(scratchpad_bytes());
    float* pre = ws.projection.Reserve(static_cast<size_t>(batch_ * channels_ * window_));
    score_.Run(stream, scratchpad, {z, pre});
    softmax_.Run(stream, scratchpad, {pre, pre});
    weigh_.Run(stream, scratchpad, {pre, weights});
    product_.Run(stream, scratchpad, {z, weights, out});
    stream.wait();
  }

 private:
  int64_t batch_;
  int64_t window_;
  int64_t channels_;
  bool single_;
  PrimitiveStep score_;
  PrimitiveStep softmax_;
  PrimitiveStep weigh_;
  PrimitiveStep product_;
};

class AfterLstmPlan : public TemporalAttentionPlan {
 public:
  AfterLstmPlan(const TimeDenseWeights& w, int64_t batch, int64_t steps)
      : core_(w, batch, steps) {}
  size_t scratchpad_bytes() const override { return core_.scratchpad_bytes(); }
  void Run(dnnl::stream& stream, const EncoderOutput& enc, Workspace& ws, float* weights,
           float* output) override {
    core_.Run(stream, ws, enc.h, weights, output);
  }

 private:
  TimeDenseCore core_;
};

class AfterLstm : public TemporalAttention {
 public:
  explicit AfterLstm(TimeDenseWeights w) : w_(std::move(w)) {}
  int64_t output_size() const override { return w_.window * w_.channels; }
  std::unique_ptr<TemporalAttentionPlan> Plan(int64_t batch, int64_t steps) const override {
    return std::make_unique<AfterLstmPlan>(w_, batch, steps);
  }

 private:
  TimeDenseWeights w_;
};

class BeforeLstmPlan : public InputAttentionPlan {
 public:
  BeforeLstmPlan(const TimeDenseWeights& w, int64_t batch, int64_t steps)
      : core_(w, batch, steps) {}
  size_t scratchpad_bytes() const override { return core_.scratchpad_bytes(); }
  void Run(dnnl::stream& stream, absl::Span<const int> /*lengths*/, Workspace& ws,
           float* weights) override {
    core_.Run(stream, ws, ws.input.data(), weights, ws.input.data());
  }

 private:
  TimeDenseCore core_;
};

class BeforeLstm : public InputAttention {
 public:
  explicit BeforeLstm(TimeDenseWeights w) : w_(std::move(w)) {}
  std::unique_ptr<InputAttentionPlan> Plan(int64_t batch, int64_t steps) const override {
    return std::make_unique<BeforeLstmPlan>(w_, batch, steps);
  }

 private:
  TimeDenseWeights w_;
};

TimeDenseWeights MakeWeights(const AttentionSpec& spec, int64_t channels,
                             const FloatTensor& weight, const FloatTensor& bias) {
  const int64_t T = spec.window;
  return TimeDenseWeights{T,
                          channels,
                          spec.single_vector,
                          spec.placement,
                          TransposedMemory({1, T, T}, weight),
                          ConstantMemory({1, 1, T}, bias)};
}

}  // namespace

std::unique_ptr<TemporalAttention> MakeTimeDenseAfterLstm(const AttentionSpec& spec, int64_t dim,
                                                          const FloatTensor& weight,
                                                          const FloatTensor& bias) {
  return std::make_unique<AfterLstm>(MakeWeights(spec, dim, weight, bias));
}

std::unique_ptr<InputAttention> MakeTimeDenseBeforeLstm(const AttentionSpec& spec,
                                                        int64_t features,
                                                        const FloatTensor& weight,
                                                        const FloatTensor& bias) {
  return std::make_unique<BeforeLstm>(MakeWeights(spec, features, weight, bias));
}

}  // namespace attnserve::engine
