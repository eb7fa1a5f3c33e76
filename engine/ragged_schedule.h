// RaggedSchedule: the order in which the matmul LSTM (matmul_lstm.h) visits a
// batch of sequences of different lengths, so that step t computes only the
// sequences still running.
//
// Rows are sorted by length, longest first (ties keep their batch order): at
// step t the running sequences are then the first active(t) sorted rows. The
// packed layout stores step t's running rows together, after those of every
// earlier step: sorted row j at step t is packed row offset(t) + j (j <
// active(t)). A layer's input projection runs over all packed rows at once,
// and the recurrent GEMM of step t reads the first active(t) rows of the
// state, so no step computes a padded row. The backward direction of sorted
// row j visits its steps length(j) - 1 down to 0: at its s-th step it is at
// time length(j) - 1 - s, and again exactly the first active(s) rows run.
//
// Build() reuses the vectors' capacity: once grown, it allocates nothing.
// Thread-safety: none; one owner (a session's workspace).
#ifndef ATTNSERVE_ENGINE_RAGGED_SCHEDULE_H_
#define ATTNSERVE_ENGINE_RAGGED_SCHEDULE_H_

#include <cstdint>
#include <vector>

#include "absl/types/span.h"

namespace attnserve::engine {

class RaggedSchedule {
 public:
  // `lengths` (each >= 1) in batch order.
  void Build(absl::Span<const int> lengths);

  int rows() const { return static_cast<int>(order_.size()); }
  int steps() const { return static_cast<int>(active_.size()); }  // the longest length
  int64_t total() const { return offset_.empty() ? 0 : offset_.back(); }  // sum of lengths
  // Batch row of the j-th longest sequence, and its length.
  int order(int j) const { return order_[j]; }
  int length(int j) const { return length_[j]; }
  // Sequences with length > t.
  int active(int t) const { return active_[t]; }
  // Packed row of sorted row j (< active(t)) at time t.
  int64_t packed(int t, int j) const { return offset_[t] + j; }

 private:
  std::vector<int> order_;
  std::vector<int> length_;
  std::vector<int> active_;
  std::vector<int64_t> offset_;  // steps() + 1 entries
  std::vector<int> count_;       // scratch: rows per length
};

}  // namespace attnserve::engine

#endif  // ATTNSERVE_ENGINE_RAGGED_SCHEDULE_H_
