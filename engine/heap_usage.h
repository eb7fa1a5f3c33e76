// HeapBytesInUse: the bytes the process's allocator has handed out and not
// taken back (glibc's mallinfo2: arena blocks in use plus mmapped blocks).
//
// Session uses the growth across building a plan as that plan's size
// estimate: a plan's primitives live in oneDNN's own heap allocations, which
// no oneDNN query reports. Allocations other threads make meanwhile count
// too, so the figure is an estimate. Thread-safety: any thread.
#ifndef ATTNSERVE_ENGINE_HEAP_USAGE_H_
#define ATTNSERVE_ENGINE_HEAP_USAGE_H_

#include <malloc.h>

#include <cstdint>

namespace attnserve::engine {

inline int64_t HeapBytesInUse() {
  const struct mallinfo2 info = mallinfo2();
  return static_cast<int64_t>(info.uordblks + info.hblkhd);
}

}  // namespace attnserve::engine

#endif  // ATTNSERVE_ENGINE_HEAP_USAGE_H_
