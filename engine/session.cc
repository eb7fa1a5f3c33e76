#include "engine/session.h"

#include <omp.h>

#include <algorithm>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "engine/dnnl_util.h"
#include "engine/heap_usage.h"
#include "engine/input_window.h"
#include "engine/model_outputs.h"
#include "engine/shape_policy.h"

namespace attnserve::engine {

Session::Session(std::shared_ptr<const Model> model, SessionOptions options)
    : model_(std::move(model)),
      options_(options),
      stream_(CpuEngine()),
      inert_(static_cast<size_t>(model_->spec().input_size), 0.0f),
      inert_id_(0) {
  options_.threads = std::max(1, options_.threads);
  options_.max_cached_plans = std::max<size_t>(1, options_.max_cached_plans);
  options_.max_plan_bytes = std::max<size_t>(1, options_.max_plan_bytes);
}

absl::Status Session::Validate(absl::Span<const SequenceView> batch) const {
  if (batch.empty()) return absl::InvalidArgumentError("batch is empty");
  const Embedding* embedding = model_->embedding();
  for (size_t b = 0; b < batch.size(); ++b) {
    absl::Status length = CheckSequenceLength(model_->spec(), batch[b].length);
    if (!length.ok()) return absl::InvalidArgumentError(absl::StrCat("sequence ", b, ": ", length.message()));
    if (embedding == nullptr && batch[b].values == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat("sequence ", b, ": no values"));
    }
    if (embedding != nullptr) {
      if (batch[b].ids == nullptr) {
        return absl::InvalidArgumentError(
            absl::StrCat("sequence ", b, ": no token ids (the model reads token ids)"));
      }
      if (absl::Status ids = embedding->CheckIds(batch[b].ids, batch[b].length); !ids.ok()) {
        return absl::InvalidArgumentError(absl::StrCat("sequence ", b, ": ", ids.message()));
      }
    }
  }
  return absl::OkStatus();
}

ExecutionPlan& Session::PlanFor(int64_t rows, int64_t steps) {
  const Key key = (static_cast<uint64_t>(rows) << 32) | static_cast<uint64_t>(steps);
  auto found = plan_index_.find(key);
  if (found != plan_index_.end()) {
    plans_.splice(plans_.begin(), plans_, found->second);
    ++stats_.plan_cache_hits;
    return *plans_.front().plan;
  }
  const int64_t heap_before = HeapBytesInUse();
  auto plan = std::make_unique<ExecutionPlan>(*model_, rows, steps);
  const int64_t bytes = std::max<int64_t>(0, HeapBytesInUse() - heap_before);
  ++stats_.plans_built;
  plans_.push_front({key, std::move(plan), bytes});
  plan_index_[key] = plans_.begin();
  stats_.plan_bytes += bytes;
  while (plans_.size() > options_.max_cached_plans ||
         (plans_.size() > 1 && stats_.plan_bytes > static_cast<int64_t>(options_.max_plan_bytes))) {
    stats_.plan_bytes -= plans_.back().bytes;
    plan_index_.erase(plans_.back().key);
    plans_.pop_back();
    ++stats_.plans_evicted;
  }
  stats_.plans_cached = static_cast<int64_t>(plans_.size());
  return *plans_.front().plan;
}

void Session::ShapeOutput(int64_t rows, int64_t steps, BatchOutput* out) const {
  out->num_outputs = model_->spec().num_outputs();
  out->padded_rows = rows;
  out->padded_steps = steps;
  out->outputs.resize(static_cast<size_t>(rows * out->num_outputs));
  const std::vector<AttentionOutputInfo>& infos = model_->attention_outputs();
  out->attention.resize(infos.size());
  for (size_t i = 0; i < infos.size(); ++i) {
    const AttentionOutputInfo& info = infos[i];
    AttentionMap& map = out->attention[i];
    map.name = info.name;
    map.stride = 1;
    for (int64_t d : info.dims) map.stride *= d == kSequenceLength ? steps : d;
    map.values.resize(static_cast<size_t>(rows * map.stride));
    map.shapes.resize(static_cast<size_t>(rows));
    for (int64_t b = 0; b < rows; ++b) {
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
  absl::Status status = RunValid(batch, out);
  if (status.ok()) ++stats_.batches;
  return status;
}

absl::Status Session::Warm(absl::Span<const BatchShape> shapes) {
  BatchOutput out;
  for (const BatchShape& shape : shapes) {
    if (shape.sequences < 1) {
      return absl::InvalidArgumentError(
          absl::StrCat("warm-up shape ", shape.sequences, "x", shape.steps, ": no sequences"));
    }
    absl::Status length = CheckSequenceLength(model_->spec(), shape.steps);
    if (!length.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("warm-up shape ", shape.sequences, "x",
                                                     shape.steps, ": ", length.message()));
    }
    // One sequence of the longest length (zeros) and inert rows for the rest.
    std::vector<float> zeros(static_cast<size_t>(shape.steps * model_->spec().input_size), 0.0f);
    std::vector<int64_t> zero_ids(static_cast<size_t>(shape.steps), 0);
    std::vector<SequenceView> batch(static_cast<size_t>(shape.sequences), InertRow());
    batch[0] = {zeros.data(), static_cast<int>(shape.steps), zero_ids.data()};
    if (absl::Status status = RunValid(batch, &out); !status.ok()) return status;
  }
  return absl::OkStatus();
}

absl::Status Session::RunValid(absl::Span<const SequenceView> batch, BatchOutput* out) {
  const int64_t count = static_cast<int64_t>(batch.size());
  const int64_t rows = PaddedRows(count);
  const int window = model_->spec().window();
  rows_.assign(batch.begin(), batch.end());
  rows_.resize(static_cast<size_t>(rows), InertRow());
  lengths_.resize(static_cast<size_t>(rows));
  int64_t longest = 0;
  for (int64_t b = 0; b < rows; ++b) {
    // A windowed model sees every sequence padded or truncated to the window.
    lengths_[b] = window > 0 ? window : rows_[b].length;
    longest = std::max<int64_t>(longest, rows_[b].length);
    if (b < count) stats_.steps_requested += rows_[b].length;
  }
  const int64_t steps = window > 0 ? window : PaddedSteps(longest);
  // Primitives are built and run with this session's thread count.
  omp_set_num_threads(options_.threads);
  return GuardDnnl("running a batch", [&]() -> absl::Status {
    ExecutionPlan& plan = PlanFor(rows, steps);
    const int64_t features = model_->spec().input_size;
    engine::PackInput(rows_, steps, features, model_->spec().windowed(), model_->embedding(),
                      ws_.input.Reserve(static_cast<size_t>(steps * rows * features)));
    ShapeOutput(rows, steps, out);
    out->batch_size = count;
    plan.Run(stream_, lengths_, ws_, out);
    stats_.sequences += count;
    stats_.rows_computed += rows;
    out->steps_computed = plan.ComputedSteps(lengths_);
    stats_.steps_computed += out->steps_computed;
    return absl::OkStatus();
  });
}

}  // namespace attnserve::engine
