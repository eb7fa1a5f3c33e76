// The fused LSTM gate kernels (engine/lstm_gates.h) against a double-precision
// reference of the same formulas: every kernel this CPU can run (portable,
// AVX2, AVX-512), every pair of activations, the first step (no recurrent
// input, no previous cell state) and later ones, row widths that leave a
// partial vector, f32 and bf16 outputs, with and without a bias, and far
// into saturation. Also which kernel the engine picks
// for the CPU's (possibly capped) ISA.
#include "engine/lstm_gates.h"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "engine/cpu_info.h"
#include "gtest/gtest.h"

namespace attnserve::engine {
namespace {

using lstm_gate_kernel::Kernel;

double RecurrentRef(int kind, double x) {
  switch (kind) {
    case lstm_gate_kernel::kSigmoid: return 1.0 / (1.0 + std::exp(-x));
    case lstm_gate_kernel::kHardSigmoid: return std::clamp(0.2 * x + 0.5, 0.0, 1.0);
    default: return std::clamp(x + 3.0, 0.0, 6.0) / 6.0;
  }
}

double CellRef(int kind, double x) {
  switch (kind) {
    case lstm_gate_kernel::kTanh: return std::tanh(x);
    case lstm_gate_kernel::kRelu: return std::max(x, 0.0);
    default: return x;
  }
}

float FromBf16(uint16_t v) {
  const uint32_t bits = uint32_t{v} << 16;
  float f;
  std::memcpy(&f, &bits, sizeof(f));
  return f;
}

struct Case {
  int rows;
  int hidden;
  bool first;           // no gh, c not read
  bool bf16;            // state and out in bf16
  bool bias = false;    // a bias added to the gates
  float range = 9.0f;   // gx in [-range, range]; gh, bias and c scaled from it
};

// Runs `kernel` on random inputs and returns the max error of c and h against
// the double reference, absolute below 1 and relative above (f32 keeps 24
// bits: a linear cell reaches |c| ~ 10); h is read back from out, and the
// state must equal it.
double MaxError(const Kernel& kernel, const Case& c, int recurrent, int cell) {
  std::mt19937 rng(static_cast<uint32_t>(c.rows * 131 + c.hidden * 7 + recurrent * 3 + cell));
  // Pre-activations over a wide range: saturated gates, the hard_sigmoid
  // kinks, both tanh branches.
  std::uniform_real_distribution<float> wide(-c.range, c.range);
  const int h = c.hidden;
  std::vector<float> gx(static_cast<size_t>(c.rows) * 4 * h), gh(gx.size());
  std::vector<float> bias(static_cast<size_t>(4 * h));
  for (float& v : bias) v = wide(rng) * 0.1f;
  std::vector<float> cell_state(static_cast<size_t>(c.rows) * h);
  for (float& v : gx) v = wide(rng);
  for (float& v : gh) v = wide(rng) * 0.25f;
  for (float& v : cell_state) v = wide(rng) * 0.3f;
  const std::vector<float> cell_before = cell_state;
  std::vector<const float*> gx_rows;
  for (int r = 0; r < c.rows; ++r) gx_rows.push_back(gx.data() + static_cast<size_t>(r) * 4 * h);
  std::vector<float> state(static_cast<size_t>(c.rows) * h), out(state.size());
  std::vector<uint16_t> state16(state.size()), out16(state.size());
  std::vector<void*> out_rows;
  for (int r = 0; r < c.rows; ++r) {
    out_rows.push_back(c.bf16 ? static_cast<void*>(out16.data() + static_cast<size_t>(r) * h)
                              : static_cast<void*>(out.data() + static_cast<size_t>(r) * h));
  }
  LstmGateStep step;
  step.rows = c.rows;
  step.hidden = h;
  step.recurrent = recurrent;
  step.cell = cell;
  step.gx = gx_rows.data();
  step.gh = c.first ? nullptr : gh.data();
  step.bias = c.bias ? bias.data() : nullptr;
  step.c = cell_state.data();
  step.state = c.bf16 ? static_cast<void*>(state16.data()) : static_cast<void*>(state.data());
  step.out = out_rows.data();
  step.state_bf16 = c.bf16;
  step.out_bf16 = c.bf16;
  kernel.run(step);

  double error = 0;
  for (int r = 0; r < c.rows; ++r) {
    for (int k = 0; k < h; ++k) {
      auto pre = [&](int g) {
        const size_t at = static_cast<size_t>(r) * 4 * h + static_cast<size_t>(g) * h + k;
        return double{gx[at]} + (c.first ? 0.0 : double{gh[at]}) +
               (c.bias ? double{bias[static_cast<size_t>(g) * h + k]} : 0.0);
      };
      const double i = RecurrentRef(recurrent, pre(0));
      const double f = RecurrentRef(recurrent, pre(1));
      const double g = CellRef(cell, pre(2));
      const double o = RecurrentRef(recurrent, pre(3));
      const size_t at = static_cast<size_t>(r) * h + k;
      const double want_c = (c.first ? 0.0 : f * cell_before[at]) + i * g;
      const double want_h = o * CellRef(cell, want_c);
      auto scaled = [](double got, double want) {
        return std::fabs(got - want) / std::max(1.0, std::fabs(want));
      };
      error = std::max(error, scaled(cell_state[at], want_c));
      if (c.bf16) {
        // Rounded to bf16 (8 bits of mantissa) from the f32 result.
        const double got = FromBf16(out16[at]);
        EXPECT_LE(std::fabs(got - want_h), std::fabs(want_h) * (1.0 / 256) + 1e-6)
            << kernel.name << " row " << r << " k " << k;
        EXPECT_EQ(state16[at], out16[at]);
      } else {
        error = std::max(error, scaled(out[at], want_h));
        EXPECT_EQ(state[at], out[at]);
      }
    }
  }
  return error;
}

std::vector<Kernel> Kernels() {
  Kernel kernels[8];
  const int count = lstm_gate_kernel::AvailableKernels(kernels, 8);
  return std::vector<Kernel>(kernels, kernels + count);
}

TEST(LstmGatesTest, EveryKernelMatchesDoublePrecision) {
  for (const Kernel& kernel : Kernels()) {
    double worst = 0;
    for (int recurrent = 0; recurrent < 3; ++recurrent) {
      for (int cell = 0; cell < 3; ++cell) {
        for (int hidden : {1, 7, 16, 37, 128}) {
          for (bool first : {true, false}) {
            for (bool bf16 : {false, true}) {
              for (bool bias : {false, true}) {
                SCOPED_TRACE(std::string(kernel.name) + " recurrent " +
                             std::to_string(recurrent) + " cell " + std::to_string(cell) +
                             " hidden " + std::to_string(hidden) + (first ? " first" : "") +
                             (bf16 ? " bf16" : "") + (bias ? " bias" : ""));
                const double error =
                    MaxError(kernel, {5, hidden, first, bf16, bias}, recurrent, cell);
                EXPECT_LE(error, 1e-6);
                worst = std::max(worst, error);
              }
            }
          }
        }
      }
    }
    std::printf("gate kernel %-6s max error %.2e\n", kernel.name, worst);
  }
}

// Far into saturation (pre-activations up to +-300, where the kernels clamp
// their exponents, and cells up to +-90): still finite and as exact.
TEST(LstmGatesTest, SaturatedGatesStayExact) {
  for (const Kernel& kernel : Kernels()) {
    for (int recurrent = 0; recurrent < 3; ++recurrent) {
      for (int cell = 0; cell < 3; ++cell) {
        for (bool first : {true, false}) {
          SCOPED_TRACE(std::string(kernel.name) + " recurrent " + std::to_string(recurrent) +
                       " cell " + std::to_string(cell) + (first ? " first" : ""));
          const double error =
              MaxError(kernel, {7, 37, first, false, true, 300.0f}, recurrent, cell);
          EXPECT_LE(error, 1e-6);
        }
      }
    }
  }
}

TEST(LstmGatesTest, TheEngineRunsTheWidestKernelOfItsIsa) {
  const CpuInfo& cpu = HostCpu();
  const std::string expected = cpu.avx512_core ? "avx512" : cpu.avx2 ? "avx2" : "scalar";
  EXPECT_EQ(LstmGates::KernelName(), expected) << "oneDNN ISA " << cpu.isa;
  // The portable kernel is always there; the vector ones where the ISA has them.
  const std::vector<Kernel> kernels = Kernels();
  ASSERT_FALSE(kernels.empty());
  EXPECT_STREQ(kernels[0].name, "scalar");
  EXPECT_EQ(kernels.size(), 1u + (cpu.avx2 ? 1 : 0) + (cpu.avx512_core ? 1 : 0));
}

TEST(LstmGatesTest, RunSplitsRowsOverThreadsWithTheSameResult) {
  // Enough work to split (rows x hidden above the threshold) on 2 threads.
  const int rows = 160;
  const int h = 128;
  std::vector<float> gx(static_cast<size_t>(rows) * 4 * h), gh(gx.size());
  std::mt19937 rng(3);
  std::uniform_real_distribution<float> dist(-3.0f, 3.0f);
  for (float& v : gx) v = dist(rng);
  for (float& v : gh) v = dist(rng);
  std::vector<const float*> gx_rows;
  for (int r = 0; r < rows; ++r) gx_rows.push_back(gx.data() + static_cast<size_t>(r) * 4 * h);
  auto run = [&](int threads, std::vector<float>* out) {
    std::vector<float> c(static_cast<size_t>(rows) * h, 0.5f), state(c.size());
    out->assign(c.size(), 0.0f);
    std::vector<void*> out_rows;
    for (int r = 0; r < rows; ++r) out_rows.push_back(out->data() + static_cast<size_t>(r) * h);
    LstmGateStep step;
    step.rows = rows;
    step.hidden = h;
    step.gx = gx_rows.data();
    step.gh = gh.data();
    step.c = c.data();
    step.state = state.data();
    step.out = out_rows.data();
    const int previous = omp_get_max_threads();
    omp_set_num_threads(threads);
    LstmGates(RecurrentActivation::kSigmoid, CellActivation::kTanh).Run(step);
    omp_set_num_threads(previous);
    EXPECT_EQ(state, *out);
  };
  std::vector<float> one, two;
  run(1, &one);
  run(2, &two);
  EXPECT_EQ(one, two);
}

}  // namespace
}  // namespace attnserve::engine
