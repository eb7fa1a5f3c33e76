// CpuInfo: see cpu_info.h.
#include "engine/cpu_info.h"

#include "absl/strings/str_cat.h"

namespace attnserve::engine {

const char* IsaName(dnnl::cpu_isa isa) {
  switch (isa) {
    case dnnl::cpu_isa::all:
      return "all";
    case dnnl::cpu_isa::sse41:
      return "sse41";
    case dnnl::cpu_isa::avx:
      return "avx";
    case dnnl::cpu_isa::avx2:
      return "avx2";
    case dnnl::cpu_isa::avx2_vnni:
      return "avx2_vnni";
    case dnnl::cpu_isa::avx512_mic:
      return "avx512_mic";
    case dnnl::cpu_isa::avx512_mic_4ops:
      return "avx512_mic_4ops";
    case dnnl::cpu_isa::avx512_core:
      return "avx512_core";
    case dnnl::cpu_isa::avx512_core_vnni:
      return "avx512_core_vnni";
    case dnnl::cpu_isa::avx512_core_bf16:
      return "avx512_core_bf16";
    case dnnl::cpu_isa::avx512_core_amx:
      return "avx512_core_amx";
  }
  return "unknown";
}

bool IsaIncludes(dnnl::cpu_isa isa, dnnl::cpu_isa base) {
  // oneDNN's ISA values are bit sets: each includes the bits of those below it.
  const unsigned bits = static_cast<unsigned>(isa);
  const unsigned wanted = static_cast<unsigned>(base);
  return (bits & wanted) == wanted;
}

bool IsaHasBf16(dnnl::cpu_isa isa) { return IsaIncludes(isa, dnnl::cpu_isa::avx512_core_bf16); }

const CpuInfo& HostCpu() {
  static const CpuInfo* const info = [] {
    auto* cpu = new CpuInfo();
    const dnnl::cpu_isa isa = dnnl::get_effective_cpu_isa();
    cpu->isa = IsaName(isa);
    cpu->bf16 = IsaHasBf16(isa);
    // The engine's own kernels check the CPU as well as oneDNN's cap.
    __builtin_cpu_init();
    cpu->avx2 = IsaIncludes(isa, dnnl::cpu_isa::avx2) && __builtin_cpu_supports("avx2") &&
                __builtin_cpu_supports("fma");
    cpu->avx512_core = IsaIncludes(isa, dnnl::cpu_isa::avx512_core) &&
                       __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                       __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq");
    const dnnl_version_t* version = dnnl::version();
    cpu->onednn_version = absl::StrCat(version->major, ".", version->minor, ".", version->patch);
    return cpu;
  }();
  return *info;
}

}  // namespace attnserve::engine
