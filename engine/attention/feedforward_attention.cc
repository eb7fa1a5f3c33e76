// `feedforward` attention (Raffel & Ellis 2015; Keras Dense(1, tanh) ->
// softmax -> weighted sum): e_t = tanh(w . h_t + b), output c.
// One batched matmul reads H in place (time-major viewed as [B, T, d]) and
// writes e batch-major, tanh fused as a post-op.
#include <memory>

#include "engine/attention/primitive_step.h"
#include "engine/attention/scorers.h"
#include "engine/dnnl_util.h"

namespace attnserve::engine {
namespace {

class FeedForwardPlan : public ScorePlan {
 public:
  FeedForwardPlan(const dnnl::memory& weight, const dnnl::memory& bias, int64_t dim,
                  int64_t batch, int64_t steps) {
    const Operand b = Operand::Constant(bias);
    score_ = MatmulStep(Operand::Runtime(BatchMajorView(steps, batch, dim)),
                        Operand::Constant(weight), &b,
                        Operand::Runtime(PlainF32({batch, steps, 1})),
                        EltwiseOps(dnnl::algorithm::eltwise_tanh));
  }
  size_t scratchpad_bytes() const override { return score_.scratchpad_bytes(); }
  void Run(dnnl::stream& stream, const EncoderOutput& enc, Workspace& ws,
           float* scores) override {
    score_.Run(stream, ws.Scratchpad(score_.scratchpad_bytes()), {enc.h, scores});
  }

 private:
  PrimitiveStep score_;
};

class FeedForwardScorer : public Scorer {
 public:
  FeedForwardScorer(const FloatTensor& weight, const FloatTensor& bias)
      : dim_(weight.shape.at(1)),
        weight_(ConstantMemory({1, dim_, 1}, weight)),
        bias_(ConstantMemory({1, 1, 1}, bias)) {}
  std::unique_ptr<ScorePlan> Plan(int64_t batch, int64_t steps) const override {
    return std::make_unique<FeedForwardPlan>(weight_, bias_, dim_, batch, steps);
  }

 private:
  int64_t dim_;
  dnnl::memory weight_;  // w as [1, d, 1]
  dnnl::memory bias_;    // [1, 1, 1]
};

}  // namespace

std::unique_ptr<Scorer> MakeFeedForwardScorer(const FloatTensor& weight,
                                              const FloatTensor& bias) {
  return std::make_unique<FeedForwardScorer>(weight, bias);
}

}  // namespace attnserve::engine
