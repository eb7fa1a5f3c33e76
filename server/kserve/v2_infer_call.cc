// V2InferCall: see v2_infer_call.h.
#include "server/kserve/v2_infer_call.h"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <limits>
#include <utility>
#include <variant>

namespace attnserve::server {

absl::StatusOr<Clock::Duration> V2Timeout(const V2Parameters& parameters) {
  auto it = parameters.find("timeout");
  if (it == parameters.end()) return Clock::Duration::zero();
  // Beyond a year is no timeout to speak of (and would overflow the clock).
  constexpr int64_t kMaxMicros = int64_t{365} * 24 * 3600 * 1000000;
  int64_t micros = -1;
  if (const int64_t* value = std::get_if<int64_t>(&it->second)) {
    micros = *value;
  } else if (const uint64_t* u = std::get_if<uint64_t>(&it->second)) {
    micros = static_cast<int64_t>(std::min<uint64_t>(*u, kMaxMicros));
  }
  if (micros < 0) {
    return absl::InvalidArgumentError(
        "parameter timeout must be the request's timeout in microseconds: an integer, 0 (none) "
        "or more");
  }
  return std::chrono::duration_cast<Clock::Duration>(
      std::chrono::microseconds(std::min(micros, kMaxMicros)));
}

std::unique_ptr<V2InferCall> V2InferCall::Start(const ServingCore& core, ServableHandle servable,
                                                const V2InferRequest& request,
                                                const V2CallContext& context, Done done) {
  std::unique_ptr<V2InferCall> self(new V2InferCall());
  const ModelMetrics* m = servable->metrics();
  auto refuse = [&](const absl::Status& status) {
    if (m != nullptr) {
      m->CountRequest(context.protocol, status.code());
      m->Reject(RejectReason::kInvalid);
    }
    done(status, nullptr);
    return std::move(self);
  };
  absl::StatusOr<Clock::Duration> timeout = V2Timeout(request.parameters);
  if (!timeout.ok()) return refuse(timeout.status());
  self->deadline_ = context.deadline;
  if (*timeout > Clock::Duration::zero() && context.received + *timeout < self->deadline_) {
    self->deadline_ = context.received + *timeout;
  }
  absl::StatusOr<std::unique_ptr<V2Inference>> inference =
      DecodeV2Request(request, servable->spec(), servable->model().attention_outputs(),
                      self->deadline_, context.protocol);
  if (!inference.ok()) return refuse(inference.status());
  self->inference_ = *std::move(inference);
  self->inference_->request.client = context.client;
  self->writer_.emplace(servable, *self->inference_, request.id, std::move(done));
  self->call_ = core.Start(std::move(servable), self->inference_->request, &*self->writer_);
  return self;
}

void V2InferCall::Cancel(const absl::Status& reason) {
  if (call_ != nullptr) call_->Cancel(reason);
}

}  // namespace attnserve::server
