// Encoder: a model's LSTM stack, whichever implementation runs it (lstm_impl.h);
// EncoderPlan: that stack prepared for one padded batch shape (batch x steps).
//
// Contract of a plan's Run(): reads ws.input ([steps, batch, D], time-major,
// f32, rows t >= length ignored) with each sequence's valid length (1 <=
// length <= steps) and returns the last layer's output [steps, batch, d] in
// f32 (a pointer into `ws`): rows t < length are exactly what the sequence
// alone gives, the backward direction of a bidirectional layer starting at the
// sequence's own last valid step; rows t >= length are unspecified but
// finite. ComputedSteps() is the number of timesteps per direction and layer
// that Run() computes for those lengths.
//
// Ownership/thread-safety: an Encoder is immutable after creation and shared
// by all sessions (it owns the prepared weights); a plan belongs to one
// session thread. Plan() and Run() may throw dnnl::error (callers run them
// under GuardDnnl).
#ifndef ATTNSERVE_ENGINE_ENCODER_H_
#define ATTNSERVE_ENGINE_ENCODER_H_

#include <cstddef>
#include <cstdint>
#include <memory>

#include "absl/types/span.h"
#include "engine/lstm_impl.h"
#include "engine/workspace.h"
#include "oneapi/dnnl/dnnl.hpp"

namespace attnserve::engine {

class EncoderPlan {
 public:
  virtual ~EncoderPlan() = default;
  virtual size_t scratchpad_bytes() const = 0;
  virtual const float* Run(dnnl::stream& stream, absl::Span<const int> lengths,
                           Workspace& ws) = 0;
  virtual int64_t ComputedSteps(absl::Span<const int> lengths) const = 0;
};

class Encoder {
 public:
  virtual ~Encoder() = default;
  // kRnnPrimitive or kMatmul (never kAuto).
  virtual LstmImpl impl() const = 0;
  // d: hidden size x directions.
  virtual int output_size() const = 0;
  virtual std::unique_ptr<EncoderPlan> Plan(int64_t batch, int64_t steps) const = 0;
};

}  // namespace attnserve::engine

#endif  // ATTNSERVE_ENGINE_ENCODER_H_
