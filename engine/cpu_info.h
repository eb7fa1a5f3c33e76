// CpuInfo: what this process's oneDNN computes on: the effective instruction
// set (the CPU's, or lower when ONEDNN_MAX_CPU_ISA caps it), whether it has
// native bf16 instructions, and oneDNN's version. The engine's own vector
// code (lstm_gates.h) follows the same ISA.
//
// What differs by ISA (docs/architecture.md, "Per-ISA behaviour"): on
// AVX-512 and up oneDNN runs its brgemm LSTM, whose weight layout is the same
// for every shape; on AVX2 it runs the reference LSTM over packed GEMMs whose
// packing depends on the shape; bf16 needs avx512_core_bf16 or AMX.
//
// Thread-safety: HostCpu() probes once, on first use, and returns the same
// immutable value to every thread. Calling it fixes oneDNN's ISA for the
// process (dnnl::set_max_cpu_isa has no effect afterwards).
#ifndef ATTNSERVE_ENGINE_CPU_INFO_H_
#define ATTNSERVE_ENGINE_CPU_INFO_H_

#include <string>

#include "oneapi/dnnl/dnnl.hpp"

namespace attnserve::engine {

struct CpuInfo {
  std::string isa;             // e.g. "avx2", "avx512_core_bf16", "avx512_core_amx"
  bool bf16 = false;           // native bf16: avx512_core_bf16 or AMX
  std::string onednn_version;  // e.g. "2.6.3"
  bool avx2 = false;           // AVX2 with FMA (avx2 and up)
  bool avx512_core = false;    // AVX-512 F, BW, VL, DQ (avx512_core and up)
};

// The process's CPU as oneDNN sees it.
const CpuInfo& HostCpu();

// oneDNN's name for `isa` in lower case ("avx2", "avx512_core_bf16", ...).
const char* IsaName(dnnl::cpu_isa isa);

// True when `isa` includes every instruction of avx512_core_bf16 (AMX does).
bool IsaHasBf16(dnnl::cpu_isa isa);
// True when `isa` includes every instruction of `base` (oneDNN's ISA values
// are bit sets, each including the bits of those below it).
bool IsaIncludes(dnnl::cpu_isa isa, dnnl::cpu_isa base);

}  // namespace attnserve::engine

#endif  // ATTNSERVE_ENGINE_CPU_INFO_H_
