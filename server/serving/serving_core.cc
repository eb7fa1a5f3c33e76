// ServingCore: see serving_core.h.
#include "server/serving/serving_core.h"

#include <algorithm>

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

absl::StatusOr<ServableHandle> ServingCore::Admit(const ModelRef& ref, Protocol protocol,
                                                  const std::string& client, int64_t sequences,
                                                  int64_t timesteps) const {
  absl::StatusOr<ServableHandle> servable = Resolve(ref, protocol);
  if (!servable.ok()) return servable;
  if (absl::Status refused = Precheck(**servable, protocol, client, sequences, timesteps);
      !refused.ok()) {
    return refused;
  }
  return servable;
}

absl::Status ServingCore::Precheck(const Servable& servable, Protocol protocol,
                                   const std::string& client, int64_t sequences,
                                   int64_t timesteps) const {
  if (!limits_.refuse_before_decoding) return absl::OkStatus();
  if (sequences > InferenceCall::MaxSequences(servable, limits_)) return absl::OkStatus();
  const int64_t count = std::max<int64_t>(1, sequences);
  ScheduleRefusal refusal = ScheduleRefusal::kNone;
  absl::Status refused =
      servable.batcher().Precheck(InferenceCall::ClientKey(client), static_cast<size_t>(count),
                                  std::max<int64_t>(count, timesteps), &refusal);
  if (refused.ok()) return refused;
  if (const ModelMetrics* m = servable.metrics(); m != nullptr) {
    m->CountRequest(protocol, refused.code());
    m->Reject(InferenceCall::ReasonOf(refusal), static_cast<double>(count));
  }
  return refused;
}

void ServingCore::CountRefused(const absl::Status& status, Protocol protocol) const {
  if (metrics_ == nullptr) return;
  metrics_->Unresolved()->CountRequest(protocol, status.code());
  metrics_->Unresolved()->Reject(RejectReason::kInvalid);
}

}  // namespace attnserve::server
