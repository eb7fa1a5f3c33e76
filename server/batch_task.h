// BatchTask: one sequence waiting to be classified, and how it is answered.
//
// A task owns its values or token ids (copied once from the request). Its `done` callback
// runs exactly once, on every path (computed, expired, cancelled, refused at
// shutdown): the batcher guarantees it. On success the callback sees the
// batch's output, valid only during the call, and the task's row in it.
// Thread-safety: a task belongs to one thread at a time (the service until
// Schedule() succeeds, then the batcher); `cancelled` may be set from any
// thread.
#ifndef ATTNSERVE_SERVER_BATCH_TASK_H_
#define ATTNSERVE_SERVER_BATCH_TASK_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "absl/status/status.h"
#include "engine/batch.h"
#include "server/clock.h"

namespace attnserve::server {

struct TaskTiming {
  int64_t queue_us = 0;    // enqueue -> batch start
  int64_t compute_us = 0;  // batch run time
  int64_t batch_size = 0;  // sequences in the batch it ran in
};

struct TaskResult {
  absl::Status status;                               // OK: output/row are valid
  const engine::BatchOutput* output = nullptr;
  int64_t row = 0;                                   // this task's row in output
  TaskTiming timing;
};

struct BatchTask {
  std::vector<float> values;  // [length, input_size]
  std::vector<int64_t> ids;   // [length] instead, for a model that reads token ids
  int length = 0;
  Clock::TimePoint enqueued{};
  Clock::TimePoint deadline = Clock::TimePoint::max();
  std::shared_ptr<std::atomic<bool>> cancelled;  // may be null
  std::function<void(const TaskResult&)> done;

  bool IsCancelled() const { return cancelled != nullptr && cancelled->load(); }
};

}  // namespace attnserve::server

#endif  // ATTNSERVE_SERVER_BATCH_TASK_H_
