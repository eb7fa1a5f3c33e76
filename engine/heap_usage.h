// HeapBytesInUse: the bytes the process's allocator has handed out and not
// taken back (glibc's mallinfo2: arena blocks in use plus mmapped blocks; in
// an AddressSanitizer build, which replaces malloc, the sanitizer's count).
//
// Session uses the growth across building a plan as that plan's size
// estimate: a plan's primitives live in oneDNN's own heap allocations, which
// no oneDNN query reports. Allocations other threads make meanwhile count
// too, so the figure is an estimate. Thread-safety: any thread.
#ifndef ATTNSERVE_ENGINE_HEAP_USAGE_H_
#define ATTNSERVE_ENGINE_HEAP_USAGE_H_

#include <malloc.h>

#include <cstddef>
#include <cstdint>

#if defined(__SANITIZE_ADDRESS__)
#define ATTNSERVE_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define ATTNSERVE_ASAN 1
#endif
#endif
#ifdef ATTNSERVE_ASAN
// The sanitizer runtime's allocator statistics (GCC ships no header for it).
extern "C" size_t __sanitizer_get_current_allocated_bytes();
#endif

namespace attnserve::engine {

inline int64_t HeapBytesInUse() {
#ifdef ATTNSERVE_ASAN
  return static_cast<int64_t>(__sanitizer_get_current_allocated_bytes());
#else
  const struct mallinfo2 info = mallinfo2();
  return static_cast<int64_t>(info.uordblks + info.hblkhd);
#endif
}

}  // namespace attnserve::engine

#endif  // ATTNSERVE_ENGINE_HEAP_USAGE_H_
