// RowMatmul: see row_matmul.h.
#include "engine/row_matmul.h"

#include <utility>

#include "engine/dnnl_util.h"

namespace attnserve::engine {
namespace {

using dnnl::memory;
using dt = memory::data_type;

// The descriptor of src or dst with `rows` rows (DNNL_RUNTIME_DIM_VAL: any).
memory::desc Desc(const RowMatmulShape& s, int64_t rows, int64_t cols, int64_t row_stride,
                  int64_t batch_stride, dt type) {
  if (s.batches > 1) return memory::desc({s.batches, rows, cols}, type, {batch_stride, row_stride, 1});
  return memory::desc({rows, cols}, type, {row_stride, 1});
}

}  // namespace

RowMatmul::RowMatmul(const RowMatmulShape& shape, bool with_bias) : shape_(shape) {
  const int64_t any_rows = DNNL_RUNTIME_DIM_VAL;
  const memory::desc src =
      Desc(shape, any_rows, shape.k, shape.src_row_stride, shape.src_batch_stride, shape.src_type);
  const memory::desc dst =
      Desc(shape, any_rows, shape.n, shape.dst_row_stride, shape.dst_batch_stride, dt::f32);
  const memory::desc weights = shape.batches > 1
                                   ? memory::desc({shape.batches, shape.k, shape.n},
                                                  shape.src_type, memory::format_tag::any)
                                   : memory::desc({shape.k, shape.n}, shape.src_type,
                                                  memory::format_tag::any);
  dnnl::primitive_attr attr;
  attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  const dnnl::matmul::desc desc =
      with_bias ? dnnl::matmul::desc(src, weights, memory::desc({1, shape.n}, dt::f32,
                                                                 memory::format_tag::ab),
                                     dst)
                : dnnl::matmul::desc(src, weights, dst);
  const dnnl::matmul::primitive_desc pd(desc, attr, CpuEngine());
  primitive_ = dnnl::matmul(pd);
  weights_desc_ = pd.weights_desc();
  scratchpad_bytes_ = pd.scratchpad_desc().get_size();
  by_rows_.resize(static_cast<size_t>(shape.max_rows) + 1);
}

void RowMatmul::Bind(dnnl::memory weights, dnnl::memory bias) {
  weights_ = std::move(weights);
  bias_ = std::move(bias);
}

RowMatmul::Rows& RowMatmul::For(int64_t rows) {
  if (rows < static_cast<int64_t>(by_rows_.size())) return by_rows_[static_cast<size_t>(rows)];
  for (Rows& recent : recent_) {
    if (recent.rows == rows) return recent;
  }
  Rows& slot = recent_[next_recent_];
  next_recent_ = (next_recent_ + 1) % kRecentRows;
  slot = Rows();
  return slot;
}

void RowMatmul::Run(dnnl::stream& stream, int64_t rows, const void* src, float* dst,
                    const dnnl::memory& scratchpad) {
  Rows& r = For(rows);
  if (!r.src) {
    r.rows = rows;
    r.src = memory(Desc(shape_, rows, shape_.k, shape_.src_row_stride, shape_.src_batch_stride,
                        shape_.src_type),
                   CpuEngine(), nullptr);
    r.dst = memory(Desc(shape_, rows, shape_.n, shape_.dst_row_stride, shape_.dst_batch_stride,
                        dt::f32),
                   CpuEngine(), nullptr);
  }
  r.src.set_data_handle(const_cast<void*>(src));
  r.dst.set_data_handle(dst);
  dnnl_exec_arg_t args[5] = {{DNNL_ARG_SRC, r.src.get()},
                             {DNNL_ARG_WEIGHTS, weights_.get()},
                             {DNNL_ARG_DST, r.dst.get()},
                             {DNNL_ARG_SCRATCHPAD, scratchpad.get()},
                             {DNNL_ARG_BIAS, bias_ ? bias_.get() : nullptr}};
  const int count = bias_ ? 5 : 4;
  dnnl::error::wrap_c_api(dnnl_primitive_execute(primitive_.get(), stream.get(), count, args),
                          "could not execute a matmul");
}

}  // namespace attnserve::engine
