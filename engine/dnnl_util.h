// Internal helpers at the oneDNN boundary: the CPU engine, 64-byte aligned
// reusable buffers, and the one place that turns oneDNN exceptions into
// absl::Status.
//
// Thread-safety: CpuEngine() is safe to call from any thread (oneDNN engines
// are thread-safe). AlignedBuffer is not synchronised; each owner uses its own.
#ifndef ATTNSERVE_ENGINE_DNNL_UTIL_H_
#define ATTNSERVE_ENGINE_DNNL_UTIL_H_

#include <cstddef>
#include <exception>
#include <memory>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "oneapi/dnnl/dnnl.hpp"

namespace attnserve::engine {

// The process-wide CPU engine.
const dnnl::engine& CpuEngine();

// The status a dnnl::error becomes: FailedPrecondition when oneDNN has no
// implementation of the primitive on this CPU (naming the CPU's ISA),
// Internal otherwise; the message names `what`.
absl::Status DnnlErrorStatus(const char* what, const dnnl::error& e);

// Runs `fn`; a dnnl::error becomes DnnlErrorStatus, std::bad_alloc
// ResourceExhausted, any other std::exception an Internal status that names
// `what`. `fn` returns absl::Status.
template <typename Fn>
absl::Status GuardDnnl(const char* what, Fn&& fn) {
  try {
    return std::forward<Fn>(fn)();
  } catch (const dnnl::error& e) {
    return DnnlErrorStatus(what, e);
  } catch (const std::bad_alloc&) {
    return absl::ResourceExhaustedError(absl::StrCat(what, ": out of memory"));
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat(what, ": ", e.what()));
  }
}

// A growable, 64-byte aligned float buffer whose contents are not preserved
// when it grows. Growth is the only allocation; steady state allocates nothing.
class AlignedBuffer {
 public:
  AlignedBuffer() = default;
  AlignedBuffer(const AlignedBuffer&) = delete;
  AlignedBuffer& operator=(const AlignedBuffer&) = delete;

  // Ensures room for `count` floats; returns the (possibly new) base pointer.
  float* Reserve(size_t count);
  float* data() const { return data_.get(); }
  size_t capacity() const { return capacity_; }

 private:
  struct Free {
    void operator()(float* p) const;
  };
  std::unique_ptr<float, Free> data_;
  size_t capacity_ = 0;
};

// A plain row-major f32 descriptor of the given dims.
dnnl::memory::desc PlainF32(const dnnl::memory::dims& dims);

}  // namespace attnserve::engine

#endif  // ATTNSERVE_ENGINE_DNNL_UTIL_H_
