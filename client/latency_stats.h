// LatencyStats: collects samples (latencies, batch sizes, ...) and reports
// percentiles (nearest rank on the sorted samples), mean, min and max.
// WithinTolerance: the stability test attnbench applies to consecutive
// measurement windows (as perf_analyzer does).
// Not thread-safe: one LatencyStats per thread (or under the caller's lock),
// then Merge().
#ifndef ATTNSERVE_CLIENT_LATENCY_STATS_H_
#define ATTNSERVE_CLIENT_LATENCY_STATS_H_

#include <cstddef>
#include <cstdint>
#include <vector>

namespace attnserve::client {

class LatencyStats {
 public:
  void Add(double value) {
    samples_.push_back(value);
    sorted_ = false;
  }
  void Merge(const LatencyStats& other);
  size_t count() const { return samples_.size(); }
  // p in [0, 100]; 0 when empty. Sorts lazily.
  double Percentile(double p);
  double Mean() const;
  double Min();
  double Max();

 private:
  std::vector<double> samples_;
  bool sorted_ = false;
};

// True when every value lies within `tolerance` (a fraction: 0.1 = 10%) of
// the values' mean. False for an empty list; true for all zeros.
bool WithinTolerance(const std::vector<double>& values, double tolerance);

}  // namespace attnserve::client

#endif  // ATTNSERVE_CLIENT_LATENCY_STATS_H_
