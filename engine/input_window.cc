#include "engine/input_window.h"

#include <algorithm>
#include <cstring>

namespace attnserve::engine {

void PackInput(absl::Span<const SequenceView> batch, int64_t steps, int64_t features,
               const AttentionSpec* window, const Embedding* embedding, float* input) {
  const int64_t count = static_cast<int64_t>(batch.size());
  const size_t row_bytes = sizeof(float) * static_cast<size_t>(features);
  if (embedding == nullptr) {
    const float fill = window != nullptr ? window->pad_value : 0.0f;
    std::fill(input, input + steps * count * features, fill);
  } else {
    // Padding is a token id: the window's pad_value, or 0 beyond a length.
    const float* pad = embedding->Row(window != nullptr ? static_cast<int64_t>(window->pad_value)
                                                        : 0);
    for (int64_t row = 0; row < steps * count; ++row) {
      std::memcpy(input + row * features, pad, row_bytes);
    }
  }
  for (int64_t b = 0; b < count; ++b) {
    const int64_t length = batch[b].length;
    const int64_t kept = std::min(length, steps);
    int64_t first_source = 0;  // first step of the sequence that is kept
    int64_t first_target = 0;  // where it lands in the window
    if (window != nullptr) {
      if (length > steps && window->truncate == Truncation::kPre) first_source = length - steps;
      if (length < steps && window->pad == PadSide::kPre) first_target = steps - length;
    }
    for (int64_t t = 0; t < kept; ++t) {
      const float* source = embedding != nullptr
                                ? embedding->Row(batch[b].ids[first_source + t])
                                : batch[b].values + (first_source + t) * features;
      std::memcpy(input + ((first_target + t) * count + b) * features, source, row_bytes);
    }
  }
}

}  // namespace attnserve::engine
