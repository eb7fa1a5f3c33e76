// DeadlineOf: a gRPC call's deadline on the serving clock (TimePoint::max()
// when the client set none), so that it travels with the request's sequences.
// Thread-safety: a pure function of the context and the clock.
#ifndef ATTNSERVE_SERVER_GRPC_CALL_DEADLINE_H_
#define ATTNSERVE_SERVER_GRPC_CALL_DEADLINE_H_

#include <chrono>

#include "grpcpp/server_context.h"
#include "server/batching/clock.h"

namespace attnserve::server {

inline Clock::TimePoint DeadlineOf(const grpc::CallbackServerContext& context, Clock* clock) {
  const auto deadline = context.deadline();
  if (deadline >= std::chrono::system_clock::time_point::max() - std::chrono::hours(24 * 365)) {
    return Clock::TimePoint::max();
  }
  return clock->Now() + std::chrono::duration_cast<Clock::Duration>(
                            deadline - std::chrono::system_clock::now());
}

}  // namespace attnserve::server

#endif  // ATTNSERVE_SERVER_GRPC_CALL_DEADLINE_H_
