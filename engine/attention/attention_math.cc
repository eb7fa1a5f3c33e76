#include "engine/attention/attention_math.h"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace attnserve::engine {

void MaskedSoftmax(const float* scores, absl::Span<const int> lengths, int64_t batch,
                   int64_t steps, float* weights) {
  for (int64_t b = 0; b < batch; ++b) {
    float* row = weights + b * steps;
    const int64_t len = lengths[b];
    float max_score = scores[b];
    for (int64_t t = 1; t < len; ++t) max_score = std::max(max_score, scores[t * batch + b]);
    double sum = 0.0;
    for (int64_t t = 0; t < len; ++t) {
      row[t] = std::exp(scores[t * batch + b] - max_score);
      sum += row[t];
    }
    const float inv = static_cast<float>(1.0 / sum);
    for (int64_t t = 0; t < len; ++t) row[t] *= inv;
    std::fill(row + len, row + steps, 0.0f);
  }
}

void WeightedSum(const float* h, const float* weights, absl::Span<const int> lengths,
                 int64_t batch, int64_t steps, int64_t dim, float* out) {
  for (int64_t b = 0; b < batch; ++b) {
    float* acc = out + b * dim;
    std::fill(acc, acc + dim, 0.0f);
    const float* w = weights + b * steps;
    for (int64_t t = 0; t < lengths[b]; ++t) {
      const float a = w[t];
      const float* row = h + (t * batch + b) * dim;
      for (int64_t j = 0; j < dim; ++j) acc[j] += a * row[j];
    }
  }
}

void GatherLastValid(const float* h, absl::Span<const int> lengths, int64_t batch, int64_t dim,
                     float* out) {
  for (int64_t b = 0; b < batch; ++b) {
    std::memcpy(out + b * dim, h + ((lengths[b] - 1) * batch + b) * dim, sizeof(float) * dim);
  }
}

}  // namespace attnserve::engine
