// The FLOP count the benchmarks divide by time to report GFLOP/s.
//
// One multiply-add counts 2. Per sequence of T steps (d = hidden x directions,
// I = the layer's input size, a = units):
//   LSTM       per layer and direction: T x 8 H (I + H)   (the four gate GEMMs)
//   additive   T (2 d a + 2 a + 2 d)       projection, score, weighted sum
//   feedforward T (2 d + 2 d)              score, weighted sum
//   dot        T (2 d + 2 d)               scores, weighted sum
//   general    2 d^2 + T (4 d)             W^T q once, then as dot
//   general_tanh, bahdanau  T (2 d^2) + T (4 d) (a d x d projection per step)
//   output luong            + 2 a (2 d)    Wc [c; q]
//   head       2 (in x out) per dense layer
// Element-wise work (activations, softmax, masking) is not counted: it is
// O(T d) and small next to the GEMMs. Feature and time_dense blocks are not
// counted (the benchmarks do not use them).
// Header-only; plain functions of the spec.
#ifndef ATTNSERVE_BENCH_FLOPS_H_
#define ATTNSERVE_BENCH_FLOPS_H_

#include "engine/model_spec.h"

namespace attnserve::bench {

inline double LstmFlops(const engine::ModelSpec& spec, int steps) {
  const double h = spec.encoder.hidden_size;
  const double d = spec.encoder.output_size();
  double flops = 0;
  for (int k = 0; k < spec.encoder.num_layers; ++k) {
    const double in = k == 0 ? spec.input_size : d;
    flops += spec.encoder.directions() * static_cast<double>(steps) * 8.0 * h * (in + h);
  }
  return flops;
}

inline double AttentionFlops(const engine::ModelSpec& spec, int steps) {
  using engine::AttentionKind;
  const double d = spec.encoder.output_size();
  const double t = steps;
  double flops = 0;
  for (const engine::AttentionSpec& block : spec.attention) {
    const double a = block.units;
    switch (block.kind) {
      case AttentionKind::kAdditive: flops += t * (2 * d * a + 2 * a + 2 * d); break;
      case AttentionKind::kFeedForward:
      case AttentionKind::kDot:
      case AttentionKind::kCosine: flops += t * 4 * d; break;
      case AttentionKind::kGeneral: flops += 2 * d * d + t * 4 * d; break;
      case AttentionKind::kGeneralTanh:
      case AttentionKind::kBahdanau: flops += t * (2 * d * d + 4 * d); break;
      case AttentionKind::kTimeDense:
      case AttentionKind::kFeature: break;
    }
    if (engine::IsQueryBased(block.kind) && block.output == engine::QueryOutput::kLuong) {
      flops += 2 * a * 2 * d;
    }
  }
  return flops;
}

inline double HeadFlops(const engine::ModelSpec& spec) {
  double in = static_cast<double>(spec.head_input_size());
  double flops = spec.head.gate ? 2 * in * in : 0;
  for (int out : spec.head.hidden) {
    flops += 2 * in * out;
    in = out;
  }
  return flops + 2 * in * spec.num_outputs();
}

inline double FlopsPerSequence(const engine::ModelSpec& spec, int steps) {
  return LstmFlops(spec, steps) + AttentionFlops(spec, steps) + HeadFlops(spec);
}

}  // namespace attnserve::bench

#endif  // ATTNSERVE_BENCH_FLOPS_H_
