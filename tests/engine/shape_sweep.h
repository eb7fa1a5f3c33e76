// Test and benchmark helper: the 80 requested batch shapes (sequences,
// longest steps) that weight-sharing tests and bench/weight_memory_bench.cc
// sweep: 8 batch sizes x 10 lengths.
#ifndef ATTNSERVE_TESTS_ENGINE_SHAPE_SWEEP_H_
#define ATTNSERVE_TESTS_ENGINE_SHAPE_SWEEP_H_

#include <algorithm>
#include <cstdint>
#include <vector>

#include "engine/session.h"

namespace attnserve::testing {

// Lengths are capped at `max_steps`.
inline std::vector<engine::BatchShape> EightyShapes(int64_t max_steps) {
  std::vector<engine::BatchShape> shapes;
  for (int64_t sequences : {1, 2, 3, 5, 8, 13, 21, 32}) {
    for (int64_t steps : {1, 3, 7, 12, 16, 25, 40, 50, 64, 100}) {
      shapes.push_back({sequences, std::min(steps, max_steps)});
    }
  }
  return shapes;
}

}  // namespace attnserve::testing

#endif  // ATTNSERVE_TESTS_ENGINE_SHAPE_SWEEP_H_
