// Input packing: request sequences into the time-major padded batch
// [steps, batch, D] the encoder reads (ws.input).
//
// Without a window a sequence is copied into its first `length` steps and the
// rest is zero (masked later). A model with a time_dense block has a fixed
// window T: every sequence becomes exactly T valid steps, as the model was
// trained (Keras pad_sequences): a shorter one is padded with `pad_value`
// before (`pre`) or after (`post`) its steps; a longer one, when the model
// allows truncation, keeps its last (`pre`) or first (`post`) T steps.
// Longer sequences without truncation are refused earlier, by
// CheckSequenceLength. Thread-safety: pure functions over caller memory.
#ifndef ATTNSERVE_ENGINE_INPUT_WINDOW_H_
#define ATTNSERVE_ENGINE_INPUT_WINDOW_H_

#include <cstdint>

#include "absl/types/span.h"
#include "engine/batch.h"
#include "engine/model_spec.h"

namespace attnserve::engine {

// Writes `batch` into `input` [steps, batch.size(), features] (time-major).
// `window` is the model's time_dense block or nullptr; with a window, `steps`
// must be its window.
void PackInput(absl::Span<const SequenceView> batch, int64_t steps, int64_t features,
               const AttentionSpec* window, float* input);

}  // namespace attnserve::engine

#endif  // ATTNSERVE_ENGINE_INPUT_WINDOW_H_
