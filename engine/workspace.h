// Workspace: the reusable buffers one Session runs its batches in.
//
// Every buffer only grows, so a session serving shapes it has seen before
// allocates nothing. The oneDNN scratchpad is shared by every primitive the
// session runs (they run one after another on the session's thread).
// Ownership: owned by one Session. Thread-safety: none; one thread at a time.
#ifndef ATTNSERVE_ENGINE_WORKSPACE_H_
#define ATTNSERVE_ENGINE_WORKSPACE_H_

#include <cstddef>
#include <vector>

#include "engine/dnnl_util.h"
#include "engine/ragged_schedule.h"
#include "oneapi/dnnl/dnnl.hpp"

namespace attnserve::engine {

// The matmul LSTM's per-run buffers (matmul_lstm.h); "compute type" is f32,
// or bf16 bytes in a bf16 model.
struct MatmulLstmBuffers {
  RaggedSchedule schedule;
  AlignedBuffer packed[2];  // packed layer inputs and outputs [sum of lengths, width], compute type
  AlignedBuffer gates_x;    // input projections [sum of lengths, directions x 4H]
  AlignedBuffer gates_h;    // recurrent projections [directions, batch, 4H]
  AlignedBuffer cell;       // cell states [directions, batch, H]
  AlignedBuffer state;      // hidden states [directions, batch, H], compute type
  std::vector<const float*> gx_rows;  // per running row: its input projection
  std::vector<void*> out_rows;        // per running row: where its output goes
};

struct Workspace {
  AlignedBuffer input;        // [T, B, D] time-major padded batch
  AlignedBuffer layer[2];     // encoder layer outputs, alternating
  AlignedBuffer reversed;     // bidirectional: input reversed within each length
  AlignedBuffer forward;      // bidirectional: forward direction output
  AlignedBuffer backward;     // bidirectional: backward direction output
  AlignedBuffer projection;   // attention projections [T*B, units], time_dense [B, k, T]
  AlignedBuffer scores;       // attention scores [B, T]
  AlignedBuffer mixed_scores; // score_mix: the mixed scores [B, T]
  AlignedBuffer mask;         // attention mask [B, T]: 0 or -inf
  AlignedBuffer query_proj;   // query-side vectors [B, d]
  AlignedBuffer norms;        // cosine: step norms [B, T], query norms [B]
  AlignedBuffer context;      // context vectors, [c; q] for luong [B, 2d]
  AlignedBuffer gate;         // head gate output v * g [B, n]
  AlignedBuffer vector;       // attention block output / head input [B, d]
  AlignedBuffer query;        // last valid encoder output per sequence [B, d]
  AlignedBuffer head[2];      // head layer outputs, alternating
  MatmulLstmBuffers matmul_lstm;

  // Returns a scratchpad memory of at least `bytes` bytes, reallocating only
  // when it must grow.
  const dnnl::memory& Scratchpad(size_t bytes);

 private:
  AlignedBuffer scratchpad_;
  dnnl::memory scratchpad_memory_;
  size_t scratchpad_bytes_ = 0;
};

}  // namespace attnserve::engine

#endif  // ATTNSERVE_ENGINE_WORKSPACE_H_
