#include "server/observability/batch_metrics.h"

namespace attnserve::server {

void BatchMetrics::OnBatch(int64_t size, int64_t steps_requested, int64_t steps_computed,
                           int64_t compute_us) {
  m_->batch_size->Observe(static_cast<double>(size));
  m_->compute_duration->Observe(static_cast<double>(compute_us) * 1e-6);
  m_->steps_requested->Increment(static_cast<double>(steps_requested));
  m_->steps_computed->Increment(static_cast<double>(steps_computed));
}

void BatchMetrics::OnDropped(absl::StatusCode code, int64_t count) {
  switch (code) {
    case absl::StatusCode::kDeadlineExceeded:
      m_->Reject(RejectReason::kDeadline, static_cast<double>(count));
      return;
    case absl::StatusCode::kCancelled:
      m_->Reject(RejectReason::kCancelled, static_cast<double>(count));
      return;
    default:
      m_->Reject(RejectReason::kShutdown, static_cast<double>(count));
      return;
  }
}

void BatchMetrics::OnQueueWait(int64_t queue_us) {
  m_->queue_duration->Observe(static_cast<double>(queue_us) * 1e-6);
}

void BatchMetrics::OnQueueDepth(size_t depth) {
  m_->queue_depth->Set(static_cast<double>(depth));
}

}  // namespace attnserve::server
