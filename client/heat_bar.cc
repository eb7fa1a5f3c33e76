#include "client/heat_bar.h"

#include <algorithm>

namespace attnserve::client {

std::string RenderHeatBar(absl::Span<const float> weights) {
  static const char* const kShades[] = {" ", "░", "▒", "▓", "█"};
  const float peak = weights.empty() ? 0.0f : *std::max_element(weights.begin(), weights.end());
  std::string bar;
  for (float w : weights) {
    int level = peak > 0.0f ? static_cast<int>(w / peak * 4.0f + 0.5f) : 0;
    bar += kShades[std::clamp(level, 0, 4)];
  }
  return bar;
}

}  // namespace attnserve::client
