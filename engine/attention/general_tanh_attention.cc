// `general_tanh` attention (the "verify my code" recipe: Dot(h_last,
// tanh(Dense(h)))): e_t = q . tanh(W h_t + b). A matmul projects every step
// (a DenseLayer: bias and tanh fused, bf16 in bf16 models), then a batched
// matmul dots each projection with q.
#include <algorithm>
#include <memory>

#include "engine/attention/primitive_step.h"
#include "engine/attention/scorers.h"
#include "engine/dense_layer.h"
#include "engine/dnnl_util.h"

namespace attnserve::engine {
namespace {

class GeneralTanhPlan : public ScorePlan {
 public:
  GeneralTanhPlan(const DenseLayer& proj, int64_t dim, int64_t batch, int64_t steps)
      : rows_(batch * steps), dim_(dim), proj_(proj, rows_) {
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
    proj_.Run(stream, enc.h, projected, scratchpad);
    dot_.Run(stream, scratchpad, {projected, enc.query, scores});
  }

 private:
  int64_t rows_;
  int64_t dim_;
  DensePlan proj_;
  PrimitiveStep dot_;
};

class GeneralTanhScorer : public Scorer {
 public:
  GeneralTanhScorer(const FloatTensor& weight, const FloatTensor& bias, Precision precision,
                    std::shared_ptr<WeightLedger> ledger)
      : dim_(weight.shape.at(0)),
        proj_(CreateDenseLayerOrThrow(weight, bias, DenseActivation::kTanh, precision,
                                       std::move(ledger))) {}
  std::unique_ptr<ScorePlan> Plan(int64_t batch, int64_t steps) const override {
    return std::make_unique<GeneralTanhPlan>(proj_, dim_, batch, steps);
  }

 private:
  int64_t dim_;
  DenseLayer proj_;  // W, b, tanh: d -> d
};

}  // namespace

std::unique_ptr<Scorer> MakeGeneralTanhScorer(const FloatTensor& weight, const FloatTensor& bias,
                                              Precision precision,
                                              std::shared_ptr<WeightLedger> ledger) {
  return std::make_unique<GeneralTanhScorer>(weight, bias, precision, std::move(ledger));
}

}  // namespace attnserve::engine
