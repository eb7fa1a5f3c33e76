// Engine benchmark: Session::Run on random-weight models, sequences/s and
// achieved GFLOP/s (bench/flops.h), against this CPU's measured peak.
//
// Benchmarks, run in this order:
//   peak/fma/threads:N          register-only AVX-512 FMA loop (bench/peak_flops.h)
//   peak/matmul_1024/threads:N  a 1024^3 f32 oneDNN matmul
//   engine/layers:L/hidden:H/steps:T/attn:A/batch:B/threads:1/lstm:I
//       input 32, unidirectional LSTM on implementation I (rnn_primitive or
//       matmul, lstm_impl.h, side by side; and matmul_row_matmul: the matmul
//       LSTM with its recurrent GEMM on oneDNN matmul instead of the packed
//       GEMM, recurrent_gemm.h), attention A = additive (64
//       units) or luong (`general` scores, output `luong` with 64 units), head
//       [16] -> 4.
//       Counters: seq/s, GFLOP/s, peak_frac (GFLOP/s over the FMA peak of the
//       same thread count, measured in this run).
//   layout/workers:W/threads:N/batch:B
//       W workers (threads, each with its own Session of N OpenMP threads)
//       running batches of B concurrently for 1 s: 1x2 vs 2x1 on 2 cores
//       (1x1: one worker thread alone, the baseline).
// Full matrix: L 1,2 x H 64,128,256 x T 25,50,200 x A x B 1,8,32,128 (about
// 2 minutes). --quick runs a subset (H 128, T 50, B 1 and 32, L 1).
// --benchmark_min_time defaults to 0.2 s here.
//   build/bench/engine_bench [--quick] [--benchmark_filter=engine/]
//       [--benchmark_format=json] [--benchmark_out=FILE]
// OMP_WAIT_POLICY=passive in the environment changes how idle OpenMP threads
// wait (the layout benchmarks are the ones it matters for).
#include <benchmark/benchmark.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "bench/flops.h"
#include "bench/peak_flops.h"
#include "engine/model.h"
#include "engine/session.h"
#include "tests/engine/random_model.h"

