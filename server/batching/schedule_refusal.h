// ScheduleRefusal: why a Batcher refused a group of tasks (batcher.h), so
// that callers can count refusals by reason without reading messages. Plain
// enum; thread-safe.
#ifndef ATTNSERVE_SERVER_BATCHING_SCHEDULE_REFUSAL_H_
#define ATTNSERVE_SERVER_BATCHING_SCHEDULE_REFUSAL_H_

namespace attnserve::server {

enum class ScheduleRefusal {
  kNone,         // admitted
  kStopping,     // the batcher is draining or stopped
  kQueueFull,    // the queue cannot take the whole group
  kClientLimit,  // the client would exceed max_queued_per_client
  kQueueWait,    // the estimated wait exceeds max_queue_wait
};

}  // namespace attnserve::server

#endif  // ATTNSERVE_SERVER_BATCHING_SCHEDULE_REFUSAL_H_
