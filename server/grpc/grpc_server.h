// StartGrpcServer: builds and starts the gRPC server on one address with the
// given services, health checking, and server reflection only when asked.
//
// The port is exclusive: SO_REUSEPORT is off, so a second server on a busy
// port fails to start instead of silently sharing its connections. Errors:
// UNAVAILABLE naming the address and, when it can tell, why (the port is in
// use, the address is not local, permission); INVALID_ARGUMENT for an address
// that does not resolve. Ownership: the services and credentials must outlive
// the returned server. Thread-safety: call from one thread; gRPC's global
// health checking is switched on here, before the builder. Reflection is per
// server (GrpcServerOptions::reflection), whatever else the process links.
#ifndef ATTNSERVE_SERVER_GRPC_GRPC_SERVER_H_
#define ATTNSERVE_SERVER_GRPC_GRPC_SERVER_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/server.h"

namespace attnserve::server {

struct GrpcServerOptions {
  std::string host = "0.0.0.0";
  int port = 8500;  // 0: a free port
  int max_message_bytes = 16 << 20;
  bool reflection = false;
  // Plaintext when null (tls_credentials.h makes TLS ones).
  std::shared_ptr<grpc::ServerCredentials> credentials;
  std::vector<grpc::Service*> services;
};

struct StartedGrpcServer {
  std::unique_ptr<grpc::Server> server;
  int port = 0;  // the port it listens on
};

absl::StatusOr<StartedGrpcServer> StartGrpcServer(const GrpcServerOptions& options);

// Why binding `host`:`port` fails now ("port 8500 of 127.0.0.1 is already in
// use by another process", ...), or "" if a test bind succeeds.
std::string DiagnoseListenFailure(const std::string& host, int port);

}  // namespace attnserve::server

#endif  // ATTNSERVE_SERVER_GRPC_GRPC_SERVER_H_
