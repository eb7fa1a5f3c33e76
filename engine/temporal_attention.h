// TemporalAttention: a block after the LSTM that weighs the encoder's output
// and turns it into the vector the head reads: the temporal blocks (a masked
// softmax over the steps, reduced to one vector per sequence) and time_dense
// with placement after_lstm (its reweighed output, flattened). Each catalog
// entry is one implementation (engine/attention/); TemporalAttentionPlan is
// that block prepared for one padded batch shape.
//
// Contract of a plan's Run(): given the encoder output H ([steps, batch, d],
// time-major; rows at t >= length are unspecified but finite), the query q and
// each sequence's length, write the attention weights (sequence b at weights +
// b * stride, stride and shape as AttentionOutputs() gives them; for temporal
// blocks [steps] per sequence, zero at t >= length) and the block output
// [batch, output_size()]. Padding never changes a result.
//
// Ownership/thread-safety: blocks are immutable and shared by sessions; a plan
// belongs to one session thread. Run() may throw dnnl::error.
#ifndef ATTNSERVE_ENGINE_TEMPORAL_ATTENTION_H_
#define ATTNSERVE_ENGINE_TEMPORAL_ATTENTION_H_

#include <cstddef>
#include <cstdint>
#include <memory>

#include "absl/types/span.h"
#include "engine/workspace.h"
#include "oneapi/dnnl/dnnl.hpp"

namespace attnserve::engine {

// The encoder output a temporal block reads.
struct EncoderOutput {
  const float* h = nullptr;  // [steps, batch, dim]
  const float* query = nullptr;  // [batch, dim], h at each sequence's last valid step
  int64_t steps = 0;
  int64_t batch = 0;
  int64_t dim = 0;
  absl::Span<const int> lengths;
};

class TemporalAttentionPlan {
 public:
  virtual ~TemporalAttentionPlan() = default;
  virtual size_t scratchpad_bytes() const = 0;
  virtual void Run(dnnl::stream& stream, const EncoderOutput& encoded, Workspace& ws,
                   float* weights, float* output) = 0;
};

class TemporalAttention {
 public:
  virtual ~TemporalAttention() = default;
  // Size of the vector Run() writes per sequence.
  virtual int64_t output_size() const = 0;
  // Prepares the block for `batch` x `steps` (d = the encoder output size it
  // was created for). Throws dnnl::error.
  virtual std::unique_ptr<TemporalAttentionPlan> Plan(int64_t batch, int64_t steps) const = 0;
};

}  // namespace attnserve::engine

#endif  // ATTNSERVE_ENGINE_TEMPORAL_ATTENTION_H_
