// The LSTM gate step two ways, beside the step's recurrent GEMM, on one
// thread: the engine's fused kernel (engine/lstm_gates.h; every ISA variant
// this CPU has) and a chain of oneDNN eltwise and binary primitives computing
// the same step (add the projections; logistic on i, f, o and tanh on g in
// place; i*g; f*c + i*g as a binary with a binary post-op; tanh(c); o*tanh(c)).
//
//   gates/fused:<kernel>/hidden:H/rows:R    the fused kernel, one step
//   gates/onednn_chain/hidden:H/rows:R      the 8-primitive chain, one step, on the
//                                           LSTM's [rows, 4H] gate layout (each gate
//                                           a strided block)
//   gates/onednn_chain_dense/hidden:H/rows:R the same chain with the gates laid out
//                                           gate by gate ([4, rows, H], every block
//                                           dense): the chain's best case
//   gates/recurrent_gemm/hidden:H/rows:R    the step's matmul [R, H] x [H, 4H]
//                                           on oneDNN matmul (RowMatmul)
//   gates/recurrent_gemm_packed/hidden:H/rows:R the same product on oneDNN's
//                                           packed sgemm (packed_gemm.h)
// Counters: ns per step, and for the other variants gemm_frac, their time over
// the RowMatmul GEMM's (measured first, in the same run). Sigmoid gates, tanh
// cell.
//   build/bench/lstm_gates_bench [--benchmark_filter=...]
// ONEDNN_MAX_CPU_ISA=AVX2 caps oneDNN and the engine's kernel choice alike;
// the fused:<kernel> rows run every kernel the CPU has, whatever the cap.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

#include "absl/strings/str_cat.h"
#include "engine/dnnl_util.h"
#include "engine/lstm_gates.h"
#include "engine/packed_gemm.h"
#include "engine/row_matmul.h"

