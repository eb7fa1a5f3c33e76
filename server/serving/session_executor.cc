// SessionExecutor: see session_executor.h.
#include "server/serving/session_executor.h"

#include <utility>

namespace attnserve::server {

SessionExecutor::SessionExecutor(std::shared_ptr<const engine::Model> model,
                                 const engine::SessionOptions& options,
                                 const std::vector<engine::BatchShape>& warmup,
                                 std::shared_ptr<PlanCacheCounters> counters)
    : session_(std::move(model), options), counters_(std::move(counters)) {
  warmup_status_ = session_.Warm(warmup);
  Report();
}

SessionExecutor::~SessionExecutor() {
  // The plans go with the session: they no longer hold memory.
  if (counters_ != nullptr) {
    counters_->bytes.fetch_sub(reported_.plan_bytes, std::memory_order_relaxed);
  }
}

absl::Status SessionExecutor::Run(absl::Span<const engine::SequenceView> batch,
                                  engine::BatchOutput* out) {
  absl::Status status = session_.Run(batch, out);
  Report();
  return status;
}

void SessionExecutor::Report() {
  if (counters_ == nullptr) return;
  const engine::SessionStats& now = session_.stats();
  counters_->AddDelta(reported_, now);
  reported_ = now;
}

}  // namespace attnserve::server
