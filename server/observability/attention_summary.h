// Attention summaries: the few numbers per attention map that the server
// watches in production (docs/attention-monitoring.md). Pure functions over
// one sequence's map; O(size) with no allocation (callers pass the buffers).
//
// For a distribution w over n positions (nonnegative, normalised here by its
// sum S, so maps that sum to 1 are taken as they are):
//   entropy       = -sum_i p_i ln p_i / ln n, with p = w / S: 1 for uniform
//                   weights, 0 when one position holds all of it (n >= 2);
//   peak_position = argmax / (n - 1): 0 for the first position, 1 for the
//                   last (the first maximum on ties; n >= 2);
//   peak_weight   = w[argmax] / S: 1/n (uniform) to 1 (one-hot).
// Thread-safety: none needed (no state).
#ifndef ATTNSERVE_SERVER_OBSERVABILITY_ATTENTION_SUMMARY_H_
#define ATTNSERVE_SERVER_OBSERVABILITY_ATTENTION_SUMMARY_H_

#include <cstdint>

#include "absl/types/span.h"

namespace attnserve::server {

struct DistributionSummary {
  // False when there is nothing to summarise: no weights, a sum that is not
  // positive and finite (e.g. a one-step map whose only step is excluded), or
  // a negative or NaN weight.
  bool valid = false;
  // False for a single position (n = 1): entropy and peak position are then
  // undefined; peak_weight is 1.
  bool has_spread = false;
  double entropy = 0;        // [0, 1]
  double peak_position = 0;  // [0, 1]
  double peak_weight = 0;    // [0, 1]
};

DistributionSummary SummarizeDistribution(absl::Span<const float> weights);

// Means of a row-major [rows, cols] map: over its rows (one value per column)
// into `column_means[0..cols)`, or over its columns (one per row) into
// `row_means[0..rows)`.
void MeanOverRows(absl::Span<const float> map, int64_t rows, int64_t cols, float* column_means);
void MeanOverColumns(absl::Span<const float> map, int64_t rows, int64_t cols, float* row_means);

// The mean of `values` (0 for none).
double Mean(absl::Span<const float> values);

}  // namespace attnserve::server

#endif  // ATTNSERVE_SERVER_OBSERVABILITY_ATTENTION_SUMMARY_H_
