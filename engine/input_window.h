// Input packing: request sequences into the time-major padded batch
// [steps, batch, D] the encoder reads (ws.input). A token-id model's steps are
// rows of its embedding table (D = its dim), looked up here.
//
// Without a window a sequence is copied into its first `length` steps and the
// rest is zero (masked later). A model with a time_dense block has a fixed
// window T: every sequence becomes exactly T valid steps, as the model was
// trained (Keras pad_sequences): a shorter one is padded with `pad_value`
// before (`pre`) or after (`post`) its steps; a longer one, when the model
// allows truncation, keeps its last (`pre`) or first (`post`) T steps.
// With an embedding, the window's pad_value is a token id, so padded steps
// read its row. Longer sequences without truncation are refused earlier, by
// CheckSequenceLength, and ids outside the vocabulary by Embedding::CheckIds.
// Thread-safety: pure functions over caller memory.
#ifndef ATTNSERVE_ENGINE_INPUT_WINDOW_H_
#define ATTNSERVE_ENGINE_INPUT_WINDOW_H_

#include <cstdint>

#include "absl/types/span.h"
#include "engine/batch.h"
#include "engine/embedding.h"
#include "engine/model_spec.h"

namespace attnserve::engine {

// Writes `batch` into `input` [steps, batch.size(), features] (time-major).
// `window` is the model's windowed block (ModelSpec::windowed()) or nullptr;
// with a window, `steps` must be its window. `embedding` is the model's, or
// null (then every view has values; with it, every view has ids).
void PackInput(absl::Span<const SequenceView> batch, int64_t steps, int64_t features,
               const AttentionSpec* window, const Embedding* embedding, float* input);

}  // namespace attnserve::engine

#endif  // ATTNSERVE_ENGINE_INPUT_WINDOW_H_
