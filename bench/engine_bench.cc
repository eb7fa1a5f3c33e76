// Engine throughput: sequences/s and achieved GFLOP/s of Session::Run on
// random-weight models, per (hidden, steps, batch).
//
// FLOPs counted per sequence (multiply-add = 2):
//   LSTM:      layers x directions x steps x 8 H (I + H)
//   additive:  steps x (2 d a + 2 a + 2 d)      (projection, score, weighted sum)
// Run: build/bench/engine_bench [--benchmark_filter=...]
#include <benchmark/benchmark.h>

#include <memory>
#include <random>
#include <vector>

#include "engine/model.h"
#include "engine/session.h"
#include "tests/engine/random_model.h"

namespace {

using attnserve::engine::BatchOutput;
using attnserve::engine::Model;
using attnserve::engine::ModelSpec;
using attnserve::engine::SequenceView;
using attnserve::engine::Session;

constexpr int kInput = 32;
constexpr int kUnits = 64;

ModelSpec Spec(int hidden) {
  ModelSpec spec = attnserve::testing::MakeSpec(kInput, hidden, 1, false, 4);
  spec.attention[0].units = kUnits;
  return spec;
}

double FlopsPerSequence(const ModelSpec& spec, int steps) {
  const double h = spec.encoder.hidden_size;
  const double d = spec.encoder.output_size();
  double flops = 0;
  for (int k = 0; k < spec.encoder.num_layers; ++k) {
    const double in = k == 0 ? spec.input_size : d;
    flops += spec.encoder.directions() * steps * 8.0 * h * (in + h);
  }
  flops += steps * (2.0 * d * kUnits + 2.0 * kUnits + 2.0 * d);
  return flops;
}

void BM_Engine(benchmark::State& state) {
  const int hidden = static_cast<int>(state.range(0));
  const int steps = static_cast<int>(state.range(1));
  const int batch = static_cast<int>(state.range(2));
  const ModelSpec spec = Spec(hidden);
  auto model = Model::Build(attnserve::testing::RandomModel(spec, 1, 0.1f));
  if (!model.ok()) {
    state.SkipWithError("model build failed");
    return;
  }
  Session session(*model, {1, 8});
  std::vector<std::vector<float>> data;
  std::vector<SequenceView> views;
  for (int b = 0; b < batch; ++b) data.push_back(attnserve::testing::RandomSequence(steps, kInput, b));
  for (const auto& d : data) views.push_back({d.data(), steps});
  BatchOutput out;
  if (!session.Run(views, &out).ok()) {  // warm-up builds the plan
    state.SkipWithError("run failed");
    return;
  }
  for (auto _ : state) {
    benchmark::DoNotOptimize(session.Run(views, &out));
  }
  const double sequences = static_cast<double>(state.iterations()) * batch;
  state.counters["seq/s"] = benchmark::Counter(sequences, benchmark::Counter::kIsRate);
  state.counters["GFLOP/s"] = benchmark::Counter(
      sequences * FlopsPerSequence(spec, steps) / 1e9, benchmark::Counter::kIsRate);
}

BENCHMARK(BM_Engine)
    ->ArgNames({"hidden", "steps", "batch"})
    ->ArgsProduct({{64, 128, 256}, {50, 200}, {1, 8, 32, 128}})
    ->Unit(benchmark::kMicrosecond)
    ->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
