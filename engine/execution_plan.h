// ExecutionPlan: a model prepared for one padded batch shape (batch x steps):
// the primitives of the attention block before the LSTM, the encoder, the
// block after it and the head (with its gate), with their argument maps.
//
// Contract: Run() reads the time-major padded input from ws.input (and may
// rewrite it: a block before the LSTM reweighs it in place) and writes the
// model's outputs and every attention map into a BatchOutput sized for this
// shape (Session::ShapeOutput). Ownership: holds a reference to the Model,
// which must outlive it (Session keeps the Model alive). Thread-safety: one
// thread at a time.
// The constructor and Run() throw dnnl::error (Session guards them).
#ifndef ATTNSERVE_ENGINE_EXECUTION_PLAN_H_
#define ATTNSERVE_ENGINE_EXECUTION_PLAN_H_

#include <cstddef>
#include <cstdint>
#include <memory>

#include "absl/types/span.h"
#include "engine/attention/dense_gate.h"
#include "engine/batch.h"
#include "engine/head.h"
#include "engine/input_attention.h"
#include "engine/encoder.h"
#include "engine/model.h"
#include "engine/temporal_attention.h"
#include "engine/workspace.h"

namespace attnserve::engine {

class ExecutionPlan {
 public:
  ExecutionPlan(const Model& model, int64_t batch, int64_t steps);

  int64_t batch() const { return batch_; }
  int64_t steps() const { return steps_; }

  void Run(dnnl::stream& stream, absl::Span<const int> lengths, Workspace& ws,
           BatchOutput* out);
  // LSTM timesteps (per layer and direction) Run() computes for `lengths`.
  int64_t ComputedSteps(absl::Span<const int> lengths) const {
    return encoder_->ComputedSteps(lengths);
  }

 private:
  const Model& model_;
  int64_t batch_;
  int64_t steps_;
  std::unique_ptr<InputAttentionPlan> input_attention_;  // null without one
  std::unique_ptr<EncoderPlan> encoder_;
  std::unique_ptr<TemporalAttentionPlan> attention_;  // null: the head reads q
  HeadPlan head_;                                      // with the gate, if any
  size_t scratchpad_bytes_ = 0;
};

}  // namespace attnserve::engine

#endif  // ATTNSERVE_ENGINE_EXECUTION_PLAN_H_
