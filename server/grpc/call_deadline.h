// Deadlines of gRPC calls on the serving clock.
//
// - DeadlineOf: a call's deadline (TimePoint::max() when the client set none),
//   so that it travels with the request's sequences.
// - RequestDeadline: one request's deadline: the call's, or `now +
//   timeout_ms` when the request carries a timeout of its own (a
//   ClassifyStream message's timeout_ms) that ends sooner.
// - CancellationReason: what a cancellation means. gRPC's callback API reports
//   a call whose deadline passed as cancelled (OnCancel), and a client whose
//   deadline passes cancels the call itself, so the cancellation can reach the
//   server before the server's copy of the deadline (which is later by the
//   time the request took to arrive). The server answers and counts
//   DEADLINE_EXCEEDED when the deadline it observed has passed or is within
//   the slack: the larger of kDeadlineSlack and a tenth of the call's timeout
//   (from `started` to the deadline); CANCELLED otherwise.
// Thread-safety: pure functions of their arguments and the clocks.
#ifndef ATTNSERVE_SERVER_GRPC_CALL_DEADLINE_H_
#define ATTNSERVE_SERVER_GRPC_CALL_DEADLINE_H_

#include <algorithm>
#include <chrono>
#include <cstdint>

#include "absl/status/status.h"
#include "grpcpp/server_context.h"
#include "server/batching/clock.h"

namespace attnserve::server {

inline constexpr Clock::Duration kDeadlineSlack = std::chrono::milliseconds(20);

inline Clock::TimePoint DeadlineOf(const grpc::CallbackServerContext& context, Clock* clock) {
  const auto deadline = context.deadline();
  if (deadline >= std::chrono::system_clock::time_point::max() - std::chrono::hours(24 * 365)) {
    return Clock::TimePoint::max();
  }
  return clock->Now() + std::chrono::duration_cast<Clock::Duration>(
                            deadline - std::chrono::system_clock::now());
}

inline Clock::TimePoint RequestDeadline(Clock::TimePoint call_deadline, uint32_t timeout_ms,
                                        Clock::TimePoint now) {
  if (timeout_ms == 0) return call_deadline;
  const Clock::TimePoint own = now + std::chrono::milliseconds(timeout_ms);
  return own < call_deadline ? own : call_deadline;
}

inline absl::Status CancellationReason(Clock::TimePoint deadline, Clock::TimePoint started,
                                       Clock::TimePoint now) {
  if (deadline == Clock::TimePoint::max()) return absl::CancelledError("the call was cancelled");
  const Clock::Duration slack = std::max(kDeadlineSlack, (deadline - started) / 10);
  if (now + slack >= deadline) {
    return absl::DeadlineExceededError("the call's deadline passed before it was answered");
  }
  return absl::CancelledError("the call was cancelled");
}

}  // namespace attnserve::server

#endif  // ATTNSERVE_SERVER_GRPC_CALL_DEADLINE_H_
