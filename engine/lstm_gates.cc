// LstmGates: see lstm_gates.h. Holds the portable kernel (the same template
// as the vector kernels, one float per "vector") and the dispatch.
#include "engine/lstm_gates.h"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>

#include "engine/cpu_info.h"

namespace {

struct Scalar {
  using T = float;
  static constexpr int kWidth = 1;
  static T Load(const float* p, int) { return *p; }
  static void Store(float* p, T v, int) { *p = v; }
  static void StoreBf16(uint16_t* p, T v, int) {
    uint32_t bits;
    std::memcpy(&bits, &v, sizeof(bits));
    *p = static_cast<uint16_t>((bits + 0x7fffu + ((bits >> 16) & 1u)) >> 16);
  }
  static T Set(float x) { return x; }
  static T Add(T a, T b) { return a + b; }
  static T Sub(T a, T b) { return a - b; }
  static T Mul(T a, T b) { return a * b; }
  static T Recip(T a) { return 1.0f / a; }
  static T Min(T a, T b) { return b < a ? b : a; }
  static T Max(T a, T b) { return a < b ? b : a; }
  static T Fma(T a, T b, T c) { return std::fma(a, b, c); }
  static T Fms(T a, T b, T c) { return std::fma(a, b, -c); }
  static T ScaleByPow2(T p, T n, T) { return std::ldexp(p, static_cast<int>(n)); }
};

}  // namespace

#include "engine/lstm_gate_body.inc"

namespace attnserve::engine {
namespace lstm_gate_kernel {

void RunScalar(const Step& step) { RunStep<Scalar>(step); }

int AvailableKernels(Kernel* out, int capacity) {
  int count = 0;
  auto add = [&](const char* name, void (*run)(const Step&)) {
    if (count < capacity) out[count] = {name, run};
    ++count;
  };
  add("scalar", RunScalar);
  const CpuInfo& cpu = HostCpu();
  if (cpu.avx2) add("avx2", RunAvx2);
  if (cpu.avx512_core) add("avx512", RunAvx512);
  return std::min(count, capacity);
}

}  // namespace lstm_gate_kernel

namespace {

// Rows x hidden below which one thread runs the step alone.
constexpr int64_t kMinParallelWork = 16384;

struct Selected {
  const char* name;
  void (*run)(const LstmGateStep&);
};

const Selected& Kernel() {
  static const Selected selected = [] {
    const CpuInfo& cpu = HostCpu();
    if (cpu.avx512_core) return Selected{"avx512", lstm_gate_kernel::RunAvx512};
    if (cpu.avx2) return Selected{"avx2", lstm_gate_kernel::RunAvx2};
    return Selected{"scalar", lstm_gate_kernel::RunScalar};
  }();
  return selected;
}

}  // namespace

LstmGates::LstmGates(RecurrentActivation recurrent, CellActivation cell)
    : recurrent_(static_cast<int>(recurrent)), cell_(static_cast<int>(cell)) {
  static_assert(static_cast<int>(RecurrentActivation::kSigmoid) == lstm_gate_kernel::kSigmoid);
  static_assert(static_cast<int>(RecurrentActivation::kHardSigmoid) ==
                lstm_gate_kernel::kHardSigmoid);
  static_assert(static_cast<int>(RecurrentActivation::kHardSigmoidKeras3) ==
                lstm_gate_kernel::kHardSigmoidKeras3);
  static_assert(static_cast<int>(CellActivation::kTanh) == lstm_gate_kernel::kTanh);
  static_assert(static_cast<int>(CellActivation::kRelu) == lstm_gate_kernel::kRelu);
  static_assert(static_cast<int>(CellActivation::kLinear) == lstm_gate_kernel::kLinear);
}

const char* LstmGates::KernelName() { return Kernel().name; }

void LstmGates::Run(LstmGateStep step) const {
  step.recurrent = recurrent_;
  step.cell = cell_;
  void (*run)(const LstmGateStep&) = Kernel().run;
  // bf16 stores on the AVX2 kernel are lane by lane; it never runs there in
  // practice (bf16 needs an AVX-512 CPU), but stays correct if it did.
  const int threads = omp_get_max_threads();
  if (threads <= 1 || int64_t{step.rows} * step.hidden < kMinParallelWork) {
    run(step);
    return;
  }
  const int rows = step.rows;
  const int64_t h = step.hidden;
#pragma omp parallel num_threads(threads)
  {
    const int parts = omp_get_num_threads();
    const int part = omp_get_thread_num();
    const int begin = static_cast<int>(int64_t{rows} * part / parts);
    const int end = static_cast<int>(int64_t{rows} * (part + 1) / parts);
    if (end > begin) {
      LstmGateStep mine = step;
      mine.rows = end - begin;
      mine.gx = step.gx + begin;
      mine.gh = step.gh != nullptr ? step.gh + begin * 4 * h : nullptr;
      mine.c = step.c + begin * h;
      mine.state = step.state_bf16
                       ? static_cast<void*>(static_cast<uint16_t*>(step.state) + begin * h)
                       : static_cast<void*>(static_cast<float*>(step.state) + begin * h);
      mine.out = step.out + begin;
      run(mine);
    }
  }
}

}  // namespace attnserve::engine
