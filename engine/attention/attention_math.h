// Glue shared by the blocks after the LSTM: gathering the query.
//
// Layout: H is time-major [steps, batch, dim]. Only row lengths[b] - 1 is
// read for sequence b, so padded rows never influence the query.
// Thread-safety: pure functions over caller-owned memory.
#ifndef ATTNSERVE_ENGINE_ATTENTION_ATTENTION_MATH_H_
#define ATTNSERVE_ENGINE_ATTENTION_ATTENTION_MATH_H_

#include <cstdint>

#include "absl/types/span.h"

namespace attnserve::engine {

// out[b, :] = h[lengths[b] - 1, b, :] (q: the output at the last valid step).
void GatherLastValid(const float* h, absl::Span<const int> lengths, int64_t batch, int64_t dim,
                     float* out);

}  // namespace attnserve::engine

#endif  // ATTNSERVE_ENGINE_ATTENTION_ATTENTION_MATH_H_
