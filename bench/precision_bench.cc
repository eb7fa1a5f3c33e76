// bf16 vs f32: the same random-weight model (input 32, one unidirectional LSTM
// layer, additive attention with 64 units, head [16] -> 4 softmax) loaded
// twice, once per precision, and run through Session::Run on one thread.
//
// Each iteration runs the batch once in f32 and once in bf16, alternating
// which goes first, and times each run separately: both precisions see the
// same machine load, so their ratio is steadier than that of two benchmarks
// run minutes apart. Counters per (hidden, steps, batch):
//   f32_seq/s, bf16_seq/s   sequences per second of each precision
//   bf16/f32                speed ratio (f32 time / bf16 time; > 1: bf16 faster)
// Run: build/bench/precision_bench [--benchmark_repetitions=3]
#include <benchmark/benchmark.h>

#include <chrono>
#include <memory>
#include <vector>

#include "engine/model.h"
#include "engine/session.h"
#include "tests/engine/random_model.h"

namespace {

using attnserve::engine::BatchOutput;
using attnserve::engine::Model;
using attnserve::engine::ModelFiles;
using attnserve::engine::ModelSpec;
using attnserve::engine::Precision;
using attnserve::engine::SequenceView;
using attnserve::engine::Session;
using Clock = std::chrono::steady_clock;

constexpr int kInput = 32;
constexpr int kUnits = 64;

std::shared_ptr<const Model> BuildAs(ModelFiles files, Precision precision) {
  files.spec.precision = precision;
  absl::StatusOr<std::shared_ptr<const Model>> model = Model::Build(files);
  return model.ok() ? *model : nullptr;
}

void BM_Bf16VsF32(benchmark::State& state) {
  const int hidden = static_cast<int>(state.range(0));
  const int steps = static_cast<int>(state.range(1));
  const int batch = static_cast<int>(state.range(2));
  ModelSpec spec = attnserve::testing::MakeSpec(kInput, hidden, 1, false, 4);
  spec.attention[0].units = kUnits;
  const ModelFiles files = attnserve::testing::RandomModel(spec, 1, 0.1f);
  std::shared_ptr<const Model> f32 = BuildAs(files, Precision::kF32);
  std::shared_ptr<const Model> bf16 = BuildAs(files, Precision::kBF16);
  if (f32 == nullptr || bf16 == nullptr) {
    state.SkipWithError("model build failed");
    return;
  }
  Session sessions[2] = {Session(f32, {1, 8}), Session(bf16, {1, 8})};
  std::vector<std::vector<float>> data;
  std::vector<SequenceView> views;
  for (int b = 0; b < batch; ++b) {
    data.push_back(attnserve::testing::RandomSequence(steps, kInput, b));
  }
  for (const auto& d : data) views.push_back({d.data(), steps});
  BatchOutput out;
  for (Session& session : sessions) {
    if (!session.Run(views, &out).ok()) {  // warm-up builds the plan
      state.SkipWithError("run failed");
      return;
    }
  }
  double seconds[2] = {0, 0};
  int first = 0;
  for (auto _ : state) {
    for (int k = 0; k < 2; ++k) {
      const int p = (first + k) % 2;
      const Clock::time_point start = Clock::now();
      benchmark::DoNotOptimize(sessions[p].Run(views, &out));
      seconds[p] += std::chrono::duration<double>(Clock::now() - start).count();
    }
    first = 1 - first;
  }
  const double sequences = static_cast<double>(state.iterations()) * batch;
  state.counters["f32_seq/s"] = sequences / seconds[0];
  state.counters["bf16_seq/s"] = sequences / seconds[1];
  state.counters["bf16/f32"] = seconds[0] / seconds[1];
}

BENCHMARK(BM_Bf16VsF32)
    ->ArgNames({"hidden", "steps", "batch"})
    ->ArgsProduct({{128, 256}, {50, 200}, {1, 8, 64}})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
