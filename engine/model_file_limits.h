// ModelFileLimits: the bounds on a model version's files (model.json and
// weights.safetensors) that LoadModelFiles and TensorFile enforce, so that a
// damaged or hostile file is refused before it can take much memory or time.
//
// Contract: every limit is checked before anything whose size comes from the
// file is allocated or read; a file over a limit is refused with
// InvalidArgument naming the file, what it holds and the limit. The defaults
// leave room for any model the format allows in practice. Ownership: a plain
// value, copied freely. Thread-safety: a plain value; share it read-only.
#ifndef ATTNSERVE_ENGINE_MODEL_FILE_LIMITS_H_
#define ATTNSERVE_ENGINE_MODEL_FILE_LIMITS_H_

#include <cstdint>

namespace attnserve::engine {

struct ModelFileLimits {
  // Largest model.json, in bytes, as the file system reports its size; a larger
  // one is refused without being read. Default 1 MiB (real specs take a few
  // hundred bytes to a few kilobytes).
  uint64_t max_spec_bytes = uint64_t{1} << 20;

  // Largest weights.safetensors, in bytes, as the file system reports its size;
  // a larger one is refused without being read. Default 4 GiB.
  uint64_t max_weights_file_bytes = uint64_t{4} << 30;

  // Largest safetensors JSON header (the length its 8-byte prefix declares), in
  // bytes. Default 16 MiB; the format itself never allows more than
  // 100,000,000, whatever this says.
  uint64_t max_header_bytes = uint64_t{16} << 20;

  // Most tensors a safetensors header may list (the __metadata__ entry does not
  // count). Default 65,536.
  uint64_t max_tensors = 65536;

  // Largest total size of the weights once converted to f32 (4 bytes per
  // element, summed over every tensor of the file): the memory LoadModelFiles
  // allocates for them. F16 and BF16 files take twice their size, F64 files
  // half. Default 4 GiB.
  uint64_t max_weights_memory_bytes = uint64_t{4} << 30;
};

}  // namespace attnserve::engine

#endif  // ATTNSERVE_ENGINE_MODEL_FILE_LIMITS_H_
