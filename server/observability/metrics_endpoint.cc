// MetricsEndpoint: see metrics_endpoint.h.
#include "server/observability/metrics_endpoint.h"

#include <exception>

#include "absl/strings/str_cat.h"

namespace attnserve::server {

std::vector<std::string> CivetwebOptions(const MetricsEndpointOptions& options) {
  const std::string timeout = absl::StrCat(options.request_timeout.count());
  return {
      "listening_ports", absl::StrCat(options.host, ":", options.port),
      "num_threads", absl::StrCat(options.threads),
      // A connection that sends no complete request within this is closed.
      "request_timeout_ms", timeout,
      "enable_keep_alive", "no",
      // How long a close waits for the client to read the rest.
      "linger_timeout_ms", timeout,
  };
}

absl::StatusOr<std::unique_ptr<prometheus::Exposer>> StartMetricsEndpoint(
    const MetricsEndpointOptions& options) {
  if (options.threads < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("the metrics endpoint needs at least 1 thread, not ", options.threads));
  }
  if (options.request_timeout.count() < 1) {
    return absl::InvalidArgumentError("the metrics request timeout must be positive");
  }
  const std::string address = absl::StrCat(options.host, ":", options.port);
  try {
    return std::make_unique<prometheus::Exposer>(CivetwebOptions(options));
  } catch (const std::exception& e) {
    return absl::UnavailableError(
        absl::StrCat("cannot serve metrics on ", address, ": ", e.what()));
  }
}

}  // namespace attnserve::server
