// ClientIdentityOf: who sent a gRPC call (the v1 API or KServe v2), named as
// every front end names a client (server/serving/client_identity.h): the
// `x-attnserve-client` request metadata when present, else the peer's
// address without its port ("ipv4:10.0.0.7", "ipv6:[::1]"), so that one
// host's connections share one identity. Behind a proxy that forwards calls
// from one address, clients must send the header to be told apart.
// Thread-safety: a pure function of the context.
#ifndef ATTNSERVE_SERVER_GRPC_CLIENT_IDENTITY_H_
#define ATTNSERVE_SERVER_GRPC_CLIENT_IDENTITY_H_

#include <string>

#include "absl/strings/string_view.h"
#include "grpcpp/server_context.h"
#include "server/serving/client_identity.h"

namespace attnserve::server {

inline std::string ClientIdentityOf(const grpc::CallbackServerContext& context) {
  const auto& metadata = context.client_metadata();
  auto it = metadata.find(kClientHeader);
  absl::string_view header;
  if (it != metadata.end()) header = absl::string_view(it->second.data(), it->second.size());
  return ClientIdentity(header, PeerHost(context.peer()));
}

}  // namespace attnserve::server

#endif  // ATTNSERVE_SERVER_GRPC_CLIENT_IDENTITY_H_
