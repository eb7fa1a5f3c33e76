// AttnServeService: see attnserve_service.h.
#include "server/grpc/attnserve_service.h"

#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "server/grpc/call_deadline.h"
#include "server/grpc/classify_stream_reactor.h"
#include "server/grpc/client_identity.h"
#include "server/grpc/status_util.h"
#include "server/grpc/v1_conversion.h"

namespace attnserve::server {
namespace {

class ClassifyReactor : public grpc::ServerUnaryReactor {
 public:
  ClassifyReactor(const ServingCore& core, CallTracker* tracker,
                  grpc::CallbackServerContext* context, const v1::ClassifyRequest* request,
                  v1::ClassifyResponse* response)
      : clock_(core.clock()),
        started_(core.clock()->Now()),
        call_deadline_(DeadlineOf(*context, core.clock())),
        tracker_(tracker),
        tracked_(tracker->Enter(core)) {
    absl::StatusOr<ServableHandle> servable = core.Resolve(ModelRefOf(*request));
    if (!servable.ok()) {
      Finish(ToGrpcStatus(servable.status()));
      return;
    }
    std::string client = ClientIdentityOf(*context);
    // Overload is refused before the sequences are converted and checked.
    if (absl::Status refused =
            core.Precheck(**servable, Protocol::kV1, client, request->sequences_size(),
                          LeastTimesteps(*request, (*servable)->spec().input_size));
        !refused.ok()) {
      Finish(ToGrpcStatus(refused));
      return;
    }
    writer_.emplace(*servable, *request, response,
                    [this](const absl::Status& status) { Finish(ToGrpcStatus(status)); });
    InferenceRequest inference = InferenceRequestOf(
        *request, RequestDeadline(call_deadline_, request->timeout_ms(), clock_->Now()));
    inference.client = std::move(client);
    call_ = core.Start(*std::move(servable), inference, &*writer_);
  }

  // gRPC reports a passed deadline as a cancellation too.
  void OnCancel() override {
    if (call_ != nullptr) {
      call_->Cancel(CancellationReason(call_deadline_, started_, clock_->Now()));
    }
  }
  void OnDone() override {
    if (tracked_) tracker_->Leave();
    delete this;
  }

 private:
  Clock* const clock_;
  const Clock::TimePoint started_;
  const Clock::TimePoint call_deadline_;
  CallTracker* const tracker_;
  const bool tracked_;
  std::optional<V1ResponseWriter> writer_;
  std::shared_ptr<InferenceCall> call_;
};

}  // namespace

grpc::ServerUnaryReactor* AttnServeService::Classify(grpc::CallbackServerContext* context,
                                                     const v1::ClassifyRequest* request,
                                                     v1::ClassifyResponse* response) {
  if (grpc::Status denied = access_->Check(*context, ApiScope::kInference); !denied.ok()) {
    return RefusedCall(context, denied);
  }
  return new ClassifyReactor(*core_, &tracker_, context, request, response);
}

grpc::ServerBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer>* AttnServeService::ClassifyStream(
    grpc::CallbackServerContext* context) {
  if (grpc::Status denied = access_->Check(*context, ApiScope::kInference); !denied.ok()) {
    return new RefusedStream<grpc::ByteBuffer, grpc::ByteBuffer>(denied);
  }
  return new ClassifyStreamReactor(*core_, &tracker_, context, max_stream_pending_);
}

grpc::ServerUnaryReactor* AttnServeService::ListModels(grpc::CallbackServerContext* context,
                                                       const v1::ListModelsRequest* /*request*/,
                                                       v1::ListModelsResponse* response) {
  if (grpc::Status denied = access_->Check(*context, ApiScope::kInference); !denied.ok()) {
    return RefusedCall(context, denied);
  }
  FillModelList(*core_->registry().snapshot(), response);
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  reactor->Finish(grpc::Status::OK);
  return reactor;
}

grpc::ServerUnaryReactor* AttnServeService::GetModelMetadata(
    grpc::CallbackServerContext* context, const v1::GetModelMetadataRequest* request,
    v1::ModelMetadata* response) {
  if (grpc::Status denied = access_->Check(*context, ApiScope::kInference); !denied.ok()) {
    return RefusedCall(context, denied);
  }
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  const std::shared_ptr<const RegistrySnapshot> snapshot = core_->registry().snapshot();
  absl::StatusOr<ServableHandle> servable = snapshot->Resolve(ModelRefOf(*request));
  if (!servable.ok()) {
    reactor->Finish(ToGrpcStatus(servable.status()));
  } else {
    FillMetadata(**servable, snapshot->Find(request->model()), core_->limits(), response);
    reactor->Finish(grpc::Status::OK);
  }
  return reactor;
}

}  // namespace attnserve::server
