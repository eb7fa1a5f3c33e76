// Masked reductions shared by the temporal attention blocks.
//
// Layouts: scores and H are time-major ([steps, batch] and [steps, batch, dim]);
// weights are batch-major [batch, steps]. Only t < lengths[b] is read for
// sequence b, so padded rows never influence a result.
// Thread-safety: pure functions over caller-owned memory.
#ifndef ATTNSERVE_ENGINE_ATTENTION_ATTENTION_MATH_H_
#define ATTNSERVE_ENGINE_ATTENTION_ATTENTION_MATH_H_

#include <cstdint>

#include "absl/types/span.h"

namespace attnserve::engine {

// weights[b, t] = softmax over t < lengths[b] of scores[t, b]; 0 elsewhere.
void MaskedSoftmax(const float* scores, absl::Span<const int> lengths, int64_t batch,
                   int64_t steps, float* weights);

// out[b, :] = sum over t < lengths[b] of weights[b, t] * h[t, b, :].
void WeightedSum(const float* h, const float* weights, absl::Span<const int> lengths,
                 int64_t batch, int64_t steps, int64_t dim, float* out);

// out[b, :] = h[lengths[b] - 1, b, :].
void GatherLastValid(const float* h, absl::Span<const int> lengths, int64_t batch, int64_t dim,
                     float* out);

}  // namespace attnserve::engine

#endif  // ATTNSERVE_ENGINE_ATTENTION_ATTENTION_MATH_H_
