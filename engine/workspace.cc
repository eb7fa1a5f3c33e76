#include "engine/workspace.h"

namespace attnserve::engine {

const dnnl::memory& Workspace::Scratchpad(size_t bytes) {
  if (bytes == 0) bytes = 64;
  if (!scratchpad_memory_ || bytes > scratchpad_bytes_) {
    float* base = scratchpad_.Reserve((bytes + sizeof(float) - 1) / sizeof(float));
    scratchpad_bytes_ = scratchpad_.capacity() * sizeof(float);
    dnnl::memory::desc desc({static_cast<dnnl::memory::dim>(scratchpad_bytes_)},
                            dnnl::memory::data_type::u8, dnnl::memory::format_tag::x);
    scratchpad_memory_ = dnnl::memory(desc, CpuEngine(), base);
  }
  return scratchpad_memory_;
}

}  // namespace attnserve::engine
