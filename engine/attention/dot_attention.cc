// `dot` attention (Luong dot): e_t = q . h_t. One batched matmul: H viewed
// [B, T, d] times q as [B, d, 1]. Output modes in AttentionPooling.
#include <memory>

#include "engine/attention/primitive_step.h"
#include "engine/attention/scorers.h"
#include "engine/dnnl_util.h"

namespace attnserve::engine {
namespace {

class DotPlan : public ScorePlan {
 public:
  DotPlan(int64_t dim, int64_t batch, int64_t steps)
      : dot_(MatmulStep(Operand::Runtime(BatchMajorView(steps, batch, dim)),
                        Operand::Runtime(PlainF32({batch, dim, 1})), nullptr,
                        Operand::Runtime(PlainF32({batch, steps, 1})))) {}
  size_t scratchpad_bytes() const override { return dot_.scratchpad_bytes(); }
  void Run(dnnl::stream& stream, const EncoderOutput& enc, Workspace& ws,
           float* scores) override {
    dot_.Run(stream, ws.Scratchpad(dot_.scratchpad_bytes()), {enc.h, enc.query, scores});
  }

 private:
  PrimitiveStep dot_;
};

class DotScorer : public Scorer {
 public:
  explicit DotScorer(int64_t dim) : dim_(dim) {}
  std::unique_ptr<ScorePlan> Plan(int64_t batch, int64_t steps) const override {
    return std::make_unique<DotPlan>(dim_, batch, steps);
  }

 private:
  int64_t dim_;
};

}  // namespace

std::unique_ptr<Scorer> MakeDotScorer(int64_t dim) { return std::make_unique<DotScorer>(dim); }

}  // namespace attnserve::engine
