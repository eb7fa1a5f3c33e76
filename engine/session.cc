#include "engine/session.h"

#include <omp.h>

#include <algorithm>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "engine/dnnl_util.h"
#include "engine/input_window.h"
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

void Session::ShapeOutput(int64_t batch, int64_t steps, BatchOutput* out) const {
  out->batch_size = batch;
  out->num_outputs = model_->spec().num_outputs();
  out->padded_steps = steps;
  out->outputs.resize(static_cast<size_t>(batch * out->num_outputs));
  const std::vector<AttentionOutputInfo>& infos = model_->attention_outputs();
  out->attention.resize(infos.size());
  for (size_t i = 0; i < infos.size(); ++i) {
    const AttentionOutputInfo& info = infos[i];
    AttentionMap& map = out->attention[i];
    map.name = info.name;
    map.stride = 1;
    for (int64_t d : info.dims) map.stride *= d == kSequenceLength ? steps : d;
    map.values.resize(static_cast<size_t>(batch * map.stride));
    map.shapes.resize(static_cast<size_t>(batch));
    for (int64_t b = 0; b < batch; ++b) {
      AttentionShape& shape = map.shapes[b];
      shape.rank = static_cast<int>(info.dims.size());
      shape.dims[1] = 0;
      for (int r = 0; r < shape.rank; ++r) {
        shape.dims[r] = info.dims[r] == kSequenceLength ? lengths_[b] : info.dims[r];
      }
    }
  }
}

absl::Status Session::Run(absl::Span<const SequenceView> batch, BatchOutput* out) {
  if (absl::Status valid = Validate(batch); !valid.ok()) return valid;
  const int64_t count = static_cast<int64_t>(batch.size());
  const int window = model_->spec().window();
  lengths_.resize(batch.size());
  int64_t longest = 0;
  for (size_t b = 0; b < batch.size(); ++b) {
    // A windowed model sees every sequence padded or truncated to the window.
    lengths_[b] = window > 0 ? window : batch[b].length;
    longest = std::max<int64_t>(longest, batch[b].length);
    stats_.steps_requested += batch[b].length;
  }
  const int64_t steps = window > 0 ? window : PaddedSteps(longest);
  // Primitives are built and run with this session's thread count.
  omp_set_num_threads(options_.threads);
  return GuardDnnl("running a batch", [&]() -> absl::Status {
    ExecutionPlan& plan = PlanFor(count, steps);
    const int64_t features = model_->spec().input_size;
    engine::PackInput(batch, steps, features, model_->spec().time_dense(),
                      ws_.input.Reserve(static_cast<size_t>(steps * count * features)));
    ShapeOutput(count, steps, out);
    plan.Run(stream_, lengths_, ws_, out);
    ++stats_.batches;
    stats_.steps_computed += count * steps;
    return absl::OkStatus();
  });
}

}  // namespace attnserve::engine
