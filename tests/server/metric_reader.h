// Test helper: reads one series from a prometheus::Registry by metric name
// and labels (a subset match): a counter's or gauge's value, or a histogram's
// sample count / sum.
#ifndef ATTNSERVE_TESTS_SERVER_METRIC_READER_H_
#define ATTNSERVE_TESTS_SERVER_METRIC_READER_H_

#include <map>
#include <string>

#include "prometheus/registry.h"

namespace attnserve::testing {

struct Series {
  bool found = false;
  double value = 0;         // counter / gauge
  double sample_count = 0;  // histogram
  double sample_sum = 0;    // histogram
};

inline Series ReadSeries(const prometheus::Registry& registry, const std::string& name,
                         const std::map<std::string, std::string>& labels) {
  Series series;
  for (const prometheus::MetricFamily& family : registry.Collect()) {
    if (family.name != name) continue;
    for (const prometheus::ClientMetric& metric : family.metric) {
      size_t matched = 0;
      for (const prometheus::ClientMetric::Label& label : metric.label) {
        auto it = labels.find(label.name);
        if (it != labels.end() && it->second == label.value) ++matched;
      }
      if (matched != labels.size()) continue;
      series.found = true;
      series.value += metric.counter.value + metric.gauge.value;
      series.sample_count += static_cast<double>(metric.histogram.sample_count);
      series.sample_sum += metric.histogram.sample_sum;
    }
  }
  return series;
}

}  // namespace attnserve::testing

#endif  // ATTNSERVE_TESTS_SERVER_METRIC_READER_H_
