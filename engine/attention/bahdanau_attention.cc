// `bahdanau` attention (additive with the last step as query; keras-attention
// score='bahdanau'): e_t = v . tanh(W1 q + W2 h_t), no biases, W1, W2 [A, d]
// (A = attention_size, d by default), v [A].
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
  int64_t dim;         // d
  int64_t size;        // A
  dnnl::memory query;  // W1^T [d, A]
  DenseLayer key;      // W2, zero bias: d -> A
  dnnl::memory score;  // v as [1, A, 1]
};

class BahdanauPlan : public ScorePlan {
 public:
  BahdanauPlan(const BahdanauWeights& w, int64_t batch, int64_t steps)
      : batch_(batch), steps_(steps), size_(w.size) {
    const int64_t d = w.dim;
    const int64_t a = w.size;
    project_query_ = MatmulStep(Operand::Runtime(PlainF32({batch, d})), Operand::Constant(w.query),
                                nullptr, Operand::Runtime(PlainF32({batch, a})));
    project_steps_ = DensePlan(w.key, steps * batch);
    const Operand projected = Operand::Runtime(PlainF32({steps, batch, a}));
    add_query_ = BinaryStep(dnnl::algorithm::binary_add, projected,
                            Operand::Runtime(PlainF32({1, batch, a})), projected,
                            EltwiseOps(dnnl::algorithm::eltwise_tanh));
    score_ = MatmulStep(Operand::Runtime(BatchMajorView(steps, batch, a)),
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
    float* queries = ws.query_proj.Reserve(static_cast<size_t>(batch_ * size_));
    float* projected = ws.projection.Reserve(static_cast<size_t>(steps_ * batch_ * size_));
    project_query_.Run(stream, scratchpad, {enc.query, queries});
    project_steps_.Run(stream, enc.h, projected, scratchpad);
    add_query_.Run(stream, scratchpad, {projected, queries, projected});
    score_.Run(stream, scratchpad, {projected, scores});
  }

 private:
  int64_t batch_;
  int64_t steps_;
  int64_t size_;
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
  const int64_t a = key_weight.shape.at(0);
  const int64_t d = key_weight.shape.at(1);
  const FloatTensor zero_bias{{a}, std::vector<float>(static_cast<size_t>(a), 0.0f)};
  return std::make_unique<BahdanauScorer>(BahdanauWeights{
      d, a, TransposedMemory({d, a}, query_weight),
      CreateDenseLayerOrThrow(key_weight, zero_bias, DenseActivation::kNone, precision,
                              std::move(ledger)),
      ConstantMemory({1, a, 1}, score_weight)});
}

}  // namespace attnserve::engine
