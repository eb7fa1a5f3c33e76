// LatencyStats and WithinTolerance (see latency_stats.h).
#include "client/latency_stats.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace attnserve::client {

void LatencyStats::Merge(const LatencyStats& other) {
  samples_.insert(samples_.end(), other.samples_.begin(), other.samples_.end());
  sorted_ = false;
}

double LatencyStats::Percentile(double p) {
  if (samples_.empty()) return 0;
  if (!sorted_) {
    std::sort(samples_.begin(), samples_.end());
    sorted_ = true;
  }
  const double rank = std::ceil(p / 100.0 * static_cast<double>(samples_.size()));
  const size_t index = static_cast<size_t>(std::clamp(rank, 1.0, double(samples_.size()))) - 1;
  return samples_[index];
}

double LatencyStats::Mean() const {
  if (samples_.empty()) return 0;
  return std::accumulate(samples_.begin(), samples_.end(), 0.0) / samples_.size();
}

double LatencyStats::Min() { return samples_.empty() ? 0 : Percentile(0); }

double LatencyStats::Max() { return samples_.empty() ? 0 : Percentile(100); }

bool WithinTolerance(const std::vector<double>& values, double tolerance) {
  if (values.empty()) return false;
  const double mean = std::accumulate(values.begin(), values.end(), 0.0) / values.size();
  for (double v : values) {
    if (std::fabs(v - mean) > tolerance * std::fabs(mean)) return false;
  }
  return true;
}

}  // namespace attnserve::client
