#include "engine/attention/primitive_step.h"

#include <cstring>

#include "engine/dnnl_util.h"

namespace attnserve::engine {
namespace {

using dnnl::memory;

dnnl::primitive_attr UserScratchpad(const dnnl::post_ops& ops = dnnl::post_ops()) {
  dnnl::primitive_attr attr;
  attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  if (ops.len() > 0) attr.set_post_ops(ops);
  return attr;
}

int64_t Elements(const memory::dims& dims) {
  int64_t n = 1;
  for (int64_t d : dims) n *= d;
  return n;
}

}  // namespace

PrimitiveStep::PrimitiveStep(dnnl::primitive primitive, size_t scratchpad_bytes)
    : primitive_(std::move(primitive)), scratchpad_bytes_(scratchpad_bytes) {
  args_[DNNL_ARG_SCRATCHPAD] = memory();
}

void PrimitiveStep::Add(int arg, const Operand& operand) {
  if (operand.constant) {
    args_[arg] = operand.constant;
    return;
  }
  memory m(operand.desc, CpuEngine(), nullptr);
  runtime_.push_back(m);
  args_[arg] = m;
}

void PrimitiveStep::Run(dnnl::stream& stream, const dnnl::memory& scratchpad,
                        std::initializer_list<const float*> data) {
  size_t i = 0;
  for (const float* p : data) runtime_.at(i++).set_data_handle(const_cast<float*>(p));
  args_[DNNL_ARG_SCRATCHPAD] = scratchpad;
  primitive_.execute(stream, args_);
}

PrimitiveStep MatmulStep(const Operand& src, const Operand& weights, const Operand* bias,
                         const Operand& dst, const dnnl::post_ops& ops,
                         const std::vector<Operand>& post_op_operands) {
  dnnl::matmul::desc desc = bias != nullptr
                                ? dnnl::matmul::desc(src.desc, weights.desc, bias->desc, dst.desc)
                                : dnnl::matmul::desc(src.desc, weights.desc, dst.desc);
  dnnl::matmul::primitive_desc pd(desc, UserScratchpad(ops), CpuEngine());
  PrimitiveStep step(dnnl::matmul(pd), pd.scratchpad_desc().get_size());
  step.Add(DNNL_ARG_SRC, src);
  step.Add(DNNL_ARG_WEIGHTS, weights);
  if (bias != nullptr) step.Add(DNNL_ARG_BIAS, *bias);
  step.Add(DNNL_ARG_DST, dst);
  // The binary post-ops' operands, by their index in the chain.
  size_t next = 0;
  for (int i = 0; i < ops.len(); ++i) {
    if (ops.kind(i) != dnnl::primitive::kind::binary) continue;
    step.Add(DNNL_ARG_ATTR_MULTIPLE_POST_OP(i) | DNNL_ARG_SRC_1, post_op_operands.at(next++));
  }
  return step;
}

PrimitiveStep BinaryStep(dnnl::algorithm alg, const Operand& src0, const Operand& src1,
                         const Operand& dst, const dnnl::post_ops& ops) {
  dnnl::binary::primitive_desc pd(dnnl::binary::desc(alg, src0.desc, src1.desc, dst.desc),
                                  UserScratchpad(ops), CpuEngine());
  PrimitiveStep step(dnnl::binary(pd), pd.scratchpad_desc().get_size());
  step.Add(DNNL_ARG_SRC_0, src0);
  step.Add(DNNL_ARG_SRC_1, src1);
  step.Add(DNNL_ARG_DST, dst);
  return step;
}

PrimitiveStep SoftmaxStep(const Operand& src, const Operand& dst, int axis) {
  dnnl::softmax_v2_forward::desc desc(dnnl::prop_kind::forward_inference,
                                      dnnl::algorithm::softmax_accurate, src.desc, dst.desc,
                                      axis);
  dnnl::softmax_v2_forward::primitive_desc pd(desc, UserScratchpad(), CpuEngine());
  PrimitiveStep step(dnnl::softmax_v2_forward(pd), pd.scratchpad_desc().get_size());
  step.Add(DNNL_ARG_SRC, src);
  step.Add(DNNL_ARG_DST, dst);
  return step;
}

PrimitiveStep ReductionStep(dnnl::algorithm alg, const Operand& src, const Operand& dst, float p,
                            float eps) {
  dnnl::reduction::primitive_desc pd(dnnl::reduction::desc(alg, src.desc, dst.desc, p, eps),
                                     UserScratchpad(), CpuEngine());
  PrimitiveStep step(dnnl::reduction(pd), pd.scratchpad_desc().get_size());
  step.Add(DNNL_ARG_SRC, src);
  step.Add(DNNL_ARG_DST, dst);
  return step;
}

PrimitiveStep ReorderStep(const Operand& src, const Operand& dst) {
  dnnl::reorder::primitive_desc pd(CpuEngine(), src.desc, CpuEngine(), dst.desc,
                                   UserScratchpad());
  PrimitiveStep step(dnnl::reorder(pd), pd.scratchpad_desc().get_size());
  step.Add(DNNL_ARG_FROM, src);
  step.Add(DNNL_ARG_TO, dst);
  return step;
}

memory::desc StridedF32(const memory::dims& dims, const memory::dims& strides) {
  return memory::desc(dims, memory::data_type::f32, strides);
}

memory::desc BatchMajorView(int64_t steps, int64_t batch, int64_t width) {
  return StridedF32({batch, steps, width}, {width, batch * width, 1});
}

memory ConstantMemory(const memory::dims& dims, const FloatTensor& tensor) {
  memory m(PlainF32(dims), CpuEngine());
  std::memcpy(m.get_data_handle(), tensor.values.data(),
              sizeof(float) * static_cast<size_t>(Elements(dims)));
  return m;
}

memory TransposedMemory(const memory::dims& dims, const FloatTensor& tensor) {
  memory m(PlainF32(dims), CpuEngine());
  float* out = static_cast<float*>(m.get_data_handle());
  const int64_t rows = tensor.shape.at(0);
  const int64_t cols = tensor.shape.at(1);
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t c = 0; c < cols; ++c) out[c * rows + r] = tensor.values[r * cols + c];
  }
  return m;
}

dnnl::post_ops EltwiseOps(dnnl::algorithm alg, float alpha, float beta) {
  dnnl::post_ops ops;
  ops.append_eltwise(1.0f, alg, alpha, beta);
  return ops;
}

}  // namespace attnserve::engine
