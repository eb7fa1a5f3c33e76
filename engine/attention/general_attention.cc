// `general` attention (Luong general; keras-attention's Attention layer):
// e_t = q . (W h_t), W [d, d] without bias. Computed as (W^T q) . h_t: one
// matmul projects the B queries (instead of all T*B steps), then a batched
// matmul scores every step.
#include <algorithm>
#include <memory>

#include "engine/attention/primitive_step.h"
#include "engine/attention/scorers.h"
#include "engine/dnnl_util.h"

namespace attnserve::engine {
namespace {

class GeneralPlan : public ScorePlan {
 public:
  GeneralPlan(const dnnl::memory& weight, int64_t dim, int64_t batch, int64_t steps)
      : batch_(batch), dim_(dim) {
    // q W (row vector times W [out, in]) is W^T q.
    project_ = MatmulStep(Operand::Runtime(PlainF32({batch, dim})), Operand::Constant(weight),
                          nullptr, Operand::Runtime(PlainF32({batch, dim})));
    dot_ = MatmulStep(Operand::Runtime(BatchMajorView(steps, batch, dim)),
                      Operand::Runtime(PlainF32({batch, dim, 1})), nullptr,
                      Operand::Runtime(PlainF32({batch, steps, 1})));
  }
  size_t scratchpad_bytes() const override {
    return std::max(project_.scratchpad_bytes(), dot_.scratchpad_bytes());
  }
  void Run(dnnl::stream& stream, const EncoderOutput& enc, Workspace& ws,
           float* scores) override {
    const dnnl::memory& scratchpad = ws.Scratchpad(scratchpad_bytes());
    float* projected = ws.query_proj.Reserve(static_cast<size_t>(batch_ * dim_));
    project_.Run(stream, scratchpad, {enc.query, projected});
    dot_.Run(stream, scratchpad, {enc.h, projected, scores});
  }

 private:
  int64_t batch_;
  int64_t dim_;
  PrimitiveStep project_;
  PrimitiveStep dot_;
};

class GeneralScorer : public Scorer {
 public:
  explicit GeneralScorer(const FloatTensor& weight)
      : dim_(weight.shape.at(0)), weight_(ConstantMemory({dim_, dim_}, weight)) {}
  std::unique_ptr<ScorePlan> Plan(int64_t batch, int64_t steps) const override {
    return std::make_unique<GeneralPlan>(weight_, dim_, batch, steps);
  }

 private:
  int64_t dim_;
  dnnl::memory weight_;  // W [out, in] as is: the weights of q W
};

}  // namespace

std::unique_ptr<Scorer> MakeGeneralScorer(const FloatTensor& weight) {
  return std::make_unique<GeneralScorer>(weight);
}

}  // namespace attnserve::engine
