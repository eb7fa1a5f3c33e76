// MatmulLstm / MatmulLstmPlan: see matmul_lstm.h.
#include "engine/matmul_lstm.h"

#include <algorithm>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "engine/dnnl_util.h"
#include "engine/precision.h"
#include "engine/ragged_schedule.h"

namespace attnserve::engine {
namespace {

using dnnl::memory;
using dt = memory::data_type;

constexpr int kGates = 4;

uint16_t ToBf16(float value) {
  uint32_t bits;
  std::memcpy(&bits, &value, sizeof(bits));
  return static_cast<uint16_t>((bits + 0x7fffu + ((bits >> 16) & 1u)) >> 16);
}

// `count` floats to the compute type at `to`.
void CopyAs(const float* from, size_t count, bool bf16, char* to) {
  if (!bf16) {
    std::memcpy(to, from, count * sizeof(float));
    return;
  }
  uint16_t* out = reinterpret_cast<uint16_t*>(to);
  for (size_t i = 0; i < count; ++i) out[i] = ToBf16(from[i]);
}

// `bytes` of room in an f32 workspace buffer, for values of any type.
char* ReserveBytes(AlignedBuffer& buffer, size_t bytes) {
  return reinterpret_cast<char*>(buffer.Reserve((bytes + sizeof(float) - 1) / sizeof(float)));
}

}  // namespace

MatmulLstm::MatmulLstm(const ModelSpec& spec)
    : input_size_(spec.input_size),
      hidden_size_(spec.encoder.hidden_size),
      directions_(spec.encoder.directions()),
      precision_(spec.precision),
      gates_(spec.encoder.recurrent_activation, spec.encoder.activation) {}

RowMatmul MatmulLstmInputProjection(const MatmulLstm& lstm, int layer) {
  const int64_t k = lstm.layer_input_size(layer);
  const int64_t n = int64_t{lstm.directions()} * kGates * lstm.hidden_size();
  RowMatmulShape shape;
  shape.k = k;
  shape.n = n;
  shape.max_rows = 0;  // one run per batch, with the sum of its lengths: keep the recent ones
  shape.src_row_stride = k;
  shape.dst_row_stride = n;
  shape.src_type = ComputeType(lstm.precision());
  // No bias here: the gate kernel adds it (a bias in the matmul costs oneDNN's
  // gemm-based matmul one more pass over its output).
  RowMatmul matmul(shape, /*with_bias=*/false);
  matmul.Bind(lstm.layers()[layer].input->Get(matmul.weights_desc()), memory());
  return matmul;
}

RowMatmul MatmulLstmRecurrentProjection(const MatmulLstm& lstm, int layer, int64_t batch) {
  const int64_t h = lstm.hidden_size();
  RowMatmulShape shape;
  shape.batches = lstm.directions();
  shape.k = h;
  shape.n = kGates * h;
  shape.max_rows = batch;
  shape.src_row_stride = h;
  shape.dst_row_stride = kGates * h;
  shape.src_batch_stride = batch * h;
  shape.dst_batch_stride = batch * kGates * h;
  shape.src_type = ComputeType(lstm.precision());
  RowMatmul matmul(shape, /*with_bias=*/false);
  matmul.Bind(lstm.layers()[layer].recurrent->Get(matmul.weights_desc()), memory());
  return matmul;
}

absl::StatusOr<std::unique_ptr<MatmulLstm>> MatmulLstm::Create(
    const ModelSpec& spec, const std::map<std::string, FloatTensor>& weights,
    std::shared_ptr<WeightLedger> ledger, RecurrentGemm recurrent_gemm) {
  std::unique_ptr<MatmulLstm> lstm(new MatmulLstm(spec));
  const bool bf16 = spec.precision == Precision::kBF16;
  lstm->recurrent_gemm_ =
      recurrent_gemm == RecurrentGemm::kRowMatmul ? RecurrentGemm::kRowMatmul : RecurrentGemm::kPacked;
  lstm->recurrent_gemm_note_ =
      recurrent_gemm == RecurrentGemm::kRowMatmul
          ? "recurrent GEMM: oneDNN matmul (requested)"
          : absl::StrCat("recurrent GEMM: oneDNN packed ", bf16 ? "bf16 GEMM" : "sgemm");
  const int64_t h = lstm->hidden_size_;
  const int64_t dirs = lstm->directions_;
  const int64_t width = dirs * kGates * h;  // gate columns of all directions
  absl::Status status = GuardDnnl("matmul LSTM encoder", [&]() -> absl::Status {
    for (int k = 0; k < spec.encoder.num_layers; ++k) {
      const int64_t in = lstm->layer_input_size(k);
      memory input(PlainF32({in, width}), CpuEngine());
      memory recurrent(dirs == 1 ? PlainF32({h, kGates * h}) : PlainF32({dirs, h, kGates * h}),
                       CpuEngine());
      memory bias(PlainF32({1, width}), CpuEngine());
      float* w_in = static_cast<float*>(input.get_data_handle());
      float* w_rec = static_cast<float*>(recurrent.get_data_handle());
      float* b = static_cast<float*>(bias.get_data_handle());
      for (int64_t dir = 0; dir < dirs; ++dir) {
        const std::string suffix = absl::StrCat("_l", k, dir == 1 ? "_reverse" : "");
        auto get = [&](const char* base) -> const FloatTensor& {
          return weights.at(absl::StrCat("encoder.", base, suffix));
        };
        // PyTorch [4H, in] (gates i, f, g, o stacked) -> [in, 4H] columns of this direction.
        const FloatTensor& w_ih = get("weight_ih");
        const FloatTensor& w_hh = get("weight_hh");
        for (int64_t r = 0; r < kGates * h; ++r) {
          for (int64_t i = 0; i < in; ++i) w_in[i * width + dir * kGates * h + r] = w_ih.values[r * in + i];
          for (int64_t i = 0; i < h; ++i) {
            w_rec[(dir * h + i) * kGates * h + r] = w_hh.values[r * h + i];
          }
          b[dir * kGates * h + r] = get("bias_ih").values[r] + get("bias_hh").values[r];
        }
      }
      Layer layer;
      layer.input = std::make_unique<PreparedWeights>(std::move(input), ledger);
      layer.recurrent = std::make_unique<PreparedWeights>(recurrent, ledger);
      layer.bias = std::move(bias);
      if (lstm->recurrent_gemm_ == RecurrentGemm::kPacked) {
        PackedGemmShape shape;
        shape.count = dirs;
        shape.k = h;
        shape.n = kGates * h;
        shape.bf16 = bf16;
        absl::StatusOr<std::unique_ptr<PackedGemmWeights>> packed =
            PackedGemmWeights::Create(recurrent, shape, ledger);
        if (packed.ok()) {
          layer.packed_recurrent = *std::move(packed);
        } else if (recurrent_gemm == RecurrentGemm::kPacked) {
          return packed.status();
        } else {
          // Every layer's recurrent weights have the same shape: none packs.
          lstm->recurrent_gemm_ = RecurrentGemm::kRowMatmul;
          lstm->recurrent_gemm_note_ = absl::StrCat(
              "recurrent GEMM: oneDNN matmul (packed GEMM unavailable: ",
              packed.status().message(), ")");
        }
      }
      lstm->layers_.push_back(std::move(layer));
      // The layouts the matmuls want (the same for every plan), prepared now
      // (the recurrent RowMatmul also runs the one-row steps of a packed layer).
      MatmulLstmInputProjection(*lstm, k);
      MatmulLstmRecurrentProjection(*lstm, k, 1);
    }
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  return lstm;
}

std::unique_ptr<EncoderPlan> MatmulLstm::Plan(int64_t batch, int64_t steps) const {
  return std::make_unique<MatmulLstmPlan>(*this, batch, steps);
}

MatmulLstmPlan::MatmulLstmPlan(const MatmulLstm& lstm, int64_t batch, int64_t steps)
    : lstm_(lstm), batch_(batch), steps_(steps) {
  for (int k = 0; k < lstm.num_layers(); ++k) {
    Layer layer;
    layer.input = MatmulLstmInputProjection(lstm, k);
    layer.recurrent = MatmulLstmRecurrentProjection(lstm, k, batch);
    if (const PackedGemmWeights* packed = lstm.layers()[k].packed_recurrent.get()) {
      layer.packed = packed->ForCurrentThreads();  // the plan's thread count
    }
    scratchpad_bytes_ = std::max(
        {scratchpad_bytes_, layer.input.scratchpad_bytes(), layer.recurrent.scratchpad_bytes()});
    layers_.push_back(std::move(layer));
  }
}

int64_t MatmulLstmPlan::ComputedSteps(absl::Span<const int> lengths) const {
  int64_t steps = 0;
  for (int length : lengths) steps += length;
  return steps;
}

const float* MatmulLstmPlan::Run(dnnl::stream& stream, absl::Span<const int> lengths,
                                 Workspace& ws) {
  MatmulLstmBuffers& buf = ws.matmul_lstm;
  RaggedSchedule& order = buf.schedule;
  order.Build(lengths);
  const bool bf16 = lstm_.precision() == Precision::kBF16;
  const size_t elem = ComputeBytes(lstm_.precision());
  const int64_t batch = batch_;
  const int64_t h = lstm_.hidden_size();
  const int64_t dirs = lstm_.directions();
  const int64_t d = lstm_.output_size();
  const int64_t gate_width = dirs * kGates * h;
  const int64_t total = order.total();
  const int steps = order.steps();
  const dnnl::memory& scratchpad = ws.Scratchpad(scratchpad_bytes_);

  // The first layer's input, packed (and converted to bf16 if needed).
  const int64_t features = lstm_.input_size();
  char* in = ReserveBytes(buf.packed[0], static_cast<size_t>(total * features) * elem);
  for (int t = 0; t < steps; ++t) {
    for (int j = 0; j < order.active(t); ++j) {
      CopyAs(ws.input.data() + (t * batch + order.order(j)) * features,
             static_cast<size_t>(features), bf16,
             in + static_cast<size_t>(order.packed(t, j) * features) * elem);
    }
  }
  buf.gx_rows.resize(static_cast<size_t>(batch));
  buf.out_rows.resize(static_cast<size_t>(batch));
  float* final_out = ws.layer[0].Reserve(static_cast<size_t>(steps_ * batch * d));
  for (size_t k = 0; k < layers_.size(); ++k) {
    const bool last = k + 1 == layers_.size();
    float* gx = buf.gates_x.Reserve(static_cast<size_t>(total * gate_width));
    const float* bias = static_cast<const float*>(lstm_.layers()[k].bias.get_data_handle());
    layers_[k].input.Run(stream, total, in, gx, scratchpad);
    char* packed_out =
        last ? nullptr
             : ReserveBytes(buf.packed[(k + 1) % 2], static_cast<size_t>(total * d) * elem);
    float* gh = buf.gates_h.Reserve(static_cast<size_t>(dirs * batch * kGates * h));
    float* cell = buf.cell.Reserve(static_cast<size_t>(dirs * batch * h));
    char* state = ReserveBytes(buf.state, static_cast<size_t>(dirs * batch * h) * elem);
    for (int s = 0; s < steps; ++s) {
      const int running = order.active(s);
      if (s > 0 && layers_[k].packed != nullptr && running >= MatmulLstm::kMinPackedRows) {
        for (int64_t dir = 0; dir < dirs; ++dir) {
          layers_[k].packed->Run(dir, running, state + static_cast<size_t>(dir * batch * h) * elem,
                                 h, gh + dir * batch * kGates * h, kGates * h);
        }
      } else if (s > 0) {
        layers_[k].recurrent.Run(stream, running, state, gh, scratchpad);
      }
      for (int64_t dir = 0; dir < dirs; ++dir) {
        for (int j = 0; j < running; ++j) {
          const int t = dir == 0 ? s : order.length(j) - 1 - s;
          buf.gx_rows[j] = gx + order.packed(t, j) * gate_width + dir * kGates * h;
          buf.out_rows[j] =
              last ? static_cast<void*>(final_out + (t * batch + order.order(j)) * d + dir * h)
                   : static_cast<void*>(packed_out +
                                        static_cast<size_t>(order.packed(t, j) * d + dir * h) *
                                            elem);
        }
        LstmGateStep step;
        step.rows = running;
        step.hidden = static_cast<int>(h);
        step.gx = buf.gx_rows.data();
        step.gh = s > 0 ? gh + dir * batch * kGates * h : nullptr;
        step.bias = bias + dir * kGates * h;
        step.c = cell + dir * batch * h;
        step.state = state + static_cast<size_t>(dir * batch * h) * elem;
        step.out = buf.out_rows.data();
        step.state_bf16 = bf16;
        step.out_bf16 = bf16 && !last;
        lstm_.gates().Run(step);
      }
    }
    in = packed_out;
  }
  // Rows past each sequence's length: zeros (finite, as consumers expect).
  for (int64_t b = 0; b < batch; ++b) {
    for (int64_t t = lengths[b]; t < steps_; ++t) {
      std::memset(final_out + (t * batch + b) * d, 0, static_cast<size_t>(d) * sizeof(float));
    }
  }
  return final_out;
}

}  // namespace attnserve::engine
