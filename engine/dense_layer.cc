#include "engine/dense_layer.h"

#include <cstring>

#include "engine/dnnl_util.h"

namespace attnserve::engine {

using dnnl::memory;

absl::StatusOr<DenseLayer> DenseLayer::Create(const FloatTensor& weight, const FloatTensor& bias,
                                              DenseActivation activation) {
  DenseLayer layer;
  layer.out_ = weight.shape.at(0);
  layer.in_ = weight.shape.at(1);
  layer.activation_ = activation;
  absl::Status status = GuardDnnl("dense layer", [&]() -> absl::Status {
    layer.weights_ = memory(PlainF32({layer.in_, layer.out_}), CpuEngine());
    float* w = static_cast<float*>(layer.weights_.get_data_handle());
    for (int64_t o = 0; o < layer.out_; ++o) {
      for (int64_t i = 0; i < layer.in_; ++i) {
        w[i * layer.out_ + o] = weight.values[o * layer.in_ + i];
      }
    }
    layer.bias_ = memory(PlainF32({1, layer.out_}), CpuEngine());
    std::memcpy(layer.bias_.get_data_handle(), bias.values.data(),
                sizeof(float) * static_cast<size_t>(layer.out_));
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  return layer;
}

DensePlan::DensePlan(const DenseLayer& layer, int64_t rows) {
  memory::desc src_desc = PlainF32({rows, layer.in()});
  memory::desc dst_desc = PlainF32({rows, layer.out()});
  dnnl::primitive_attr attr;
  attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  if (layer.activation() != DenseActivation::kNone) {
    dnnl::post_ops ops;
    ops.append_eltwise(1.0f,
                       layer.activation() == DenseActivation::kRelu
                           ? dnnl::algorithm::eltwise_relu
                           : dnnl::algorithm::eltwise_tanh,
                       0.0f, 0.0f);
    attr.set_post_ops(ops);
  }
  dnnl::matmul::desc desc(src_desc, layer.weights().get_desc(), layer.bias().get_desc(),
                          dst_desc);
  dnnl::matmul::primitive_desc pd(desc, attr, CpuEngine());
  primitive_ = dnnl::matmul(pd);
  scratchpad_bytes_ = pd.scratchpad_desc().get_size();
  src_ = memory(src_desc, CpuEngine(), nullptr);
  dst_ = memory(dst_desc, CpuEngine(), nullptr);
  args_ = {{DNNL_ARG_SRC, src_},
           {DNNL_ARG_WEIGHTS, layer.weights()},
           {DNNL_ARG_BIAS, layer.bias()},
           {DNNL_ARG_DST, dst_}};
}

void DensePlan::Run(dnnl::stream& stream, const float* src, float* dst,
                    const dnnl::memory& scratchpad) {
  src_.set_data_handle(const_cast<float*>(src));
  dst_.set_data_handle(dst);
  args_[DNNL_ARG_SCRATCHPAD] = scratchpad;
  primitive_.execute(stream, args_);
}

}  // namespace attnserve::engine
