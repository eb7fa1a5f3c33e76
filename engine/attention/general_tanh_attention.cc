// `general_tanh` attention (the "verify my code" recipe: Dot(h_last,
// tanh(Dense(h)))): e_t = q . tanh(W h_t + b). A matmul projects every step
// (bias and tanh fused), then a batched matmul dots each projection with q.
#include <algorithm>
#include <memory>

#include "engine/attention/primitive_step.h"
#include "engine/attention/scorers.h"
#include "engine/dnnl_util.h"

namespace attnserve::engine {
namespace {

class GeneralTanhPlan : public ScorePlan {
 public:
  GeneralTanhPlan(const dnnl::memory& weight, const dnnl::memory& bias, int64_t dim,
                  int64_t batch, int64_t steps)
      : rows_(batch * steps), dim_(dim) {
    const Operand b = Operand::Constant(bias);
    proj_ = MatmulStep(Operand::Runtime(PlainF32({rows_, dim})), Operand::Constant(weight), &b,
                       Operand::Runtime(PlainF32({rows_, dim})),
                       EltwiseOps(dnnl::algorithm::eltwise_tanh));
    dot_ = MatmulStep(Operand::Runtime(BatchMajorView(steps, batch, dim)),
                      Operand::Runtime(PlainF32({batch, dim, 1})), nullptr,
                      Operand::Runtime(PlainF32({batch, steps, 1})));
  }
  size_t scratchpad_bytes() const override {
    return std::max(proj_.scratchpad_bytes(), dot_.scratchpad_bytes());
  }
  void Run(dnnl::stream& stream, const EncoderOutput& enc, Workspace& ws,
           float* scores) override {
    const dnnl::memory& scratchpad = ws.Scratchpad(scratchpad_bytes());
    float* projected = ws.projection.Reserve(static_cast<size_t>(rows_ * dim_));
    proj_.Run(stream, scratchpad, {enc.h, projected});
    dot_.Run(stream, scratchpad, {projected, enc.query, scores});
  }

 private:
  int64_t rows_;
  int64_t dim_;
  PrimitiveStep proj_;
  PrimitiveStep dot_;
};

class GeneralTanhScorer : public Scorer {
 public:
  GeneralTanhScorer(const FloatTensor& weight, const FloatTensor& bias)
      : dim_(weight.shape.at(0)),
        weight_(TransposedMemory({dim_, dim_}, weight)),
        bias_(ConstantMemory({1, dim_}, bias)) {}
  std::unique_ptr<ScorePlan> Plan(int64_t batch, int64_t steps) const override {
    return std::make_unique<GeneralTanhPlan>(weight_, bias_, dim_, batch, steps);
  }

 private:
  int64_t dim_;
  dnnl::memory weight_;  // W^T [d, d]
  dnnl::memory bias_;    // [1, d]
};

}  // namespace

std::unique_ptr<Scorer> MakeGeneralTanhScorer(const FloatTensor& weight,
                                              const FloatTensor& bias) {
  return std::make_unique<GeneralTanhScorer>(weight, bias);
}

}  // namespace attnserve::engine