namespace {

using attnserve::engine::CpuEngine;
using attnserve::engine::LstmGateStep;
using dnnl::memory;
using dt = memory::data_type;
using Clock = std::chrono::steady_clock;

constexpr int kGates = 4;

std::map<std::pair<int, int>, double>& GemmSeconds() {
  static std::map<std::pair<int, int>, double> seconds;
  return seconds;
}

std::vector<float> Random(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(-3.0f, 3.0f);
  std::vector<float> v(n);
  for (float& x : v) x = dist(rng);
  return v;
}

// Times `step` in the benchmark loop and sets ns/step (and gemm_frac).
template <typename Step>
void Measure(benchmark::State& state, int hidden, int rows, bool is_gemm, Step step) {
  step();  // warm-up
  int64_t steps = 0;
  const Clock::time_point start = Clock::now();
  for (auto _ : state) {
    step();
    ++steps;
  }
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count() / steps;
  state.counters["ns/step"] = seconds * 1e9;
  if (is_gemm) {
    GemmSeconds()[{hidden, rows}] = seconds;
  } else if (auto it = GemmSeconds().find({hidden, rows}); it != GemmSeconds().end()) {
    state.counters["gemm_frac"] = seconds / it->second;
  }
}

void BM_Gemm(benchmark::State& state, int hidden, int rows) {
  attnserve::engine::RowMatmulShape shape;
  shape.k = hidden;
  shape.n = kGates * hidden;
  shape.max_rows = rows;
  shape.src_row_stride = hidden;
  shape.dst_row_stride = kGates * hidden;
  attnserve::engine::RowMatmul matmul(shape, false);
  memory weights(matmul.weights_desc(), CpuEngine());
  {
    // Initialised: garbage could hold denormals, which slow the GEMM down.
    const std::vector<float> w = Random(static_cast<size_t>(hidden) * kGates * hidden, 4);
    std::copy(w.begin(), w.end(), static_cast<float*>(weights.get_data_handle()));
  }
  matmul.Bind(weights, memory());
  std::vector<float> h = Random(static_cast<size_t>(rows) * hidden, 1);
  std::vector<float> out(static_cast<size_t>(rows) * kGates * hidden);
  dnnl::stream stream(CpuEngine());
  memory scratchpad({{static_cast<int64_t>(matmul.scratchpad_bytes() + 64)}, dt::u8,
                     memory::format_tag::x},
                    CpuEngine());
  Measure(state, hidden, rows, true, [&] {
    matmul.Run(stream, rows, h.data(), out.data(), scratchpad);
  });
}

void BM_PackedGemm(benchmark::State& state, int hidden, int rows) {
  memory plain({{hidden, kGates * hidden}, dt::f32, memory::format_tag::ab}, CpuEngine());
  const std::vector<float> w = Random(static_cast<size_t>(hidden) * kGates * hidden, 4);
  std::copy(w.begin(), w.end(), static_cast<float*>(plain.get_data_handle()));
  attnserve::engine::PackedGemmShape shape;
  shape.k = hidden;
  shape.n = kGates * hidden;
  auto packed = attnserve::engine::PackedGemmWeights::Create(plain, shape, nullptr);
  if (!packed.ok()) {
    state.SkipWithError(std::string(packed.status().message()).c_str());
    return;
  }
  const std::shared_ptr<const attnserve::engine::PackedGemm> gemm =
      (*packed)->ForCurrentThreads();
  std::vector<float> h = Random(static_cast<size_t>(rows) * hidden, 1);
  std::vector<float> out(static_cast<size_t>(rows) * kGates * hidden);
  Measure(state, hidden, rows, false,
          [&] { gemm->Run(0, rows, h.data(), hidden, out.data(), kGates * hidden); });
}

void BM_Fused(benchmark::State& state, attnserve::engine::lstm_gate_kernel::Kernel kernel,
              int hidden, int rows) {
  const size_t gates = static_cast<size_t>(rows) * kGates * hidden;
  std::vector<float> gx = Random(gates, 2), gh = Random(gates, 3);
  std::vector<float> c(static_cast<size_t>(rows) * hidden, 0.1f), h(c.size()), out(c.size());
  std::vector<const float*> gx_rows;
  std::vector<void*> out_rows;
  for (int r = 0; r < rows; ++r) {
    gx_rows.push_back(gx.data() + static_cast<size_t>(r) * kGates * hidden);
    out_rows.push_back(out.data() + static_cast<size_t>(r) * hidden);
  }
  LstmGateStep step;
  step.rows = rows;
  step.hidden = hidden;
  step.gx = gx_rows.data();
  step.gh = gh.data();
  step.c = c.data();
  step.state = h.data();
  step.out = out_rows.data();
  Measure(state, hidden, rows, false, [&] {
    std::fill(c.begin(), c.end(), 0.1f);  // keep the cell bounded (timed for both variants)
    kernel.run(step);
  });
}

// One eltwise or binary primitive with its argument map.
struct Op {
  dnnl::primitive primitive;
  std::unordered_map<int, memory> args;
};

void BM_OnednnChain(benchmark::State& state, int hidden, int rows, bool gate_major) {
  const int64_t h = hidden, r = rows;
  const dnnl::engine& engine = CpuEngine();
  std::vector<float> gx = Random(static_cast<size_t>(r * kGates * h), 2);
  std::vector<float> gh = Random(gx.size(), 3);
  std::vector<float> g(gx.size()), c(static_cast<size_t>(r * h), 0.1f);
  std::vector<float> tmp(c.size()), out(c.size());
  const memory::desc full({r, kGates * h}, dt::f32, memory::format_tag::ab);
  const memory::desc plain({r, h}, dt::f32, memory::format_tag::ab);
  // `gates` consecutive gates of every row: a strided block of the [rows, 4H]
  // layout, or, gate-major, a dense [gates x rows, H] tensor.
  auto block = [&](int64_t gates) {
    return gate_major ? memory::desc({gates * r, h}, dt::f32, memory::format_tag::ab)
                      : memory::desc({r, gates * h}, dt::f32, {kGates * h, 1});
  };
  const int64_t gate_stride = gate_major ? r * h : h;  // floats from one gate to the next
  auto at = [&](const memory::desc& desc, float* p) { return memory(desc, engine, p); };
  std::vector<Op> ops;
  auto eltwise = [&](dnnl::algorithm alg, const memory::desc& desc, float* src, float* dst) {
    dnnl::eltwise_forward::primitive_desc pd(
        {dnnl::prop_kind::forward_inference, alg, desc, 0.0f, 0.0f}, engine);
    ops.push_back({dnnl::eltwise_forward(pd),
                   {{DNNL_ARG_SRC, at(desc, src)}, {DNNL_ARG_DST, at(desc, dst)}}});
  };
  auto binary = [&](dnnl::algorithm alg, const memory::desc& a, float* pa, const memory::desc& b,
                    float* pb, const memory::desc& d, float* dst, float* post_add) {
    dnnl::primitive_attr attr;
    if (post_add != nullptr) {
      dnnl::post_ops post;
      post.append_binary(dnnl::algorithm::binary_add, plain);
      attr.set_post_ops(post);
    }
    dnnl::binary::primitive_desc pd({alg, a, b, d}, attr, engine);
    Op op{dnnl::binary(pd),
          {{DNNL_ARG_SRC_0, at(a, pa)}, {DNNL_ARG_SRC_1, at(b, pb)}, {DNNL_ARG_DST, at(d, dst)}}};
    if (post_add != nullptr) {
      op.args[DNNL_ARG_ATTR_MULTIPLE_POST_OP(0) | DNNL_ARG_SRC_1] = at(plain, post_add);
    }
    ops.push_back(std::move(op));
  };
  using alg = dnnl::algorithm;
  float* gi = g.data();
  float* gf = g.data() + gate_stride;
  float* gg = g.data() + 2 * gate_stride;
  float* go = g.data() + 3 * gate_stride;
  binary(alg::binary_add, full, gx.data(), full, gh.data(), full, g.data(), nullptr);
  eltwise(alg::eltwise_logistic, block(2), gi, gi);  // i and f
  eltwise(alg::eltwise_tanh, block(1), gg, gg);
  eltwise(alg::eltwise_logistic, block(1), go, go);
  binary(alg::binary_mul, block(1), gi, block(1), gg, plain, tmp.data(), nullptr);
  // c = c * f + i * g, in place on c.
  binary(alg::binary_mul, plain, c.data(), block(1), gf, plain, c.data(), tmp.data());
  eltwise(alg::eltwise_tanh, plain, c.data(), tmp.data());
  binary(alg::binary_mul, plain, tmp.data(), block(1), go, plain, out.data(), nullptr);
  dnnl::stream stream(engine);
  Measure(state, hidden, rows, false, [&] {
    std::fill(c.begin(), c.end(), 0.1f);
    for (Op& op : ops) op.primitive.execute(stream, op.args);
    stream.wait();
  });
}

void RegisterAll() {
  attnserve::engine::lstm_gate_kernel::Kernel kernels[8];
  const int count = attnserve::engine::lstm_gate_kernel::AvailableKernels(kernels, 8);
  for (int hidden : {128, 256}) {
    // The GEMMs alone at the small row counts where their kernels differ most.
    for (int rows : {2, 4, 8, 16}) {
      const std::string shape = absl::StrCat("/hidden:", hidden, "/rows:", rows);
      benchmark::RegisterBenchmark(("gates/recurrent_gemm" + shape).c_str(), BM_Gemm, hidden,
                                   rows);
      benchmark::RegisterBenchmark(("gates/recurrent_gemm_packed" + shape).c_str(),
                                   BM_PackedGemm, hidden, rows);
    }
    for (int rows : {1, 32, 128}) {
      const std::string shape = absl::StrCat("/hidden:", hidden, "/rows:", rows);
      benchmark::RegisterBenchmark(("gates/recurrent_gemm" + shape).c_str(), BM_Gemm, hidden,
                                   rows);
      benchmark::RegisterBenchmark(("gates/recurrent_gemm_packed" + shape).c_str(),
                                   BM_PackedGemm, hidden, rows);
      for (int k = 0; k < count; ++k) {
        benchmark::RegisterBenchmark(
            absl::StrCat("gates/fused:", kernels[k].name, shape).c_str(), BM_Fused, kernels[k],
            hidden, rows);
      }
      benchmark::RegisterBenchmark(("gates/onednn_chain" + shape).c_str(), BM_OnednnChain,
                                   hidden, rows, false);
      benchmark::RegisterBenchmark(("gates/onednn_chain_dense" + shape).c_str(), BM_OnednnChain,
                                   hidden, rows, true);
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  RegisterAll();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::AddCustomContext("gate_kernel", attnserve::engine::LstmGates::KernelName());
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
