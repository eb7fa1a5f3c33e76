// CallTracker: counts the gRPC calls the server accepted before shutdown
// began and that gRPC has not finished with yet (their reactor's OnDone has
// not run), so that the shutdown can wait until every accepted call's answer
// has been sent before the process closes its connections (main.cc,
// docs/operations.md). Calls that arrive once shutdown has begun are answered
// UNAVAILABLE at once and are not counted.
// Thread-safety: every method is safe from any thread.
#ifndef ATTNSERVE_SERVER_GRPC_CALL_TRACKER_H_
#define ATTNSERVE_SERVER_GRPC_CALL_TRACKER_H_

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "server/serving/serving_core.h"

namespace attnserve::server {

class CallTracker {
 public:
  // Counts a new call unless shutdown has begun; returns whether it counted
  // (then Leave() must follow, once).
  bool Enter(const ServingCore& core) ABSL_LOCKS_EXCLUDED(mu_) {
    if (core.shutting_down()) return false;
    absl::MutexLock lock(&mu_);
    ++live_;
    return true;
  }
  void Leave() ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    --live_;
  }
  // Waits until no counted call is live, or `timeout`; true when none is.
  bool AwaitIdle(absl::Duration timeout) ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    return mu_.AwaitWithTimeout(absl::Condition(this, &CallTracker::Idle), timeout);
  }
  int live() const ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    return live_;
  }

 private:
  bool Idle() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return live_ == 0; }

  mutable absl::Mutex mu_;
  int live_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace attnserve::server

#endif  // ATTNSERVE_SERVER_GRPC_CALL_TRACKER_H_
