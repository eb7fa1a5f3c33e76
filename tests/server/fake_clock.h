// FakeClock: a Clock that moves only when the test calls Advance(). Waiters
// blocked in WaitUntil() are woken by Advance() through their own mutex, so a
// wake-up can never slip between a waiter's time check and its wait.
// Thread-safety: every method is safe from any thread.
#ifndef ATTNSERVE_TESTS_SERVER_FAKE_CLOCK_H_
#define ATTNSERVE_TESTS_SERVER_FAKE_CLOCK_H_

#include <list>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "server/batching/clock.h"

namespace attnserve::testing {

class FakeClock : public server::Clock {
 public:
  TimePoint Now() const override ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    return now_;
  }

  void WaitUntil(absl::CondVar* cv, absl::Mutex* mu, TimePoint deadline) override
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) ABSL_LOCKS_EXCLUDED(mu_) {
    std::list<Waiter>::iterator me;
    {
      absl::MutexLock lock(&mu_);
      if (now_ >= deadline) return;
      me = waiters_.insert(waiters_.end(), Waiter{cv, mu});
    }
    cv->Wait(mu);  // woken by Advance() or by the owner's own signal
    absl::MutexLock lock(&mu_);
    waiters_.erase(me);
  }

  void Advance(Duration d) ABSL_LOCKS_EXCLUDED(mu_) {
    std::vector<Waiter> to_wake;
    {
      absl::MutexLock lock(&mu_);
      now_ += d;
      to_wake.assign(waiters_.begin(), waiters_.end());
    }
    for (const Waiter& w : to_wake) {
      absl::MutexLock owner(w.mutex);  // the waiter is inside cv->Wait
      w.cv->SignalAll();
    }
  }

 private:
  struct Waiter {
    absl::CondVar* cv;
    absl::Mutex* mutex;
  };
  mutable absl::Mutex mu_;
  TimePoint now_ ABSL_GUARDED_BY(mu_){std::chrono::seconds(1000)};
  std::list<Waiter> waiters_ ABSL_GUARDED_BY(mu_);
};

}  // namespace attnserve::testing

#endif  // ATTNSERVE_TESTS_SERVER_FAKE_CLOCK_H_
