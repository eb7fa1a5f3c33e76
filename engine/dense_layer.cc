// DenseLayer / DensePlan: see dense_layer.h.
#include "engine/dense_layer.h"

#include <algorithm>
#include <cstring>
#include <stdexcept>
#include <string>
#include <utility>

#include "engine/dnnl_util.h"
#include "engine/precision.h"

namespace attnserve::engine {
namespace {

using dnnl::memory;
using dt = memory::data_type;
using tag = memory::format_tag;

dnnl::primitive_attr MakeAttr(DenseActivation activation) {
  dnnl::primitive_attr attr;
  attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  if (activation != DenseActivation::kNone) {
    dnnl::post_ops ops;
    ops.append_eltwise(1.0f,
                       activation == DenseActivation::kRelu ? dnnl::algorithm::eltwise_relu
                                                            : dnnl::algorithm::eltwise_tanh,
                       0.0f, 0.0f);
    attr.set_post_ops(ops);
  }
  return attr;
}

// The bf16 matmul for `rows` rows, weights left to the implementation (any).
dnnl::matmul::primitive_desc MakeBf16Desc(const DenseLayer& layer, int64_t rows) {
  memory::desc src({rows, layer.in()}, dt::bf16, tag::ab);
  memory::desc weights({layer.in(), layer.out()}, dt::bf16, tag::any);
  memory::desc dst = PlainF32({rows, layer.out()});
  dnnl::matmul::desc desc(src, weights, layer.bias().get_desc(), dst);
  return dnnl::matmul::primitive_desc(desc, MakeAttr(layer.activation()), CpuEngine());
}

}  // namespace

absl::StatusOr<DenseLayer> DenseLayer::Create(const FloatTensor& weight, const FloatTensor& bias,
                                              DenseActivation activation, Precision precision,
                                              std::shared_ptr<WeightLedger> ledger) {
  DenseLayer layer;
  layer.out_ = weight.shape.at(0);
  layer.in_ = weight.shape.at(1);
  layer.activation_ = activation;
  layer.precision_ = precision;
  absl::Status status = GuardDnnl("dense layer", [&]() -> absl::Status {
    memory plain(PlainF32({layer.in_, layer.out_}), CpuEngine());
    float* w = static_cast<float*>(plain.get_data_handle());
    for (int64_t o = 0; o < layer.out_; ++o) {
      for (int64_t i = 0; i < layer.in_; ++i) {
        w[i * layer.out_ + o] = weight.values[o * layer.in_ + i];
      }
    }
    layer.weights_ = std::make_shared<const PreparedWeights>(std::move(plain), std::move(ledger));
    layer.bias_ = memory(PlainF32({1, layer.out_}), CpuEngine());
    std::memcpy(layer.bias_.get_data_handle(), bias.values.data(),
                sizeof(float) * static_cast<size_t>(layer.out_));
    // bf16: the layout a one-row matmul prefers, prepared at load.
    if (precision == Precision::kBF16) layer.weights_->Get(MakeBf16Desc(layer, 1).weights_desc());
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  return layer;
}

DenseLayer CreateDenseLayerOrThrow(const FloatTensor& weight, const FloatTensor& bias,
                                   DenseActivation activation, Precision precision,
                                   std::shared_ptr<WeightLedger> ledger) {
  absl::StatusOr<DenseLayer> layer =
      DenseLayer::Create(weight, bias, activation, precision, std::move(ledger));
  if (!layer.ok()) throw std::runtime_error(std::string(layer.status().message()));
  return *std::move(layer);
}

DensePlan::DensePlan(const DenseLayer& layer, int64_t rows) {
  memory::desc src_desc = PlainF32({rows, layer.in()});
  memory::desc dst_desc = PlainF32({rows, layer.out()});
  src_ = memory(src_desc, CpuEngine(), nullptr);
  dst_ = memory(dst_desc, CpuEngine(), nullptr);
  memory weights = layer.weights().plain();
  dnnl::matmul::primitive_desc pd;
  if (layer.precision() == Precision::kF32) {
    dnnl::matmul::desc desc(src_desc, weights.get_desc(), layer.bias().get_desc(), dst_desc);
    pd = dnnl::matmul::primitive_desc(desc, MakeAttr(layer.activation()), CpuEngine());
    primitive_scratchpad_bytes_ = pd.scratchpad_desc().get_size();
    scratchpad_bytes_ = primitive_scratchpad_bytes_;
  } else {
    pd = MakeBf16Desc(layer, rows);
    weights = layer.weights().Get(pd.weights_desc());
    staged_ = memory(pd.src_desc(), CpuEngine(), nullptr);
    dnnl::primitive_attr attr;
    attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
    dnnl::reorder::primitive_desc to_bf16(CpuEngine(), src_desc, CpuEngine(), pd.src_desc(), attr);
    to_bf16_ = dnnl::reorder(to_bf16);
    to_bf16_args_ = {
        {DNNL_ARG_FROM, src_}, {DNNL_ARG_TO, staged_}, {DNNL_ARG_SCRATCHPAD, memory()}};
    primitive_scratchpad_bytes_ =
        std::max(pd.scratchpad_desc().get_size(), to_bf16.scratchpad_desc().get_size());
    scratchpad_bytes_ =
        StagingOffset(primitive_scratchpad_bytes_) + AlignTo64(pd.src_desc().get_size());
  }
  primitive_ = dnnl::matmul(pd);
  args_ = {{DNNL_ARG_SRC, layer.precision() == Precision::kF32 ? src_ : staged_},
           {DNNL_ARG_WEIGHTS, weights},
           {DNNL_ARG_BIAS, layer.bias()},
           {DNNL_ARG_DST, dst_}};
}

void DensePlan::Run(dnnl::stream& stream, const float* src, float* dst,
                    const dnnl::memory& scratchpad) {
  src_.set_data_handle(const_cast<float*>(src));
  dst_.set_data_handle(dst);
  if (staged_) {
    staged_.set_data_handle(StagingBuffer(scratchpad, primitive_scratchpad_bytes_));
    to_bf16_args_[DNNL_ARG_SCRATCHPAD] = scratchpad;
    to_bf16_.execute(stream, to_bf16_args_);
  }
  args_[DNNL_ARG_SCRATCHPAD] = scratchpad;
  primitive_.execute(stream, args_);
}

}  // namespace attnserve::engine
