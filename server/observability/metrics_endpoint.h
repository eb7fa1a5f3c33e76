// MetricsEndpoint: the HTTP listener that serves /metrics (prometheus-cpp's
// Exposer on civetweb), configured so that slow or idle clients cannot blind
// monitoring: `threads` connections are served at once, and a connection that
// has not sent a complete request within `request_timeout` is closed, which
// frees its thread. Keep-alive is off (Prometheus opens a connection per
// scrape or keeps one it uses; an idle kept-alive one would hold a thread).
//
// Errors: StartMetricsEndpoint is UNAVAILABLE naming the address when it
// cannot listen there (e.g. the port is in use), INVALID_ARGUMENT for a bad
// option. Ownership: the caller owns the Exposer; registered collectables must
// outlive it. Thread-safety: the Exposer serves scrapes on its own threads.
#ifndef ATTNSERVE_SERVER_OBSERVABILITY_METRICS_ENDPOINT_H_
#define ATTNSERVE_SERVER_OBSERVABILITY_METRICS_ENDPOINT_H_

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "prometheus/exposer.h"

namespace attnserve::server {

struct MetricsEndpointOptions {
  std::string host = "0.0.0.0";  // an IPv4 address, or [IPv6]
  int port = 8502;               // 0: a free port
  int threads = 8;               // connections served at once
  std::chrono::milliseconds request_timeout{5000};
};

// civetweb's options for `options` (exposed for tests).
std::vector<std::string> CivetwebOptions(const MetricsEndpointOptions& options);

absl::StatusOr<std::unique_ptr<prometheus::Exposer>> StartMetricsEndpoint(
    const MetricsEndpointOptions& options);

}  // namespace attnserve::server

#endif  // ATTNSERVE_SERVER_OBSERVABILITY_METRICS_ENDPOINT_H_
