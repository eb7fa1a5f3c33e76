#include "engine/lstm_encoder.h"

#include <algorithm>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "engine/dnnl_util.h"

namespace attnserve::engine {
namespace {

using dnnl::memory;
using tag = memory::format_tag;
using dt = memory::data_type;

constexpr int kGates = 4;

// Descriptors of one direction's primitive for a given shape; weights `any`.
dnnl::lstm_forward::primitive_desc MakePrimitiveDesc(int64_t batch, int64_t steps,
                                                     int64_t input, int64_t hidden) {
  memory::desc src({steps, batch, input}, dt::f32, tag::tnc);
  memory::desc dst({steps, batch, hidden}, dt::f32, tag::tnc);
  memory::desc weights_layer({1, 1, input, kGates, hidden}, dt::f32, tag::any);
  memory::desc weights_iter({1, 1, hidden, kGates, hidden}, dt::f32, tag::any);
  memory::desc bias({1, 1, kGates, hidden}, dt::f32, tag::ldgo);
  dnnl::lstm_forward::desc desc(dnnl::prop_kind::forward_inference,
                                dnnl::rnn_direction::unidirectional_left2right, src,
                                memory::desc(), memory::desc(), weights_layer, weights_iter,
                                bias, dst, memory::desc(), memory::desc());
  dnnl::primitive_attr attr;
  attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  return dnnl::lstm_forward::primitive_desc(desc, attr, CpuEngine());
}

// PyTorch [4H, in] (gates i, f, g, o stacked) -> oneDNN ldigo [1, 1, in, 4, H].
memory ToLdigo(const FloatTensor& w, int64_t input, int64_t hidden) {
  memory m({{1, 1, input, kGates, hidden}, dt::f32, tag::ldigo}, CpuEngine());
  float* out = static_cast<float*>(m.get_data_handle());
  const int64_t rows = kGates * hidden;
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t i = 0; i < input; ++i) out[i * rows + r] = w.values[r * input + i];
  }
  return m;
}

memory Reorder(const memory& from, const memory::desc& to_desc) {
  memory to(to_desc, CpuEngine());
  dnnl::stream stream(CpuEngine());
  dnnl::reorder(from, to).execute(stream, const_cast<memory&>(from), to);
  stream.wait();
  return to;
}

}  // namespace

