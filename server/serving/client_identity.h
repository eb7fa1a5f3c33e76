// Client identity: who sent a request, whatever its protocol, for the
// per-client queue limits and fair sharing (docs/operations.md, "Client
// identity"). Every front end names a client the same way, so that one
// client's v1, KServe v2 gRPC and KServe v2 HTTP requests share one flow:
//
// - the `x-attnserve-client` header (gRPC metadata or HTTP header) when
//   present and not empty: "header:" and its first kMaxClientIdentityBytes
//   bytes;
// - else the peer's address without its port, as gRPC writes it:
//   "ipv4:10.0.0.7", "ipv6:[::1]" (an IPv4 address mapped into IPv6 is
//   written as IPv4); anything else (a Unix socket) as the transport names it.
//
// The identity is never a metric label (no cardinality to bound).
// Thread-safety: pure functions.
#ifndef ATTNSERVE_SERVER_SERVING_CLIENT_IDENTITY_H_
#define ATTNSERVE_SERVER_SERVING_CLIENT_IDENTITY_H_

#include <algorithm>
#include <cstddef>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace attnserve::server {

inline constexpr char kClientHeader[] = "x-attnserve-client";
inline constexpr size_t kMaxClientIdentityBytes = 128;

// A gRPC peer without its port: "ipv4:1.2.3.4:5678" -> "ipv4:1.2.3.4";
// "ipv6:[::1]:5678" -> "ipv6:[::1]"; "ipv6:%5B::1%5D:5678" -> "ipv6:[::1]";
// anything else as it is.
inline std::string PeerHost(const std::string& peer) {
  if (peer.rfind("ipv4:", 0) != 0 && peer.rfind("ipv6:", 0) != 0) return peer;
  std::string host = peer;
  // gRPC percent-encodes the brackets of an IPv6 peer in some versions.
  static constexpr const char* kEncoded[][2] = {{"%5B", "["}, {"%5D", "]"}};
  for (const auto& pair : kEncoded) {
    for (size_t at = host.find(pair[0]); at != std::string::npos; at = host.find(pair[0])) {
      host.replace(at, 3, pair[1]);
    }
  }
  const size_t colon = host.rfind(':');
  const size_t bracket = host.rfind(']');
  if (colon == std::string::npos || colon < 5) return host;
  if (bracket != std::string::npos && colon < bracket) return host;  // "[::1]" without port
  if (host.rfind("ipv6:", 0) == 0 && bracket == std::string::npos) return host;
  host = host.substr(0, colon);
  // An IPv4 client of a dual-stack listener.
  if (absl::StartsWithIgnoreCase(host, "ipv6:[::ffff:") && host.find('.') != std::string::npos) {
    return absl::StrCat("ipv4:", host.substr(13, host.size() - 14));
  }
  return host;
}

// An IP address as a transport without gRPC's notation gives it ("10.0.0.7",
// "::1", "::ffff:10.0.0.7"), written as gRPC writes a peer host.
inline std::string PeerHostOfAddress(const std::string& address) {
  if (address.empty()) return address;
  if (address.find(':') == std::string::npos) return absl::StrCat("ipv4:", address);
  if (absl::StartsWithIgnoreCase(address, "::ffff:") && address.find('.') != std::string::npos) {
    return absl::StrCat("ipv4:", address.substr(7));
  }
  return absl::StrCat("ipv6:[", address, "]");
}

// `header`: the x-attnserve-client value ("" when absent); `peer_host`: the
// peer as PeerHost() or PeerHostOfAddress() wrote it.
inline std::string ClientIdentity(absl::string_view header, const std::string& peer_host) {
  if (!header.empty()) {
    return absl::StrCat("header:", header.substr(0, std::min(header.size(), kMaxClientIdentityBytes)));
  }
  return peer_host;
}

}  // namespace attnserve::server

#endif  // ATTNSERVE_SERVER_SERVING_CLIENT_IDENTITY_H_
