// AttnServeService: the attnserve.v1.AttnServe gRPC service, a thin adapter
// over the serving core: each handler reads the deadline, resolves the model
// version, converts the request (v1_conversion.h), starts the protocol-neutral
// call and returns its reactor at once; the answer is sent from whichever
// thread completes the call. It never waits for inference.
//
// Access: every handler first asks `access` (scope kInference) and answers
// its refusal (UNAUTHENTICATED) without looking at the request.
// Shutdown: after ServingCore::BeginShutdown() new calls (and new requests on
// open streams) are answered UNAVAILABLE; accepted ones finish normally.
// Ownership: borrows the core and access, which must outlive the gRPC server.
// Thread-safety: all handlers may run concurrently.
#ifndef ATTNSERVE_SERVER_GRPC_ATTNSERVE_SERVICE_H_
#define ATTNSERVE_SERVER_GRPC_ATTNSERVE_SERVICE_H_

#include "attnserve/v1/attnserve.grpc.pb.h"
#include "server/grpc/call_access.h"
#include "server/serving/serving_core.h"

namespace attnserve::server {

class AttnServeService final : public v1::AttnServe::CallbackService {
 public:
  AttnServeService(const ServingCore* core, const CallAccess* access)
      : core_(core), access_(access) {}

  grpc::ServerUnaryReactor* Classify(grpc::CallbackServerContext* context,
                                     const v1::ClassifyRequest* request,
                                     v1::ClassifyResponse* response) override;
  grpc::ServerBidiReactor<v1::ClassifyRequest, v1::ClassifyResponse>* ClassifyStream(
      grpc::CallbackServerContext* context) override;
  grpc::ServerUnaryReactor* ListModels(grpc::CallbackServerContext* context,
                                       const v1::ListModelsRequest* request,
                                       v1::ListModelsResponse* response) override;
  grpc::ServerUnaryReactor* GetModelMetadata(grpc::CallbackServerContext* context,
                                             const v1::GetModelMetadataRequest* request,
                                             v1::ModelMetadata* response) override;

 private:
  const ServingCore* const core_;
  const CallAccess* const access_;
};

}  // namespace attnserve::server

#endif  // ATTNSERVE_SERVER_GRPC_ATTNSERVE_SERVICE_H_
