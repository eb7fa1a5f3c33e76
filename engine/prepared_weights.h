// PreparedWeights: one weight tensor of a model, kept in a plain f32 layout
// and in every other layout (and data type) a primitive has asked for. Each
// layout is prepared by one reorder, the first time any plan of any session
// asks for it, and shared by all of them afterwards: weights are shared by
// layout, never copied per plan.
//
// Bounding the layouts is the callers' policy: they ask only for layouts that
// do not depend on the batch shape, and give a primitive that would pack its
// weights per shape (oneDNN's rnn_packed format) the plain layout instead
// (lstm_encoder.h). Layouts are kept for the model's life.
//
// Ownership: owns the plain memory and every prepared copy; handed out
// dnnl::memory handles share the buffers, which live until the last handle
// (a plan's argument map) is gone. Thread-safety: Get() is safe from any
// number of threads (one mutex, held across a first-time reorder only).
#ifndef ATTNSERVE_ENGINE_PREPARED_WEIGHTS_H_
#define ATTNSERVE_ENGINE_PREPARED_WEIGHTS_H_

#include <memory>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "engine/weight_ledger.h"
#include "oneapi/dnnl/dnnl.hpp"

namespace attnserve::engine {

class PreparedWeights {
 public:
  // `plain` holds the values (f32, in a layout every primitive of its kind
  // accepts); `ledger` (may be null) is charged for it and for every layout.
  PreparedWeights(dnnl::memory plain, std::shared_ptr<WeightLedger> ledger);
  PreparedWeights(const PreparedWeights&) = delete;
  PreparedWeights& operator=(const PreparedWeights&) = delete;

  const dnnl::memory& plain() const { return plain_; }

  // The weights in `desc`'s layout and data type: plain() itself when `desc`
  // describes it, otherwise the copy prepared for `desc` (made now if this is
  // the first request for it). Throws dnnl::error if the reorder fails.
  dnnl::memory Get(const dnnl::memory::desc& desc) const ABSL_LOCKS_EXCLUDED(mu_);

  // Layouts prepared so far besides plain().
  int layouts() const ABSL_LOCKS_EXCLUDED(mu_);

 private:
  const dnnl::memory plain_;
  const std::shared_ptr<WeightLedger> ledger_;
  mutable absl::Mutex mu_;
  mutable std::vector<dnnl::memory> prepared_ ABSL_GUARDED_BY(mu_);
};

}  // namespace attnserve::engine

#endif  // ATTNSERVE_ENGINE_PREPARED_WEIGHTS_H_
