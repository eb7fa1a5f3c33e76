// InferenceCall: one protocol-neutral request in flight on one model version.
//
// A protocol adapter resolves the version (a ServableHandle), turns its request
// into an InferenceRequest whose sequences borrow the request message's
// values, and calls Start() with an InferenceSink it implements. The call
// validates the request (request_validation.h), then admits all of its
// sequences to the version's batcher together, or none: a request is never
// partly computed. Each computed sequence reaches the sink's OnResult; the
// sink's OnDone runs exactly once, with OK or with the request's first failure
// (INVALID_ARGUMENT; RESOURCE_EXHAUSTED for more sequences than one request
// may carry; UNAVAILABLE when the queue cannot take the whole request, the
// client has as many sequences waiting as it may, the estimated wait exceeds
// the version's bound, or the version is stopping; DEADLINE_EXCEEDED,
// CANCELLED, an engine error). Admission (the limits and the fair queue) is
// the batcher's: Batcher::Schedule with the request's client.
// A sequence that fails, or Cancel(), stops the request's sequences still
// queued: they are dropped without being computed.
//
// Ownership: the call holds the servable handle until its last sequence is
// answered (so an unloaded version lives until its last call completes) and
// releases it just before OnDone; it keeps itself alive until OnDone returns. The request message and the sink belong to
// the adapter and must outlive OnDone. Thread-safety: Cancel() is safe from
// any thread at any time, also after OnDone.
#ifndef ATTNSERVE_SERVER_SERVING_INFERENCE_CALL_H_
#define ATTNSERVE_SERVER_SERVING_INFERENCE_CALL_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "server/batching/clock.h"
#include "server/batching/schedule_refusal.h"
#include "server/observability/metrics.h"
#include "server/serving/inference_request.h"
#include "server/serving/inference_sink.h"
#include "server/serving/sequence_task.h"
#include "server/serving/servable.h"
#include "server/serving/server_limits.h"

namespace attnserve::server {

class InferenceCall final : public SequenceOwner {
 public:
  // The sink may have received OnDone before Start returns. `clock` must
  // outlive the call.
  static std::shared_ptr<InferenceCall> Start(ServableHandle servable,
                                              const InferenceRequest& request,
                                              InferenceSink* sink, const ServerLimits& limits,
                                              Clock* clock);

  // Stops the call: its sequences still queued are dropped and the call is
  // answered with `reason` (unless it already failed otherwise). A protocol
  // passes DEADLINE_EXCEEDED when it cancels because the deadline passed
  // (gRPC reports both as a cancellation), CANCELLED otherwise; metrics count
  // the call under that code.
  void Cancel(const absl::Status& reason = absl::CancelledError("the call was cancelled"))
      ABSL_LOCKS_EXCLUDED(mu_);

  // The key a client identity is queued under (InferenceRequest::client).
  static uint64_t ClientKey(const std::string& client);
  static RejectReason ReasonOf(ScheduleRefusal refusal);
  // The most sequences one request to `servable` may carry (more is
  // RESOURCE_EXHAUSTED): the server's limit, or the version's queue size or
  // per-client limit when smaller.
  static int64_t MaxSequences(const Servable& servable, const ServerLimits& limits);

  // Use Start().
  InferenceCall(ServableHandle servable, InferenceSink* sink, Clock* clock, Protocol protocol);

  void OnSequenceResult(int64_t index, const SequenceResult& result) override;
  void OnSequenceFailed(int64_t index, const absl::Status& status) override
      ABSL_LOCKS_EXCLUDED(mu_);

 private:
  // Stops the sequences still queued (they are answered CANCELLED).
  void StopQueued() ABSL_LOCKS_EXCLUDED(mu_);
  void CompleteOne() ABSL_LOCKS_EXCLUDED(mu_);
  // Answers the sink and lets go of the servable and of itself.
  void Finish(const absl::Status& status) ABSL_LOCKS_EXCLUDED(mu_);

  InferenceSink* const sink_;
  const Protocol protocol_;
  Clock* const clock_;
  const Clock::TimePoint received_;
  const ModelMetrics* const metrics_;  // alive while servable_ is held; may be null
  std::atomic<bool> stopped_{false};
  std::atomic<int64_t> pending_{0};
  absl::Mutex mu_;
  ServableHandle servable_ ABSL_GUARDED_BY(mu_);  // null once answered
  absl::Status first_error_ ABSL_GUARDED_BY(mu_);
  std::shared_ptr<InferenceCall> self_ ABSL_GUARDED_BY(mu_);  // alive until OnDone ran
};

}  // namespace attnserve::server

#endif  // ATTNSERVE_SERVER_SERVING_INFERENCE_CALL_H_
