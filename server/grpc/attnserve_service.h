// AttnServeService: the attnserve.v1.AttnServe gRPC service, a thin adapter
// over the serving core: each handler reads the deadline, resolves the model
// version, converts the request (v1_conversion.h), starts the protocol-neutral
// call and returns its reactor at once; the answer is sent from whichever
// thread completes the call. It never waits for inference.
//
// Access: every handler first asks `access` (scope kInference) and answers
// its refusal (UNAUTHENTICATED) without looking at the request.
// ClassifyStream is registered raw (bytes in, bytes out) so that its reactor
// parses each message itself (classify_stream_reactor.h); the other methods
// are typed. Each call's client identity (client_identity.h) and deadline
// (call_deadline.h) go with its request; a cancelled call is answered and
// counted DEADLINE_EXCEEDED when its deadline has passed, CANCELLED otherwise.
//
// Shutdown: after ServingCore::BeginShutdown() new calls (and new requests on
// open streams) are answered UNAVAILABLE; accepted ones finish normally.
// Ownership: borrows the core and access, which must outlive the gRPC server.
// Thread-safety: all handlers may run concurrently.
#ifndef ATTNSERVE_SERVER_GRPC_ATTNSERVE_SERVICE_H_
#define ATTNSERVE_SERVER_GRPC_ATTNSERVE_SERVICE_H_

#include "attnserve/v1/attnserve.grpc.pb.h"
#include "server/grpc/call_access.h"
#include "server/grpc/call_tracker.h"
#include "server/serving/serving_core.h"

namespace attnserve::server {

// The typed callback service with ClassifyStream raw.
using AttnServeServiceBase = v1::AttnServe::WithCallbackMethod_Classify<
    v1::AttnServe::WithRawCallbackMethod_ClassifyStream<v1::AttnServe::WithCallbackMethod_ListModels<
        v1::AttnServe::WithCallbackMethod_GetModelMetadata<v1::AttnServe::Service>>>>;

class AttnServeService final : public AttnServeServiceBase {
 public:
  // `max_stream_pending`: requests one ClassifyStream holds at most before it
  // stops reading (classify_stream_reactor.h).
  AttnServeService(const ServingCore* core, const CallAccess* access, int max_stream_pending = 128)
      : core_(core), access_(access), max_stream_pending_(max_stream_pending) {}

  grpc::ServerUnaryReactor* Classify(grpc::CallbackServerContext* context,
                                     const v1::ClassifyRequest* request,
                                     v1::ClassifyResponse* response) override;
  grpc::ServerBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer>* ClassifyStream(
      grpc::CallbackServerContext* context) override;
  grpc::ServerUnaryReactor* ListModels(grpc::CallbackServerContext* context,
                                       const v1::ListModelsRequest* request,
                                       v1::ListModelsResponse* response) override;
  grpc::ServerUnaryReactor* GetModelMetadata(grpc::CallbackServerContext* context,
                                             const v1::GetModelMetadataRequest* request,
                                             v1::ModelMetadata* response) override;

  // The Classify and ClassifyStream calls accepted before shutdown began and
  // not yet done (call_tracker.h).
  CallTracker& tracker() { return tracker_; }

 private:
  const ServingCore* const core_;
  const CallAccess* const access_;
  const int max_stream_pending_;
  CallTracker tracker_;
};

}  // namespace attnserve::server

#endif  // ATTNSERVE_SERVER_GRPC_ATTNSERVE_SERVICE_H_
