// Clock: the time source of the batcher, injectable so tests control time.
//
// WaitUntil() is how the batcher sleeps: it blocks on `cv` (with `lock` held on
// entry and exit) until `deadline` passes on this clock or `cv` is notified;
// spurious returns are allowed, callers re-check their condition.
// Thread-safety: implementations are safe for concurrent use.
#ifndef ATTNSERVE_SERVER_BATCHING_CLOCK_H_
#define ATTNSERVE_SERVER_BATCHING_CLOCK_H_

#include <chrono>
#include <condition_variable>
#include <mutex>

namespace attnserve::server {

class Clock {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;
  using Duration = std::chrono::steady_clock::duration;

  virtual ~Clock() = default;
  virtual TimePoint Now() const = 0;
  virtual void WaitUntil(std::condition_variable& cv, std::unique_lock<std::mutex>& lock,
                         TimePoint deadline) = 0;
};

// The steady clock. Never null; lives for the whole process.
Clock* RealClock();

}  // namespace attnserve::server

#endif  // ATTNSERVE_SERVER_BATCHING_CLOCK_H_
