#include "engine/attention/dense_gate.h"

#include "engine/dnnl_util.h"

namespace attnserve::engine {

DenseGate::DenseGate(const FloatTensor& weight, const FloatTensor& bias)
    : size_(weight.shape.at(0)),
      weight_(TransposedMemory({size_, size_}, weight)),
      bias_(ConstantMemory({1, size_}, bias)) {}

DenseGatePlan::DenseGatePlan(const DenseGate& gate, int64_t batch) {
  const Operand vectors = Operand::Runtime(PlainF32({batch, gate.size()}));
  const Operand bias = Operand::Constant(gate.bias());
  dnnl::post_ops ops;
  ops.append_eltwise(1.0f, dnnl::algorithm::eltwise_logistic, 0.0f, 0.0f);
  ops.append_binary(dnnl::algorithm::binary_mul, vectors.desc);
  step_ = MatmulStep(vectors, Operand::Constant(gate.weight()), &bias, vectors, ops, {vectors});
}

void DenseGatePlan::Run(dnnl::stream& stream, Workspace& ws, const float* v, float* out) {
  step_.Run(stream, ws.Scratchpad(step_.scratchpad_bytes()), {v, out, v});
}

}  // namespace attnserve::engine
