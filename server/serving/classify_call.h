// ClassifyCall: one ClassifyRequest in flight. Validates the request against
// the model, turns each sequence into a BatchTask (the one copy of its
// values), schedules them on the model version's batcher, and assembles the
// ClassifyResponse as the tasks complete, in request order.
//
// Contract: Create() returns INVALID_ARGUMENT naming the sequence and what is
// wrong (features, steps, empty, too long, NaN/Inf, too many sequences).
// After Start(), `on_done` runs exactly once, with OK and a complete response,
// or with the first failure (queue full: UNAVAILABLE; deadline; cancellation;
// engine error). It may run on the calling thread (Start) or a batcher worker.
// Ownership: the call keeps itself alive until on_done has run; `response`
// belongs to the caller and must outlive on_done. Thread-safety: tasks complete
// concurrently; each writes only its own result.
#ifndef ATTNSERVE_SERVER_SERVING_CLASSIFY_CALL_H_
#define ATTNSERVE_SERVER_SERVING_CLASSIFY_CALL_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "attnserve/v1/attnserve.pb.h"
#include "server/batching/batch_task.h"
#include "server/batching/clock.h"
#include "server/serving/model_registry.h"

namespace attnserve::server {

struct ServerLimits {
  int64_t max_sequence_length = 0;      // 0: only the model's limit
  int64_t max_sequences_per_request = 1024;
};

class ClassifyCall : public std::enable_shared_from_this<ClassifyCall> {
 public:
  using Done = std::function<void(const absl::Status&)>;

  static absl::StatusOr<std::shared_ptr<ClassifyCall>> Create(
      const v1::ClassifyRequest& request, const ServableVersion& servable,
      const ServerLimits& limits, Clock* clock, Clock::TimePoint deadline,
      std::shared_ptr<std::atomic<bool>> cancelled, v1::ClassifyResponse* response, Done on_done);

  void Start();

  // Use Create().
  ClassifyCall(const ServableVersion& servable, Clock* clock, v1::ClassifyResponse* response,
               Done on_done);

 private:
  void OnTaskDone(int64_t index, const TaskResult& result);
  void Fail(const absl::Status& status);
  void CompleteOne();

  const ServableVersion& servable_;
  Clock* const clock_;
  Clock::TimePoint received_;
  bool return_attention_ = false;
  uint32_t top_k_ = 0;
  v1::ClassifyResponse* const response_;
  Done on_done_;
  std::vector<std::unique_ptr<BatchTask>> tasks_;  // moved out by Start()
  std::atomic<int64_t> pending_{0};
  std::mutex mu_;
  absl::Status first_error_;  // guarded by mu_
  std::shared_ptr<ClassifyCall> self_;  // alive until on_done ran
};

// Checks one request against a model without building anything.
absl::Status ValidateClassifyRequest(const v1::ClassifyRequest& request,
                                     const engine::ModelSpec& spec, const ServerLimits& limits);

}  // namespace attnserve::server

#endif  // ATTNSERVE_SERVER_SERVING_CLASSIFY_CALL_H_
