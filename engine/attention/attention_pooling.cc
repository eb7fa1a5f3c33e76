#include "engine/attention/attention_pooling.h"

#include <algorithm>
#include <cstring>
#include <limits>

#include "engine/dnnl_util.h"

namespace attnserve::engine {

using dnnl::algorithm;

AttentionPooling::AttentionPooling(int64_t dim, QueryOutput output, bool exclude_query_step,
                                   const FloatTensor* combine)
    : dim_(dim), output_(output), exclude_query_step_(exclude_query_step) {
  if (output_ == QueryOutput::kLuong) {
    units_ = combine->shape.at(0);
    combine_ = TransposedMemory({2 * dim_, units_}, *combine);
  }
}

AttentionPoolingPlan::AttentionPoolingPlan(const AttentionPooling& pooling, int64_t batch,
                                           int64_t steps)
    : pooling_(pooling), batch_(batch), steps_(steps) {
  const int64_t d = pooling.dim();
  const Operand scores = Operand::Runtime(PlainF32({batch, steps}));
  add_mask_ = BinaryStep(algorithm::binary_add, scores, scores, scores);
  softmax_ = SoftmaxStep(scores, scores, 1);
  // c lands in the output, or in the first half of [c; q] for luong.
  const bool luong = pooling.output() == QueryOutput::kLuong;
  const Operand context = Operand::Runtime(luong ? StridedF32({batch, 1, d}, {2 * d, d, 1})
                                                 : PlainF32({batch, 1, d}));
  context_ = MatmulStep(Operand::Runtime(PlainF32({batch, 1, steps})),
                        Operand::Runtime(BatchMajorView(steps, batch, d)), nullptr, context);
  scratchpad_bytes_ = std::max({add_mask_.scratchpad_bytes(), softmax_.scratchpad_bytes(),
                                context_.scratchpad_bytes()});
  if (pooling.output() == QueryOutput::kContextPlusQuery) {
    const Operand vectors = Operand::Runtime(PlainF32({batch, d}));
    add_query_ = BinaryStep(algorithm::binary_add, vectors, vectors, vectors);
    scratchpad_bytes_ = std::max(scratchpad_bytes_, add_query_.scratchpad_bytes());
  }
  if (luong) {
    combine_ = MatmulStep(Operand::Runtime(PlainF32({batch, 2 * d})),
                          Operand::Constant(pooling.combine()), nullptr,
                          Operand::Runtime(PlainF32({batch, pooling.output_size()})),
                          EltwiseOps(algorithm::eltwise_tanh));
    scratchpad_bytes_ = std::max(scratchpad_bytes_, combine_.scratchpad_bytes());
  }
}

void AttentionPoolingPlan::Run(dnnl::stream& stream, const EncoderOutput& enc, Workspace& ws,
                               float* scores, float* weights, float* output) {
  const dnnl::memory& scratchpad = ws.Scratchpad(scratchpad_bytes_);
  const int64_t d = pooling_.dim();
  const int drop = pooling_.exclude_query_step() ? 1 : 0;
  float* mask = ws.mask.Reserve(static_cast<size_t>(batch_ * steps_));
  for (int64_t b = 0; b < batch_; ++b) {
    const int64_t kept = enc.lengths[b] - drop;
    float* row = mask + b * steps_;
    std::fill(row, row + kept, 0.0f);
    std::fill(row + kept, row + steps_, -std::numeric_limits<float>::infinity());
  }
  add_mask_.Run(stream, scratchpad, {scores, mask, scores});
  softmax_.Run(stream, scratchpad, {scores, weights});
  stream.wait();
  for (int64_t b = 0; b < batch_; ++b) {
    // Nothing left to attend to: zero weights, so the context is zero.
    if (enc.lengths[b] - drop <= 0) std::fill(weights + b * steps_, weights + (b + 1) * steps_, 0.0f);
  }
  switch (pooling_.output()) {
    case QueryOutput::kContext:
      context_.Run(stream, scratchpad, {weights, enc.h, output});
      break;
    case QueryOutput::kContextPlusQuery:
      context_.Run(stream, scratchpad, {weights, enc.h, output});
      add_query_.Run(stream, scratchpad, {output, enc.query, output});
      break;
    case QueryOutput::kLuong: {
      float* joined = ws.context.Reserve(static_cast<size_t>(batch_ * 2 * d));
      context_.Run(stream, scratchpad, {weights, enc.h, joined});
      for (int64_t b = 0; b < batch_; ++b) {
        std::memcpy(joined + (2 * b + 1) * d, enc.query + b * d, sizeof(float) * d);
      }
      combine_.Run(stream, scratchpad, {joined, output});
      break;
    }
  }
  stream.wait();
}

}  // namespace attnserve::engine
