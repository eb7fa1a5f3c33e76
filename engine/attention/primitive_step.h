// PrimitiveStep: one oneDNN primitive built once for fixed descriptors, with
// its constant arguments (weights) bound for good and its other arguments
// re-pointed on every run (set_data_handle). The attention blocks are chains
// of these steps (matmul, binary, softmax, reduction, reorder, eltwise) over
// the whole batch.
//
// Contract: a builder takes Operands in the primitive's argument order; each
// Runtime operand becomes one pointer of Run(), in that same order (constant
// operands take no pointer). An operand's descriptor may be any plain strided
// layout, so one step can read a time-major buffer as batch-major (e.g. H
// [steps, batch, d] as [batch, steps, d] with strides {d, batch*d, 1}).
// In-place steps pass the same pointer twice. Every primitive uses the
// session's scratchpad (scratchpad_mode::user).
// Ownership: a step owns its primitive and memory objects; constant operands
// share the caller's (immutable) weight memory. Thread-safety: a step is used
// by one session thread at a time. Builders and Run() throw dnnl::error.
#ifndef ATTNSERVE_ENGINE_ATTENTION_PRIMITIVE_STEP_H_
#define ATTNSERVE_ENGINE_ATTENTION_PRIMITIVE_STEP_H_

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <unordered_map>
#include <vector>

#include "engine/tensor_file.h"
#include "oneapi/dnnl/dnnl.hpp"

namespace attnserve::engine {

// An argument of a step: a buffer given at each run, or a constant memory.
struct Operand {
  dnnl::memory::desc desc;
  dnnl::memory constant;  // empty for runtime operands

  static Operand Runtime(const dnnl::memory::desc& desc) { return {desc, dnnl::memory()}; }
  static Operand Constant(const dnnl::memory& memory) { return {memory.get_desc(), memory}; }
};

class PrimitiveStep {
 public:
  PrimitiveStep() = default;
  PrimitiveStep(dnnl::primitive primitive, size_t scratchpad_bytes);

  // Adds an argument (builders call these in argument order).
  void Add(int arg, const Operand& operand);

  size_t scratchpad_bytes() const { return scratchpad_bytes_; }
  // Executes with `data[i]` as the i-th runtime operand. Throws dnnl::error.
  void Run(dnnl::stream& stream, const dnnl::memory& scratchpad,
           std::initializer_list<const float*> data);

 private:
  dnnl::primitive primitive_;
  size_t scratchpad_bytes_ = 0;
  std::vector<dnnl::memory> runtime_;  // in Run() order
  std::unordered_map<int, dnnl::memory> args_;
};

// dst = src x weights (+ bias) then `ops`; batched when rank 3 (a batch dim of
// 1 broadcasts). Binary post-ops add one runtime operand each, after dst.
PrimitiveStep MatmulStep(const Operand& src, const Operand& weights, const Operand* bias,
                         const Operand& dst, const dnnl::post_ops& ops = dnnl::post_ops(),
                         const std::vector<Operand>& post_op_operands = {});
// dst = src0 (alg) src1 then `ops` (src1 dims of 1 broadcast).
PrimitiveStep BinaryStep(dnnl::algorithm alg, const Operand& src0, const Operand& src1,
                         const Operand& dst, const dnnl::post_ops& ops = dnnl::post_ops());
// dst = softmax of src along `axis`.
PrimitiveStep SoftmaxStep(const Operand& src, const Operand& dst, int axis);
// dst = reduction of src over the dims where dst has size 1.
PrimitiveStep ReductionStep(dnnl::algorithm alg, const Operand& src, const Operand& dst,
                            float p = 0.0f, float eps = 0.0f);
// dst = src, copied between layouts.
PrimitiveStep ReorderStep(const Operand& src, const Operand& dst);

// A plain row-major f32 descriptor of `dims` with explicit `strides`.
dnnl::memory::desc StridedF32(const dnnl::memory::dims& dims, const dnnl::memory::dims& strides);
// Time-major [steps, batch, width] read as batch-major [batch, steps, width].
dnnl::memory::desc BatchMajorView(int64_t steps, int64_t batch, int64_t width);

// A constant memory of `dims` holding `tensor`'s values as they are.
dnnl::memory ConstantMemory(const dnnl::memory::dims& dims, const FloatTensor& tensor);
// A constant memory of `dims` holding the transpose of the 2-D `tensor`
// ([rows, cols] -> [cols, rows]; e.g. nn.Linear's [out, in] as [in, out]).
dnnl::memory TransposedMemory(const dnnl::memory::dims& dims, const FloatTensor& tensor);

// A post-op chain with one eltwise operation.
dnnl::post_ops EltwiseOps(dnnl::algorithm alg, float alpha = 0.0f, float beta = 0.0f);

}  // namespace attnserve::engine

#endif  // ATTNSERVE_ENGINE_ATTENTION_PRIMITIVE_STEP_H_
