// The standard grpc.health.v1 Check call, for `attnctl health`.
// Stateless; safe to call from any thread.
#ifndef ATTNSERVE_CLIENT_HEALTH_CHECK_H_
#define ATTNSERVE_CLIENT_HEALTH_CHECK_H_

#include <chrono>
#include <memory>
#include <string>

#include "grpc/health/v1/health.pb.h"
#include "grpcpp/channel.h"
#include "grpcpp/support/status.h"

namespace attnserve::client {

using ServingStatus = grpc::health::v1::HealthCheckResponse::ServingStatus;

// Asks `channel` whether `service` is serving ("" = the server as a whole).
// OK fills `*serving`; otherwise the call's status (NOT_FOUND for an unknown
// service, UNAVAILABLE when the server cannot be reached, ...). A zero
// `timeout` means no deadline.
grpc::Status CheckHealth(const std::shared_ptr<grpc::Channel>& channel, const std::string& service,
                         std::chrono::milliseconds timeout, ServingStatus* serving);

// "SERVING", "NOT_SERVING", "UNKNOWN" or "SERVICE_UNKNOWN".
std::string ServingStatusName(ServingStatus status);

}  // namespace attnserve::client

#endif  // ATTNSERVE_CLIENT_HEALTH_CHECK_H_
