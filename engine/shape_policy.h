// PaddedSteps: the number of timesteps a batch whose longest sequence has
// `max_length` steps is computed with.
//
// oneDNN fixes T in each LSTM primitive, so every distinct T costs a primitive
// build (0.4-10 ms) and a cache entry. Rounding T up bounds the number of
// shapes while the extra steps are masked (results do not change):
//   T <= 16: exact; T <= 128: next multiple of 8; above: next multiple of 32.
// At most 7 (or 31) padded steps are computed; short sequences pay nothing.
#ifndef ATTNSERVE_ENGINE_SHAPE_POLICY_H_
#define ATTNSERVE_ENGINE_SHAPE_POLICY_H_

#include <cstdint>

namespace attnserve::engine {

inline int64_t PaddedSteps(int64_t max_length) {
  auto round_up = [](int64_t v, int64_t q) { return (v + q - 1) / q * q; };
  if (max_length <= 16) return max_length;
  if (max_length <= 128) return round_up(max_length, 8);
  return round_up(max_length, 32);
}

}  // namespace attnserve::engine

#endif  // ATTNSERVE_ENGINE_SHAPE_POLICY_H_