absl::StatusOr<std::unique_ptr<LstmEncoder>> LstmEncoder::Create(
    const ModelSpec& spec, const std::map<std::string, FloatTensor>& weights) {
  std::unique_ptr<LstmEncoder> encoder(new LstmEncoder());
  encoder->input_size_ = spec.input_size;
  encoder->hidden_size_ = spec.encoder.hidden_size;
  encoder->bidirectional_ = spec.encoder.bidirectional;
  const int64_t hidden = spec.encoder.hidden_size;
  absl::Status status = GuardDnnl("LSTM encoder", [&]() -> absl::Status {
    for (int k = 0; k < spec.encoder.num_layers; ++k) {
      const int64_t input = encoder->layer_input_size(k);
      // A reference shape tells the preferred weight layout; it does not
      // depend on batch or steps for the brgemm implementation.
      dnnl::lstm_forward::primitive_desc pd = MakePrimitiveDesc(1, 1, input, hidden);
      std::vector<Direction> directions;
      for (int dir = 0; dir < spec.encoder.directions(); ++dir) {
        const std::string suffix = absl::StrCat("_l", k, dir == 1 ? "_reverse" : "");
        auto get = [&](const char* base) -> const FloatTensor& {
          return weights.at(absl::StrCat("encoder.", base, suffix));
        };
        Direction d;
        d.weights_layer_plain = ToLdigo(get("weight_ih"), input, hidden);
        d.weights_iter_plain = ToLdigo(get("weight_hh"), hidden, hidden);
        d.weights_layer = Reorder(d.weights_layer_plain, pd.weights_layer_desc());
        d.weights_iter = Reorder(d.weights_iter_plain, pd.weights_iter_desc());
        d.bias = memory({{1, 1, kGates, hidden}, dt::f32, tag::ldgo}, CpuEngine());
        float* bias = static_cast<float*>(d.bias.get_data_handle());
        const FloatTensor& b_ih = get("bias_ih");
        const FloatTensor& b_hh = get("bias_hh");
        for (int64_t i = 0; i < kGates * hidden; ++i) bias[i] = b_ih.values[i] + b_hh.values[i];
        directions.push_back(std::move(d));
      }
      encoder->layers_.push_back(std::move(directions));
    }
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  return encoder;
}

LstmEncoderPlan::LstmEncoderPlan(const LstmEncoder& encoder, int64_t batch, int64_t steps)
    : encoder_(encoder), batch_(batch), steps_(steps) {
  const int64_t hidden = encoder.hidden_size();
  for (int k = 0; k < encoder.num_layers(); ++k) {
    const int64_t input = encoder.layer_input_size(k);
    std::vector<Step> directions;
    for (const LstmEncoder::Direction& d : encoder.layers()[k]) {
      dnnl::lstm_forward::primitive_desc pd = MakePrimitiveDesc(batch, steps, input, hidden);
      Step step;
      step.primitive = dnnl::lstm_forward(pd);
      step.src = memory(pd.src_layer_desc(), CpuEngine(), nullptr);
      step.dst = memory(pd.dst_layer_desc(), CpuEngine(), nullptr);
      memory weights_layer = d.weights_layer;
      memory weights_iter = d.weights_iter;
      if (pd.weights_layer_desc() != weights_layer.get_desc()) {
        weights_layer = Reorder(d.weights_layer_plain, pd.weights_layer_desc());
        ++weight_reorders_;
      }
      if (pd.weights_iter_desc() != weights_iter.get_desc()) {
        weights_iter = Reorder(d.weights_iter_plain, pd.weights_iter_desc());
        ++weight_reorders_;
      }
      step.args = {{DNNL_ARG_SRC_LAYER, step.src},
                   {DNNL_ARG_WEIGHTS_LAYER, weights_layer},
                   {DNNL_ARG_WEIGHTS_ITER, weights_iter},
                   {DNNL_ARG_BIAS, d.bias},
                   {DNNL_ARG_DST_LAYER, step.dst},
                   {DNNL_ARG_SCRATCHPAD, memory()}};
      scratchpad_bytes_ = std::max(scratchpad_bytes_, pd.scratchpad_desc().get_size());
      directions.push_back(std::move(step));
    }
    layers_.push_back(std::move(directions));
  }
}

void LstmEncoderPlan::Execute(dnnl::stream& stream, Step& step, const float* src, float* dst,
                              const dnnl::memory& scratchpad) {
  step.src.set_data_handle(const_cast<float*>(src));
  step.dst.set_data_handle(dst);
  step.args[DNNL_ARG_SCRATCHPAD] = scratchpad;
  step.primitive.execute(stream, step.args);
}

const float* LstmEncoderPlan::Run(dnnl::stream& stream, absl::Span<const int> lengths,
                                  Workspace& ws) {
  const int64_t hidden = encoder_.hidden_size();
  const int64_t out_size = encoder_.output_size();
  const size_t rows = static_cast<size_t>(steps_ * batch_);
  const dnnl::memory& scratchpad = ws.Scratchpad(scratchpad_bytes_);
  const float* src = ws.input.data();
  for (size_t k = 0; k < layers_.size(); ++k) {
    const int64_t input = encoder_.layer_input_size(static_cast<int>(k));
    float* out = ws.layer[k % 2].Reserve(rows * out_size);
    if (!encoder_.bidirectional()) {
      Execute(stream, layers_[k][0], src, out, scratchpad);
      src = out;
      continue;
    }
    // Backward direction: reverse each sequence within its own length.
    float* reversed = ws.reversed.Reserve(rows * input);
    std::memset(reversed, 0, sizeof(float) * rows * input);
    for (int64_t b = 0; b < batch_; ++b) {
      const int64_t len = lengths[b];
      for (int64_t t = 0; t < len; ++t) {
        std::memcpy(reversed + (t * batch_ + b) * input, src + ((len - 1 - t) * batch_ + b) * input,
                    sizeof(float) * input);
      }
    }
    float* fwd = ws.forward.Reserve(rows * hidden);
    float* bwd = ws.backward.Reserve(rows * hidden);
    Execute(stream, layers_[k][0], src, fwd, scratchpad);
    Execute(stream, layers_[k][1], reversed, bwd, scratchpad);
    std::memset(out, 0, sizeof(float) * rows * out_size);
    for (int64_t b = 0; b < batch_; ++b) {
      const int64_t len = lengths[b];
      for (int64_t t = 0; t < len; ++t) {
        float* row = out + (t * batch_ + b) * out_size;
        std::memcpy(row, fwd + (t * batch_ + b) * hidden, sizeof(float) * hidden);
        std::memcpy(row + hidden, bwd + ((len - 1 - t) * batch_ + b) * hidden,
                    sizeof(float) * hidden);
      }
    }
    src = out;
  }
  return src;
}

}  // namespace attnserve::engine
