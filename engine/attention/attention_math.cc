#include "engine/attention/attention_math.h"

#include <cstring>

namespace attnserve::engine {

void GatherLastValid(const float* h, absl::Span<const int> lengths, int64_t batch, int64_t dim,
                     float* out) {
  for (int64_t b = 0; b < batch; ++b) {
    std::memcpy(out + b * dim, h + ((lengths[b] - 1) * batch + b) * dim, sizeof(float) * dim);
  }
}

}  // namespace attnserve::engine
