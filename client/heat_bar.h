// RenderHeatBar: attention weights as one terminal cell per timestep, shaded
// by weight relative to the largest ("█" = the peak). Pure function.
#ifndef ATTNSERVE_CLIENT_HEAT_BAR_H_
#define ATTNSERVE_CLIENT_HEAT_BAR_H_

#include <string>

#include "absl/types/span.h"

namespace attnserve::client {

std::string RenderHeatBar(absl::Span<const float> weights);

}  // namespace attnserve::client

#endif  // ATTNSERVE_CLIENT_HEAT_BAR_H_
