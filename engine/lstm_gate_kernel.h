// The fused LSTM gate step, as the per-ISA kernels see it (lstm_gates.h is the
// engine's interface to it).
//
// Ownership: a Step borrows every buffer it points to. Thread-safety: the
// kernels touch only the step's buffers; steps on distinct buffers may run
// on any number of threads.
//
// This header is included by translation units compiled for one instruction
// set (lstm_gates_avx2.cc, lstm_gates_avx512.cc): it must stay free of inline
// functions and of other headers, so that no code compiled for a wider ISA can
// be shared, through the linker, with code that runs on any CPU.
#ifndef ATTNSERVE_ENGINE_LSTM_GATE_KERNEL_H_
#define ATTNSERVE_ENGINE_LSTM_GATE_KERNEL_H_

#include <cstdint>

namespace attnserve::engine::lstm_gate_kernel {

// Numbering of the activations (the kernels' own, mapped from model_spec.h).
enum Recurrent : int { kSigmoid = 0, kHardSigmoid = 1, kHardSigmoidKeras3 = 2 };
enum Cell : int { kTanh = 0, kRelu = 1, kLinear = 2 };

// One step of one direction over `rows` rows, each H = `hidden` wide:
//   g = gx[r] + gh[r] + bias     (4H: gates i, f, g, o; gh absent: h_{t-1} = 0;
//                                 bias absent: 0)
//   c[r] = R(f) c[r] + R(i) A(g)  (c[r] read only when gh is present)
//   h = R(o) A(c[r])  -> state[r] and out[r]
// R is the recurrent activation, A the cell activation. bf16 outputs are
// rounded to nearest even.
struct Step {
  int rows = 0;
  int hidden = 0;
  int recurrent = kSigmoid;
  int cell = kTanh;
  const float* const* gx = nullptr;  // per row: 4H floats
  const float* gh = nullptr;         // [rows, 4H] or null
  const float* bias = nullptr;       // 4H floats or null
  float* c = nullptr;                // [rows, H]
  void* state = nullptr;             // [rows, H], f32 or bf16 (state_bf16)
  void* const* out = nullptr;        // per row: H values, f32 or bf16 (out_bf16)
  bool state_bf16 = false;
  bool out_bf16 = false;
};

void RunScalar(const Step& step);
void RunAvx2(const Step& step);    // needs AVX2 and FMA; f32 outputs only
void RunAvx512(const Step& step);  // needs AVX-512 F, BW, VL, DQ

}  // namespace attnserve::engine::lstm_gate_kernel

#endif  // ATTNSERVE_ENGINE_LSTM_GATE_KERNEL_H_
