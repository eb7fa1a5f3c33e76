// AttentionPooling: what every temporal block does once its scores e [batch,
// steps] are known, on oneDNN primitives over the whole batch:
//   a = softmax_t(e + mask)   binary add of a 0 / -inf mask, then softmax
//   c = sum_t a_t h_t         batched matmul [B, 1, T] x H viewed [B, T, d]
//   output: c | c + q (binary add) | tanh(Wc [c; q]) (matmul, tanh post-op)
// The mask keeps t < l (t < l - 1 with exclude_query_step). A sequence with no
// step left (exclude_query_step, l = 1) gets all-zero weights and c = 0, as
// the catalog settles. Only valid steps reach a result, so padding is neutral.
// Tensor (luong only): attention.{i}.combine.weight [units, 2d], no bias.
//
// Ownership/thread-safety: AttentionPooling is immutable after Create and
// shared by sessions; a plan belongs to one session thread. Create, the plan
// constructor and Run() throw dnnl::error.
#ifndef ATTNSERVE_ENGINE_ATTENTION_ATTENTION_POOLING_H_
#define ATTNSERVE_ENGINE_ATTENTION_ATTENTION_POOLING_H_

#include <cstddef>
#include <cstdint>

#include "engine/attention/primitive_step.h"
#include "engine/model_spec.h"
#include "engine/temporal_attention.h"

namespace attnserve::engine {

class AttentionPooling {
 public:
  AttentionPooling() = default;
  // `combine` is Wc [units, 2d] for kLuong, ignored otherwise.
  AttentionPooling(int64_t dim, QueryOutput output, bool exclude_query_step,
                   const FloatTensor* combine);

  int64_t dim() const { return dim_; }
  int64_t output_size() const { return output_ == QueryOutput::kLuong ? units_ : dim_; }
  QueryOutput output() const { return output_; }
  bool exclude_query_step() const { return exclude_query_step_; }
  const dnnl::memory& combine() const { return combine_; }

 private:
  int64_t dim_ = 0;
  int64_t units_ = 0;
  QueryOutput output_ = QueryOutput::kContext;
  bool exclude_query_step_ = false;
  dnnl::memory combine_;  // Wc^T [2d, units]
};

class AttentionPoolingPlan {
 public:
  AttentionPoolingPlan(const AttentionPooling& pooling, int64_t batch, int64_t steps);

  size_t scratchpad_bytes() const { return scratchpad_bytes_; }
  // `scores` [batch, steps] (overwritten) -> weights [batch, steps], output
  // [batch, output_size()].
  void Run(dnnl::stream& stream, const EncoderOutput& enc, Workspace& ws, float* scores,
           float* weights, float* output);

 private:
  const AttentionPooling& pooling_;
  int64_t batch_;
  int64_t steps_;
  PrimitiveStep add_mask_;
  PrimitiveStep softmax_;
  PrimitiveStep context_;
  PrimitiveStep add_query_;  // kContextPlusQuery
  PrimitiveStep combine_;    // kLuong
  size_t scratchpad_bytes_ = 0;
};

}  // namespace attnserve::engine

#endif  // ATTNSERVE_ENGINE_ATTENTION_ATTENTION_POOLING_H_
