// InputAttention: a block that runs before the LSTM and reweighs its input
// (feature attention; time_dense with placement before_lstm). Each catalog
// entry is one implementation (engine/attention/); InputAttentionPlan is that
// block prepared for one padded batch shape.
//
// Contract of a plan's Run(): the padded input X in ws.input ([steps, batch,
// D], time-major; rows at t >= length hold padding) is replaced, in place, by
// the reweighed input the LSTM reads, and the block's attention weights are
// written to `weights` (sequence b at weights + b * stride, stride and shape as
// AttentionOutputs() gives them; entries past a sequence's shape are 0).
// Rows at t >= length never influence the valid ones.
//
// Ownership/thread-safety: blocks are immutable and shared by sessions; a plan
// belongs to one session thread. Plan() and Run() may throw dnnl::error.
#ifndef ATTNSERVE_ENGINE_INPUT_ATTENTION_H_
#define ATTNSERVE_ENGINE_INPUT_ATTENTION_H_

#include <cstddef>
#include <cstdint>
#include <memory>

#include "absl/types/span.h"
#include "engine/workspace.h"
#include "oneapi/dnnl/dnnl.hpp"

namespace attnserve::engine {

class InputAttentionPlan {
 public:
  virtual ~InputAttentionPlan() = default;
  virtual size_t scratchpad_bytes() const = 0;
  virtual void Run(dnnl::stream& stream, absl::Span<const int> lengths, Workspace& ws,
                   float* weights) = 0;
};

class InputAttention {
 public:
  virtual ~InputAttention() = default;
  // Prepares the block for `batch` x `steps`. Throws dnnl::error.
  virtual std::unique_ptr<InputAttentionPlan> Plan(int64_t batch, int64_t steps) const = 0;
};

}  // namespace attnserve::engine

#endif  // ATTNSERVE_ENGINE_INPUT_ATTENTION_H_
