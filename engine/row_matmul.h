// RowMatmul: a oneDNN matmul whose row count M is given at each run
// (DNNL_RUNTIME_DIM_VAL), so one primitive serves every number of rows:
//   dst[b, m, :] = src[b, m, :] W[b] (+ bias)   for m < M, b < batches
// with src and dst rows at fixed strides (the batch stride lets a 3-D matmul
// run both directions of a bidirectional layer at once).
//
// oneDNN needs a memory object of the actual shape at execution. Run() keeps
// one pair per row count up to max_rows (made the first time that count
// runs) and, for larger counts, the pairs of the last kRecentRows counts run;
// so a steady state allocates nothing here, and a new row count costs one
// pair of memory objects. Executes through oneDNN's C API with a fixed
// argument array.
//
// Ownership: holds the primitive and shares the weights and bias memory.
// Thread-safety: one thread at a time. The constructor and Run() throw
// dnnl::error.
#ifndef ATTNSERVE_ENGINE_ROW_MATMUL_H_
#define ATTNSERVE_ENGINE_ROW_MATMUL_H_

#include <cstddef>
#include <cstdint>
#include <vector>

#include "oneapi/dnnl/dnnl.hpp"

namespace attnserve::engine {

struct RowMatmulShape {
  int64_t batches = 1;  // 3-D when > 1
  int64_t k = 0;        // src columns
  int64_t n = 0;        // dst columns
  int64_t max_rows = 0;  // row counts kept for good (larger ones: the recent ones)
  int64_t src_row_stride = 0;    // elements
  int64_t dst_row_stride = 0;    // elements
  int64_t src_batch_stride = 0;  // elements (batches > 1)
  int64_t dst_batch_stride = 0;  // elements (batches > 1)
  dnnl::memory::data_type src_type = dnnl::memory::data_type::f32;  // src and weights
};

class RowMatmul {
 public:
  RowMatmul() = default;
  // Weights [k, n] (or [batches, k, n]) in the layout and type of
  // weights_desc() and, `with_bias`, a [1, n] f32 bias: the caller passes
  // them to Bind() before the first Run().
  RowMatmul(const RowMatmulShape& shape, bool with_bias);

  const dnnl::memory::desc& weights_desc() const { return weights_desc_; }
  size_t scratchpad_bytes() const { return scratchpad_bytes_; }
  // The weights (in weights_desc()) and bias the runs use.
  void Bind(dnnl::memory weights, dnnl::memory bias);

  // dst rows [0, rows) of each batch = src rows [0, rows) x W (+ bias); dst is f32.
  void Run(dnnl::stream& stream, int64_t rows, const void* src, float* dst,
           const dnnl::memory& scratchpad);

 private:
  static constexpr int kRecentRows = 8;
  struct Rows {
    int64_t rows = 0;
    dnnl::memory src;
    dnnl::memory dst;
  };
  Rows& For(int64_t rows);
  RowMatmulShape shape_;
  dnnl::matmul primitive_;
  dnnl::memory::desc weights_desc_;
  dnnl::memory weights_;
  dnnl::memory bias_;
  std::vector<Rows> by_rows_;   // index: row count, up to max_rows
  Rows recent_[kRecentRows];    // larger row counts, replaced round robin
  int next_recent_ = 0;
  size_t scratchpad_bytes_ = 0;
};

}  // namespace attnserve::engine

#endif  // ATTNSERVE_ENGINE_ROW_MATMUL_H_
