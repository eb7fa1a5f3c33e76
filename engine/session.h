// Session: runs batches of one Model on the calling thread. One per worker.
//
// Contract: Run() takes B sequences of any lengths (right-padded internally to
// a common length, see shape_policy.h; a model with a time_dense window pads
// or truncates each to its window instead, see input_window.h) and returns
// per-sequence outputs and attention maps equal to running each sequence
// alone. Bad input (empty batch, a length CheckSequenceLength refuses, null
// values, or for a token-id model null ids or an id outside the vocabulary)
// is InvalidArgument; oneDNN failures are Internal (FailedPrecondition
// where oneDNN has no implementation on this CPU).
//
// Shapes: a batch of n sequences whose longest has L steps runs as
// PaddedRows(n) x PaddedSteps(L) (shape_policy.h); the extra rows are inert
// (length 1). The plan's LSTM computes every row for all those steps on
// oneDNN's RNN primitive, and only each row's own steps on the matmul LSTM
// (matmul_lstm.h); the attention blocks and the head always run the plan's
// shape, masked.
// Prepared primitives are cached per such shape; plans share the model's
// prepared weights, so a plan holds only its primitives (0.2-0.8 MB measured,
// docs/performance.md). The least recently used plan is evicted beyond
// max_cached_plans plans or max_plan_bytes of their estimated size (the heap
// growth while it was built, heap_usage.h); an evicted plan's primitives may
// stay in oneDNN's process-wide primitive cache (ONEDNN_PRIMITIVE_CACHE_CAPACITY,
// 1024 primitives by default), which makes rebuilding it cheap. Warm()
// prepares shapes ahead of traffic. Buffers are reused, so a shape seen
// before allocates nothing.
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
  int threads = 1;                           // OpenMP threads for this session's primitives
  size_t max_cached_plans = 64;              // prepared shapes kept
  size_t max_plan_bytes = size_t{64} << 20;  // their estimated size (the newest is always kept)
};

struct SessionStats {
  int64_t batches = 0;
  int64_t plans_built = 0;
  int64_t plan_cache_hits = 0;
  int64_t plans_evicted = 0;
  int64_t plans_cached = 0;      // plans held now
  int64_t plan_bytes = 0;        // their estimated size
  int64_t sequences = 0;         // sequences run
  int64_t rows_computed = 0;     // padded rows run (sequences + inert rows)
  int64_t steps_requested = 0;   // sum of sequence lengths
  int64_t steps_computed = 0;    // LSTM timesteps computed (ExecutionPlan::ComputedSteps)
};

class Session {
 public:
  Session(std::shared_ptr<const Model> model, SessionOptions options);
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  absl::Status Run(absl::Span<const SequenceView> batch, BatchOutput* out);

  // Prepares the plan of each shape (as Run would bucket it) and runs it once
  // on an inert batch, so that later batches of those shapes build nothing
  // and allocate nothing. Shapes the model cannot take (a length it refuses)
  // are InvalidArgument. Counts in stats() like Run, except batches.
  absl::Status Warm(absl::Span<const BatchShape> shapes);

  const Model& model() const { return *model_; }
  const SessionStats& stats() const { return stats_; }

 private:
  absl::Status Validate(absl::Span<const SequenceView> batch) const;
  // Runs `batch` padded to its bucketed shape; `batch` is valid.
  absl::Status RunValid(absl::Span<const SequenceView> batch, BatchOutput* out);
  ExecutionPlan& PlanFor(int64_t rows, int64_t steps);  // throws dnnl::error
  void ShapeOutput(int64_t rows, int64_t steps, BatchOutput* out) const;
  // A padding row: one zero step (values and token id 0).
  SequenceView InertRow() const { return {inert_.data(), 1, &inert_id_}; }

  std::shared_ptr<const Model> model_;
  SessionOptions options_;
  dnnl::stream stream_;
  Workspace ws_;
  std::vector<float> inert_;                // one zero step: the inert rows' input
  int64_t inert_id_;                        // token id 0: the inert rows' input
  std::vector<SequenceView> rows_;          // the batch plus its inert rows
  std::vector<int> lengths_;
  using Key = uint64_t;
  struct CachedPlan {
    Key key;
    std::unique_ptr<ExecutionPlan> plan;
    int64_t bytes;  // estimated
  };
  std::list<CachedPlan> plans_;  // most recent first
  std::unordered_map<Key, decltype(plans_)::iterator> plan_index_;
  SessionStats stats_;
};

}  // namespace attnserve::engine

#endif  // ATTNSERVE_ENGINE_SESSION_H_
