// ScoreMix: see score_mix.h.
#include "engine/attention/score_mix.h"

#include "engine/dnnl_util.h"

namespace attnserve::engine {

ScoreMix::ScoreMix(const FloatTensor& weight, const FloatTensor& bias)
    : window_(weight.shape.at(0)),
      weight_(TransposedMemory({window_, window_}, weight)),
      bias_(ConstantMemory({1, window_}, bias)) {}

ScoreMixPlan::ScoreMixPlan(const ScoreMix& mix, int64_t batch, int64_t steps) {
  const Operand bias = Operand::Constant(mix.bias());
  step_ = MatmulStep(Operand::Runtime(PlainF32({batch, steps})), Operand::Constant(mix.weight()),
                     &bias, Operand::Runtime(PlainF32({batch, steps})));
}

void ScoreMixPlan::Run(dnnl::stream& stream, Workspace& ws, const float* scores, float* mixed) {
  step_.Run(stream, ws.Scratchpad(step_.scratchpad_bytes()), {scores, mixed});
}

}  // namespace attnserve::engine
