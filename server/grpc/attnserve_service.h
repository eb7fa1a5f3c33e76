// AttnServeService: the attnserve.v1.AttnServe gRPC service on the callback
// API. Handlers validate, enqueue and return at once; they never wait for
// inference. Answers are sent from batcher worker threads when ready.
//
// Shutdown: after BeginShutdown() new calls (and new requests on open
// streams) are answered UNAVAILABLE; calls already accepted finish normally.
// Ownership: borrows the registry and clock, which must outlive the gRPC
// server. Thread-safety: all handlers may run concurrently.
#ifndef ATTNSERVE_SERVER_GRPC_ATTNSERVE_SERVICE_H_
#define ATTNSERVE_SERVER_GRPC_ATTNSERVE_SERVICE_H_

#include <atomic>

#include "attnserve/v1/attnserve.grpc.pb.h"
#include "server/serving/classify_call.h"
#include "server/batching/clock.h"
#include "server/observability/metrics.h"
#include "server/serving/model_registry.h"

namespace attnserve::server {

class AttnServeService final : public v1::AttnServe::CallbackService {
 public:
  // `metrics` may be null (metrics off).
  AttnServeService(const ModelRegistry* registry, const ServerLimits& limits, Clock* clock,
                   Metrics* metrics = nullptr)
      : registry_(registry), limits_(limits), clock_(clock), metrics_(metrics) {}

  void BeginShutdown() { shutting_down_.store(true); }
  bool shutting_down() const { return shutting_down_.load(); }
  const ModelRegistry& registry() const { return *registry_; }
  const ServerLimits& limits() const { return limits_; }
  Clock* clock() const { return clock_; }
  Metrics* metrics() const { return metrics_; }

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
  const ModelRegistry* const registry_;
  const ServerLimits limits_;
  Clock* const clock_;
  Metrics* const metrics_;
  std::atomic<bool> shutting_down_{false};
};

}  // namespace attnserve::server

#endif  // ATTNSERVE_SERVER_GRPC_ATTNSERVE_SERVICE_H_
