// V2InferCall: one Open Inference Protocol inference request over the serving
// core, for either transport: read the request's timeout, decode the tensors
// (v2_tensor_contract.h), start the protocol-neutral InferenceCall with a
// V2ResponseWriter. `done` runs exactly once, with the response or the first
// error (a bad timeout, decoding, validation, queueing, inference), possibly
// before Start returns. Requests refused before an InferenceCall starts are
// counted in the metrics like every protocol's (invalid for the version they
// named).
//
// The transport resolves the version first, with its early overload check
// (ServingCore::Admit, before anything is decoded), and hands Start the
// handle. The request's deadline is the sooner of the transport's (a gRPC
// call's deadline, an HTTP header's timeout) and the request parameter
// `timeout`, in microseconds from `received` as Triton reads it (0: none;
// INVALID_ARGUMENT unless an integer of 0 or more). Sequences still queued
// when it passes are answered DEADLINE_EXCEEDED without being computed.
//
// Ownership: the caller keeps the V2InferRequest (whose elements the call
// borrows) and the returned V2InferCall alive until `done` has run; `core`
// must outlive it. Thread-safety: Cancel() is safe from any thread at any time.
#ifndef ATTNSERVE_SERVER_KSERVE_V2_INFER_CALL_H_
#define ATTNSERVE_SERVER_KSERVE_V2_INFER_CALL_H_

#include <memory>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "server/batching/clock.h"
#include "server/kserve/v2_messages.h"
#include "server/kserve/v2_response_writer.h"
#include "server/kserve/v2_tensor_contract.h"
#include "server/observability/metrics.h"
#include "server/serving/serving_core.h"

namespace attnserve::server {

// What the transport knows of a request besides its message.
struct V2CallContext {
  Protocol protocol = Protocol::kKServeGrpc;
  std::string client;  // serving/client_identity.h
  Clock::TimePoint received{};
  Clock::TimePoint deadline = Clock::TimePoint::max();  // the transport's
};

// The request parameter `timeout` (microseconds; 0 or absent: none), or
// INVALID_ARGUMENT saying what it must be.
absl::StatusOr<Clock::Duration> V2Timeout(const V2Parameters& parameters);

class V2InferCall {
 public:
  using Done = V2ResponseWriter::Done;

  static std::unique_ptr<V2InferCall> Start(const ServingCore& core, ServableHandle servable,
                                            const V2InferRequest& request,
                                            const V2CallContext& context, Done done);
  // Stops the call (see InferenceCall::Cancel); `reason` is what it is
  // answered and counted with.
  void Cancel(const absl::Status& reason = absl::CancelledError("the call was cancelled"));
  // The request's deadline (the transport's or its timeout's, the sooner).
  Clock::TimePoint deadline() const { return deadline_; }

 private:
  V2InferCall() = default;

  Clock::TimePoint deadline_ = Clock::TimePoint::max();
  std::unique_ptr<V2Inference> inference_;
  std::optional<V2ResponseWriter> writer_;
  std::shared_ptr<InferenceCall> call_;
};

}  // namespace attnserve::server

#endif  // ATTNSERVE_SERVER_KSERVE_V2_INFER_CALL_H_
