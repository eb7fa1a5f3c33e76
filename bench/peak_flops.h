// The hardware reference for the engine benchmark: this CPU's sustained fp32
// throughput, measured (not taken from a data sheet), in GFLOP/s.
//
//   FmaPeakGflops     a register-only loop of independent FMAs (AVX-512 when
//                     the CPU has it and oneDNN's effective ISA includes it,
//                     so ONEDNN_MAX_CPU_ISA=AVX2 caps it too; else AVX2+FMA):
//                     the arithmetic ceiling.
//   MatmulGflops      a large square f32 oneDNN matmul: what a well-blocked
//                     GEMM reaches once memory traffic is involved.
// Both run on `threads` threads (std::thread for the FMA loop; OpenMP threads
// of the calling thread for oneDNN) for about `seconds` and count 2 FLOPs per
// multiply-add. Thread-safety: call from one thread at a time.
#ifndef ATTNSERVE_BENCH_PEAK_FLOPS_H_
#define ATTNSERVE_BENCH_PEAK_FLOPS_H_

#include <cstdint>
#include <string>

namespace attnserve::bench {

// "avx512f" or "avx2"; the instruction set FmaPeakGflops uses.
std::string FmaIsa();
double FmaPeakGflops(int threads, double seconds);
double MatmulGflops(int threads, int64_t size, double seconds);

}  // namespace attnserve::bench

#endif  // ATTNSERVE_BENCH_PEAK_FLOPS_H_
