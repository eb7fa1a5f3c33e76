// `time_dense` attention (the attention_3d_block recipe: Permute -> Dense(T,
// softmax) -> [mean over channels] -> Permute -> Multiply) for a fixed window
// of T steps, on the block's input Z [T, k] (k = D before the LSTM, d after):
//   A[:, j] = softmax over t of (Wt^T Z[:, j] + bt)   for every channel j
//   single_vector: a_t = mean_j A[t, j], the same weight for every channel
//   output Z * A (elementwise, [T, k])
// Before the LSTM the output replaces the LSTM's input; after it, the output
// is flattened ([T * d], row-major) into the head. Every sequence is padded or
// truncated to T before the model runs (input_window.h), so all T steps are
// valid and plans are built for steps == T only.
// Tensors: attention.{i}.score.weight [T, T] (nn.Linear layout: the Keras
// kernel transposed), attention.{i}.score.bias [T].
// Attention returned: [T, k], or [T] with single_vector.
//
// On primitives: a matmul reads Z as [B, k, T] and writes the pre-softmax
// [B, k, T]; softmax over t; a reduction (mean over channels) or a reorder to
// [B, T, k] writes the returned weights; a binary multiply applies them.
// Ownership/thread-safety: blocks are immutable and shared by sessions; plans
// belong to one session thread. Factories, Plan() and Run() throw dnnl::error.
#ifndef ATTNSERVE_ENGINE_ATTENTION_TIME_DENSE_ATTENTION_H_
#define ATTNSERVE_ENGINE_ATTENTION_TIME_DENSE_ATTENTION_H_

#include <cstdint>
#include <memory>

#include "engine/input_attention.h"
#include "engine/model_spec.h"
#include "engine/temporal_attention.h"
#include "engine/tensor_file.h"

namespace attnserve::engine {

// After the LSTM (d = the encoder output size): output [B, T * d].
std::unique_ptr<TemporalAttention> MakeTimeDenseAfterLstm(const AttentionSpec& spec, int64_t dim,
                                                          const FloatTensor& weight,
                                                          const FloatTensor& bias);

// Before the LSTM (D = input size): reweighs ws.input in place.
std::unique_ptr<InputAttention> MakeTimeDenseBeforeLstm(const AttentionSpec& spec,
                                                        int64_t features,
                                                        const FloatTensor& weight,
                                                        const FloatTensor& bias);

}  // namespace attnserve::engine

#endif  // ATTNSERVE_ENGINE_ATTENTION_TIME_DENSE_ATTENTION_H_
