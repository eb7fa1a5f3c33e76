// CallAccess: see call_access.h.
#include "server/grpc/call_access.h"

#include <arpa/inet.h>

#include <optional>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/strip.h"
#include "server/grpc/status_util.h"

namespace attnserve::server {

bool IsLoopbackPeer(absl::string_view peer) {
  if (absl::StartsWith(peer, "unix:")) return true;
  std::string host;
  if (absl::ConsumePrefix(&peer, "ipv4:")) {
    host = std::string(peer.substr(0, peer.rfind(':')));
    in_addr address{};
    if (inet_pton(AF_INET, host.c_str(), &address) != 1) return false;
    return (ntohl(address.s_addr) >> 24) == 127;
  }
  if (absl::ConsumePrefix(&peer, "ipv6:")) {
    const size_t close = peer.find(']');
    if (peer.empty() || peer.front() != '[' || close == absl::string_view::npos) return false;
    host = std::string(peer.substr(1, close - 1));
    const size_t zone = host.find('%');
    if (zone != std::string::npos) host.resize(zone);
    in6_addr address{};
    if (inet_pton(AF_INET6, host.c_str(), &address) != 1) return false;
    if (IN6_IS_ADDR_LOOPBACK(&address)) return true;
    return IN6_IS_ADDR_V4MAPPED(&address) && address.s6_addr[12] == 127;
  }
  return false;
}

grpc::Status CallAccess::Check(const grpc::CallbackServerContext& context, ApiScope scope) const {
  if (policy_ == nullptr) return grpc::Status::OK;
  const auto& metadata = context.client_metadata();
  std::optional<absl::string_view> authorization;
  if (auto it = metadata.find("authorization"); it != metadata.end()) {
    authorization = absl::string_view(it->second.data(), it->second.size());
  }
  return ToGrpcStatus(policy_->Check(scope, authorization, IsLoopbackPeer(context.peer())));
}

}  // namespace attnserve::server
