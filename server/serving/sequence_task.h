// SequenceTask: the serving layer's batching task (see
// server/batching/queued_task.h): one sequence of a request, its values
// borrowed from the request message, answered to the call it belongs to
// (its SequenceOwner) with its result or its failure. A token-id model's
// sequence carries its ids instead of values.
// Ownership: the owner outlives its tasks (an InferenceCall stays alive until
// every task of it is answered). Thread-safety: a task belongs to one thread at
// a time; `stopped` may be set from any thread.
#ifndef ATTNSERVE_SERVER_SERVING_SEQUENCE_TASK_H_
#define ATTNSERVE_SERVER_SERVING_SEQUENCE_TASK_H_

#include <atomic>
#include <cstdint>

#include "absl/status/status.h"
#include "server/batching/clock.h"
#include "server/serving/sequence_result.h"

namespace attnserve::server {

// Receives the answers of its tasks; implemented by InferenceCall.
class SequenceOwner {
 public:
  virtual ~SequenceOwner() = default;
  virtual void OnSequenceResult(int64_t index, const SequenceResult& result) = 0;
  virtual void OnSequenceFailed(int64_t index, const absl::Status& status) = 0;
};

struct SequenceTask {
  SequenceOwner* owner = nullptr;
  int64_t index = 0;                // in its request
  const float* values = nullptr;    // [steps, input_size], borrowed
  const int64_t* ids = nullptr;     // [steps] token ids instead (values null), borrowed
  int64_t steps = 0;
  uint64_t client_key = 0;          // who sent it (a hash of the client's identity)
  Clock::TimePoint deadline_at = Clock::TimePoint::max();
  const std::atomic<bool>* stopped = nullptr;  // the request was cancelled or failed

  // The batching library's task interface.
  int64_t length() const { return steps; }
  uint64_t client() const { return client_key; }
  Clock::TimePoint deadline() const { return deadline_at; }
  bool cancelled() const { return stopped != nullptr && stopped->load(std::memory_order_relaxed); }
  void Fail(const absl::Status& status) { owner->OnSequenceFailed(index, status); }

  void Complete(const SequenceResult& result) { owner->OnSequenceResult(index, result); }
};

}  // namespace attnserve::server

#endif  // ATTNSERVE_SERVER_SERVING_SEQUENCE_TASK_H_
