// BatchExecutor: what a batcher worker runs a batch with. The server's
// implementation wraps an engine::Session (session_executor.h, one per worker
// thread); tests use a fake. Run() is called only from the worker that
// created the executor.
#ifndef ATTNSERVE_SERVER_BATCHING_BATCH_EXECUTOR_H_
#define ATTNSERVE_SERVER_BATCHING_BATCH_EXECUTOR_H_

#include <functional>
#include <memory>

#include "absl/status/status.h"
#include "absl/types/span.h"
#include "engine/batch.h"

namespace attnserve::server {

class BatchExecutor {
 public:
  virtual ~BatchExecutor() = default;
  virtual absl::Status Run(absl::Span<const engine::SequenceView> batch,
                           engine::BatchOutput* out) = 0;
};

// Called once per worker, on the worker's own thread.
using ExecutorFactory = std::function<std::unique_ptr<BatchExecutor>(int worker)>;

}  // namespace attnserve::server

#endif  // ATTNSERVE_SERVER_BATCHING_BATCH_EXECUTOR_H_
