// LatencyStats: collects latency samples and reports percentiles (nearest
// rank on the sorted samples). Not thread-safe: one per thread, then Merge().
#ifndef ATTNSERVE_CLIENT_LATENCY_STATS_H_
#define ATTNSERVE_CLIENT_LATENCY_STATS_H_

#include <cstddef>
#include <cstdint>
#include <vector>

namespace attnserve::client {

class LatencyStats {
 public:
  void Add(double micros) { samples_.push_back(micros); }
  void Merge(const LatencyStats& other);
  size_t count() const { return samples_.size(); }
  // p in [0, 100]; 0 when empty. Sorts lazily.
  double Percentile(double p);
  double Mean() const;

 private:
  std::vector<double> samples_;
  bool sorted_ = false;
};

}  // namespace attnserve::client

#endif  // ATTNSERVE_CLIENT_LATENCY_STATS_H_
