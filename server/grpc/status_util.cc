#include "server/grpc/status_util.h"

#include <string>

namespace attnserve::server {

// absl, gRPC and google.rpc.Code share the canonical code numbering.

grpc::Status ToGrpcStatus(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()),
                      std::string(status.message()));
}

void ToV1Status(const absl::Status& status, v1::Status* out) {
  out->set_code(static_cast<int>(status.code()));
  out->set_message(std::string(status.message()));
}

}  // namespace attnserve::server
