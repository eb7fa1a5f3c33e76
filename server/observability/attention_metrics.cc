// AttentionMetrics: see attention_metrics.h.
#include "server/observability/attention_metrics.h"

#include <algorithm>
#include <cmath>

#include "absl/types/span.h"
#include "server/observability/attention_summary.h"

namespace attnserve::server {

const prometheus::Histogram::BucketBoundaries& AttentionBuckets() {
  static const auto* const buckets = new prometheus::Histogram::BucketBoundaries{
      0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5,
      0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95, 1.0};
  return *buckets;
}

AttentionMapKind AttentionMapKindFor(const engine::AttentionOutputInfo& map) {
  if (map.name == "feature") return AttentionMapKind::kFeatures;
  if (map.name == "gate") return AttentionMapKind::kGate;
  return map.dims.size() >= 2 ? AttentionMapKind::kStepsChannels : AttentionMapKind::kSteps;
}

AttentionRecorder::AttentionRecorder(const AttentionSeries* series) : series_(series) {
  for (const AttentionMapSeries& map : series_->maps) {
    Slots slots;
    slots.entropy = AddPending(map.entropy);
    slots.peak_position = AddPending(map.peak_position);
    slots.peak_weight = AddPending(map.peak_weight);
    slots.gate_mean = AddPending(map.gate_mean);
    for (prometheus::Histogram* h : map.feature_share) slots.feature_share.push_back(AddPending(h));
    slots_.push_back(std::move(slots));
  }
}

int AttentionRecorder::AddPending(prometheus::Histogram* histogram) {
  if (histogram == nullptr) return -1;
  Pending pending;
  pending.histogram = histogram;
  pending.increments.assign(AttentionBuckets().size() + 1, 0.0);
  pending_.push_back(std::move(pending));
  return static_cast<int>(pending_.size()) - 1;
}

void AttentionRecorder::Observe(int slot, double value) {
  if (slot < 0 || !std::isfinite(value)) return;  // a NaN gate would poison the sum
  Pending& p = pending_[static_cast<size_t>(slot)];
  // The first bucket whose upper bound is >= value (as Histogram::Observe).
  const auto& bounds = AttentionBuckets();
  const size_t bucket =
      static_cast<size_t>(std::lower_bound(bounds.begin(), bounds.end(), value) - bounds.begin());
  p.increments[bucket] += 1;
  p.sum += value;
  p.any = true;
}

void AttentionRecorder::Record(const engine::BatchOutput& out, int64_t rows) {
  const size_t maps = std::min(out.attention.size(), series_->maps.size());
  for (size_t m = 0; m < maps; ++m) {
    const engine::AttentionMap& map = out.attention[m];
    for (int64_t row = 0; row < rows && row < static_cast<int64_t>(map.shapes.size()); ++row) {
      RecordMap(series_->maps[m], slots_[m], map.shapes[static_cast<size_t>(row)],
                map.values.data() + row * map.stride);
    }
  }
  for (Pending& p : pending_) {
    if (!p.any) continue;
    p.histogram->ObserveMultiple(p.increments, p.sum);
    std::fill(p.increments.begin(), p.increments.end(), 0.0);
    p.sum = 0;
    p.any = false;
  }
}

void AttentionRecorder::RecordMap(const AttentionMapSeries& series, const Slots& slots,
                                  const engine::AttentionShape& shape, const float* values) {
  const int64_t size = shape.size();
  if (size <= 0) return;
  // A rank-1 map is one row of `cols` values.
  const int64_t rows = shape.rank == 1 ? 1 : shape.dims[0];
  const int64_t cols = shape.rank == 1 ? shape.dims[0] : shape.dims[1];
  const absl::Span<const float> map(values, static_cast<size_t>(size));
  absl::Span<const float> distribution = map;
  switch (series.kind) {
    case AttentionMapKind::kGate:
      Observe(slots.gate_mean, Mean(map));
      return;
    case AttentionMapKind::kFeatures:
      if (shape.rank == 2) {
        if (scratch_.size() < static_cast<size_t>(cols)) scratch_.resize(static_cast<size_t>(cols));
        MeanOverRows(map, rows, cols, scratch_.data());
        distribution = absl::MakeConstSpan(scratch_.data(), static_cast<size_t>(cols));
      }
      break;
    case AttentionMapKind::kStepsChannels:
      if (shape.rank == 2) {
        if (scratch_.size() < static_cast<size_t>(rows)) scratch_.resize(static_cast<size_t>(rows));
        MeanOverColumns(map, rows, cols, scratch_.data());
        distribution = absl::MakeConstSpan(scratch_.data(), static_cast<size_t>(rows));
      }
      break;
    case AttentionMapKind::kSteps:
      break;
  }
  const DistributionSummary summary = SummarizeDistribution(distribution);
  if (!summary.valid) return;
  if (summary.has_spread) {
    Observe(slots.entropy, summary.entropy);
    Observe(slots.peak_position, summary.peak_position);
  }
  Observe(slots.peak_weight, summary.peak_weight);
  if (!slots.feature_share.empty() && slots.feature_share.size() == distribution.size()) {
    // Shares relative to the total (each row sums to 1, so this is the mean).
    double total = 0;
    for (float v : distribution) total += v;
    for (size_t j = 0; j < distribution.size(); ++j) {
      Observe(slots.feature_share[j], static_cast<double>(distribution[j]) / total);
    }
  }
}

}  // namespace attnserve::server
