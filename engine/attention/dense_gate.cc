#include "engine/attention/dense_gate.h"

#include <algorithm>

#include "engine/dnnl_util.h"

namespace attnserve::engine {

DenseGate::DenseGate(const FloatTensor& weight, const FloatTensor& bias)
    : size_(weight.shape.at(0)),
      weight_(TransposedMemory({size_, size_}, weight)),
      bias_(ConstantMemory({1, size_}, bias)) {}

DenseGatePlan::DenseGatePlan(const DenseGate& gate, int64_t batch) {
  const Operand vectors = Operand::Runtime(PlainF32({batch, gate.size()}));
  const Operand bias = Operand::Constant(gate.bias());
  gate_ = MatmulStep(vectors, Operand::Constant(gate.weight()), &bias, vectors,
                     EltwiseOps(dnnl::algorithm::eltwise_logistic));
  apply_ = BinaryStep(dnnl::algorithm::binary_mul, vectors, vectors, vectors);
}

size_t DenseGatePlan::scratchpad_bytes() const {
  return std::max(gate_.scratchpad_bytes(), apply_.scratchpad_bytes());
}

void DenseGatePlan::Run(dnnl::stream& stream, Workspace& ws, const float* v, float* weights,
                        float* out) {
  const dnnl::memory& scratchpad = ws.Scratchpad(scratchpad_bytes());
  gate_.Run(stream, scratchpad, {v, weights});
  apply_.Run(stream, scratchpad, {v, weights, out});
}

}  // namespace attnserve::engine
