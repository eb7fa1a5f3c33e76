// ToGrpcStatus: the one conversion from the engine's and server's
// absl::Status to a gRPC status (same canonical code, same message).
#ifndef ATTNSERVE_SERVER_GRPC_STATUS_UTIL_H_
#define ATTNSERVE_SERVER_GRPC_STATUS_UTIL_H_

#include "absl/status/status.h"
#include "grpcpp/support/status.h"

namespace attnserve::server {

grpc::Status ToGrpcStatus(const absl::Status& status);

}  // namespace attnserve::server

#endif  // ATTNSERVE_SERVER_GRPC_STATUS_UTIL_H_
