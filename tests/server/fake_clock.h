// FakeClock: a Clock that moves only when the test calls Advance(). Waiters
// blocked in WaitUntil() are woken by Advance() through their own mutex, so a
// wake-up can never slip between a waiter's time check and its wait.
#ifndef ATTNSERVE_TESTS_SERVER_FAKE_CLOCK_H_
#define ATTNSERVE_TESTS_SERVER_FAKE_CLOCK_H_

#include <condition_variable>
#include <list>
#include <mutex>
#include <utility>
#include <vector>

#include "server/batching/clock.h"

namespace attnserve::testing {

class FakeClock : public server::Clock {
 public:
  TimePoint Now() const override {
    std::lock_guard<std::mutex> lock(mu_);
    return now_;
  }

  void WaitUntil(std::condition_variable& cv, std::unique_lock<std::mutex>& lock,
                 TimePoint deadline) override {
    std::list<Waiter>::iterator me;
    {
      std::lock_guard<std::mutex> guard(mu_);
      if (now_ >= deadline) return;
      me = waiters_.insert(waiters_.end(), Waiter{&cv, lock.mutex()});
    }
    cv.wait(lock);  // woken by Advance() or by the owner's own notify
    std::lock_guard<std::mutex> guard(mu_);
    waiters_.erase(me);
  }

  void Advance(Duration d) {
    std::vector<Waiter> to_wake;
    {
      std::lock_guard<std::mutex> guard(mu_);
      now_ += d;
      to_wake.assign(waiters_.begin(), waiters_.end());
    }
    for (const Waiter& w : to_wake) {
      std::lock_guard<std::mutex> owner(*w.mutex);  // the waiter is inside cv.wait
      w.cv->notify_all();
    }
  }

 private:
  struct Waiter {
    std::condition_variable* cv;
    std::mutex* mutex;
  };
  mutable std::mutex mu_;
  TimePoint now_{std::chrono::seconds(1000)};
  std::list<Waiter> waiters_;
};

}  // namespace attnserve::testing

#endif  // ATTNSERVE_TESTS_SERVER_FAKE_CLOCK_H_
