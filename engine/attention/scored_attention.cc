#include "engine/attention/scored_attention.h"

#include <algorithm>

namespace attnserve::engine {
namespace {

class ScoredAttentionPlan : public TemporalAttentionPlan {
 public:
  ScoredAttentionPlan(std::unique_ptr<ScorePlan> score, const ScoreMix* mix,
                      const AttentionPooling& pooling, int64_t batch, int64_t steps)
      : score_(std::move(score)),
        mix_(mix != nullptr ? std::make_unique<ScoreMixPlan>(*mix, batch, steps) : nullptr),
        pooling_(pooling, batch, steps),
        batch_(batch),
        steps_(steps) {}

  size_t scratchpad_bytes() const override {
    return std::max({score_->scratchpad_bytes(), pooling_.scratchpad_bytes(),
                     mix_ ? mix_->scratchpad_bytes() : size_t{0}});
  }

  void Run(dnnl::stream& stream, const EncoderOutput& enc, Workspace& ws, float* weights,
           float* output) override {
    float* scores = ws.scores.Reserve(static_cast<size_t>(batch_ * steps_));
    score_->Run(stream, enc, ws, scores);
    if (mix_) {
      float* mixed = ws.mixed_scores.Reserve(static_cast<size_t>(batch_ * steps_));
      mix_->Run(stream, ws, scores, mixed);
      scores = mixed;
    }
    pooling_.Run(stream, enc, ws, scores, weights, output);
  }

 private:
  std::unique_ptr<ScorePlan> score_;
  std::unique_ptr<ScoreMixPlan> mix_;
  AttentionPoolingPlan pooling_;
  int64_t batch_;
  int64_t steps_;
};

}  // namespace

std::unique_ptr<TemporalAttentionPlan> ScoredAttention::Plan(int64_t batch, int64_t steps) const {
  return std::make_unique<ScoredAttentionPlan>(scorer_->Plan(batch, steps), mix_.get(), pooling_,
                                               batch, steps);
}

}  // namespace attnserve::engine
