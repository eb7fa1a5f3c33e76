// Model configuration: a model's config.pbtxt (protobuf text format, message
// attnserve.v1.ModelConfig in proto/attnserve/v1/model_config.proto) applied
// over the server's defaults (the command-line flags).
//
// Contract: ParseModelConfig() returns the settings, version policy and labels
// the model serves with; without a config.pbtxt, the defaults (policy:
// latest 1, no labels). An unknown field, a syntax error or a bad value is
// INVALID_ARGUMENT with a message naming the field (and, for syntax, its line
// and column): the lifecycle then marks that model FAILED, and the others
// serve. Thread-safety: a pure function.
#ifndef ATTNSERVE_SERVER_LIFECYCLE_MODEL_CONFIG_H_
#define ATTNSERVE_SERVER_LIFECYCLE_MODEL_CONFIG_H_

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "server/lifecycle/version_policy.h"
#include "server/serving/serving_settings.h"

namespace attnserve::server {

struct ModelServingConfig {
  ServingSettings settings;
  VersionPolicy policy = VersionPolicy::Latest(1);
  std::map<std::string, int64_t> labels;
};

// Most warm-up lengths a config.pbtxt may list (each is prepared at every
// batch row count before the version serves).
inline constexpr size_t kMaxWarmupLengths = 64;

// A canonical text of `settings`: equal keys, equal settings.
std::string SettingsKey(const ServingSettings& settings);

// `text`: config.pbtxt's contents, or nullopt when the model has none.
absl::StatusOr<ModelServingConfig> ParseModelConfig(const std::string& model,
                                                    const std::optional<std::string>& text,
                                                    const ServingSettings& defaults);

}  // namespace attnserve::server

#endif  // ATTNSERVE_SERVER_LIFECYCLE_MODEL_CONFIG_H_
