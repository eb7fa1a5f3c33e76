// LstmEncoder / LstmEncoderPlan: see lstm_encoder.h.
#include "engine/lstm_encoder.h"

#include <algorithm>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "engine/dnnl_util.h"
#include "engine/precision.h"

namespace attnserve::engine {
namespace {

using dnnl::memory;
using tag = memory::format_tag;
using dt = memory::data_type;

constexpr int kGates = 4;

// Batch sizes at which Create asks for the preferred weight layout.
constexpr int64_t kProbeBatches[] = {1, 64};

// Descriptors of one direction's primitive for a given shape; weights in
// `weights_tag` (any: the implementation's choice). Activations and weights
// in the compute type; bias always f32.
dnnl::lstm_forward::primitive_desc MakePrimitiveDesc(int64_t batch, int64_t steps, int64_t input,
                                                     int64_t hidden, Precision precision,
                                                     tag weights_tag) {
  const dt type = ComputeType(precision);
  memory::desc src({steps, batch, input}, type, tag::tnc);
  memory::desc dst({steps, batch, hidden}, type, tag::tnc);
  memory::desc weights_layer({1, 1, input, kGates, hidden}, type, weights_tag);
  memory::desc weights_iter({1, 1, hidden, kGates, hidden}, type, weights_tag);
  memory::desc bias({1, 1, kGates, hidden}, dt::f32, tag::ldgo);
  dnnl::lstm_forward::desc desc(dnnl::prop_kind::forward_inference,
                                dnnl::rnn_direction::unidirectional_left2right, src, memory::desc(),
                                memory::desc(), weights_layer, weights_iter, bias, dst,
                                memory::desc(), memory::desc());
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

bool IsPacked(const memory::desc& desc) {
  return desc.data.format_kind == dnnl_format_kind_rnn_packed;
}

// kPreferred when oneDNN prefers one unpacked layout at every probe shape.
LstmEncoder::WeightLayout ChooseWeightLayout(int64_t input, int64_t hidden, Precision precision) {
  memory::desc layer, iter;
  bool first = true;
  for (int64_t batch : kProbeBatches) {
    dnnl::lstm_forward::primitive_desc pd =
        MakePrimitiveDesc(batch, 1, input, hidden, precision, tag::any);
    if (IsPacked(pd.weights_layer_desc()) || IsPacked(pd.weights_iter_desc()) ||
        (!first && (pd.weights_layer_desc() != layer || pd.weights_iter_desc() != iter))) {
      return LstmEncoder::WeightLayout::kPlain;
    }
    layer = pd.weights_layer_desc();
    iter = pd.weights_iter_desc();
    first = false;
  }
  return LstmEncoder::WeightLayout::kPreferred;
}

// The primitive of one direction for a plan of this shape. A layout packed
// for one shape is never taken, even under kPreferred: such a plan reads the
// plain weights instead, so no per-shape copy can ever be made.
dnnl::lstm_forward::primitive_desc PlanPrimitiveDesc(int64_t batch, int64_t steps, int64_t input,
                                                     int64_t hidden, Precision precision,
                                                     LstmEncoder::WeightLayout layout) {
  if (layout == LstmEncoder::WeightLayout::kPreferred) {
    dnnl::lstm_forward::primitive_desc pd =
        MakePrimitiveDesc(batch, steps, input, hidden, precision, tag::any);
    if (!IsPacked(pd.weights_layer_desc()) && !IsPacked(pd.weights_iter_desc())) return pd;
  }
  return MakePrimitiveDesc(batch, steps, input, hidden, precision, tag::ldigo);
}

// `bytes` of room in an f32 workspace buffer, for activations of any type.
char* ReserveBytes(AlignedBuffer& buffer, size_t bytes) {
  return reinterpret_cast<char*>(buffer.Reserve((bytes + sizeof(float) - 1) / sizeof(float)));
}

}  // namespace

absl::StatusOr<std::unique_ptr<LstmEncoder>> LstmEncoder::Create(
    const ModelSpec& spec, const std::map<std::string, FloatTensor>& weights,
    std::shared_ptr<WeightLedger> ledger) {
  if (absl::Status exact = RnnPrimitiveComputes(spec.encoder); !exact.ok()) return exact;
  std::unique_ptr<LstmEncoder> encoder(new LstmEncoder());
  encoder->input_size_ = spec.input_size;
  encoder->hidden_size_ = spec.encoder.hidden_size;
  encoder->bidirectional_ = spec.encoder.bidirectional;
  encoder->precision_ = spec.precision;
  const int64_t hidden = spec.encoder.hidden_size;
  absl::Status status = GuardDnnl("LSTM encoder", [&]() -> absl::Status {
    // One policy for the whole stack: every layer's implementation is the same.
    for (int k = 0; k < spec.encoder.num_layers; ++k) {
      if (ChooseWeightLayout(encoder->layer_input_size(k), hidden, spec.precision) ==
          WeightLayout::kPlain) {
        encoder->weight_layout_ = WeightLayout::kPlain;
      }
    }
    for (int k = 0; k < spec.encoder.num_layers; ++k) {
      const int64_t input = encoder->layer_input_size(k);
      // The layout of a one-step, one-sequence plan, prepared now.
      dnnl::lstm_forward::primitive_desc pd =
          PlanPrimitiveDesc(1, 1, input, hidden, spec.precision, encoder->weight_layout_);
      std::vector<Direction> directions;
      for (int dir = 0; dir < spec.encoder.directions(); ++dir) {
        const std::string suffix = absl::StrCat("_l", k, dir == 1 ? "_reverse" : "");
        auto get = [&](const char* base) -> const FloatTensor& {
          return weights.at(absl::StrCat("encoder.", base, suffix));
        };
        Direction d;
        d.weights_layer =
            std::make_unique<PreparedWeights>(ToLdigo(get("weight_ih"), input, hidden), ledger);
        d.weights_iter =
            std::make_unique<PreparedWeights>(ToLdigo(get("weight_hh"), hidden, hidden), ledger);
        d.weights_layer->Get(pd.weights_layer_desc());
        d.weights_iter->Get(pd.weights_iter_desc());
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

std::unique_ptr<EncoderPlan> LstmEncoder::Plan(int64_t batch, int64_t steps) const {
  return std::make_unique<LstmEncoderPlan>(*this, batch, steps);
}

LstmEncoderPlan::LstmEncoderPlan(const LstmEncoder& encoder, int64_t batch, int64_t steps)
    : encoder_(encoder), batch_(batch), steps_(steps) {
  const int64_t hidden = encoder.hidden_size();
  for (int k = 0; k < encoder.num_layers(); ++k) {
    const int64_t input = encoder.layer_input_size(k);
    std::vector<Step> directions;
    for (const LstmEncoder::Direction& d : encoder.layers()[k]) {
      dnnl::lstm_forward::primitive_desc pd = PlanPrimitiveDesc(
          batch, steps, input, hidden, encoder.precision(), encoder.weight_layout());
      Step step;
      step.primitive = dnnl::lstm_forward(pd);
      step.src = memory(pd.src_layer_desc(), CpuEngine(), nullptr);
      step.dst = memory(pd.dst_layer_desc(), CpuEngine(), nullptr);
      // Shared with every plan whose primitive wants the same layouts.
      memory weights_layer = d.weights_layer->Get(pd.weights_layer_desc());
      memory weights_iter = d.weights_iter->Get(pd.weights_iter_desc());
      step.args = {{DNNL_ARG_SRC_LAYER, step.src},        {DNNL_ARG_WEIGHTS_LAYER, weights_layer},
                   {DNNL_ARG_WEIGHTS_ITER, weights_iter}, {DNNL_ARG_BIAS, d.bias},
                   {DNNL_ARG_DST_LAYER, step.dst},        {DNNL_ARG_SCRATCHPAD, memory()}};
      scratchpad_bytes_ = std::max(scratchpad_bytes_, pd.scratchpad_desc().get_size());
      directions.push_back(std::move(step));
    }
    layers_.push_back(std::move(directions));
  }
  if (encoder.precision() == Precision::kBF16) {
    const int64_t out_size = encoder.output_size();
    input_to_bf16_ =
        MakeConversion(memory::desc({steps, batch, encoder.input_size()}, dt::f32, tag::tnc),
                       layers_[0][0].src.get_desc());
    output_to_f32_ = MakeConversion(memory::desc({steps, batch, out_size}, dt::bf16, tag::tnc),
                                    memory::desc({steps, batch, out_size}, dt::f32, tag::tnc));
  }
}

LstmEncoderPlan::Conversion LstmEncoderPlan::MakeConversion(const memory::desc& from,
                                                            const memory::desc& to) {
  dnnl::primitive_attr attr;
  attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  dnnl::reorder::primitive_desc pd(CpuEngine(), from, CpuEngine(), to, attr);
  scratchpad_bytes_ = std::max(scratchpad_bytes_, pd.scratchpad_desc().get_size());
  Conversion conversion;
  conversion.primitive = dnnl::reorder(pd);
  conversion.from = memory(from, CpuEngine(), nullptr);
  conversion.to = memory(to, CpuEngine(), nullptr);
  conversion.args = {{DNNL_ARG_FROM, conversion.from},
                     {DNNL_ARG_TO, conversion.to},
                     {DNNL_ARG_SCRATCHPAD, memory()}};
  return conversion;
}

void LstmEncoderPlan::Convert(dnnl::stream& stream, Conversion& conversion, const void* from,
                              void* to, const dnnl::memory& scratchpad) {
  conversion.from.set_data_handle(const_cast<void*>(from));
  conversion.to.set_data_handle(to);
  conversion.args[DNNL_ARG_SCRATCHPAD] = scratchpad;
  conversion.primitive.execute(stream, conversion.args);
}

void LstmEncoderPlan::Execute(dnnl::stream& stream, Step& step, const void* src, void* dst,
                              const dnnl::memory& scratchpad) {
  step.src.set_data_handle(const_cast<void*>(src));
  step.dst.set_data_handle(dst);
  step.args[DNNL_ARG_SCRATCHPAD] = scratchpad;
  step.primitive.execute(stream, step.args);
}

const float* LstmEncoderPlan::Run(dnnl::stream& stream, absl::Span<const int> lengths,
                                  Workspace& ws) {
  const bool bf16 = encoder_.precision() == Precision::kBF16;
  const size_t elem = ComputeBytes(encoder_.precision());
  const int64_t hidden = encoder_.hidden_size();
  const int64_t out_size = encoder_.output_size();
  const size_t rows = static_cast<size_t>(steps_ * batch_);
  const dnnl::memory& scratchpad = ws.Scratchpad(scratchpad_bytes_);
  // Layer k writes ws.layer[k % 2]; in bf16 the converted input sits in
  // ws.layer[1] (free until layer 1 writes it).
  const char* src = reinterpret_cast<const char*>(ws.input.data());
  if (bf16) {
    char* converted = ReserveBytes(ws.layer[1], rows * encoder_.input_size() * elem);
    Convert(stream, input_to_bf16_, src, converted, scratchpad);
    src = converted;
  }
  for (size_t k = 0; k < layers_.size(); ++k) {
    const size_t input = static_cast<size_t>(encoder_.layer_input_size(static_cast<int>(k)));
    char* out = ReserveBytes(ws.layer[k % 2], rows * out_size * elem);
    if (!encoder_.bidirectional()) {
      Execute(stream, layers_[k][0], src, out, scratchpad);
      src = out;
      continue;
    }
    // Backward direction: reverse each sequence within its own length.
    const size_t in_row = input * elem;
    const size_t h_row = static_cast<size_t>(hidden) * elem;
    const size_t out_row = static_cast<size_t>(out_size) * elem;
    char* reversed = ReserveBytes(ws.reversed, rows * in_row);
    std::memset(reversed, 0, rows * in_row);
    for (int64_t b = 0; b < batch_; ++b) {
      const int64_t len = lengths[b];
      for (int64_t t = 0; t < len; ++t) {
        std::memcpy(reversed + (t * batch_ + b) * in_row,
                    src + ((len - 1 - t) * batch_ + b) * in_row, in_row);
      }
    }
    char* fwd = ReserveBytes(ws.forward, rows * h_row);
    char* bwd = ReserveBytes(ws.backward, rows * h_row);
    Execute(stream, layers_[k][0], src, fwd, scratchpad);
    Execute(stream, layers_[k][1], reversed, bwd, scratchpad);
    std::memset(out, 0, rows * out_row);
    for (int64_t b = 0; b < batch_; ++b) {
      const int64_t len = lengths[b];
      for (int64_t t = 0; t < len; ++t) {
        char* row = out + (t * batch_ + b) * out_row;
        std::memcpy(row, fwd + (t * batch_ + b) * h_row, h_row);
        std::memcpy(row + h_row, bwd + ((len - 1 - t) * batch_ + b) * h_row, h_row);
      }
    }
    src = out;
  }
  if (bf16) {
    // The last layer wrote ws.layer[(L - 1) % 2]; the other one is free now.
    float* out = ws.layer[layers_.size() % 2].Reserve(rows * out_size);
    Convert(stream, output_to_f32_, src, out, scratchpad);
    return out;
  }
  return reinterpret_cast<const float*>(src);
}

}  // namespace attnserve::engine
