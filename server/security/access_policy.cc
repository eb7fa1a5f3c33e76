// AccessPolicy: see access_policy.h.
#include "server/security/access_policy.h"

#include "absl/strings/str_cat.h"

namespace attnserve::server {

absl::StatusOr<UnauthenticatedAdmin> ParseUnauthenticatedAdmin(absl::string_view name) {
  if (name == "loopback") return UnauthenticatedAdmin::kLoopback;
  if (name == "allow") return UnauthenticatedAdmin::kAllow;
  if (name == "deny") return UnauthenticatedAdmin::kDeny;
  return absl::InvalidArgumentError(
      absl::StrCat("'", name.substr(0, 32), "' is not 'loopback', 'allow' or 'deny'"));
}

absl::StatusOr<AccessPolicy> AccessPolicy::Create(const AccessPolicyOptions& options) {
  if (options.inference_needs_token && options.tokens == nullptr) {
    return absl::InvalidArgumentError(
        "--auth_inference needs --auth_token_file (the tokens inference calls must present)");
  }
  return AccessPolicy(options);
}

absl::Status AccessPolicy::Check(ApiScope scope, std::optional<absl::string_view> authorization,
                                 bool loopback_peer) const {
  if (scope == ApiScope::kInference) {
    if (!options_.inference_needs_token) return absl::OkStatus();
    return options_.tokens->Check(authorization);
  }
  if (options_.tokens != nullptr) return options_.tokens->Check(authorization);
  switch (options_.unauthenticated_admin) {
    case UnauthenticatedAdmin::kAllow:
      return absl::OkStatus();
    case UnauthenticatedAdmin::kLoopback:
      if (loopback_peer) return absl::OkStatus();
      return absl::PermissionDeniedError(
          "the model-control API is served only to clients on the server's own machine: give "
          "the server --auth_token_file to use it remotely with a bearer token");
    case UnauthenticatedAdmin::kDeny:
      break;
  }
  return absl::PermissionDeniedError(
      "the model-control API is switched off (--unauthenticated_admin=deny and no "
      "--auth_token_file)");
}

std::string AccessPolicy::Describe() const {
  std::string admin;
  if (options_.tokens != nullptr) {
    admin = "bearer token";
  } else {
    switch (options_.unauthenticated_admin) {
      case UnauthenticatedAdmin::kLoopback:
        admin = "loopback clients only, no token";
        break;
      case UnauthenticatedAdmin::kAllow:
        admin = "open to every client";
        break;
      case UnauthenticatedAdmin::kDeny:
        admin = "off";
        break;
    }
  }
  return absl::StrCat("model-control API: ", admin,
                      "; inference: ", options_.inference_needs_token ? "bearer token" : "open");
}

}  // namespace attnserve::server
