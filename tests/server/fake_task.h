// FakeTask: a task for the generic batching library's tests (see
// server/batching/queued_task.h): a value, a length, a deadline, a shared
// cancellation flag, and a callback told how the task was answered.
// Thread-safety: as the library requires; `cancel` may be set from any thread.
#ifndef ATTNSERVE_TESTS_SERVER_FAKE_TASK_H_
#define ATTNSERVE_TESTS_SERVER_FAKE_TASK_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <utility>

#include "absl/status/status.h"
#include "server/batching/clock.h"

namespace attnserve::testing {

struct FakeTask {
  float value = 0;
  int64_t steps = 1;
  uint64_t client_id = 0;
  server::Clock::TimePoint deadline_at = server::Clock::TimePoint::max();
  std::shared_ptr<std::atomic<bool>> cancel;  // may be null
  // Called once: with OK and the batch size when the executor ran it, or with
  // the status Fail() got.
  std::function<void(const absl::Status&, int64_t batch_size)> answer;

  int64_t length() const { return steps; }
  uint64_t client() const { return client_id; }
  server::Clock::TimePoint deadline() const { return deadline_at; }
  bool cancelled() const { return cancel != nullptr && cancel->load(); }
  void Fail(const absl::Status& status) { answer(status, 0); }
};

inline std::unique_ptr<FakeTask> MakeFakeTask(
    int64_t steps, server::Clock::TimePoint deadline = server::Clock::TimePoint::max(),
    uint64_t client = 0) {
  auto task = std::make_unique<FakeTask>();
  task->steps = steps;
  task->client_id = client;
  task->deadline_at = deadline;
  task->answer = [](const absl::Status&, int64_t) {};
  return task;
}

}  // namespace attnserve::testing

#endif  // ATTNSERVE_TESTS_SERVER_FAKE_TASK_H_
