// ServingCore: see serving_core.h.
#include "server/serving/serving_core.h"

namespace attnserve::server {

absl::StatusOr<ServableHandle> ServingCore::Resolve(const ModelRef& ref,
                                                   Protocol protocol) const {
  absl::Status refused;
  RejectReason reason = RejectReason::kInvalid;
  if (shutting_down()) {
    refused = absl::UnavailableError("the server is shutting down");
    reason = RejectReason::kShutdown;
  } else if (ref.name.empty()) {
    refused = absl::InvalidArgumentError("the request names no model");
  } else {
    absl::StatusOr<ServableHandle> servable = registry_->Resolve(ref);
    if (servable.ok()) return servable;
    refused = servable.status();
    if (refused.code() == absl::StatusCode::kUnavailable ||
        refused.code() == absl::StatusCode::kFailedPrecondition) {
      reason = RejectReason::kNotReady;
    }
  }
  if (metrics_ != nullptr) {
    metrics_->Unresolved()->CountRequest(protocol, refused.code());
    metrics_->Unresolved()->Reject(reason);
  }
  return refused;
}

void ServingCore::CountRefused(const absl::Status& status, Protocol protocol) const {
  if (metrics_ == nullptr) return;
  metrics_->Unresolved()->CountRequest(protocol, status.code());
  metrics_->Unresolved()->Reject(RejectReason::kInvalid);
}

}  // namespace attnserve::server
