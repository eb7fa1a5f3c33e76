// DenseLayer: y = act(x W^T + b) for PyTorch nn.Linear weights, on oneDNN
// matmul; DensePlan: that layer prepared for a fixed number of rows.
//
// Precision: kF32 keeps W as plain f32 [in, out]. kBF16 prepares W once, at
// Create, as bf16 in the layout the matmul prefers for one row (asked with
// format_tag::any); a plan whose matmul prefers another layout gets it from
// the layer's PreparedWeights, prepared once and shared (prepared_weights.h).
// A plan converts its f32 input to bf16 in a staging area of the scratchpad
// and accumulates in f32. Bias, activation and output stay f32 in both modes, so callers see the
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
#include <memory>
#include <string>
#include <unordered_map>

#include "absl/status/statusor.h"
#include "engine/model_spec.h"
#include "engine/prepared_weights.h"
#include "engine/tensor_file.h"
#include "oneapi/dnnl/dnnl.hpp"

namespace attnserve::engine {

enum class DenseActivation { kNone, kRelu, kTanh };

class DenseLayer {
 public:
  // `weight` is [out, in], `bias` is [out] (shapes already validated). The
  // prepared weights are charged to `ledger` (may be null).
  static absl::StatusOr<DenseLayer> Create(const FloatTensor& weight, const FloatTensor& bias,
                                           DenseActivation activation,
                                           Precision precision = Precision::kF32,
                                           std::shared_ptr<WeightLedger> ledger = nullptr);

  int64_t in() const { return in_; }
  int64_t out() const { return out_; }
  DenseActivation activation() const { return activation_; }
  Precision precision() const { return precision_; }
  // The weights, plain f32 [in, out] row-major and in every layout a plan
  // asked for (shared by every copy of this layer).
  const PreparedWeights& weights() const { return *weights_; }
  const dnnl::memory& bias() const { return bias_; }

 private:
  int64_t in_ = 0;
  int64_t out_ = 0;
  DenseActivation activation_ = DenseActivation::kNone;
  Precision precision_ = Precision::kF32;
  std::shared_ptr<const PreparedWeights> weights_;
  dnnl::memory bias_;  // [1, out], f32
};

// DenseLayer::Create for factories that run under GuardDnnl: a failure is
// thrown as std::runtime_error carrying the status message.
DenseLayer CreateDenseLayerOrThrow(const FloatTensor& weight, const FloatTensor& bias,
                                   DenseActivation activation, Precision precision,
                                   std::shared_ptr<WeightLedger> ledger = nullptr);

class DensePlan {
 public:
  DensePlan() = default;
  // Builds the matmul for `rows` rows. Throws dnnl::error on failure.
  DensePlan(const DenseLayer& layer, int64_t rows);

  // What Run() needs from the scratchpad, bf16 staging included.
  size_t scratchpad_bytes() const { return scratchpad_bytes_; }
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
};

}  // namespace attnserve::engine

#endif  // ATTNSERVE_ENGINE_DENSE_LAYER_H_
