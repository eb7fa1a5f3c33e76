// KServeService: see kserve_service.h.
#include "server/grpc/kserve_service.h"

#include <algorithm>
#include <cstdint>
#include <memory>
#include <utility>

#include "server/grpc/call_deadline.h"
#include "server/grpc/client_identity.h"
#include "server/grpc/kserve_conversion.h"
#include "server/grpc/status_util.h"
#include "server/kserve/v2_infer_call.h"
#include "server/kserve/v2_metadata.h"
#include "server/kserve/v2_model_ref.h"
#include "server/serving/readiness.h"
#include "server/serving/repository_index.h"

namespace attnserve::server {
namespace {

grpc::ServerUnaryReactor* Answer(grpc::CallbackServerContext* context,
                                 const absl::Status& status) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  reactor->Finish(ToGrpcStatus(status));
  return reactor;
}

// The fewest sequences and timesteps a ModelInferRequest can carry, read
// from INPUT's shape without decoding anything ({1, 1} when the shape says
// nothing usable: decoding then answers what is wrong).
std::pair<int64_t, int64_t> SmallestWork(const inference::ModelInferRequest& request) {
  for (const auto& input : request.inputs()) {
    if (input.name() != kInputTensor || input.shape_size() < 2) continue;
    const int64_t rows = input.shape(0);
    if (rows < 1 || rows > (int64_t{1} << 20)) break;
    // LENGTHS may shorten every row to one step.
    bool lengths = false;
    for (const auto& other : request.inputs()) lengths |= other.name() == kLengthsTensor;
    const int64_t steps = lengths ? 1 : std::clamp<int64_t>(input.shape(1), 1, int64_t{1} << 20);
    return {rows, rows * steps};
  }
  return {1, 1};
}

class ModelInferReactor : public grpc::ServerUnaryReactor {
 public:
  ModelInferReactor(const ServingCore& core, grpc::CallbackServerContext* context,
                    const inference::ModelInferRequest* request,
                    inference::ModelInferResponse* response)
      : clock_(core.clock()),
        started_(core.clock()->Now()),
        call_deadline_(DeadlineOf(*context, core.clock())) {
    V2CallContext call;
    call.protocol = Protocol::kKServeGrpc;
    call.client = ClientIdentityOf(*context);
    call.received = started_;
    call.deadline = call_deadline_;
    // Overload is refused before the tensors are read.
    const auto [sequences, timesteps] = SmallestWork(*request);
    absl::StatusOr<ServableHandle> servable =
        core.Admit(V2ModelRef(request->model_name(), request->model_version()),
                   Protocol::kKServeGrpc, call.client, sequences, timesteps);
    if (!servable.ok()) {
      Finish(ToGrpcStatus(servable.status()));
      return;
    }
    absl::StatusOr<V2InferRequest> v2 = V2RequestOf(*request);
    if (!v2.ok()) {
      if (const ModelMetrics* m = (*servable)->metrics(); m != nullptr) {
        m->CountRequest(Protocol::kKServeGrpc, v2.status().code());
        m->Reject(RejectReason::kInvalid);
      }
      Finish(ToGrpcStatus(v2.status()));
      return;
    }
    request_ = *std::move(v2);
    call_ = V2InferCall::Start(
        core, *std::move(servable), request_, call,
        [this, response](const absl::Status& status, V2InferResponse* answer) {
          if (status.ok()) FillInferResponse(*answer, response);
          Finish(ToGrpcStatus(status));
        });
  }

  // gRPC reports a passed deadline as a cancellation too.
  void OnCancel() override {
    if (call_ != nullptr) {
      call_->Cancel(CancellationReason(call_deadline_, started_, clock_->Now()));
    }
  }
  void OnDone() override { delete this; }

 private:
  Clock* const clock_;
  const Clock::TimePoint started_;
  const Clock::TimePoint call_deadline_;
  V2InferRequest request_;
  std::unique_ptr<V2InferCall> call_;
};

}  // namespace

grpc::ServerUnaryReactor* KServeService::ServerLive(grpc::CallbackServerContext* context,
                                                    const inference::ServerLiveRequest*,
                                                    inference::ServerLiveResponse* response) {
  response->set_live(true);
  return Answer(context, absl::OkStatus());
}

