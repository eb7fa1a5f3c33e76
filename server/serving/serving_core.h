// ServingCore: the protocol-neutral entry point every protocol adapter (the
// v1 gRPC service, the KServe v2 gRPC and HTTP front ends) calls: Resolve() a
// request's model version, then Start() an InferenceCall on it. It refuses new work once shutdown has begun
// and counts requests that name no servable version (model="" series).
//
// Contract: Resolve() and Admit() errors are final answers: UNAVAILABLE while shutting
// down; INVALID_ARGUMENT for a request naming no model; otherwise the
// registry's (registry_snapshot.h). Start(): see InferenceCall::Start.
// Ownership: borrows the registry, clock and metrics (may be null), which must
// outlive it. Thread-safety: every method is safe from any thread.
#ifndef ATTNSERVE_SERVER_SERVING_SERVING_CORE_H_
#define ATTNSERVE_SERVER_SERVING_SERVING_CORE_H_

#include <atomic>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "server/batching/clock.h"
#include "server/observability/metrics.h"
#include "server/serving/inference_call.h"
#include "server/serving/inference_request.h"
#include "server/serving/inference_sink.h"
#include "server/serving/model_ref.h"
#include "server/serving/model_registry.h"
#include "server/serving/servable.h"
#include "server/serving/server_limits.h"

namespace attnserve::server {

class ServingCore {
 public:
  ServingCore(const ModelRegistry* registry, const ServerLimits& limits, Clock* clock,
              Metrics* metrics)
      : registry_(registry), limits_(limits), clock_(clock), metrics_(metrics) {}

  // `protocol`: the label a refusal is counted under.
  absl::StatusOr<ServableHandle> Resolve(const ModelRef& ref,
                                         Protocol protocol = Protocol::kV1) const;
  // Resolve(), then, with limits().refuse_before_decoding, the overload
  // checks before the request is decoded: would the version's batcher refuse
  // `sequences` sequences of `client` costing `timesteps` now
  // (Batcher::Precheck)? Pass the fewest sequences and timesteps the request
  // can have (a protocol that has not read the body yet: 1 and 1). A refusal
  // (UNAVAILABLE) is counted as InferenceCall counts one (the request under
  // `protocol` and its code, `sequences` rejected sequences by reason) and
  // returned; the request must then not be started. A request with more
  // sequences than one request may carry is left to validation
  // (RESOURCE_EXHAUSTED).
  absl::StatusOr<ServableHandle> Admit(const ModelRef& ref, Protocol protocol,
                                       const std::string& client, int64_t sequences,
                                       int64_t timesteps) const;
  // Admit()'s overload checks on a version already resolved (OK: go on).
  absl::Status Precheck(const Servable& servable, Protocol protocol, const std::string& client,
                        int64_t sequences, int64_t timesteps) const;

  std::shared_ptr<InferenceCall> Start(ServableHandle servable, const InferenceRequest& request,
                                       InferenceSink* sink) const {
    return InferenceCall::Start(std::move(servable), request, sink, limits_, clock_);
  }

  // Counts a request its protocol adapter refused before it named a model
  // version (a body it could not read), as Resolve() counts its refusals.
  void CountRefused(const absl::Status& status, Protocol protocol) const;

  void BeginShutdown() { shutting_down_.store(true); }
  bool shutting_down() const { return shutting_down_.load(); }

  // Counts a v1 stream request whose message could not be parsed (model=""
  // series).
  void CountUnparsable() const {
    if (metrics_ != nullptr) {
      metrics_->Unresolved()->CountRequest(Protocol::kV1, absl::StatusCode::kInvalidArgument);
      metrics_->Unresolved()->Reject(RejectReason::kInvalid);
    }
  }

  const ModelRegistry& registry() const { return *registry_; }
  Metrics* metrics() const { return metrics_; }  // null: metrics off
  const ServerLimits& limits() const { return limits_; }
  Clock* clock() const { return clock_; }

 private:
  const ModelRegistry* const registry_;
  const ServerLimits limits_;
  Clock* const clock_;
  Metrics* const metrics_;
  std::atomic<bool> shutting_down_{false};
};

}  // namespace attnserve::server

#endif  // ATTNSERVE_SERVER_SERVING_SERVING_CORE_H_
