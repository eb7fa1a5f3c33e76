// WeightLedger: what a model's prepared weights cost: the bytes they hold
// (the plain f32 copies kept for later reorders, and every prepared layout)
// and the reorders that produced the layouts, at load and after it.
//
// One ledger per model version, shared (std::shared_ptr) by every
// PreparedWeights of the model; Model::weight_stats() reads it for metrics.
// Thread-safety: relaxed atomics; any thread may add or read. A read taken
// while another thread adds may see one addition and not yet the next.
#ifndef ATTNSERVE_ENGINE_WEIGHT_LEDGER_H_
#define ATTNSERVE_ENGINE_WEIGHT_LEDGER_H_

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace attnserve::engine {

struct WeightStats {
  int64_t tensors = 0;   // weight tensors kept in plain layout
  int64_t layouts = 0;   // prepared layouts beyond the plain ones
  int64_t reorders = 0;  // reorders run to prepare them (one per layout)
  int64_t bytes = 0;     // plain + prepared bytes held
};

class WeightLedger {
 public:
  void AddPlain(size_t bytes) {
    tensors_.fetch_add(1, std::memory_order_relaxed);
    bytes_.fetch_add(static_cast<int64_t>(bytes), std::memory_order_relaxed);
  }
  void AddLayout(size_t bytes) {
    layouts_.fetch_add(1, std::memory_order_relaxed);
    reorders_.fetch_add(1, std::memory_order_relaxed);
    bytes_.fetch_add(static_cast<int64_t>(bytes), std::memory_order_relaxed);
  }
  WeightStats Read() const {
    WeightStats stats;
    stats.tensors = tensors_.load(std::memory_order_relaxed);
    stats.layouts = layouts_.load(std::memory_order_relaxed);
    stats.reorders = reorders_.load(std::memory_order_relaxed);
    stats.bytes = bytes_.load(std::memory_order_relaxed);
    return stats;
  }

 private:
  std::atomic<int64_t> tensors_{0};
  std::atomic<int64_t> layouts_{0};
  std::atomic<int64_t> reorders_{0};
  std::atomic<int64_t> bytes_{0};
};

}  // namespace attnserve::engine

#endif  // ATTNSERVE_ENGINE_WEIGHT_LEDGER_H_
