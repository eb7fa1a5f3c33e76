// ModelControlService: the attnserve.v1.ModelControl gRPC service, a thin
// adapter over the model lifecycle (server/lifecycle/model_manager.h) and the
// repository index (server/serving/repository_index.h). LoadModel, UnloadModel
// and ReloadRepository queue a command on the lifecycle's thread and answer
// when it has run; the handler never blocks a gRPC thread.
// A separate service from AttnServe, so that it can be protected on its own:
// every handler first asks `access` (scope kAdmin) and answers its refusal
// (UNAUTHENTICATED or PERMISSION_DENIED) without looking at the request.
// Ownership: borrows the manager, registry and access, which must outlive the gRPC
// server. Thread-safety: all handlers may run concurrently.
#ifndef ATTNSERVE_SERVER_GRPC_MODEL_CONTROL_SERVICE_H_
#define ATTNSERVE_SERVER_GRPC_MODEL_CONTROL_SERVICE_H_

#include "attnserve/v1/model_control.grpc.pb.h"
#include "server/grpc/call_access.h"
#include "server/lifecycle/model_manager.h"
#include "server/serving/model_registry.h"

namespace attnserve::server {

class ModelControlService final : public v1::ModelControl::CallbackService {
 public:
  ModelControlService(ModelManager* manager, const ModelRegistry* registry,
                      const CallAccess* access)
      : manager_(manager), registry_(registry), access_(access) {}

  grpc::ServerUnaryReactor* RepositoryIndex(grpc::CallbackServerContext* context,
                                            const v1::RepositoryIndexRequest* request,
                                            v1::RepositoryIndexResponse* response) override;
  grpc::ServerUnaryReactor* LoadModel(grpc::CallbackServerContext* context,
                                      const v1::LoadModelRequest* request,
                                      v1::LoadModelResponse* response) override;
  grpc::ServerUnaryReactor* UnloadModel(grpc::CallbackServerContext* context,
                                        const v1::UnloadModelRequest* request,
                                        v1::UnloadModelResponse* response) override;
  grpc::ServerUnaryReactor* ReloadRepository(grpc::CallbackServerContext* context,
                                             const v1::ReloadRepositoryRequest* request,
                                             v1::ReloadRepositoryResponse* response) override;

 private:
  ModelManager* const manager_;
  const ModelRegistry* const registry_;
  const CallAccess* const access_;
};

}  // namespace attnserve::server

#endif  // ATTNSERVE_SERVER_GRPC_MODEL_CONTROL_SERVICE_H_
