// QueuedTask: a task in a Batcher's queue, with when it entered it. The
// batching library is generic over its task type; a TaskT provides:
//
//   int64_t length() const;            what length grouping compares (e.g. a
//                                      sequence's timesteps)
//   uint64_t client() const;           who sent it (any stable key, e.g. a
//                                      hash of the client's identity): the
//                                      queue shares batches among clients
//   Clock::TimePoint deadline() const; TimePoint::max() when it has none
//   bool cancelled() const;            may turn true from any thread; a queued
//                                      task that is cancelled is dropped
//   void Fail(const absl::Status&);    answers a task that will not run
//                                      (expired, cancelled, refused at
//                                      shutdown); called once, by the batcher
//
// A task that runs is answered by the BatchExecutor that ran it. Ownership:
// the queue owns its tasks; a batch's tasks belong to the worker running it.
#ifndef ATTNSERVE_SERVER_BATCHING_QUEUED_TASK_H_
#define ATTNSERVE_SERVER_BATCHING_QUEUED_TASK_H_

#include <cstdint>
#include <memory>

#include "server/batching/clock.h"

namespace attnserve::server {

template <typename TaskT>
struct QueuedTask {
  std::unique_ptr<TaskT> task;
  Clock::TimePoint enqueued{};
  // The wait admission estimated for this task's group to start (set on the
  // group's first task only; zero: none), against which the batcher
  // calibrates its estimates.
  Clock::Duration estimated_wait{};
};

}  // namespace attnserve::server

#endif  // ATTNSERVE_SERVER_BATCHING_QUEUED_TASK_H_
