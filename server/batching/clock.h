// Clock: the time source of the batcher and the model lifecycle, injectable so
// that tests control time (tests/server/fake_clock.h).
//
// WaitUntil() is how a thread sleeps: it blocks on `cv` (with `mu` held on
// entry and on return) until `deadline` passes on this clock or `cv` is
// signalled; spurious returns are allowed, so callers re-check their condition.
// Thread-safety: implementations are safe for concurrent use.
#ifndef ATTNSERVE_SERVER_BATCHING_CLOCK_H_
#define ATTNSERVE_SERVER_BATCHING_CLOCK_H_

#include <chrono>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace attnserve::server {

class Clock {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;
  using Duration = std::chrono::steady_clock::duration;

  virtual ~Clock() = default;
  virtual TimePoint Now() const = 0;
  virtual void WaitUntil(absl::CondVar* cv, absl::Mutex* mu, TimePoint deadline)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) = 0;
};

// The steady clock. Never null; lives for the whole process.
Clock* RealClock();

}  // namespace attnserve::server

#endif  // ATTNSERVE_SERVER_BATCHING_CLOCK_H_
