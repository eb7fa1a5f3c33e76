#include "engine/dnnl_util.h"

#include <cstdlib>
#include <new>

#include "engine/cpu_info.h"

namespace attnserve::engine {

absl::Status DnnlErrorStatus(const char* what, const dnnl::error& e) {
  if (e.status == dnnl_unimplemented) {
    return absl::FailedPreconditionError(
        absl::StrCat(what, ": oneDNN has no implementation of it on this CPU (ISA ",
                     HostCpu().isa, "): ", e.what()));
  }
  return absl::InternalError(
      absl::StrCat(what, ": oneDNN error ", static_cast<int>(e.status), ": ", e.what()));
}

const dnnl::engine& CpuEngine() {
  static const dnnl::engine* const engine = new dnnl::engine(dnnl::engine::kind::cpu, 0);
  return *engine;
}

void AlignedBuffer::Free::operator()(float* p) const { std::free(p); }

float* AlignedBuffer::Reserve(size_t count) {
  if (count <= capacity_ && data_ != nullptr) return data_.get();
  size_t bytes = ((count * sizeof(float) + 63) / 64) * 64;
  if (bytes == 0) bytes = 64;
  void* p = std::aligned_alloc(64, bytes);
  if (p == nullptr) throw std::bad_alloc();
  data_.reset(static_cast<float*>(p));
  capacity_ = bytes / sizeof(float);
  return data_.get();
}

dnnl::memory::desc PlainF32(const dnnl::memory::dims& dims) {
  dnnl::memory::dims strides(dims.size(), 1);
  for (int i = static_cast<int>(dims.size()) - 2; i >= 0; --i) {
    strides[i] = strides[i + 1] * dims[i + 1];
  }
  return dnnl::memory::desc(dims, dnnl::memory::data_type::f32, strides);
}

}  // namespace attnserve::engine
