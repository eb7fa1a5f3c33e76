// `feature` attention before the LSTM (the "attention over the feature
// dimension" recipe; DA-RNN's input stage, simplified for classification):
//   b_t = softmax over features of (Wf x_t + bf)      Wf: [D, D]
//   single_vector: b = mean over valid t of b_t (one weight per feature)
//   the LSTM reads x_t * b_t (or x_t * b)
// Tensors: attention.{i}.score.weight [D, D], attention.{i}.score.bias [D].
// Attention returned: [l, D] (rows t >= l are 0), or [D] with single_vector.
//
// On primitives: a matmul (bias fused) over all T*B rows, softmax over
// features, then a binary multiply in place on the input; the [l, D] map is
// a reorder to batch-major, the mean a batched matmul with weights 1/l on the
// valid steps. Padded rows never reach a valid step's result.
// Ownership/thread-safety: immutable and shared by sessions; plans belong to
// one session thread. The factory, Plan() and Run() throw dnnl::error.
#ifndef ATTNSERVE_ENGINE_ATTENTION_FEATURE_ATTENTION_H_
#define ATTNSERVE_ENGINE_ATTENTION_FEATURE_ATTENTION_H_

#include <memory>

#include "engine/input_attention.h"
#include "engine/model_spec.h"
#include "engine/tensor_file.h"

namespace attnserve::engine {

std::unique_ptr<InputAttention> MakeFeatureAttention(const AttentionSpec& spec,
                                                     const FloatTensor& weight,
                                                     const FloatTensor& bias);

}  // namespace attnserve::engine

#endif  // ATTNSERVE_ENGINE_ATTENTION_FEATURE_ATTENTION_H_
