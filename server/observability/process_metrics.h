// ProcessCollector: the standard process_* metrics of the running process
// (CPU seconds, resident and virtual memory, open and max file descriptors,
// start time), read from /proc at each scrape. Linux only.
// Thread-safety: Collect() is const and reads only /proc; safe concurrently.
#ifndef ATTNSERVE_SERVER_OBSERVABILITY_PROCESS_METRICS_H_
#define ATTNSERVE_SERVER_OBSERVABILITY_PROCESS_METRICS_H_

#include <vector>

#include "prometheus/collectable.h"
#include "prometheus/metric_family.h"

namespace attnserve::server {

class ProcessCollector : public prometheus::Collectable {
 public:
  std::vector<prometheus::MetricFamily> Collect() const override;
};

}  // namespace attnserve::server

#endif  // ATTNSERVE_SERVER_OBSERVABILITY_PROCESS_METRICS_H_
