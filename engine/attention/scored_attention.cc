#include "engine/attention/scored_attention.h"

#include <algorithm>

namespace attnserve::engine {
namespace {

class ScoredAttentionPlan : public TemporalAttentionPlan {
 public:
  ScoredAttentionPlan(std::unique_ptr<ScorePlan> score, const AttentionPooling& pooling,
                      int64_t batch, int64_t steps)
      : score_(std::move(score)), pooling_(pooling, batch, steps), batch_(batch), steps_(steps) {}

  size_t scratchpad_bytes() const override {
    return std::max(score_->scratchpad_bytes(), pooling_.scratchpad_bytes());
  }

  void Run(dnnl::stream& stream, const EncoderOutput& enc, Workspace& ws, float* weights,
           float* output) override {
    float* scores = ws.scores.Reserve(static_cast<size_t>(batch_ * steps_));
    score_->Run(stream, enc, ws, scores);
    pooling_.Run(stream, enc, ws, scores, weights, output);
  }

 private:
  std::unique_ptr<ScorePlan> score_;
  AttentionPoolingPlan pooling_;
  int64_t batch_;
  int64_t steps_;
};

}  // namespace

std::unique_ptr<TemporalAttentionPlan> ScoredAttention::Plan(int64_t batch, int64_t steps) const {
  return std::make_unique<ScoredAttentionPlan>(scorer_->Plan(batch, steps), pooling_, batch,
                                               steps);
}

}  // namespace attnserve::engine
