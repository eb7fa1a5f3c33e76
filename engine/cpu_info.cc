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

bool IsaHasBf16(dnnl::cpu_isa isa) {
  // oneDNN's ISA values are bit sets: each includes the bits of those below it.
  const unsigned bits = static_cast<unsigned>(isa);
  const unsigned bf16 = static_cast<unsigned>(dnnl::cpu_isa::avx512_core_bf16);
  return (bits & bf16) == bf16;
}

const CpuInfo& HostCpu() {
  static const CpuInfo* const info = [] {
    auto* cpu = new CpuInfo();
    const dnnl::cpu_isa isa = dnnl::get_effective_cpu_isa();
    cpu->isa = IsaName(isa);
    cpu->bf16 = IsaHasBf16(isa);
    const dnnl_version_t* version = dnnl::version();
    cpu->onednn_version = absl::StrCat(version->major, ".", version->minor, ".", version->patch);
    return cpu;
  }();
  return *info;
}

}  // namespace attnserve::engine
