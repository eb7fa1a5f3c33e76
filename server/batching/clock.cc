#include "server/batching/clock.h"

#include "absl/time/time.h"

namespace attnserve::server {
namespace {

class SteadyClock : public Clock {
 public:
  TimePoint Now() const override { return std::chrono::steady_clock::now(); }
  void WaitUntil(absl::CondVar* cv, absl::Mutex* mu, TimePoint deadline) override
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    if (deadline == TimePoint::max()) {
      cv->Wait(mu);
      return;
    }
    const Duration left = deadline - Now();
    if (left <= Duration::zero()) return;
    cv->WaitWithTimeout(mu, absl::FromChrono(left));
  }
};

}  // namespace

Clock* RealClock() {
  static SteadyClock* const clock = new SteadyClock();
  return clock;
}

}  // namespace attnserve::server
