// ServerLimits: bounds every request is checked against, whatever its
// protocol, beside the model's own (model.json's max_length), and when
// overload is checked. Plain values,
// copied where used; thread-safe to read.
#ifndef ATTNSERVE_SERVER_SERVING_SERVER_LIMITS_H_
#define ATTNSERVE_SERVER_SERVING_SERVER_LIMITS_H_

#include <cstdint>

namespace attnserve::server {

struct ServerLimits {
  int64_t max_sequence_length = 0;  // 0: only the model's limit
  // Most sequences in one request; a model version whose queue (or
  // per-client limit) is smaller accepts at most that (a request is admitted
  // whole or not at all). More is RESOURCE_EXHAUSTED.
  int64_t max_sequences_per_request = 1024;
  // Refuse overload (shutdown, the client's share, a full queue, the wait
  // bound) before a request's tensors are decoded and validated, from what
  // its protocol knows cheaply (ServingCore::Admit). False: only after (the
  // behaviour before, kept for comparison).
  bool refuse_before_decoding = true;
};

}  // namespace attnserve::server

#endif  // ATTNSERVE_SERVER_SERVING_SERVER_LIMITS_H_
