// AttnServeService: see attnserve_service.h.
#include "server/grpc/attnserve_service.h"

#include <memory>
#include <optional>

#include "server/grpc/call_deadline.h"
#include "server/grpc/classify_stream_reactor.h"
#include "server/grpc/status_util.h"
#include "server/grpc/v1_conversion.h"

namespace attnserve::server {
namespace {

class ClassifyReactor : public grpc::ServerUnaryReactor {
 public:
  ClassifyReactor(const ServingCore& core, grpc::CallbackServerContext* context,
                  const v1::ClassifyRequest* request, v1::ClassifyResponse* response) {
    absl::StatusOr<ServableHandle> servable = core.Resolve(ModelRefOf(*request));
    if (!servable.ok()) {
      Finish(ToGrpcStatus(servable.status()));
      return;
    }
    writer_.emplace(*servable, *request, response,
                    [this](const absl::Status& status) { Finish(ToGrpcStatus(status)); });
    call_ = core.Start(*std::move(servable),
                       InferenceRequestOf(*request, DeadlineOf(*context, core.clock())), &*writer_);
  }

  void OnCancel() override {
    if (call_ != nullptr) call_->Cancel();
  }
  void OnDone() override { delete this; }

 private:
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
  return new ClassifyReactor(*core_, context, request, response);
}

grpc::ServerBidiReactor<v1::ClassifyRequest, v1::ClassifyResponse>*
AttnServeService::ClassifyStream(grpc::CallbackServerContext* context) {
  if (grpc::Status denied = access_->Check(*context, ApiScope::kInference); !denied.ok()) {
    return new RefusedStream<v1::ClassifyRequest, v1::ClassifyResponse>(denied);
  }
  return new ClassifyStreamReactor(*core_, context);
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
