// AttentionMetrics: per model version, Prometheus histograms summarising the
// attention maps the version returns on real traffic (docs/metrics.md,
// "Attention"; docs/attention-monitoring.md), and the recorder a batch worker
// feeds each batch's output to.
//
// Which summary each map gets (by the map's name, engine/model_outputs.h):
//   "temporal" [l]           distribution over steps: entropy, peak position,
//                            peak weight (attention_summary.h);
//   "time" [T] or [T, k]     the same, of the mean over the k channels (each
//                            channel's column is a distribution over the T
//                            steps, so their mean is one too);
//   "feature" [l, D] or [D]  the share of weight per feature, the mean over
//                            steps (each row sums to 1, so shares do too):
//                            entropy over the D features, and one share
//                            histogram per feature when 2 <= D <= the
//                            configured maximum (label feature="0".."D-1");
//   "gate" [n]               the mean gate value (sigmoids, not a
//                            distribution): how much of the head's vector
//                            passes;
//   any other name           by rank: rank 1 as "temporal", rank 2 as "time".
//
// Ownership: AttentionSeries holds raw handles owned by the Metrics registry
// (Metrics::AttentionFor); they live as long as the version's ModelMetrics
// handle. AttentionRecorder belongs to one batch worker.
// Thread-safety: AttentionSeries is immutable once made; histograms are
// thread-safe; an AttentionRecorder is used by one thread. Record() sorts a
// batch's values into buckets itself and hands each histogram its batch at once
// (one lock per histogram and batch, not per sequence); steady-state Record()
// allocates nothing (its buffers keep their capacity).
#ifndef ATTNSERVE_SERVER_OBSERVABILITY_ATTENTION_METRICS_H_
#define ATTNSERVE_SERVER_OBSERVABILITY_ATTENTION_METRICS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "engine/batch.h"
#include "engine/model_outputs.h"
#include "prometheus/histogram.h"

namespace attnserve::server {

struct AttentionMetricsOptions {
  bool enabled = true;     // --attention_metrics
  int feature_max_d = 16;  // --attention_feature_metrics_max_d (0: no feature shares)
};

enum class AttentionMapKind {
  kSteps,          // rank-1 distribution over steps ("temporal", "time" [T])
  kStepsChannels,  // [T, k]: per-channel distributions over steps ("time")
  kFeatures,       // [l, D] or [D]: distributions over features ("feature")
  kGate,           // [n] sigmoid gate values ("gate")
};

// The kind of summary a map gets (see the table above).
AttentionMapKind AttentionMapKindFor(const engine::AttentionOutputInfo& map);

// The handles of one attention map of a version; null where the map's kind has
// no such summary.
struct AttentionMapSeries {
  AttentionMapKind kind = AttentionMapKind::kSteps;
  prometheus::Histogram* entropy = nullptr;
  prometheus::Histogram* peak_position = nullptr;
  prometheus::Histogram* peak_weight = nullptr;
  prometheus::Histogram* gate_mean = nullptr;
  std::vector<prometheus::Histogram*> feature_share;  // per feature; empty if not exported
};

// One version's attention handles, in BatchOutput::attention order.
struct AttentionSeries {
  std::vector<engine::AttentionOutputInfo> layout;  // the maps they were made for
  std::vector<AttentionMapSeries> maps;
};

class AttentionRecorder {
 public:
  // `series` must outlive the recorder; it may not be null.
  explicit AttentionRecorder(const AttentionSeries* series);

  // Observes the summaries of rows 0..rows-1 of every map of `out`.
  void Record(const engine::BatchOutput& out, int64_t rows);

 private:
  // A histogram's observations of the current batch, not yet handed over.
  struct Pending {
    prometheus::Histogram* histogram = nullptr;
    std::vector<double> increments;  // per bucket, +Inf last
    double sum = 0;
    bool any = false;
  };
  // Indices into pending_ of one map's histograms (-1: none).
  struct Slots {
    int entropy = -1;
    int peak_position = -1;
    int peak_weight = -1;
    int gate_mean = -1;
    std::vector<int> feature_share;
  };
  int AddPending(prometheus::Histogram* histogram);
  void Observe(int slot, double value);
  void RecordMap(const AttentionMapSeries& series, const Slots& slots,
                 const engine::AttentionShape& shape, const float* values);

  const AttentionSeries* const series_;
  std::vector<Slots> slots_;     // per map
  std::vector<Pending> pending_;
  std::vector<float> scratch_;   // means over channels or steps
};

// Bucket upper bounds of every attention histogram: 0.05, 0.10, ..., 1.
const prometheus::Histogram::BucketBoundaries& AttentionBuckets();

}  // namespace attnserve::server

#endif  // ATTNSERVE_SERVER_OBSERVABILITY_ATTENTION_METRICS_H_
