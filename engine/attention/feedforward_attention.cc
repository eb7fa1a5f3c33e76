#include "engine/attention/feedforward_attention.h"

#include <algorithm>

#include "engine/attention/attention_math.h"

namespace attnserve::engine {
namespace {

class FeedForwardPlan : public TemporalAttentionPlan {
 public:
  FeedForwardPlan(const DenseLayer& score, int64_t batch, int64_t steps)
      : score_(score, batch * steps) {}

  size_t scratchpad_bytes() const override { return score_.scratchpad_bytes(); }

  void Run(dnnl::stream& stream, const EncoderOutput& enc, Workspace& ws, float* weights,
           float* output) override {
    float* scores = ws.scores.Reserve(static_cast<size_t>(enc.steps * enc.batch));
    score_.Run(stream, enc.h, scores, ws.Scratchpad(score_.scratchpad_bytes()));
    stream.wait();
    MaskedSoftmax(scores, enc.lengths, enc.batch, enc.steps, weights);
    WeightedSum(enc.h, weights, enc.lengths, enc.batch, enc.steps, enc.dim, output);
  }

 private:
  DensePlan score_;
};

}  // namespace

std::unique_ptr<TemporalAttentionPlan> FeedForwardAttention::Plan(int64_t batch,
                                                                  int64_t steps) const {
  return std::make_unique<FeedForwardPlan>(score_, batch, steps);
}

}  // namespace attnserve::engine
