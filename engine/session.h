// Session: runs batches of one Model on the calling thread. One per worker.
//
// Contract: Run() takes B sequences of any lengths (right-padded internally to
// a common length, see shape_policy.h; a model with a time_dense window pads
// or truncates each to its window instead, see input_window.h) and returns
// per-sequence outputs and attention maps equal to running each sequence
// alone. Bad input (empty batch, a length CheckSequenceLength refuses, null
// values) is InvalidArgument; oneDNN failures are Internal. Prepared
// primitives are cached per (batch, steps) shape, least recently used evicted
// beyond max_cached_plans; buffers are reused, so a shape seen before
// allocates nothing.
// Ownership: keeps the Model alive. Thread-safety: not thread-safe; each
// worker thread owns its Session (its oneDNN scratchpad is private).
#ifndef ATTNSERVE_ENGINE_SESSION_H_
#define ATTNSERVE_ENGINE_SESSION_H_

#include <cstdint>
#include <list>
#include <memory>
#include <unordered_map>
#include <vector>

#include "absl/status/status.h"
#include "absl/types/span.h"
#include "engine/batch.h"
#include "engine/execution_plan.h"
#include "engine/model.h"
#include "engine/workspace.h"

namespace attnserve::engine {

struct SessionOptions {
  int threads = 1;                // OpenMP threads for this session's primitives
  size_t max_cached_plans = 64;   // prepared shapes kept
};

struct SessionStats {
  int64_t batches = 0;
  int64_t plans_built = 0;
  int64_t plan_cache_hits = 0;
  int64_t plans_evicted = 0;
  int64_t weight_reorders = 0;   // plans that could not reuse the load-time layout
  int64_t steps_requested = 0;   // sum of sequence lengths
  int64_t steps_computed = 0;    // batch x padded steps
};

class Session {
 public:
  Session(std::shared_ptr<const Model> model, SessionOptions options);
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  absl::Status Run(absl::Span<const SequenceView> batch, BatchOutput* out);

  const Model& model() const { return *model_; }
  const SessionStats& stats() const { return stats_; }

 private:
  absl::Status Validate(absl::Span<const SequenceView> batch) const;
  ExecutionPlan& PlanFor(int64_t batch, int64_t steps);  // throws dnnl::error
  void ShapeOutput(int64_t batch, int64_t steps, BatchOutput* out) const;

  std::shared_ptr<const Model> model_;
  SessionOptions options_;
  dnnl::stream stream_;
  Workspace ws_;
  std::vector<int> lengths_;
  using Key = uint64_t;
  std::list<std::pair<Key, std::unique_ptr<ExecutionPlan>>> plans_;  // most recent first
  std::unordered_map<Key, decltype(plans_)::iterator> plan_index_;
  SessionStats stats_;
};

}  // namespace attnserve::engine

#endif  // ATTNSERVE_ENGINE_SESSION_H_
