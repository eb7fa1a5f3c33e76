// KServeService: the Open Inference Protocol's inference.GRPCInferenceService
// (KServe v2, with the model repository extension), beside attnserve.v1 on the
// same port. A thin adapter: inference goes through the serving core like
// every protocol's (server/kserve/v2_infer_call.h); the repository calls are
// the model-control API's (ModelManager) and answer when the command has run.
//
// Liveness: true while the process serves. Readiness: the server's
// (serving/readiness.h, --strict_readiness), false once shutdown has begun;
// a model (version) is ready when it resolves to a ready version. Metadata:
// server/kserve/v2_metadata.h. Errors carry the same codes and messages as
// the v1 API's. Never blocks a gRPC thread on inference or model loading.
// Access (call_access.h): ModelInfer and ModelMetadata are inference calls,
// the repository calls admin calls, as their v1 counterparts; liveness,
// readiness and server metadata are open, as gRPC health is.
// Ownership: borrows the core, manager and access check, which must outlive
// the gRPC server. Thread-safety: all handlers may run concurrently.
#ifndef ATTNSERVE_SERVER_GRPC_KSERVE_SERVICE_H_
#define ATTNSERVE_SERVER_GRPC_KSERVE_SERVICE_H_

#include <string>

#include "kserve/v2/grpc_predict_v2.grpc.pb.h"
#include "server/grpc/call_access.h"
#include "server/lifecycle/model_manager.h"
#include "server/serving/serving_core.h"

namespace attnserve::server {

class KServeService final : public inference::GRPCInferenceService::CallbackService {
 public:
  KServeService(const ServingCore* core, ModelManager* manager, const CallAccess* access,
                bool strict_readiness, std::string server_version)
      : core_(core),
        manager_(manager),
        access_(access),
        strict_readiness_(strict_readiness),
        server_version_(std::move(server_version)) {}

  grpc::ServerUnaryReactor* ServerLive(grpc::CallbackServerContext* context,
                                       const inference::ServerLiveRequest* request,
                                       inference::ServerLiveResponse* response) override;
  grpc::ServerUnaryReactor* ServerReady(grpc::CallbackServerContext* context,
                                        const inference::ServerReadyRequest* request,
                                        inference::ServerReadyResponse* response) override;
  grpc::ServerUnaryReactor* ModelReady(grpc::CallbackServerContext* context,
                                       const inference::ModelReadyRequest* request,
                                       inference::ModelReadyResponse* response) override;
  grpc::ServerUnaryReactor* ServerMetadata(grpc::CallbackServerContext* context,
                                           const inference::ServerMetadataRequest* request,
                                           inference::ServerMetadataResponse* response) override;
  grpc::ServerUnaryReactor* ModelMetadata(grpc::CallbackServerContext* context,
                                          const inference::ModelMetadataRequest* request,
                                          inference::ModelMetadataResponse* response) override;
  grpc::ServerUnaryReactor* ModelInfer(grpc::CallbackServerContext* context,
                                       const inference::ModelInferRequest* request,
                                       inference::ModelInferResponse* response) override;
  grpc::ServerUnaryReactor* RepositoryIndex(grpc::CallbackServerContext* context,
                                            const inference::RepositoryIndexRequest* request,
                                            inference::RepositoryIndexResponse* response) override;
  grpc::ServerUnaryReactor* RepositoryModelLoad(
      grpc::CallbackServerContext* context, const inference::RepositoryModelLoadRequest* request,
      inference::RepositoryModelLoadResponse* response) override;
  grpc::ServerUnaryReactor* RepositoryModelUnload(
      grpc::CallbackServerContext* context, const inference::RepositoryModelUnloadRequest* request,
      inference::RepositoryModelUnloadResponse* response) override;

 private:
  const ServingCore* const core_;
  ModelManager* const manager_;
  const CallAccess* const access_;
  const bool strict_readiness_;
  const std::string server_version_;
};

}  // namespace attnserve::server

#endif  // ATTNSERVE_SERVER_GRPC_KSERVE_SERVICE_H_
