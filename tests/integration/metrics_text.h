// MetricSum: reads a test server's /metrics text (Prometheus exposition
// format): the sum of the values of `name`'s series whose labels include
// every `labels` entry ("code=\"OK\""), or -1 when no series matches.
// Thread-safety: a pure function.
#ifndef ATTNSERVE_TESTS_INTEGRATION_METRICS_TEXT_H_
#define ATTNSERVE_TESTS_INTEGRATION_METRICS_TEXT_H_

#include <cstdlib>
#include <sstream>
#include <string>
#include <vector>

namespace attnserve::testing {

inline double MetricSum(const std::string& text, const std::string& name,
                        const std::vector<std::string>& labels = {}) {
  std::istringstream lines(text);
  std::string line;
  double sum = 0;
  bool found = false;
  while (std::getline(lines, line)) {
    if (line.empty() || line[0] == '#') continue;
    if (line.compare(0, name.size(), name) != 0) continue;
    const char next = line.size() > name.size() ? line[name.size()] : '\0';
    if (next != '{' && next != ' ') continue;
    const size_t value_at = line.rfind(' ');
    const std::string series = line.substr(0, value_at);
    bool all = true;
    for (const std::string& label : labels) all = all && series.find(label) != std::string::npos;
    if (!all) continue;
    found = true;
    sum += std::strtod(line.c_str() + value_at + 1, nullptr);
  }
  return found ? sum : -1;
}

}  // namespace attnserve::testing

#endif  // ATTNSERVE_TESTS_INTEGRATION_METRICS_TEXT_H_