namespace {

using attnserve::engine::AttentionKind;
using attnserve::engine::BatchOutput;
using attnserve::engine::LoadOptions;
using attnserve::engine::LstmImpl;
using attnserve::engine::LstmImplName;
using attnserve::engine::Model;
using attnserve::engine::ModelSpec;
using attnserve::engine::QueryOutput;
using attnserve::engine::RecurrentGemm;
using attnserve::engine::SequenceView;
using attnserve::engine::Session;
using Clock = std::chrono::steady_clock;

constexpr int kInput = 32;
constexpr int kUnits = 64;
constexpr double kPeakSeconds = 1.0;
constexpr double kLayoutSeconds = 1.0;

enum class Attn { kAdditive, kLuong };

const char* AttnName(Attn attn) { return attn == Attn::kAdditive ? "additive" : "luong"; }

ModelSpec Spec(int layers, int hidden, Attn attn) {
  ModelSpec spec = attnserve::testing::MakeSpec(kInput, hidden, layers, false, 4);
  spec.attention[0].units = kUnits;
  if (attn == Attn::kLuong) {
    spec.attention[0].kind = AttentionKind::kGeneral;
    spec.attention[0].output = QueryOutput::kLuong;
  }
  return spec;
}

// FMA peak per thread count, measured by the peak benchmarks (or on first use).
std::map<int, double>& PeakCache() {
  static std::map<int, double> cache;
  return cache;
}

double PeakGflops(int threads) {
  auto it = PeakCache().find(threads);
  if (it != PeakCache().end()) return it->second;
  return PeakCache()[threads] = attnserve::bench::FmaPeakGflops(threads, kPeakSeconds);
}

void BM_PeakFma(benchmark::State& state, int threads) {
  double gflops = 0;
  for (auto _ : state) gflops = attnserve::bench::FmaPeakGflops(threads, kPeakSeconds);
  PeakCache()[threads] = gflops;
  state.counters["GFLOP/s"] = gflops;
}

void BM_PeakMatmul(benchmark::State& state, int threads) {
  double gflops = 0;
  for (auto _ : state) gflops = attnserve::bench::MatmulGflops(threads, 1024, kPeakSeconds);
  state.counters["GFLOP/s"] = gflops;
  state.counters["peak_frac"] = gflops / PeakGflops(threads);
}

// seq/s, GFLOP/s and the fraction of the FMA peak of `threads` threads.
void SetCounters(benchmark::State& state, double sequences, double flops, double seconds,
                 int threads) {
  const double gflops = flops / seconds / 1e9;
  state.counters["seq/s"] = sequences / seconds;
  state.counters["GFLOP/s"] = gflops;
  state.counters["peak_frac"] = gflops / PeakGflops(threads);
}

// B sequences of T steps and the views Session::Run takes.
struct Inputs {
  std::vector<std::vector<float>> data;
  std::vector<SequenceView> views;
};

Inputs MakeInputs(int batch, int steps) {
  Inputs in;
  for (int b = 0; b < batch; ++b) {
    in.data.push_back(attnserve::testing::RandomSequence(steps, kInput, b));
  }
  for (const auto& d : in.data) in.views.push_back({d.data(), steps});
  return in;
}

void BM_Engine(benchmark::State& state, int layers, int hidden, int steps, Attn attn,
               int batch, int threads, LstmImpl impl, RecurrentGemm gemm) {
  const ModelSpec spec = Spec(layers, hidden, attn);
  LoadOptions options;
  options.lstm_impl = impl;
  options.recurrent_gemm = gemm;
  auto model = Model::Build(attnserve::testing::RandomModel(spec, 1, 0.1f), options);
  if (!model.ok()) {
    state.SkipWithError(std::string(model.status().message()).c_str());
    return;
  }
  Session session(*model, {threads, 8});
  const Inputs in = MakeInputs(batch, steps);
  BatchOutput out;
  if (!session.Run(in.views, &out).ok()) {  // warm-up builds the plan
    state.SkipWithError("run failed");
    return;
  }
  const Clock::time_point start = Clock::now();
  for (auto _ : state) {
    benchmark::DoNotOptimize(session.Run(in.views, &out));
  }
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  const double sequences = static_cast<double>(state.iterations()) * batch;
  SetCounters(state, sequences, sequences * attnserve::bench::FlopsPerSequence(spec, steps),
              seconds, threads);
}

// `workers` threads, each with its own Session of `threads` OpenMP threads,
// run batches of `batch` for kLayoutSeconds; reports the total seq/s.
void BM_Layout(benchmark::State& state, int workers, int threads, int batch) {
  const ModelSpec spec = Spec(1, 128, Attn::kAdditive);
  constexpr int kSteps = 50;
  auto model = Model::Build(attnserve::testing::RandomModel(spec, 1, 0.1f));
  if (!model.ok()) {
    state.SkipWithError("model build failed");
    return;
  }
  const Inputs in = MakeInputs(batch, kSteps);
  double total_sequences = 0;
  double seconds = 0;
  for (auto _ : state) {
    std::atomic<int> ready{0};
    std::atomic<bool> go{false};
    std::vector<int64_t> batches(workers, 0);
    std::vector<std::thread> pool;
    for (int w = 0; w < workers; ++w) {
      pool.emplace_back([&, w] {
        Session session(*model, {threads, 8});
        BatchOutput out;
        if (!session.Run(in.views, &out).ok()) std::abort();  // warm-up
        ready.fetch_add(1);
        while (!go.load(std::memory_order_acquire)) std::this_thread::yield();
        const Clock::time_point end =
            Clock::now() + std::chrono::duration_cast<Clock::duration>(
                               std::chrono::duration<double>(kLayoutSeconds));
        while (Clock::now() < end) {
          benchmark::DoNotOptimize(session.Run(in.views, &out));
          ++batches[w];
        }
      });
    }
    while (ready.load() < workers) std::this_thread::yield();
    const Clock::time_point start = Clock::now();
    go.store(true, std::memory_order_release);
    for (std::thread& t : pool) t.join();
    const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
    state.SetIterationTime(elapsed);
    seconds += elapsed;
    for (int64_t n : batches) total_sequences += static_cast<double>(n) * batch;
  }
  SetCounters(state, total_sequences,
              total_sequences * attnserve::bench::FlopsPerSequence(spec, kSteps), seconds,
              workers * threads);
}

void RegisterAll(bool quick) {
  for (int threads : {1, 2}) {
    benchmark::RegisterBenchmark(absl::StrCat("peak/fma/threads:", threads).c_str(), BM_PeakFma,
                                 threads)
        ->Iterations(1)
        ->Unit(benchmark::kMillisecond);
  }
  for (int threads : {1, 2}) {
    benchmark::RegisterBenchmark(absl::StrCat("peak/matmul_1024/threads:", threads).c_str(),
                                 BM_PeakMatmul, threads)
        ->Iterations(1)
        ->Unit(benchmark::kMillisecond);
  }
  const std::vector<int> layer_set = quick ? std::vector<int>{1} : std::vector<int>{1, 2};
  const std::vector<int> hidden_set = quick ? std::vector<int>{128} : std::vector<int>{64, 128, 256};
  const std::vector<int> steps_set = quick ? std::vector<int>{50} : std::vector<int>{25, 50, 200};
  const std::vector<int> batch_set = quick ? std::vector<int>{1, 32} : std::vector<int>{1, 8, 32, 128};
  for (int layers : layer_set) {
    for (int hidden : hidden_set) {
      for (int steps : steps_set) {
        for (Attn attn : {Attn::kAdditive, Attn::kLuong}) {
          for (int batch : batch_set) {
            const std::pair<LstmImpl, RecurrentGemm> sides[] = {
                {LstmImpl::kRnnPrimitive, RecurrentGemm::kAuto},
                {LstmImpl::kMatmul, RecurrentGemm::kRowMatmul},
                {LstmImpl::kMatmul, RecurrentGemm::kAuto}};
            for (auto [impl, gemm] : sides) {
              const std::string name = absl::StrCat(
                  "engine/layers:", layers, "/hidden:", hidden, "/steps:", steps,
                  "/attn:", AttnName(attn), "/batch:", batch, "/threads:1/lstm:",
                  LstmImplName(impl), gemm == RecurrentGemm::kRowMatmul ? "_row_matmul" : "");
              benchmark::RegisterBenchmark(name.c_str(), BM_Engine, layers, hidden, steps, attn,
                                           batch, 1, impl, gemm)
                  ->Unit(benchmark::kMicrosecond)
                  ->UseRealTime();
            }
          }
        }
      }
    }
  }
  for (int batch : batch_set) {
    for (auto [workers, threads] : {std::pair{1, 1}, std::pair{1, 2}, std::pair{2, 1}}) {
      benchmark::RegisterBenchmark(
          absl::StrCat("layout/workers:", workers, "/threads:", threads, "/batch:", batch).c_str(),
          BM_Layout, workers, threads, batch)
          ->Iterations(1)
          ->UseManualTime()
          ->Unit(benchmark::kMillisecond);
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  bool quick = false;
  bool min_time_given = false;
  std::vector<char*> args;
  for (int i = 0; i < argc; ++i) {
    if (std::strcmp(argv[i], "--quick") == 0) {
      quick = true;
      continue;
    }
    if (std::strncmp(argv[i], "--benchmark_min_time", 20) == 0) min_time_given = true;
    args.push_back(argv[i]);
  }
  static char kMinTime[] = "--benchmark_min_time=0.2";
  if (!min_time_given) args.push_back(kMinTime);
  int count = static_cast<int>(args.size());
  args.push_back(nullptr);
  RegisterAll(quick);
  benchmark::Initialize(&count, args.data());
  if (benchmark::ReportUnrecognizedArguments(count, args.data())) return 1;
  const char* wait_policy = std::getenv("OMP_WAIT_POLICY");
  benchmark::AddCustomContext("fma_isa", attnserve::bench::FmaIsa());
  benchmark::AddCustomContext("OMP_WAIT_POLICY", wait_policy != nullptr ? wait_policy : "(unset)");
  benchmark::AddCustomContext("flops", "bench/flops.h: LSTM 8H(I+H) per step and direction, "
                                       "attention and head GEMMs; multiply-add = 2");
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
