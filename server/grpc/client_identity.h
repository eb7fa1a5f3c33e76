// ClientIdentityOf: who sent a gRPC call, for the serving core's per-client
// queue limits and fair sharing (docs/operations.md, "Client identity").
//
// The `x-attnserve-client` request metadata when present (at most
// kMaxClientIdentityBytes of it), else the peer's address without its port
// ("ipv4:10.0.0.7", "ipv6:[::1]"; a Unix socket peer as gRPC names it), so
// that one host's connections share one identity. Behind a proxy that
// forwards calls from one address, clients must send the header to be told
// apart. The identity is never a metric label (no cardinality to bound).
// Thread-safety: a pure function of the context.
#ifndef ATTNSERVE_SERVER_GRPC_CLIENT_IDENTITY_H_
#define ATTNSERVE_SERVER_GRPC_CLIENT_IDENTITY_H_

#include <algorithm>
#include <cstddef>
#include <string>

#include "grpcpp/server_context.h"

namespace attnserve::server {

inline constexpr char kClientHeader[] = "x-attnserve-client";
inline constexpr size_t kMaxClientIdentityBytes = 128;

// "ipv4:1.2.3.4:5678" -> "ipv4:1.2.3.4"; "ipv6:[::1]:5678" -> "ipv6:[::1]";
// anything else as it is.
inline std::string PeerHost(const std::string& peer) {
  if (peer.rfind("ipv4:", 0) != 0 && peer.rfind("ipv6:", 0) != 0) return peer;
  const size_t colon = peer.rfind(':');
  const size_t bracket = peer.rfind(']');
  if (colon == std::string::npos || colon < 5) return peer;
  if (bracket != std::string::npos && colon < bracket) return peer;  // "[::1]" without port
  return peer.substr(0, colon);
}

inline std::string ClientIdentityOf(const grpc::CallbackServerContext& context) {
  const auto& metadata = context.client_metadata();
  auto it = metadata.find(kClientHeader);
  if (it != metadata.end() && !it->second.empty()) {
    const size_t n = std::min(it->second.size(), kMaxClientIdentityBytes);
    return "header:" + std::string(it->second.data(), n);
  }
  return PeerHost(context.peer());
}

}  // namespace attnserve::server

#endif  // ATTNSERVE_SERVER_GRPC_CLIENT_IDENTITY_H_
