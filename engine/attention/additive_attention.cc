#include "engine/attention/additive_attention.h"

#include <algorithm>

#include "engine/attention/attention_math.h"

namespace attnserve::engine {
namespace {

class AdditivePlan : public TemporalAttentionPlan {
 public:
  AdditivePlan(const DenseLayer& proj, const DenseLayer& score, bool residual_last,
               int64_t batch, int64_t steps)
      : proj_(proj, batch * steps),
        score_(score, batch * steps),
        units_(proj.out()),
        residual_last_(residual_last) {}

  size_t scratchpad_bytes() const override {
    return std::max(proj_.scratchpad_bytes(), score_.scratchpad_bytes());
  }

  void Run(dnnl::stream& stream, const EncoderOutput& enc, Workspace& ws, float* weights,
           float* output) override {
    const size_t rows = static_cast<size_t>(enc.steps * enc.batch);
    float* projected = ws.projection.Reserve(rows * units_);
    float* scores = ws.scores.Reserve(rows);
    const dnnl::memory& scratchpad = ws.Scratchpad(scratchpad_bytes());
    proj_.Run(stream, enc.h, projected, scratchpad);
    score_.Run(stream, projected, scores, scratchpad);
    stream.wait();
    MaskedSoftmax(scores, enc.lengths, enc.batch, enc.steps, weights);
    WeightedSum(enc.h, weights, enc.lengths, enc.batch, enc.steps, enc.dim, output);
    if (residual_last_) {
      for (int64_t i = 0; i < enc.batch * enc.dim; ++i) output[i] += enc.query[i];
    }
  }

 private:
  DensePlan proj_;
  DensePlan score_;
  int64_t units_;
  bool residual_last_;
};

}  // namespace

std::unique_ptr<TemporalAttentionPlan> AdditiveAttention::Plan(int64_t batch,
                                                               int64_t steps) const {
  return std::make_unique<AdditivePlan>(proj_, score_, residual_last_, batch, steps);
}

}  // namespace attnserve::engine
