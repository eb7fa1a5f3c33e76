// PassthroughEncoder: see passthrough_encoder.h.
#include "engine/passthrough_encoder.h"

namespace attnserve::engine {
namespace {

class PassthroughPlan final : public EncoderPlan {
 public:
  size_t scratchpad_bytes() const override { return 0; }
  const float* Run(dnnl::stream& /*stream*/, absl::Span<const int> /*lengths*/,
                   Workspace& ws) override {
    return ws.input.data();
  }
  int64_t ComputedSteps(absl::Span<const int> /*lengths*/) const override { return 0; }
};

}  // namespace

std::unique_ptr<EncoderPlan> PassthroughEncoder::Plan(int64_t /*batch*/, int64_t /*steps*/) const {
  return std::make_unique<PassthroughPlan>();
}

}  // namespace attnserve::engine
