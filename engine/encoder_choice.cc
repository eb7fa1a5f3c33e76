// ChooseEncoder: see encoder_choice.h.
#include "engine/encoder_choice.h"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "engine/dnnl_util.h"
#include "engine/lstm_encoder.h"
#include "engine/matmul_lstm.h"
#include "engine/passthrough_encoder.h"
#include "engine/shape_policy.h"
#include "engine/workspace.h"

namespace attnserve::engine {
namespace {

using Clock = std::chrono::steady_clock;

constexpr int kTimedRuns = 2;

absl::StatusOr<EncoderChoice> Build(const ModelSpec& spec,
                                    const std::map<std::string, FloatTensor>& weights,
                                    LstmImpl impl, RecurrentGemm recurrent_gemm) {
  EncoderChoice choice;
  choice.ledger = std::make_shared<WeightLedger>();
  if (impl == LstmImpl::kRnnPrimitive) {
    absl::StatusOr<std::unique_ptr<LstmEncoder>> encoder =
        LstmEncoder::Create(spec, weights, choice.ledger);
    if (!encoder.ok()) return encoder.status();
    choice.encoder = *std::move(encoder);
  } else {
    absl::StatusOr<std::unique_ptr<MatmulLstm>> encoder =
        MatmulLstm::Create(spec, weights, choice.ledger, recurrent_gemm);
    if (!encoder.ok()) return encoder.status();
    choice.encoder = *std::move(encoder);
  }
  return choice;
}

// The note, with the matmul LSTM's recurrent GEMM when that is what runs.
std::string Noted(const EncoderChoice& choice, std::string note) {
  if (const auto* matmul = dynamic_cast<const MatmulLstm*>(choice.encoder.get())) {
    absl::StrAppend(&note, "; ", matmul->recurrent_gemm_note());
  }
  return note;
}

}  // namespace

double TimeEncoder(const Encoder& encoder, const ModelSpec& spec, const BatchShape& shape,
                   Workspace& ws) {
  dnnl::stream stream(CpuEngine());
  const int64_t rows = PaddedRows(shape.sequences);
  const int64_t steps = spec.window() > 0 ? spec.window() : PaddedSteps(shape.steps);
  const int length = static_cast<int>(spec.window() > 0 ? spec.window() : shape.steps);
  std::unique_ptr<EncoderPlan> plan = encoder.Plan(rows, steps);
  const std::vector<int> lengths(static_cast<size_t>(rows), length);
  const size_t count = static_cast<size_t>(steps * rows * spec.input_size);
  float* input = ws.input.Reserve(count);
  for (size_t i = 0; i < count; ++i) {
    input[i] = static_cast<float>((i * 2654435761u >> 8) & 0xff) / 256.0f - 0.5f;
  }
  plan->Run(stream, lengths, ws);  // warm-up: buffers, first touch
  stream.wait();
  double best = 0;
  for (int run = 0; run < kTimedRuns; ++run) {
    const Clock::time_point start = Clock::now();
    plan->Run(stream, lengths, ws);
    stream.wait();
    const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
    best = run == 0 ? elapsed : std::min(best, elapsed);
  }
  return best;
}

absl::StatusOr<EncoderChoice> ChooseEncoder(const ModelSpec& spec,
                                            const std::map<std::string, FloatTensor>& weights,
                                            LstmImpl requested,
                                            absl::Span<const BatchShape> shapes,
                                            RecurrentGemm recurrent_gemm) {
  if (!spec.has_encoder) {
    EncoderChoice choice;
    choice.ledger = std::make_shared<WeightLedger>();
    choice.encoder = std::make_unique<PassthroughEncoder>(spec.input_size);
    choice.note = "none (the model has no LSTM)";
    return choice;
  }
  if (requested != LstmImpl::kAuto) {
    absl::StatusOr<EncoderChoice> choice = Build(spec, weights, requested, recurrent_gemm);
    if (choice.ok()) {
      choice->note = Noted(*choice, absl::StrCat(LstmImplName(requested), " (requested)"));
    }
    return choice;
  }
  if (absl::Status exact = RnnPrimitiveComputes(spec.encoder); !exact.ok()) {
    absl::StatusOr<EncoderChoice> choice = Build(spec, weights, LstmImpl::kMatmul, recurrent_gemm);
    if (choice.ok()) {
      choice->note = Noted(
          *choice, absl::StrCat(
                       "matmul (auto: oneDNN's LSTM primitive cannot compute recurrent_activation ",
                       RecurrentActivationName(spec.encoder.recurrent_activation), ", activation ",
                       CellActivationName(spec.encoder.activation), ")"));
    }
    return choice;
  }
  absl::StatusOr<EncoderChoice> rnn = Build(spec, weights, LstmImpl::kRnnPrimitive, recurrent_gemm);
  if (!rnn.ok()) return rnn.status();
  absl::StatusOr<EncoderChoice> matmul = Build(spec, weights, LstmImpl::kMatmul, recurrent_gemm);
  if (!matmul.ok()) return matmul.status();
  if (shapes.empty()) {
    rnn->note = "rnn_primitive (auto: no warm-up shapes to measure on)";
    return rnn;
  }
  double rnn_seconds = 0;
  double matmul_seconds = 0;
  absl::Status timed = GuardDnnl("timing the LSTM implementations", [&]() -> absl::Status {
    Workspace ws;
    for (size_t i = 0; i < shapes.size(); ++i) {
      // Alternating which goes first, so neither always runs on a warmer cache.
      if (i % 2 == 0) rnn_seconds += TimeEncoder(*rnn->encoder, spec, shapes[i], ws);
      matmul_seconds += TimeEncoder(*matmul->encoder, spec, shapes[i], ws);
      if (i % 2 == 1) rnn_seconds += TimeEncoder(*rnn->encoder, spec, shapes[i], ws);
    }
    return absl::OkStatus();
  });
  if (!timed.ok()) return timed;
  EncoderChoice& chosen = matmul_seconds < rnn_seconds ? *matmul : *rnn;
  chosen.rnn_primitive_seconds = rnn_seconds;
  chosen.matmul_seconds = matmul_seconds;
  chosen.note = Noted(
      chosen, absl::StrFormat(
                  "%s (auto: %d warm-up shapes in %.3f ms on matmul, %.3f ms on rnn_primitive)",
                  LstmImplName(chosen.encoder->impl()), shapes.size(), matmul_seconds * 1e3,
                  rnn_seconds * 1e3));
  return std::move(chosen);
}

}  // namespace attnserve::engine
