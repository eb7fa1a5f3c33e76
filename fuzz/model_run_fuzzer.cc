// Fuzz target: every model.json the parser accepts builds and runs. A small
// spec (at most 200k weights) gets deterministic weights, is built with
// engine::Model::Build and runs one padded batch of two sequences; the run
// must succeed (FailedPrecondition only for bf16 on a CPU without it) and
// every output and attention weight must be finite.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <vector>

#include "absl/strings/string_view.h"
#include "engine/model.h"
#include "engine/model_files.h"
#include "engine/model_spec.h"
#include "engine/session.h"

namespace {

constexpr int64_t kMaxWeights = 200000;

bool Finite(const std::vector<float>& values) {
  for (float v : values) {
    if (!std::isfinite(v)) return false;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace attnserve::engine;
  absl::StatusOr<ModelSpec> spec =
      ParseModelSpec(absl::string_view(reinterpret_cast<const char*>(data), size));
  if (!spec.ok() || spec->window() > 64) return 0;
  ModelFiles files;
  files.spec = *spec;
  int64_t total = 0;
  for (const TensorRequirement& req : RequiredTensors(*spec)) {
    int64_t n = 1;
    for (int64_t d : req.shape) {
      n *= d;
      if (n > kMaxWeights) return 0;
    }
    total += n;
    if (total > kMaxWeights) return 0;
    FloatTensor tensor;
    tensor.shape = req.shape;
    tensor.values.resize(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) tensor.values[i] = 0.05f * static_cast<float>((i * 7) % 11 - 5);
    files.weights[req.name] = std::move(tensor);
  }
  absl::StatusOr<std::shared_ptr<const Model>> model = Model::Build(files);
  if (!model.ok()) {
    if (model.status().code() != absl::StatusCode::kFailedPrecondition) std::abort();
    return 0;
  }
  const int longest = spec->max_length > 0 ? std::min(spec->max_length, 5) : 5;
  std::vector<float> values(static_cast<size_t>(longest * spec->input_size), 0.25f);
  const SequenceView batch[] = {{values.data(), longest}, {values.data(), 1}};
  Session session(*model, {});
  BatchOutput out;
  if (!session.Run(batch, &out).ok()) std::abort();
  if (!Finite(out.outputs)) std::abort();
  for (const AttentionMap& map : out.attention) {
    if (!Finite(map.values)) std::abort();
  }
  return 0;
}
