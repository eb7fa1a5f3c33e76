// `additive` attention (HAN-style, Yang et al. 2016; the "temporal attention
// on LSTM" recipe): e_t = w2 . tanh(W1 h_t + b1) + b2; output c, or c + q
// with residual_last (AttentionPooling's context_plus_query).
// Two matmuls: the projection over all T*B rows (a DenseLayer: bias and tanh
// fused, bf16 in bf16 models), then the score reading the projection as
// [B, T, units] and writing e batch-major.
#include <algorithm>
#include <memory>

#include "engine/attention/primitive_step.h"
#include "engine/attention/scorers.h"
#include "engine/dense_layer.h"
#include "engine/dnnl_util.h"

namespace attnserve::engine {
namespace {

struct AdditiveWeights {
  int64_t dim;
  int64_t units;
  DenseLayer proj;          // W1, b1, tanh: d -> units
  dnnl::memory score;       // w2 as [1, units, 1]
  dnnl::memory score_bias;  // [1, 1, 1]
};

class AdditivePlan : public ScorePlan {
 public:
  AdditivePlan(const AdditiveWeights& w, int64_t batch, int64_t steps)
      : rows_(batch * steps), units_(w.units) {
    proj_ = DensePlan(w.proj, rows_);
    const Operand score_bias = Operand::Constant(w.score_bias);
    score_ = MatmulStep(Operand::Runtime(BatchMajorView(steps, batch, w.units)),
                        Operand::Constant(w.score), &score_bias,
                        Operand::Runtime(PlainF32({batch, steps, 1})));
  }
  size_t scratchpad_bytes() const override {
    return std::max(proj_.scratchpad_bytes(), score_.scratchpad_bytes());
  }
  void Run(dnnl::stream& stream, const EncoderOutput& enc, Workspace& ws,
           float* scores) override {
    const dnnl::memory& scratchpad = ws.Scratchpad(scratchpad_bytes());
    float* projected = ws.projection.Reserve(static_cast<size_t>(rows_ * units_));
    proj_.Run(stream, enc.h, projected, scratchpad);
    score_.Run(stream, scratchpad, {projected, scores});
  }

 private:
  int64_t rows_;
  int64_t units_;
  DensePlan proj_;
  PrimitiveStep score_;
};

class AdditiveScorer : public Scorer {
 public:
  explicit AdditiveScorer(AdditiveWeights weights) : weights_(std::move(weights)) {}
  std::unique_ptr<ScorePlan> Plan(int64_t batch, int64_t steps) const override {
    return std::make_unique<AdditivePlan>(weights_, batch, steps);
  }

 private:
  AdditiveWeights weights_;
};

}  // namespace

std::unique_ptr<Scorer> MakeAdditiveScorer(const FloatTensor& proj_weight,
                                           const FloatTensor& proj_bias,
                                           const FloatTensor& score_weight,
                                           const FloatTensor& score_bias, Precision precision,
                                           std::shared_ptr<WeightLedger> ledger) {
  const int64_t units = proj_weight.shape.at(0);
  const int64_t dim = proj_weight.shape.at(1);
  return std::make_unique<AdditiveScorer>(AdditiveWeights{
      dim, units,
      CreateDenseLayerOrThrow(proj_weight, proj_bias, DenseActivation::kTanh, precision,
                              std::move(ledger)),
      ConstantMemory({1, units, 1}, score_weight), ConstantMemory({1, 1, 1}, score_bias)});
}

}  // namespace attnserve::engine
