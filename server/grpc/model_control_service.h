// ModelControlService: the attnserve.v1.ModelControl gRPC service, a thin
// adapter over the model lifecycle (server/lifecycle/model_manager.h) and the
// repository index (server/serving/repository_index.h). LoadModel, UnloadModel
// and ReloadRepository queue a command on the lifecycle's thread and answer
// when it has run; the handler never blocks a gRPC thread.
// A separate service from AttnServe, so that it can be protected on its own.
// Ownership: borrows the manager and registry, which must outlive the gRPC
// server. Thread-safety: all handlers may run concurrently.
#ifndef ATTNSERVE_SERVER_GRPC_MODEL_CONTROL_SERVICE_H_
#define ATTNSERVE_SERVER_GRPC_MODEL_CONTROL_SERVICE_H_

#include "attnserve/v1/model_control.grpc.pb.h"
#include "server/lifecycle/model_manager.h"
#include "server/serving/model_registry.h"

namespace attnserve::server {

class ModelControlService final : public v1::ModelControl::CallbackService {
 public:
  ModelControlService(ModelManager* manager, const ModelRegistry* registry)
      : manager_(manager), registry_(registry) {}

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
};

}  // namespace attnserve::server

#endif  // ATTNSERVE_SERVER_GRPC_MODEL_CONTROL_SERVICE_H_
