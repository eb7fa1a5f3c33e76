// The attnserve.v1 protocol over the serving core: what the v1 gRPC service's
// handlers use to turn its messages into protocol-neutral requests and the
// core's answers back into its messages. No gRPC transport here (messages
// only), so a second transport of the same messages would reuse it.
//
// - ModelRefOf / InferenceRequestOf: a ClassifyRequest's model and sequences;
//   the sequences borrow the message's values (it must outlive the call).
//   LeastTimesteps: their cost for the early overload check.
// - V1ResponseWriter: the InferenceSink that assembles a ClassifyResponse:
//   results in request order, top_k, attention (when asked), timing; on
//   failure no results. It then runs `done` with the request's status.
// - FillMetadata / FillModelList: GetModelMetadata and ListModels answers.
// Thread-safety: V1ResponseWriter receives results concurrently (each writes
// its own result); the functions are pure.
#ifndef ATTNSERVE_SERVER_GRPC_V1_CONVERSION_H_
#define ATTNSERVE_SERVER_GRPC_V1_CONVERSION_H_

#include <cstdint>
#include <functional>

#include "absl/status/status.h"
#include "attnserve/v1/attnserve.pb.h"
#include "server/batching/clock.h"
#include "server/serving/inference_request.h"
#include "server/serving/inference_sink.h"
#include "server/serving/model_ref.h"
#include "server/serving/registry_snapshot.h"
#include "server/serving/servable.h"
#include "server/serving/server_limits.h"

namespace attnserve::server {

ModelRef ModelRefOf(const v1::ClassifyRequest& request);
ModelRef ModelRefOf(const v1::GetModelMetadataRequest& request);
InferenceRequest InferenceRequestOf(const v1::ClassifyRequest& request, Clock::TimePoint deadline);
// The fewest timesteps the request's sequences can have for a model of
// `input_size` features, from their sizes alone (nothing decoded or checked;
// at least one per sequence): what the early overload check weighs.
int64_t LeastTimesteps(const v1::ClassifyRequest& request, int64_t input_size);

class V1ResponseWriter final : public InferenceSink {
 public:
  using Done = std::function<void(const absl::Status&)>;

  // `response` must outlive OnDone; `servable` is the version the call runs on.
  V1ResponseWriter(ServableHandle servable, const v1::ClassifyRequest& request,
                   v1::ClassifyResponse* response, Done done);

  void OnResult(int64_t index, const SequenceResult& result) override;
  void OnDone(const absl::Status& status, const CallSummary& summary) override;

 private:
  const ServableHandle servable_;
  const bool return_attention_;
  const uint32_t top_k_;
  v1::ClassifyResponse* const response_;
  Done done_;
};

// `labels`: the version labels naming this version.
void FillMetadata(const Servable& servable, const ModelRecord* model, const ServerLimits& limits,
                  v1::ModelMetadata* metadata);
void FillModelList(const RegistrySnapshot& snapshot, v1::ListModelsResponse* response);

}  // namespace attnserve::server

#endif  // ATTNSERVE_SERVER_GRPC_V1_CONVERSION_H_
