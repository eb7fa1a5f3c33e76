// PassthroughEncoder: the "encoder" of a model without an LSTM (model.json
// without "encoder"): each sequence is one step of input_size values, and
// that step is what the head reads, unchanged.
//
// Contract of a plan's Run(): returns ws.input itself ([1, batch, D], which is
// [batch, D]); nothing is computed, so ComputedSteps() is 0 and impl() is
// LstmImpl::kNone. Ownership/thread-safety: immutable, shared by sessions; a
// plan belongs to one session thread and holds no state.
#ifndef ATTNSERVE_ENGINE_PASSTHROUGH_ENCODER_H_
#define ATTNSERVE_ENGINE_PASSTHROUGH_ENCODER_H_

#include <cstdint>
#include <memory>

#include "engine/encoder.h"

namespace attnserve::engine {

class PassthroughEncoder final : public Encoder {
 public:
  explicit PassthroughEncoder(int input_size) : input_size_(input_size) {}

  LstmImpl impl() const override { return LstmImpl::kNone; }
  int output_size() const override { return input_size_; }
  std::unique_ptr<EncoderPlan> Plan(int64_t batch, int64_t steps) const override;

 private:
  int input_size_;
};

}  // namespace attnserve::engine

#endif  // ATTNSERVE_ENGINE_PASSTHROUGH_ENCODER_H_
