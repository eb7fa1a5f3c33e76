// Fuzz target: config.pbtxt (ParseModelConfig). Any text either gives
// settings inside the documented ranges, or is refused with INVALID_ARGUMENT
// whose message starts with the file's name; never a crash, hang or other
// status. An accepted text parses to the same settings a second time.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>

#include "absl/strings/match.h"
#include "server/lifecycle/model_config.h"
#include "server/lifecycle/repository_scan.h"

namespace {

using attnserve::server::ModelServingConfig;
using attnserve::server::ParseModelConfig;
using attnserve::server::ServingSettings;

void Check(bool condition) {
  if (!condition) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  const ServingSettings defaults;
  absl::StatusOr<ModelServingConfig> config = ParseModelConfig("model", text, defaults);
  if (!config.ok()) {
    Check(config.status().code() == absl::StatusCode::kInvalidArgument);
    Check(absl::StartsWith(config.status().message(), attnserve::server::kModelConfigFile));
    return 0;
  }
  const ServingSettings& s = config->settings;
  Check(s.batching.max_batch_size >= 1 && s.batching.max_batch_size <= 4096);
  Check(s.batching.max_queue_size >= 1 && s.batching.max_queue_size <= 1000000);
  Check(s.batching.max_queue_delay.count() >= 0);
  Check(s.batching.max_padding_fraction >= 0.0 && s.batching.max_padding_fraction <= 1.0);
  Check(s.workers >= 1 && s.workers <= 64);
  Check(s.threads_per_worker >= 1 && s.threads_per_worker <= 64);
  Check(s.max_cached_plans >= 1 && s.max_plan_bytes >= 1);
  Check(s.warmup_lengths.size() <= attnserve::server::kMaxWarmupLengths);
  for (int length : s.warmup_lengths) Check(length >= 1);
  for (const auto& [label, version] : config->labels) Check(!label.empty() && version >= 1);

  absl::StatusOr<ModelServingConfig> again = ParseModelConfig("model", text, defaults);
  Check(again.ok());
  Check(SettingsKey(again->settings) == SettingsKey(s));
  Check(again->labels == config->labels);
  return 0;
}
