// Wire statuses: the one conversion from the server's absl::Status to each
// status a protocol carries: a gRPC status (same canonical code, same
// message), and the attnserve.v1.Status a ClassifyStream response carries for
// a request that failed. Thread-safety: pure functions.
#ifndef ATTNSERVE_SERVER_GRPC_STATUS_UTIL_H_
#define ATTNSERVE_SERVER_GRPC_STATUS_UTIL_H_

#include "absl/status/status.h"
#include "attnserve/v1/attnserve.pb.h"
#include "grpcpp/support/status.h"

namespace attnserve::server {

grpc::Status ToGrpcStatus(const absl::Status& status);
void ToV1Status(const absl::Status& status, v1::Status* out);

}  // namespace attnserve::server

#endif  // ATTNSERVE_SERVER_GRPC_STATUS_UTIL_H_