grpc::ServerUnaryReactor* KServeService::ServerReady(grpc::CallbackServerContext* context,
                                                     const inference::ServerReadyRequest*,
                                                     inference::ServerReadyResponse* response) {
  response->set_ready(!core_->shutting_down() &&
                      IsReady(*core_->registry().snapshot(), strict_readiness_));
  return Answer(context, absl::OkStatus());
}

grpc::ServerUnaryReactor* KServeService::ModelReady(grpc::CallbackServerContext* context,
                                                    const inference::ModelReadyRequest* request,
                                                    inference::ModelReadyResponse* response) {
  const ModelRef ref = V2ModelRef(request->name(), request->version());
  if (ref.name.empty()) {
    return Answer(context, absl::InvalidArgumentError("the request names no model"));
  }
  response->set_ready(!core_->shutting_down() && core_->registry().snapshot()->Resolve(ref).ok());
  return Answer(context, absl::OkStatus());
}

grpc::ServerUnaryReactor* KServeService::ServerMetadata(
    grpc::CallbackServerContext* context, const inference::ServerMetadataRequest*,
    inference::ServerMetadataResponse* response) {
  response->set_name(kV2ServerName);
  response->set_version(server_version_);
  for (const std::string& extension : V2Extensions()) response->add_extensions(extension);
  return Answer(context, absl::OkStatus());
}

grpc::ServerUnaryReactor* KServeService::ModelMetadata(
    grpc::CallbackServerContext* context, const inference::ModelMetadataRequest* request,
    inference::ModelMetadataResponse* response) {
  if (grpc::Status denied = access_->Check(*context, ApiScope::kInference); !denied.ok()) {
    return RefusedCall(context, denied);
  }
  const std::shared_ptr<const RegistrySnapshot> snapshot = core_->registry().snapshot();
  const ModelRef ref = V2ModelRef(request->name(), request->version());
  if (ref.name.empty()) {
    return Answer(context, absl::InvalidArgumentError("the request names no model"));
  }
  absl::StatusOr<ServableHandle> servable = snapshot->Resolve(ref);
  if (!servable.ok()) return Answer(context, servable.status());
  FillModelMetadata(BuildV2ModelMetadata(**servable, snapshot->Find(ref.name)), response);
  return Answer(context, absl::OkStatus());
}

grpc::ServerUnaryReactor* KServeService::ModelInfer(grpc::CallbackServerContext* context,
                                                    const inference::ModelInferRequest* request,
                                                    inference::ModelInferResponse* response) {
  if (grpc::Status denied = access_->Check(*context, ApiScope::kInference); !denied.ok()) {
    return RefusedCall(context, denied);
  }
  return new ModelInferReactor(*core_, context, request, response);
}

grpc::ServerUnaryReactor* KServeService::RepositoryIndex(
    grpc::CallbackServerContext* context, const inference::RepositoryIndexRequest* request,
    inference::RepositoryIndexResponse* response) {
  if (grpc::Status denied = access_->Check(*context, ApiScope::kAdmin); !denied.ok()) {
    return RefusedCall(context, denied);
  }
  const ModelRegistry& registry = core_->registry();
  FillRepositoryIndex(
      BuildV2RepositoryIndex(BuildRepositoryIndex(*registry.snapshot(), registry.Retiring()),
                             request->ready()),
      response);
  return Answer(context, absl::OkStatus());
}

grpc::ServerUnaryReactor* KServeService::RepositoryModelLoad(
    grpc::CallbackServerContext* context, const inference::RepositoryModelLoadRequest* request,
    inference::RepositoryModelLoadResponse*) {
  if (grpc::Status denied = access_->Check(*context, ApiScope::kAdmin); !denied.ok()) {
    return RefusedCall(context, denied);
  }
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  manager_->LoadModel(request->model_name(), [reactor](const absl::Status& status) {
    reactor->Finish(ToGrpcStatus(status));
  });
  return reactor;
}

grpc::ServerUnaryReactor* KServeService::RepositoryModelUnload(
    grpc::CallbackServerContext* context, const inference::RepositoryModelUnloadRequest* request,
    inference::RepositoryModelUnloadResponse*) {
  if (grpc::Status denied = access_->Check(*context, ApiScope::kAdmin); !denied.ok()) {
    return RefusedCall(context, denied);
  }
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  manager_->UnloadModel(request->model_name(), [reactor](const absl::Status& status) {
    reactor->Finish(ToGrpcStatus(status));
  });
  return reactor;
}

}  // namespace attnserve::server
