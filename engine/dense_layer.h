// DenseLayer: y = act(x W^T + b) for PyTorch nn.Linear weights, on oneDNN
// matmul; DensePlan: that layer prepared for a fixed number of rows.
//
// DenseLayer holds the weights (transposed once to [in, out]) and is immutable
// after Create: share it between sessions freely. A DensePlan owns its
// primitive and argument map and is used by one session thread at a time; its
// Run() may throw dnnl::error (callers run it under GuardDnnl).
#ifndef ATTNSERVE_ENGINE_DENSE_LAYER_H_
#define ATTNSERVE_ENGINE_DENSE_LAYER_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <unordered_map>

#include "absl/status/statusor.h"
#include "engine/tensor_file.h"
#include "oneapi/dnnl/dnnl.hpp"

namespace attnserve::engine {

enum class DenseActivation { kNone, kRelu, kTanh };

class DenseLayer {
 public:
  // `weight` is [out, in], `bias` is [out] (shapes already validated).
  static absl::StatusOr<DenseLayer> Create(const FloatTensor& weight, const FloatTensor& bias,
                                           DenseActivation activation);

  int64_t in() const { return in_; }
  int64_t out() const { return out_; }
  DenseActivation activation() const { return activation_; }
  const dnnl::memory& weights() const { return weights_; }
  const dnnl::memory& bias() const { return bias_; }

 private:
  int64_t in_ = 0;
  int64_t out_ = 0;
  DenseActivation activation_ = DenseActivation::kNone;
  dnnl::memory weights_;  // [in, out], row-major
  dnnl::memory bias_;     // [1, out]
};

class DensePlan {
 public:
  DensePlan() = default;
  // Builds the matmul for `rows` rows. Throws dnnl::error on failure.
  DensePlan(const DenseLayer& layer, int64_t rows);

  size_t scratchpad_bytes() const { return scratchpad_bytes_; }
  // dst[rows, out] = act(src[rows, in] W^T + b). Throws dnnl::error.
  void Run(dnnl::stream& stream, const float* src, float* dst, const dnnl::memory& scratchpad);

 private:
  dnnl::matmul primitive_;
  dnnl::memory src_;
  dnnl::memory dst_;
  std::unordered_map<int, dnnl::memory> args_;
  size_t scratchpad_bytes_ = 0;
};

}  // namespace attnserve::engine

#endif  // ATTNSERVE_ENGINE_DENSE_LAYER_H_
