// InferenceCall: one protocol-neutral request in flight on one model version.
//
// A protocol adapter resolves the version (a ServableHandle), turns its request
// into an InferenceRequest whose sequences borrow the request message's
// values, and calls Start() with an InferenceSink it implements. The call
// validates the request (request_validation.h), then admits all of its
// sequences to the version's batcher together, or none: a request is never
// partly computed. Each computed sequence reaches the sink's OnResult; the
// sink's OnDone runs exactly once, with OK or with the request's first failure
// (INVALID_ARGUMENT, UNAVAILABLE when the queue cannot take the whole request
// or the version is stopping, DEADLINE_EXCEEDED, CANCELLED, an engine error).
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

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "server/batching/clock.h"
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

  void Cancel() ABSL_LOCKS_EXCLUDED(mu_);

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
