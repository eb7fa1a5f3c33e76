// RaggedSchedule: see ragged_schedule.h.
#include "engine/ragged_schedule.h"

#include <algorithm>

namespace attnserve::engine {

void RaggedSchedule::Build(absl::Span<const int> lengths) {
  const int rows = static_cast<int>(lengths.size());
  int steps = 0;
  for (int length : lengths) steps = std::max(steps, length);
  // Counting sort by length, longest first, stable: no allocation once grown.
  count_.assign(static_cast<size_t>(steps) + 2, 0);
  for (int length : lengths) ++count_[length];
  // active(t) = rows with length > t; the rows of length L start at active(L).
  active_.resize(static_cast<size_t>(steps));
  int longer = 0;  // rows with length > L, for L going down
  for (int length = steps; length >= 1; --length) {
    const int here = count_[length];
    count_[length] = longer;  // now: where rows of this length start
    longer += here;
    active_[length - 1] = longer;
  }
  order_.resize(static_cast<size_t>(rows));
  length_.resize(static_cast<size_t>(rows));
  for (int b = 0; b < rows; ++b) {
    const int j = count_[lengths[b]]++;
    order_[j] = b;
    length_[j] = lengths[b];
  }
  offset_.resize(static_cast<size_t>(steps) + 1);
  offset_[0] = 0;
  for (int t = 0; t < steps; ++t) offset_[t + 1] = offset_[t] + active_[t];
}

}  // namespace attnserve::engine
