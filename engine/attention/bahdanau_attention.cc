// `bahdanau` attention (additive with the last step as query; keras-attention
// score='bahdanau'): e_t = v . tanh(W1 q + W2 h_t), no biases, W1, W2 [d, d].
// Matmuls project the B queries and all T*B steps (the latter a DenseLayer
// with a zero bias, bf16 in bf16 models); a binary add broadcasts
// W1 q over the steps with tanh fused; a batched matmul applies v and writes
// e batch-major.
#include <algorithm>
#include <memory>

#include "engine/attention/primitive_step.h"
#include "engine/attention/scorers.h"
#include "engine/dense_layer.h"
#include "engine/dnnl_util.h"

namespace attnserve::engine {
namespace {

struct BahdanauWeights {
  int64_t dim;
  dnnl::memory query;  // W1^T [d, d]
  DenseLayer key;      // W2, zero bias: d -> d
  dnnl::memory score;  // v as [1, d, 1]
};

class BahdanauPlan : public ScorePlan {
 public:
  BahdanauPlan(const BahdanauWeights& w, int64_t batch, int64_t steps)
      : batch_(batch), steps_(steps), dim_(w.dim) {
    const int64_t d = w.dim;
    project_query_ = MatmulStep(Operand::Runtime(PlainF32({batch, d})), Operand::Constant(w.query),
                                nullptr, Operand::Runtime(PlainF32({batch, d})));
    project_steps_ = DensePlan(w.key, steps * batch);
    const Operand projected = Operand::Runtime(PlainF32({steps, batch, d}));
    add_query_ = BinaryStep(dnnl::algorithm::binary_add, projected,
                            Operand::Runtime(PlainF32({1, batch, d})), projected,
                            EltwiseOps(dnnl::algorithm::eltwise_tanh));
    score_ = MatmulStep(Operand::Runtime(BatchMajorView(steps, batch, d)),
                        Operand::Constant(w.score), nullptr,
                        Operand::Runtime(PlainF32({batch, steps, 1})));
  }
  size_t scratchpad_bytes() const override {
    return std::max({project_query_.scratchpad_bytes(), project_steps_.scratchpad_bytes(),
                     add_query_.scratchpad_bytes(), score_.scratchpad_bytes()});
  }
  void Run(dnnl::stream& stream, const EncoderOutput& enc, Workspace& ws,
           float* scores) override {
    const dnnl::memory& scratchpad = ws.Scratchpad(scratchpad_bytes());
    float* queries = ws.query_proj.Reserve(static_cast<size_t>(batch_ * dim_));
    float* projected = ws.projection.Reserve(static_cast<size_t>(steps_ * batch_ * dim_));
    project_query_.Run(stream, scratchpad, {enc.query, queries});
    project_steps_.Run(stream, enc.h, projected, scratchpad);
    add_query_.Run(stream, scratchpad, {projected, queries, projected});
    score_.Run(stream, scratchpad, {projected, scores});
  }

 private:
  int64_t batch_;
  int64_t steps_;
  int64_t dim_;
  PrimitiveStep project_query_;
  DensePlan project_steps_;
  PrimitiveStep add_query_;
  PrimitiveStep score_;
};

class BahdanauScorer : public Scorer {
 public:
  explicit BahdanauScorer(BahdanauWeights weights) : weights_(std::move(weights)) {}
  std::unique_ptr<ScorePlan> Plan(int64_t batch, int64_t steps) const override {
    return std::make_unique<BahdanauPlan>(weights_, batch, steps);
  }

 private:
  BahdanauWeights weights_;
};

}  // namespace

std::unique_ptr<Scorer> MakeBahdanauScorer(const FloatTensor& query_weight,
                                           const FloatTensor& key_weight,
                                           const FloatTensor& score_weight, Precision precision,
                                           std::shared_ptr<WeightLedger> ledger) {
  const int64_t d = key_weight.shape.at(0);
  const FloatTensor zero_bias{{d}, std::vector<float>(static_cast<size_t>(d), 0.0f)};
  return std::make_unique<BahdanauScorer>(BahdanauWeights{
      d, TransposedMemory({d, d}, query_weight),
      CreateDenseLayerOrThrow(key_weight, zero_bias, DenseActivation::kNone, precision,
                              std::move(ledger)),
      ConstantMemory({1, d, 1}, score_weight)});
}

}  // namespace attnserve::engine
