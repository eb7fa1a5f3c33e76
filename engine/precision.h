// Compute precision helpers: which oneDNN data type a layer computes in, and
// the staging area a bf16 layer converts its f32 input into.
//
// Precision (model_spec.h) is per model: kF32 runs every primitive in f32;
// kBF16 runs the LSTM primitives and the dense matmuls on bf16 weights and
// activations, accumulating in f32. Everything a layer hands to the rest of
// the engine stays f32 (its outputs, softmax inputs, attention weights), so
// only the layers themselves know about bf16.
//
// Staging: a bf16 layer needs its f32 input converted before the primitive
// reads it. That buffer lives only for the layer's Run(), so it is carved from
// the session's scratchpad (after the region the primitive itself uses):
// a plan's scratchpad_bytes() is StagingOffset(primitive bytes) plus the
// staged bytes, and Run() finds the buffer with StagingBuffer(). No plan owns
// per-shape activation memory, and a session of shapes it has seen still
// allocates nothing.
// Thread-safety: pure functions.
#ifndef ATTNSERVE_ENGINE_PRECISION_H_
#define ATTNSERVE_ENGINE_PRECISION_H_

#include <cstddef>
#include <cstdint>

#include "engine/model_spec.h"
#include "oneapi/dnnl/dnnl.hpp"

namespace attnserve::engine {

// The data type of weights and activations inside a layer of this precision.
inline dnnl::memory::data_type ComputeType(Precision precision) {
  return precision == Precision::kBF16 ? dnnl::memory::data_type::bf16
                                       : dnnl::memory::data_type::f32;
}

// Bytes per activation element inside a layer of this precision.
inline size_t ComputeBytes(Precision precision) { return precision == Precision::kBF16 ? 2 : 4; }

// `bytes` rounded up to the 64-byte alignment oneDNN and AlignedBuffer use.
inline size_t AlignTo64(size_t bytes) { return (bytes + 63) / 64 * 64; }

// Where a plan's staging buffer starts inside the scratchpad, given the bytes
// its own primitive needs there.
inline size_t StagingOffset(size_t primitive_scratchpad_bytes) {
  return AlignTo64(primitive_scratchpad_bytes);
}

// The staging buffer inside `scratchpad` (which must hold at least
// StagingOffset(primitive_scratchpad_bytes) + the staged bytes).
inline void* StagingBuffer(const dnnl::memory& scratchpad, size_t primitive_scratchpad_bytes) {
  return static_cast<char*>(scratchpad.get_data_handle()) +
         StagingOffset(primitive_scratchpad_bytes);
}

}  // namespace attnserve::engine

#endif  // ATTNSERVE_ENGINE_PRECISION_H_
