// DenseLayer: y = act(x W^T + b) for PyTorch nn.Linear weights, on oneDNN
// matmul; DensePlan: that layer prepared for a fixed number of rows.
//
// Precision: kF32 keeps W as plain f32 [in, out]. kBF16 reorders W once, at
// Create, to bf16 in the layout the matmul prefers (asked with
// format_tag::any; it does not depend on the number of rows); a plan converts
// its f32 input to bf16 in a staging area of the scratchpad and accumulates in
// f32. Bias, activation and output stay f32 in both modes, so callers see the
// same f32-in, f32-out interface.
//
// DenseLayer holds the weights and is immutable after Create: share it between
// sessions freely. A DensePlan owns its primitives and argument maps and is
// used by one session thread at a time; its Run() may throw dnnl::error
// (callers run it under GuardDnnl).
#ifndef ATTNSERVE_ENGINE_DENSE_LAYER_H_
#define ATTNSERVE_ENGINE_DENSE_LAYER_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <unordered_map>

#include "absl/status/statusor.h"
#include "engine/model_spec.h"
#include "engine/tensor_file.h"
#include "oneapi/dnnl/dnnl.hpp"

namespace attnserve::engine {

enum class DenseActivation { kNone, kRelu, kTanh };

class DenseLayer {
 public:
  // `weight` is [out, in], `bias` is [out] (shapes already validated).
  static absl::StatusOr<DenseLayer> Create(const FloatTensor& weight, const FloatTensor& bias,
                                           DenseActivation activation,
                                           Precision precision = Precision::kF32);

  int64_t in() const { return in_; }
  int64_t out() const { return out_; }
  DenseActivation activation() const { return activation_; }
  Precision precision() const { return precision_; }
  // The weights the matmul reads: f32 [in, out] row-major, or bf16 in the
  // matmul's preferred layout.
  const dnnl::memory& weights() const { return weights_; }
  // f32 [in, out] row-major: the source a plan reorders from if its matmul
  // ever prefers another layout than weights().
  const dnnl::memory& weights_plain() const { return weights_plain_; }
  const dnnl::memory& bias() const { return bias_; }

 private:
  int64_t in_ = 0;
  int64_t out_ = 0;
  DenseActivation activation_ = DenseActivation::kNone;
  Precision precision_ = Precision::kF32;
  dnnl::memory weights_plain_;
  dnnl::memory weights_;
  dnnl::memory bias_;  // [1, out], f32
};

// DenseLayer::Create for factories that run under GuardDnnl: a failure is
// thrown as std::runtime_error carrying the status message.
DenseLayer CreateDenseLayerOrThrow(const FloatTensor& weight, const FloatTensor& bias,
                                   DenseActivation activation, Precision precision);

class DensePlan {
 public:
  DensePlan() = default;
  // Builds the matmul for `rows` rows. Throws dnnl::error on failure.
  DensePlan(const DenseLayer& layer, int64_t rows);

  // What Run() needs from the scratchpad, bf16 staging included.
  size_t scratchpad_bytes() const { return scratchpad_bytes_; }
  // 1 if this plan had to reorder its own weights because its matmul preferred
  // another layout than the one prepared at load; 0 otherwise.
  int weight_reorders() const { return weight_reorders_; }
  // dst[rows, out] = act(src[rows, in] W^T + b); `scratchpad` holds at least
  // scratchpad_bytes(). Throws dnnl::error.
  void Run(dnnl::stream& stream, const float* src, float* dst, const dnnl::memory& scratchpad);

 private:
  dnnl::matmul primitive_;
  dnnl::memory src_;
  dnnl::memory dst_;
  std::unordered_map<int, dnnl::memory> args_;
  // bf16 only: f32 src -> bf16 staging, then the matmul reads the staging.
  dnnl::reorder to_bf16_;
  dnnl::memory staged_;
  std::unordered_map<int, dnnl::memory> to_bf16_args_;
  size_t primitive_scratchpad_bytes_ = 0;
  size_t scratchpad_bytes_ = 0;
  int weight_reorders_ = 0;
};

}  // namespace attnserve::engine

#endif  // ATTNSERVE_ENGINE_DENSE_LAYER_H_
