// Attention summaries: see attention_summary.h.
#include "server/observability/attention_summary.h"

#include <algorithm>
#include <cmath>

namespace attnserve::server {

DistributionSummary SummarizeDistribution(absl::Span<const float> weights) {
  DistributionSummary s;
  const size_t n = weights.size();
  if (n == 0) return s;
  double sum = 0;
  double plogp = 0;  // sum of w ln w over the positive weights
  size_t peak = 0;
  float peak_value = weights[0];
  bool negative_or_nan = false;
  for (size_t i = 0; i < n; ++i) {
    const float w = weights[i];
    negative_or_nan |= !(w >= 0);
    if (w > peak_value) {
      peak_value = w;
      peak = i;
    }
    if (w > 0) {
      // logf: accurate to about 1e-7 relative, and cheaper than the double log.
      sum += w;
      plogp += static_cast<double>(w) * static_cast<double>(std::log(w));
    }
  }
  if (negative_or_nan || !(sum > 0) || !std::isfinite(sum) || !std::isfinite(plogp)) return s;
  s.valid = true;
  s.peak_weight = std::clamp(static_cast<double>(peak_value) / sum, 0.0, 1.0);
  if (n < 2) {
    s.peak_weight = 1;
    return s;
  }
  s.has_spread = true;
  // H(p) with p = w / S: ln S - (1/S) sum w ln w.
  const double entropy = std::log(sum) - plogp / sum;
  s.entropy = std::clamp(entropy / std::log(static_cast<double>(n)), 0.0, 1.0);
  s.peak_position = static_cast<double>(peak) / static_cast<double>(n - 1);
  return s;
}

void MeanOverRows(absl::Span<const float> map, int64_t rows, int64_t cols, float* column_means) {
  std::fill(column_means, column_means + cols, 0.0f);
  for (int64_t r = 0; r < rows; ++r) {
    const float* row = map.data() + r * cols;
    for (int64_t c = 0; c < cols; ++c) column_means[c] += row[c];
  }
  if (rows > 0) {
    const float scale = 1.0f / static_cast<float>(rows);
    for (int64_t c = 0; c < cols; ++c) column_means[c] *= scale;
  }
}

void MeanOverColumns(absl::Span<const float> map, int64_t rows, int64_t cols, float* row_means) {
  for (int64_t r = 0; r < rows; ++r) {
    const float* row = map.data() + r * cols;
    float total = 0;
    for (int64_t c = 0; c < cols; ++c) total += row[c];
    row_means[r] = cols > 0 ? total / static_cast<float>(cols) : 0.0f;
  }
}

double Mean(absl::Span<const float> values) {
  if (values.empty()) return 0;
  double total = 0;
  for (float v : values) total += v;
  return total / static_cast<double>(values.size());
}

}  // namespace attnserve::server
