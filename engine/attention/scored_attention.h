// ScoredAttention: a temporal block = a Scorer (one per catalog entry:
// feedforward, additive, dot, general, general_tanh, cosine, bahdanau) that
// computes e [batch, steps] on oneDNN primitives, then, with score_mix, the
// ScoreMix over the window (score_mix.h), followed by the shared
// AttentionPooling (masked softmax, context, output mode).
//
// Scorer contract: a ScorePlan's Run() writes e[b, t] for every t < steps,
// batch-major, from the encoder output and the query; values at t >= length
// must be finite (they are masked). The scorers' factories are declared in
// scorers.h.
// Ownership/thread-safety: blocks and scorers are immutable and shared by
// sessions; plans belong to one session thread; Plan() and Run() throw
// dnnl::error.
#ifndef ATTNSERVE_ENGINE_ATTENTION_SCORED_ATTENTION_H_
#define ATTNSERVE_ENGINE_ATTENTION_SCORED_ATTENTION_H_

#include <cstddef>
#include <cstdint>
#include <memory>

#include "engine/attention/attention_pooling.h"
#include "engine/attention/score_mix.h"
#include "engine/temporal_attention.h"

namespace attnserve::engine {

class ScorePlan {
 public:
  virtual ~ScorePlan() = default;
  virtual size_t scratchpad_bytes() const = 0;
  virtual void Run(dnnl::stream& stream, const EncoderOutput& enc, Workspace& ws,
                   float* scores) = 0;
};

class Scorer {
 public:
  virtual ~Scorer() = default;
  virtual std::unique_ptr<ScorePlan> Plan(int64_t batch, int64_t steps) const = 0;
};

class ScoredAttention : public TemporalAttention {
 public:
  // `mix` may be null (no score_mix).
  ScoredAttention(std::unique_ptr<Scorer> scorer, std::unique_ptr<ScoreMix> mix,
                  AttentionPooling pooling)
      : scorer_(std::move(scorer)), mix_(std::move(mix)), pooling_(std::move(pooling)) {}

  int64_t output_size() const override { return pooling_.output_size(); }
  std::unique_ptr<TemporalAttentionPlan> Plan(int64_t batch, int64_t steps) const override;

 private:
  std::unique_ptr<Scorer> scorer_;
  std::unique_ptr<ScoreMix> mix_;
  AttentionPooling pooling_;
};

}  // namespace attnserve::engine

#endif  // ATTNSERVE_ENGINE_ATTENTION_SCORED_ATTENTION_H_
