// The shapes a batch is computed with: PaddedSteps (timesteps) and PaddedRows
// (sequences).
//
// oneDNN fixes T and the batch size in each LSTM primitive, so every distinct
// (rows, steps) costs a plan: primitive builds (0.4-10 ms) and a cache entry.
// Rounding both up bounds the number of shapes; the extra steps are masked and
// the extra rows are inert (results do not change).
//
// Steps: T <= 16 exact; T <= 128 the next multiple of 8; above, the next
// multiple of 32 (at most 7, or 31, padded steps).
// Rows: B <= 2 exact; B <= 16 the next power of two (4, 8, 16); B <= 64 the
// next multiple of 8; above, the next multiple of 16. Small batches are
// latency-bound, so their padding is nearly free; large ones pay at most
// 7/(B+7) (or 15/(B+15)) extra rows. max_batch_size 32 gives 7 row shapes.
#ifndef ATTNSERVE_ENGINE_SHAPE_POLICY_H_
#define ATTNSERVE_ENGINE_SHAPE_POLICY_H_

#include <cstdint>
#include <vector>

#include "absl/types/span.h"
#include "engine/batch.h"
#include "engine/model_spec.h"

namespace attnserve::engine {

namespace shape_policy_internal {
inline int64_t RoundUp(int64_t v, int64_t q) { return (v + q - 1) / q * q; }
}  // namespace shape_policy_internal

inline int64_t PaddedSteps(int64_t max_length) {
  using shape_policy_internal::RoundUp;
  if (max_length <= 16) return max_length;
  if (max_length <= 128) return RoundUp(max_length, 8);
  return RoundUp(max_length, 32);
}

inline int64_t PaddedRows(int64_t count) {
  using shape_policy_internal::RoundUp;
  if (count <= 2) return count;
  if (count <= 16) {
    int64_t rows = 4;
    while (rows < count) rows *= 2;
    return rows;
  }
  if (count <= 64) return RoundUp(count, 8);
  return RoundUp(count, 16);
}

// The shapes worth preparing before a model serves: every row count batches
// of 1..max_batch_size sequences run with, at each of `lengths` (lengths the
// model refuses are left out; a model with a fixed window warms its window
// only, whatever `lengths` says).
inline std::vector<BatchShape> WarmupShapes(const ModelSpec& spec, int max_batch_size,
                                            absl::Span<const int> lengths) {
  std::vector<int64_t> steps;
  if (!spec.has_encoder) {
    steps.push_back(1);  // a model without an LSTM reads one step
  } else if (spec.window() > 0) {
    steps.push_back(spec.window());
  } else {
    for (int length : lengths) {
      if (length >= 1 && (spec.max_length == 0 || length <= spec.max_length)) {
        steps.push_back(length);
      }
    }
  }
  std::vector<BatchShape> shapes;
  int64_t previous_rows = 0;
  for (int64_t n = 1; n <= max_batch_size; ++n) {
    const int64_t rows = PaddedRows(n);
    if (rows == previous_rows) continue;
    previous_rows = rows;
    for (int64_t s : steps) shapes.push_back({rows, s});
  }
  return shapes;
}

}  // namespace attnserve::engine

#endif  // ATTNSERVE_ENGINE_SHAPE_POLICY_H_
