// V2InferCall: see v2_infer_call.h.
#include "server/kserve/v2_infer_call.h"

#include <utility>

#include "server/kserve/v2_model_ref.h"

namespace attnserve::server {

std::unique_ptr<V2InferCall> V2InferCall::Start(const ServingCore& core,
                                                const V2InferRequest& request,
                                                Clock::TimePoint deadline, Protocol protocol,
                                                Done done) {
  std::unique_ptr<V2InferCall> self(new V2InferCall());
  absl::StatusOr<ServableHandle> servable =
      core.Resolve(V2ModelRef(request.model, request.version), protocol);
  if (!servable.ok()) {
    done(servable.status(), nullptr);
    return self;
  }
  absl::StatusOr<std::unique_ptr<V2Inference>> inference =
      DecodeV2Request(request, (*servable)->spec(), (*servable)->model().attention_outputs(),
                      deadline, protocol);
  if (!inference.ok()) {
    if (const ModelMetrics* m = (*servable)->metrics(); m != nullptr) {
      m->CountRequest(protocol, inference.status().code());
      m->Reject(RejectReason::kInvalid);
    }
    done(inference.status(), nullptr);
    return self;
  }
  self->inference_ = *std::move(inference);
  self->writer_.emplace(*servable, *self->inference_, request.id, std::move(done));
  self->call_ = core.Start(*std::move(servable), self->inference_->request, &*self->writer_);
  return self;
}

void V2InferCall::Cancel() {
  if (call_ != nullptr) call_->Cancel();
}

}  // namespace attnserve::server
