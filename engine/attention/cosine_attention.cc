// `cosine` attention: e_t = q . h_t / (max(|q|, eps) * max(|h_t|, eps)),
// eps = 1e-8, as the catalog states it (not PyTorch's cosine_similarity,
// which clamps the product of the norms).
// Norms are reductions (norm_lp_max, p = 2, with eps^2 inside the root:
// sqrt(max(sum x^2, eps^2)) = max(|x|, eps)); q is divided by its norm, a
// batched matmul dots it with every step, and a binary division by the step
// norms finishes the scores.
#include <algorithm>
#include <memory>

#include "engine/attention/primitive_step.h"
#include "engine/attention/scorers.h"
#include "engine/dnnl_util.h"

namespace attnserve::engine {
namespace {

constexpr float kEps = 1e-8f;

class CosinePlan : public ScorePlan {
 public:
  CosinePlan(int64_t dim, int64_t batch, int64_t steps)
      : batch_(batch), steps_(steps), dim_(dim) {
    using dnnl::algorithm;
    const Operand queries = Operand::Runtime(PlainF32({batch, dim}));
    const Operand query_norms = Operand::Runtime(PlainF32({batch, 1}));
    const Operand h = Operand::Runtime(BatchMajorView(steps, batch, dim));
    const Operand scores = Operand::Runtime(PlainF32({batch, steps}));
    query_norm_ = ReductionStep(algorithm::reduction_norm_lp_max, queries, query_norms, 2.0f,
                                kEps * kEps);
    normalize_query_ = BinaryStep(algorithm::binary_div, queries, query_norms, queries);
    step_norm_ = ReductionStep(algorithm::reduction_norm_lp_max, h,
                               Operand::Runtime(PlainF32({batch, steps, 1})), 2.0f, kEps * kEps);
    dot_ = MatmulStep(h, Operand::Runtime(PlainF32({batch, dim, 1})), nullptr,
                      Operand::Runtime(PlainF32({batch, steps, 1})));
    divide_ = BinaryStep(algorithm::binary_div, scores, scores, scores);
  }
  size_t scratchpad_bytes() const override {
    return std::max({query_norm_.scratchpad_bytes(), normalize_query_.scratchpad_bytes(),
                     step_norm_.scratchpad_bytes(), dot_.scratchpad_bytes(),
                     divide_.scratchpad_bytes()});
  }
  void Run(dnnl::stream& stream, const EncoderOutput& enc, Workspace& ws,
           float* scores) override {
    const dnnl::memory& scratchpad = ws.Scratchpad(scratchpad_bytes());
    float* step_norms = ws.norms.Reserve(static_cast<size_t>(batch_ * (steps_ + 1)));
    float* query_norms = step_norms + batch_ * steps_;
    float* unit_queries = ws.query_proj.Reserve(static_cast<size_t>(batch_ * dim_));
    query_norm_.Run(stream, scratchpad, {enc.query, query_norms});
    normalize_query_.Run(stream, scratchpad, {enc.query, query_norms, unit_queries});
    step_norm_.Run(stream, scratchpad, {enc.h, step_norms});
    dot_.Run(stream, scratchpad, {enc.h, unit_queries, scores});
    divide_.Run(stream, scratchpad, {scores, step_norms, scores});
  }

 private:
  int64_t batch_;
  int64_t steps_;
  int64_t dim_;
  PrimitiveStep query_norm_;
  PrimitiveStep normalize_query_;
  PrimitiveStep step_norm_;
  PrimitiveStep dot_;
  PrimitiveStep divide_;
};

class CosineScorer : public Scorer {
 public:
  explicit CosineScorer(int64_t dim) : dim_(dim) {}
  std::unique_ptr<ScorePlan> Plan(int64_t batch, int64_t steps) const override {
    return std::make_unique<CosinePlan>(dim_, batch, steps);
  }

 private:
  int64_t dim_;
};

}  // namespace

std::unique_ptr<Scorer> MakeCosineScorer(int64_t dim) {
  return std::make_unique<CosineScorer>(dim);
}

}  // namespace attnserve::engine
