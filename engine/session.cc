#include "engine/session.h"

#include <omp.h>

#include <algorithm>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "engine/dnnl_util.h"
#include "engine/model_outputs.h"
#include "engine/shape_policy.h"

namespace attnserve::engine {

Session::Session(std::shared_ptr<const Model> model, SessionOptions options)
    : model_(std::move(model)), options_(options), stream_(CpuEngine()) {
  options_.threads = std::max(1, options_.threads);
  options_.max_cached_plans = std::max<size_t>(1, options_.max_cached_plans);
}

absl::Status Session::Validate(absl::Span<const SequenceView> batch) const {
  if (batch.empty()) return absl::InvalidArgumentError("batch is empty");
  for (size_t b = 0; b < batch.size(); ++b) {
    absl::Status length = CheckSequenceLength(model_->spec(), batch[b].length);
    if (!length.ok()) return absl::InvalidArgumentError(absl::StrCat("sequence ", b, ": ", length.message()));
    if (batch[b].values == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat("sequence ", b, ": no values"));
    }
  }
  return absl::OkStatus();
}

ExecutionPlan& Session::PlanFor(int64_t batch, int64_t steps) {
  const Key key = (static_cast<uint64_t>(batch) << 32) | static_cast<uint64_t>(steps);
  auto found = plan_index_.find(key);
  if (found != plan_index_.end()) {
    plans_.splice(plans_.begin(), plans_, found->second);
    ++stats_.plan_cache_hits;
    return *plans_.front().second;
  }
  auto plan = std::make_unique<ExecutionPlan>(*model_, batch, steps);
  ++stats_.plans_built;
  if (plan->weight_reorders() > 0) ++stats_.weight_reorders;
  plans_.emplace_front(key, std::move(plan));
  plan_index_[key] = plans_.begin();
  while (plans_.size() > options_.max_cached_plans) {
    plan_index_.erase(plans_.back().first);
    plans_.pop_back();
    ++stats_.plans_evicted;
  }
  return *plans_.front().second;
}

void Session::PackInput(absl::Span<const SequenceView> batch, int64_t steps) {
  const int64_t features = model_->spec().input_size;
  const int64_t count = static_cast<int64_t>(batch.size());
  float* input = ws_.input.Reserve(static_cast<size_t>(steps * count * features));
  std::memset(input, 0, sizeof(float) * static_cast<size_t>(steps * count * features));
  for (int64_t b = 0; b < count; ++b) {
    const float* src = batch[b].values;
    for (int64_t t = 0; t < batch[b].length; ++t) {
      std::memcpy(input + (t * count + b) * features, src + t * features,
                  sizeof(float) * static_cast<size_t>(features));
    }
  }
}

void Session::ShapeOutput(int64_t batch, int64_t steps, BatchOutput* out) const {
  out->batch_size = batch;
  out->num_outputs = model_->spec().num_outputs();
  out->padded_steps = steps;
  out->outputs.resize(static_cast<size_t>(batch * out->num_outputs));
  const bool has_temporal = model_->temporal_attention() != nullptr;
  out->attention.resize(has_temporal ? 1 : 0);
  if (!has_temporal) return;
  AttentionMap& map = out->attention[0];
  map.name = model_->attention_outputs()[0].name;
  map.stride = steps;
  map.values.resize(static_cast<size_t>(batch * steps));
  map.shapes.resize(static_cast<size_t>(batch));
  for (int64_t b = 0; b < batch; ++b) {
    map.shapes[b].rank = 1;
    map.shapes[b].dims[0] = lengths_[b];
    map.shapes[b].dims[1] = 0;
  }
}

absl::Status Session::Run(absl::Span<const SequenceView> batch, BatchOutput* out) {
  if (absl::Status valid = Validate(batch); !valid.ok()) return valid;
  const int64_t count = static_cast<int64_t>(batch.size());
  lengths_.resize(batch.size());
  int64_t longest = 0;
  for (size_t b = 0; b < batch.size(); ++b) {
    lengths_[b] = batch[b].length;
    longest = std::max<int64_t>(longest, batch[b].length);
    stats_.steps_requested += batch[b].length;
  }
  const int64_t steps = PaddedSteps(longest);
  // Primitives are built and run with this session's thread count.
  omp_set_num_threads(options_.threads);
  return GuardDnnl("running a batch", [&]() -> absl::Status {
    ExecutionPlan& plan = PlanFor(count, steps);
    PackInput(batch, steps);
    ShapeOutput(count, steps, out);
    plan.Run(stream_, lengths_, ws_, out);
    ++stats_.batches;
    stats_.steps_computed += count * steps;
    return absl::OkStatus();
  });
}

}  // namespace attnserve::engine
