// LstmGates: the element-wise part of one LSTM step, fused into one pass over
// the gates of every active row: the gate pre-activations (input projection
// plus recurrent projection) through the model's recurrent and cell
// activations, the cell update and the new hidden state, written both where
// the next step's recurrent GEMM reads it and where the layer's output keeps
// it (lstm_gate_kernel.h has the formulas).
//
// The kernel is chosen once per process from oneDNN's effective ISA
// (HostCpu(), so ONEDNN_MAX_CPU_ISA caps it too): AVX-512, AVX2 with FMA, or
// portable code; all three compute the same polynomials. Run() splits the rows
// over the calling thread's OpenMP threads when there is enough work.
// Thread-safety: Run() touches only the step's buffers; any number of threads
// may run steps on distinct buffers.
#ifndef ATTNSERVE_ENGINE_LSTM_GATES_H_
#define ATTNSERVE_ENGINE_LSTM_GATES_H_

#include "engine/lstm_gate_kernel.h"
#include "engine/model_spec.h"

namespace attnserve::engine {

using LstmGateStep = lstm_gate_kernel::Step;

class LstmGates {
 public:
  LstmGates(RecurrentActivation recurrent, CellActivation cell);

  // Runs `step` (its activations are set from the constructor's).
  void Run(LstmGateStep step) const;

  // The kernel Run() uses: "avx512", "avx2" or "scalar".
  static const char* KernelName();

 private:
  int recurrent_;
  int cell_;
};

namespace lstm_gate_kernel {
// Every kernel this CPU can run, by name ("scalar" first), for tests and
// benchmarks that compare them.
struct Kernel {
  const char* name;
  void (*run)(const Step&);
};
int AvailableKernels(Kernel* out, int capacity);
}  // namespace lstm_gate_kernel

}  // namespace attnserve::engine

#endif  // ATTNSERVE_ENGINE_LSTM_GATES_H_
