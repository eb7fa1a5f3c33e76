// AccessPolicy: who may call what, decided the same way for every protocol.
//
// Two scopes: kInference (classify, list models, model metadata) and kAdmin
// (the model-control API: load, unload, reload, repository index). Health
// checks, reflection and /metrics are not governed here (they are always
// open; docs/security.md).
//
//   inference: open, unless `inference_needs_token`, then a valid token.
//   admin with a token file: a valid token, from anywhere (loopback too).
//   admin without one: `unauthenticated_admin` decides: kLoopback (the
//     default) serves clients connecting from this machine only, kAllow
//     serves anyone, kDeny no one.
//
// Errors: UNAUTHENTICATED (no, malformed or unknown token; BearerTokens says
// which) or PERMISSION_DENIED (admin without a token file from a remote peer,
// or denied outright), each saying how to get access. No message contains
// the presented token.
// Ownership: borrows the tokens (may be null: no token file), which must
// outlive the policy. Thread-safety: Check() may run concurrently.
#ifndef ATTNSERVE_SERVER_SECURITY_ACCESS_POLICY_H_
#define ATTNSERVE_SERVER_SECURITY_ACCESS_POLICY_H_

#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "server/security/bearer_tokens.h"

namespace attnserve::server {

enum class ApiScope { kInference, kAdmin };

enum class UnauthenticatedAdmin { kLoopback, kAllow, kDeny };

// "loopback", "allow", "deny" (--unauthenticated_admin).
absl::StatusOr<UnauthenticatedAdmin> ParseUnauthenticatedAdmin(absl::string_view name);

struct AccessPolicyOptions {
  const BearerTokens* tokens = nullptr;  // --auth_token_file; null: none
  bool inference_needs_token = false;    // --auth_inference
  UnauthenticatedAdmin unauthenticated_admin = UnauthenticatedAdmin::kLoopback;
};

class AccessPolicy {
 public:
  // INVALID_ARGUMENT when inference_needs_token is set without tokens.
  static absl::StatusOr<AccessPolicy> Create(const AccessPolicyOptions& options);

  // `authorization`: the call's authorization header value (nullopt: none);
  // `loopback_peer`: the client connects from this machine (127.0.0.0/8, ::1).
  absl::Status Check(ApiScope scope, std::optional<absl::string_view> authorization,
                     bool loopback_peer) const;

  // One line for the startup log, e.g. "admin API: bearer token; inference: open".
  std::string Describe() const;

 private:
  explicit AccessPolicy(const AccessPolicyOptions& options) : options_(options) {}
  AccessPolicyOptions options_;
};

}  // namespace attnserve::server

#endif  // ATTNSERVE_SERVER_SECURITY_ACCESS_POLICY_H_
