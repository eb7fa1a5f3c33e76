// Attention summaries: exact values for hand-computed maps; the recorder's
// choice of summary per map kind and its histogram samples; the series'
// lifetime and options; and samples with model/version/map labels after real
// inference calls on the demo model and on models with feature, time and gate
// maps, matching the attention the calls returned.
#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "engine/model.h"
#include "gtest/gtest.h"
#include "server/observability/attention_metrics.h"
#include "server/observability/attention_summary.h"
#include "server/observability/metrics.h"
#include "server/serving/inference_call.h"
#include "server/serving/servable.h"
#include "server/serving/servable_reaper.h"
#include "tests/engine/fixture_cases.h"
#include "tests/server/metric_reader.h"
#include "tests/server/recording_sink.h"

namespace attnserve::server {
namespace {

using attnserve::testing::ReadSeries;
using attnserve::testing::RecordingSink;

constexpr double kTol = 1e-6;

// ---- SummarizeDistribution -------------------------------------------------

TEST(AttentionSummaryTest, UniformWeightsHaveEntropyOne) {
  const std::vector<float> w = {0.25f, 0.25f, 0.25f, 0.25f};
  const DistributionSummary s = SummarizeDistribution(w);
  ASSERT_TRUE(s.valid);
  ASSERT_TRUE(s.has_spread);
  EXPECT_NEAR(s.entropy, 1.0, kTol);
  EXPECT_EQ(s.peak_position, 0.0);  // ties: the first maximum
  EXPECT_NEAR(s.peak_weight, 0.25, kTol);
}

TEST(AttentionSummaryTest, OneHotHasEntropyZeroAndPeakWeightOne) {
  const std::vector<float> w = {0, 0, 1, 0, 0};
  const DistributionSummary s = SummarizeDistribution(w);
  ASSERT_TRUE(s.valid);
  EXPECT_EQ(s.entropy, 0.0);
  EXPECT_EQ(s.peak_position, 0.5);  // step 2 of 0..4
  EXPECT_EQ(s.peak_weight, 1.0);
}

TEST(AttentionSummaryTest, PeakPositionRunsFromFirstToLastStep) {
  EXPECT_EQ(SummarizeDistribution(std::vector<float>{1, 0, 0}).peak_position, 0.0);
  EXPECT_EQ(SummarizeDistribution(std::vector<float>{0, 0, 1}).peak_position, 1.0);
  EXPECT_EQ(SummarizeDistribution(std::vector<float>{0, 1, 0, 0, 0}).peak_position, 0.25);
}

TEST(AttentionSummaryTest, HandComputedEntropies) {
  // Half on each of 2 of 4 steps: ln 2 / ln 4.
  DistributionSummary s = SummarizeDistribution(std::vector<float>{0.5f, 0.5f, 0, 0});
  EXPECT_NEAR(s.entropy, 0.5, kTol);
  EXPECT_NEAR(s.peak_weight, 0.5, kTol);
  // -(0.1 ln 0.1 + 0.2 ln 0.2 + 0.7 ln 0.7) / ln 3
  s = SummarizeDistribution(std::vector<float>{0.1f, 0.2f, 0.7f});
  EXPECT_NEAR(s.entropy, 0.729846699, kTol);
  EXPECT_EQ(s.peak_position, 1.0);
  EXPECT_NEAR(s.peak_weight, 0.7, kTol);
}

TEST(AttentionSummaryTest, WeightsAreNormalisedByTheirSum) {
  // {2, 2, 4} is {0.25, 0.25, 0.5}: (2 * 0.25 ln 4 + 0.5 ln 2) / ln 3.
  const DistributionSummary s = SummarizeDistribution(std::vector<float>{2, 2, 4});
  EXPECT_NEAR(s.entropy, 0.946394630, kTol);
  EXPECT_EQ(s.peak_position, 1.0);
  EXPECT_NEAR(s.peak_weight, 0.5, kTol);
}

// The entropy's logarithm is computed without libm (to vectorise): it must
// agree with a double-precision reference on maps of every size and shape.
TEST(AttentionSummaryTest, EntropyMatchesADoubleReference) {
  uint32_t state = 12345;
  auto next = [&state] {
    state = state * 1664525u + 1013904223u;
    return static_cast<double>(state >> 8) / static_cast<double>(1u << 24);
  };
  for (size_t n : {2, 3, 7, 8, 9, 16, 31, 100, 1000, 4096}) {
    for (double sharpness : {0.0, 1.0, 5.0, 30.0}) {
      std::vector<double> e(n);
      double total = 0;
      for (double& v : e) total += v = std::exp(sharpness * next());
      std::vector<float> w(n);
      for (size_t i = 0; i < n; ++i) w[i] = static_cast<float>(e[i] / total);
      double sum = 0, plogp = 0;
      for (float x : w) {
        sum += x;
        if (x > 0) plogp += x * std::log(static_cast<double>(x));
      }
      const double reference = (std::log(sum) - plogp / sum) / std::log(static_cast<double>(n));
      EXPECT_NEAR(SummarizeDistribution(w).entropy, std::clamp(reference, 0.0, 1.0), 2e-6)
          << "n=" << n << " sharpness=" << sharpness;
    }
  }
  // Tiny and subnormal weights next to a large one.
  const std::vector<float> w = {1e-30f, 1e-40f, 0.5f, 0.5f};
  EXPECT_NEAR(SummarizeDistribution(w).entropy, 0.5, 1e-6);
}

TEST(AttentionSummaryTest, OneStepHasOnlyAPeakWeight) {
  const DistributionSummary s = SummarizeDistribution(std::vector<float>{1});
  EXPECT_TRUE(s.valid);
  EXPECT_FALSE(s.has_spread);
  EXPECT_EQ(s.peak_weight, 1.0);
}

TEST(AttentionSummaryTest, NothingToSummariseIsInvalid) {
  EXPECT_FALSE(SummarizeDistribution(std::vector<float>{}).valid);
  EXPECT_FALSE(SummarizeDistribution(std::vector<float>{0, 0, 0}).valid);  // all excluded
  EXPECT_FALSE(SummarizeDistribution(std::vector<float>{0}).valid);
  const float nan = std::numeric_limits<float>::quiet_NaN();
  EXPECT_FALSE(SummarizeDistribution(std::vector<float>{nan, 1}).valid);
  EXPECT_FALSE(SummarizeDistribution(std::vector<float>{1, nan}).valid);
  EXPECT_FALSE(SummarizeDistribution(std::vector<float>{-0.1f, 1.1f}).valid);
  const float inf = std::numeric_limits<float>::infinity();
  EXPECT_FALSE(SummarizeDistribution(std::vector<float>{inf, 1}).valid);
}

TEST(AttentionSummaryTest, Means) {
  const std::vector<float> map = {1, 0, 0,   // [2, 3]
                                  0, 1, 0};
  float columns[3];
  MeanOverRows(map, 2, 3, columns);
  EXPECT_EQ(columns[0], 0.5f);
  EXPECT_EQ(columns[1], 0.5f);
  EXPECT_EQ(columns[2], 0.0f);
  float rows[2];
  MeanOverColumns(map, 2, 3, rows);
  EXPECT_FLOAT_EQ(rows[0], 1.0f / 3);
  EXPECT_FLOAT_EQ(rows[1], 1.0f / 3);
  EXPECT_EQ(Mean(std::vector<float>{0, 1, 0.5f, 0.5f}), 0.5);
  EXPECT_EQ(Mean(std::vector<float>{}), 0.0);
}

TEST(AttentionSummaryTest, MapKinds) {
  using engine::AttentionOutputInfo;
  using engine::kSequenceLength;
  EXPECT_EQ(AttentionMapKindFor(AttentionOutputInfo{"temporal", {kSequenceLength}}),
            AttentionMapKind::kSteps);
  EXPECT_EQ(AttentionMapKindFor(AttentionOutputInfo{"time", {8}}), AttentionMapKind::kSteps);
  EXPECT_EQ(AttentionMapKindFor(AttentionOutputInfo{"time", {8, 4}}),
            AttentionMapKind::kStepsChannels);
  EXPECT_EQ(AttentionMapKindFor(AttentionOutputInfo{"feature", {kSequenceLength, 4}}),
            AttentionMapKind::kFeatures);
  EXPECT_EQ(AttentionMapKindFor(AttentionOutputInfo{"feature", {4}}), AttentionMapKind::kFeatures);
  EXPECT_EQ(AttentionMapKindFor(AttentionOutputInfo{"gate", {16}}), AttentionMapKind::kGate);
}

// ---- AttentionRecorder on a hand-made batch ---------------------------------

const std::map<std::string, std::string> kV1 = {{"model", "m"}, {"version", "1"}};

std::map<std::string, std::string> Map(const std::string& map) {
  std::map<std::string, std::string> labels = kV1;
  labels["map"] = map;
  return labels;
}

std::vector<engine::AttentionOutputInfo> Layout() {
  using engine::kSequenceLength;
  return {{"feature", {kSequenceLength, 3}},
          {"time", {4, 2}},
          {"temporal", {kSequenceLength}},
          {"gate", {4}}};
}

engine::AttentionMap MakeMap(const std::string& name, int64_t stride,
                             std::vector<engine::AttentionShape> shapes,
                             std::vector<std::vector<float>> rows) {
  engine::AttentionMap map;
  map.name = name;
  map.stride = stride;
  map.shapes = std::move(shapes);
  map.values.assign(static_cast<size_t>(stride) * rows.size(), 0.0f);
  for (size_t r = 0; r < rows.size(); ++r) {
    std::copy(rows[r].begin(), rows[r].end(), map.values.begin() + r * stride);
  }
  return map;
}

engine::AttentionShape Shape(int64_t a) { return engine::AttentionShape{1, {a, 0}}; }
engine::AttentionShape Shape(int64_t a, int64_t b) { return engine::AttentionShape{2, {a, b}}; }

// Two sequences, every kind of map.
engine::BatchOutput TwoSequences() {
  engine::BatchOutput out;
  out.batch_size = 2;
  const float third = 1.0f / 3;
  // feature [l, 3]: row 0 (l = 2) shares {0.5, 0.5, 0}; row 1 (l = 1) uniform.
  out.attention.push_back(MakeMap("feature", 6, {Shape(2, 3), Shape(1, 3)},
                                  {{1, 0, 0, 0, 1, 0}, {third, third, third}}));
  // time [4, 2]: row 0 both channels on step 3; row 1 channel 0 uniform,
  // channel 1 on step 0: channel mean {0.625, 0.125, 0.125, 0.125}.
  out.attention.push_back(MakeMap("time", 8, {Shape(4, 2), Shape(4, 2)},
                                  {{0, 0, 0, 0, 0, 0, 1, 1},
                                   {0.25f, 1, 0.25f, 0, 0.25f, 0, 0.25f, 0}}));
  // temporal [l]: row 0 {0.2, 0.6, 0.2}; row 1 one step.
  out.attention.push_back(MakeMap("temporal", 3, {Shape(3), Shape(1)}, {{0.2f, 0.6f, 0.2f}, {1}}));
  // gate [4]: means 0.5 and 1.
  out.attention.push_back(MakeMap("gate", 4, {Shape(4), Shape(4)}, {{0, 1, 0.5f, 0.5f}, {1, 1, 1, 1}}));
  return out;
}

TEST(AttentionRecorderTest, EachMapGetsItsSummaries) {
  Metrics metrics;
  auto handle = metrics.ForModel("m", "1");
  const AttentionSeries* series = handle->AttentionFor(Layout());
  ASSERT_NE(series, nullptr);
  AttentionRecorder recorder(series);
  recorder.Record(TwoSequences(), 2);
  const prometheus::Registry& r = *metrics.registry();

  // temporal: the one-step row has a peak weight only.
  auto s = ReadSeries(r, "attnserve_attention_entropy", Map("temporal"));
  EXPECT_EQ(s.sample_count, 1);
  EXPECT_NEAR(s.sample_sum, 0.864973521, kTol);  // -(2 * 0.2 ln 0.2 + 0.6 ln 0.6) / ln 3
  s = ReadSeries(r, "attnserve_attention_peak_position", Map("temporal"));
  EXPECT_EQ(s.sample_count, 1);
  EXPECT_NEAR(s.sample_sum, 0.5, kTol);
  s = ReadSeries(r, "attnserve_attention_peak_weight", Map("temporal"));
  EXPECT_EQ(s.sample_count, 2);
  EXPECT_NEAR(s.sample_sum, 0.6 + 1.0, kTol);

  // time: summarised on the mean over channels.
  s = ReadSeries(r, "attnserve_attention_entropy", Map("time"));
  EXPECT_EQ(s.sample_count, 2);
  // 0 (one-hot) + -(0.625 ln 0.625 + 3 * 0.125 ln 0.125) / ln 4
  EXPECT_NEAR(s.sample_sum, 0.774397470, kTol);
  s = ReadSeries(r, "attnserve_attention_peak_position", Map("time"));
  EXPECT_NEAR(s.sample_sum, 1.0 + 0.0, kTol);
  s = ReadSeries(r, "attnserve_attention_peak_weight", Map("time"));
  EXPECT_NEAR(s.sample_sum, 1.0 + 0.625, kTol);

  // feature: entropy over the 3 features of the mean over steps, and shares.
  s = ReadSeries(r, "attnserve_attention_entropy", Map("feature"));
  EXPECT_EQ(s.sample_count, 2);
  EXPECT_NEAR(s.sample_sum, 0.630929754 + 1.0, kTol);  // ln 2 / ln 3, uniform
  EXPECT_FALSE(ReadSeries(r, "attnserve_attention_peak_position", Map("feature")).found);
  EXPECT_FALSE(ReadSeries(r, "attnserve_attention_peak_weight", Map("feature")).found);
  const double expected_share[3] = {0.5 + 1.0 / 3, 0.5 + 1.0 / 3, 0.0 + 1.0 / 3};
  for (int j = 0; j < 3; ++j) {
    std::map<std::string, std::string> labels = Map("feature");
    labels["feature"] = std::to_string(j);
    s = ReadSeries(r, "attnserve_attention_feature_share", labels);
    EXPECT_EQ(s.sample_count, 2) << j;
    EXPECT_NEAR(s.sample_sum, expected_share[j], kTol) << j;
  }

  // gate: its mean.
  s = ReadSeries(r, "attnserve_attention_gate_mean", Map("gate"));
  EXPECT_EQ(s.sample_count, 2);
  EXPECT_NEAR(s.sample_sum, 1.5, kTol);
  EXPECT_FALSE(ReadSeries(r, "attnserve_attention_entropy", Map("gate")).found);
}

// The recorder sorts values into buckets itself: the buckets must be those
// Histogram::Observe would choose, bounds included (le: value <= bound).
TEST(AttentionRecorderTest, BucketsAreThoseObserveChooses) {
  Metrics metrics;
  auto handle = metrics.ForModel("m", "1");
  const std::vector<engine::AttentionOutputInfo> gate = {{"gate", {2}}};
  AttentionRecorder recorder(handle->AttentionFor(gate));
  engine::BatchOutput out;
  // Gate means (exact in binary): on bounds (0.25, 0.5, 1), between them, 0.
  const std::vector<std::vector<float>> rows = {{0.25f, 0.25f}, {0.5f, 0.5f}, {1, 1},
                                                {0.125f, 0.125f}, {0, 0}, {0.96875f, 0.96875f}};
  std::vector<engine::AttentionShape> shapes(rows.size(), Shape(2));
  out.attention.push_back(MakeMap("gate", 2, shapes, rows));
  recorder.Record(out, static_cast<int64_t>(rows.size()));
  prometheus::Histogram reference(AttentionBuckets());
  for (const auto& row : rows) reference.Observe(Mean(row));
  const prometheus::ClientMetric want = reference.Collect();
  const prometheus::ClientMetric* got = nullptr;
  std::vector<prometheus::MetricFamily> families = metrics.registry()->Collect();
  for (const prometheus::MetricFamily& family : families) {
    if (family.name == "attnserve_attention_gate_mean" && family.metric.size() == 1) {
      got = &family.metric[0];
    }
  }
  ASSERT_NE(got, nullptr);
  EXPECT_EQ(got->histogram.sample_count, rows.size());
  EXPECT_DOUBLE_EQ(got->histogram.sample_sum, want.histogram.sample_sum);
  ASSERT_EQ(got->histogram.bucket.size(), want.histogram.bucket.size());
  for (size_t b = 0; b < want.histogram.bucket.size(); ++b) {
    EXPECT_EQ(got->histogram.bucket[b].cumulative_count, want.histogram.bucket[b].cumulative_count)
        << "le=" << want.histogram.bucket[b].upper_bound;
  }
  // Hand-checked: 0 in le=0.05; 0.125 in le=0.15; 0.25 in le=0.25; 0.5 in
  // le=0.5; 0.96875 and 1 in le=1.
  EXPECT_EQ(want.histogram.bucket[0].cumulative_count, 1u);
  EXPECT_EQ(want.histogram.bucket[2].cumulative_count, 2u);
  EXPECT_EQ(want.histogram.bucket[4].cumulative_count, 3u);
  EXPECT_EQ(want.histogram.bucket[9].cumulative_count, 4u);
  EXPECT_EQ(want.histogram.bucket[18].cumulative_count, 4u);
  EXPECT_EQ(want.histogram.bucket[19].cumulative_count, 6u);
  // A second batch adds to the first (the recorder's buffers start again at 0).
  recorder.Record(out, 1);
  EXPECT_EQ(ReadSeries(*metrics.registry(), "attnserve_attention_gate_mean", kV1).sample_count,
            rows.size() + 1);
}

TEST(AttentionRecorderTest, NonFiniteValuesAreNotObserved) {
  Metrics metrics;
  auto handle = metrics.ForModel("m", "1");
  AttentionRecorder recorder(handle->AttentionFor({{"gate", {2}}, {"temporal", {-1}}}));
  engine::BatchOutput out;
  const float nan = std::numeric_limits<float>::quiet_NaN();
  out.attention.push_back(MakeMap("gate", 2, {Shape(2), Shape(2)}, {{nan, 1}, {0.5f, 0.5f}}));
  out.attention.push_back(MakeMap("temporal", 2, {Shape(2), Shape(2)}, {{nan, 1}, {0.25f, 0.75f}}));
  recorder.Record(out, 2);
  auto gate = ReadSeries(*metrics.registry(), "attnserve_attention_gate_mean", Map("gate"));
  EXPECT_EQ(gate.sample_count, 1);
  EXPECT_EQ(gate.sample_sum, 0.5);
  auto peak = ReadSeries(*metrics.registry(), "attnserve_attention_peak_weight", Map("temporal"));
  EXPECT_EQ(peak.sample_count, 1);
  EXPECT_EQ(peak.sample_sum, 0.75);
}

TEST(AttentionRecorderTest, OnlyTheBatchsOwnRowsAreObserved) {
  Metrics metrics;
  auto handle = metrics.ForModel("m", "1");
  AttentionRecorder recorder(handle->AttentionFor(Layout()));
  recorder.Record(TwoSequences(), 1);  // row 1 is an inert padding row
  const prometheus::Registry& r = *metrics.registry();
  EXPECT_EQ(ReadSeries(r, "attnserve_attention_peak_weight", Map("temporal")).sample_count, 1);
  EXPECT_EQ(ReadSeries(r, "attnserve_attention_gate_mean", Map("gate")).sample_count, 1);
}

TEST(AttentionRecorderTest, SeriesAreMadeOncePerVersionAndGoWithIt) {
  Metrics metrics;
  const prometheus::Registry& r = *metrics.registry();
  auto handle = metrics.ForModel("m", "1");
  const AttentionSeries* first = handle->AttentionFor(Layout());
  EXPECT_EQ(handle->AttentionFor(Layout()), first);  // a reload of the same version
  auto other = metrics.ForModel("m", "2");
  ASSERT_NE(other->AttentionFor(Layout()), nullptr);
  EXPECT_TRUE(ReadSeries(r, "attnserve_attention_entropy", Map("temporal")).found);
  handle.reset();
  for (const char* name : {"attnserve_attention_entropy", "attnserve_attention_peak_position",
                           "attnserve_attention_peak_weight", "attnserve_attention_feature_share",
                           "attnserve_attention_gate_mean"}) {
    EXPECT_FALSE(ReadSeries(r, name, kV1).found) << name;
    EXPECT_TRUE(ReadSeries(r, name, {{"model", "m"}, {"version", "2"}}).found) << name;
  }
  EXPECT_EQ(metrics.Unresolved()->AttentionFor(Layout()), nullptr);
}

TEST(AttentionRecorderTest, FeatureSharesOnlyUpToTheConfiguredWidth) {
  AttentionMetricsOptions options;
  options.feature_max_d = 2;  // the map has 3 features
  Metrics metrics(options);
  auto handle = metrics.ForModel("m", "1");
  AttentionRecorder recorder(handle->AttentionFor(Layout()));
  recorder.Record(TwoSequences(), 2);
  const prometheus::Registry& r = *metrics.registry();
  EXPECT_FALSE(ReadSeries(r, "attnserve_attention_feature_share", kV1).found);
  EXPECT_EQ(ReadSeries(r, "attnserve_attention_entropy", Map("feature")).sample_count, 2);

  options.feature_max_d = 0;
  Metrics none(options);
  auto h = none.ForModel("m", "1");
  ASSERT_NE(h->AttentionFor(Layout()), nullptr);
  EXPECT_FALSE(ReadSeries(*none.registry(), "attnserve_attention_feature_share", kV1).found);
}

TEST(AttentionRecorderTest, OffMeansNoSeries) {
  AttentionMetricsOptions options;
  options.enabled = false;
  Metrics metrics(options);
  auto handle = metrics.ForModel("m", "1");
  EXPECT_EQ(handle->AttentionFor(Layout()), nullptr);
  EXPECT_FALSE(ReadSeries(*metrics.registry(), "attnserve_attention_entropy", kV1).found);
  Metrics on;
  EXPECT_EQ(on.ForModel("m", "1")->AttentionFor({}), nullptr);  // a model without maps
}

// ---- Real inference calls ------------------------------------------------------

// Serves one model directory as `name` version 1 with real engine sessions.
// A worker records a batch's summaries after answering it: Stop() (which joins
// the workers) comes before reading them.
class ServedModel {
 public:
  ServedModel(Metrics* metrics, const std::string& name, const std::string& directory) {
    absl::StatusOr<std::shared_ptr<const engine::Model>> model =
        engine::Model::Load(attnserve::testing::SourcePath(directory));
    if (!model.ok()) {
      ADD_FAILURE() << model.status();
      return;
    }
    ServingSettings settings;
    settings.workers = 1;
    settings.warmup_lengths = {};
    Servable::Dependencies deps;
    deps.clock = RealClock();
    deps.metrics = metrics->ForModel(name, "1");
    servable_ = reaper_.Adopt(Servable::Create(name, 1, *model, settings, {}, 0, 0, deps));
  }

  // Runs `lengths` sequences of the model's input size in one request.
  void Infer(const std::vector<int>& lengths, RecordingSink* sink) {
    const int d = servable_->spec().input_size;
    values_.clear();
    for (int length : lengths) {
      std::vector<float> v;
      for (int i = 0; i < length * d; ++i) v.push_back(0.1f * static_cast<float>((i * 7) % 11) - 0.4f);
      values_.push_back(std::move(v));
    }
    InferenceRequest request;
    for (const std::vector<float>& v : values_) {
      request.sequences.push_back(SequenceInput{absl::MakeConstSpan(v), 0, 0, {}});
    }
    InferenceCall::Start(servable_, request, sink, ServerLimits{}, RealClock());
    ASSERT_TRUE(sink->Wait().ok());
  }

  // Releases the servable and waits until it is destroyed (its workers joined).
  void Stop() {
    servable_.reset();
    reaper_.Flush();
  }

 private:
  ServableReaper reaper_;
  ServableHandle servable_;
  std::vector<std::vector<float>> values_;
};

// What the histograms should hold after the calls, from the attention they
// returned: count and sum per (metric, labels).
struct Expected {
  std::map<std::pair<std::string, std::map<std::string, std::string>>, std::pair<int, double>>
      series;
  void Add(const std::string& metric, std::map<std::string, std::string> labels, double value) {
    auto& entry = series[{metric, std::move(labels)}];
    entry.first += 1;
    entry.second += value;
  }
};

// The documented rule, written out: distributions over steps (a rank-2 "time"
// map: its mean over channels), over features ("feature": mean over steps),
// or the gate's mean.
void ExpectFromReturnedMaps(const std::string& model, const RecordingSink& sink, int sequences,
                            int feature_max_d, Expected* expected) {
  for (int64_t i = 0; i < sequences; ++i) {
    for (const RecordingSink::Map& map : sink.attention(i)) {
      std::map<std::string, std::string> labels = {
          {"model", model}, {"version", "1"}, {"map", map.name}};
      const int64_t rows = map.dims.size() == 2 ? map.dims[0] : 1;
      const int64_t cols = map.dims.size() == 2 ? map.dims[1] : map.dims[0];
      if (map.name == "gate") {
        double total = 0;
        for (float g : map.weights) total += g;
        expected->Add("attnserve_attention_gate_mean", labels, total / map.weights.size());
        continue;
      }
      std::vector<float> dist;
      if (map.name == "feature") {
        dist.assign(static_cast<size_t>(cols), 0.0f);
        for (int64_t r = 0; r < rows; ++r) {
          for (int64_t c = 0; c < cols; ++c) dist[c] += map.weights[r * cols + c];
        }
        for (float& v : dist) v /= static_cast<float>(rows);
      } else if (map.dims.size() == 2) {
        for (int64_t r = 0; r < rows; ++r) {
          float total = 0;
          for (int64_t c = 0; c < cols; ++c) total += map.weights[r * cols + c];
          dist.push_back(total / static_cast<float>(cols));
        }
      } else {
        dist = map.weights;
      }
      const DistributionSummary s = SummarizeDistribution(dist);
      ASSERT_TRUE(s.valid) << map.name;
      if (s.has_spread) expected->Add("attnserve_attention_entropy", labels, s.entropy);
      if (map.name == "feature") {
        if (static_cast<int>(dist.size()) <= feature_max_d) {
          double total = 0;
          for (float v : dist) total += v;
          for (size_t j = 0; j < dist.size(); ++j) {
            std::map<std::string, std::string> f = labels;
            f["feature"] = std::to_string(j);
            expected->Add("attnserve_attention_feature_share", f, dist[j] / total);
          }
        }
        continue;
      }
      if (s.has_spread) expected->Add("attnserve_attention_peak_position", labels, s.peak_position);
      expected->Add("attnserve_attention_peak_weight", labels, s.peak_weight);
    }
  }
}

void CheckRegistry(const prometheus::Registry& registry, const Expected& expected) {
  ASSERT_FALSE(expected.series.empty());
  for (const auto& [key, value] : expected.series) {
    const auto series = ReadSeries(registry, key.first, key.second);
    std::string labels;
    for (const auto& [k, v] : key.second) labels += k + "=" + v + " ";
    EXPECT_TRUE(series.found) << key.first << " " << labels;
    EXPECT_EQ(series.sample_count, value.first) << key.first << " " << labels;
    EXPECT_NEAR(series.sample_sum, value.second, 1e-5) << key.first << " " << labels;
  }
}

TEST(AttentionMetricsServingTest, DemoCallsAreSummarisedPerVersion) {
  Metrics metrics;
  Expected expected;
  {
    // Keeps the version's series once the servable is gone.
    std::shared_ptr<const ModelMetrics> keep = metrics.ForModel("demo", "1");
    ServedModel demo(&metrics, "demo", "models/demo/1");
    RecordingSink first;
    demo.Infer({5, 9, 12}, &first);
    ExpectFromReturnedMaps("demo", first, 3, 16, &expected);
    RecordingSink second;
    demo.Infer({1, 20}, &second);  // the one-step sequence has a peak weight only
    ExpectFromReturnedMaps("demo", second, 2, 16, &expected);
    demo.Stop();
    const prometheus::Registry& r = *metrics.registry();
    CheckRegistry(r, expected);
    const std::map<std::string, std::string> temporal = {
        {"model", "demo"}, {"version", "1"}, {"map", "temporal"}};
    EXPECT_EQ(ReadSeries(r, "attnserve_attention_entropy", temporal).sample_count, 4);
    EXPECT_EQ(ReadSeries(r, "attnserve_attention_peak_position", temporal).sample_count, 4);
    EXPECT_EQ(ReadSeries(r, "attnserve_attention_peak_weight", temporal).sample_count, 5);
  }
  // The version is gone (its servable and every handle released): so are its
  // attention series.
  EXPECT_FALSE(ReadSeries(*metrics.registry(), "attnserve_attention_entropy",
                          {{"model", "demo"}}).found);
}

TEST(AttentionMetricsServingTest, FeatureTimeAndGateMapsFromRealModels) {
  Metrics metrics;
  std::shared_ptr<const ModelMetrics> keep_ft = metrics.ForModel("ft", "1");
  std::shared_ptr<const ModelMetrics> keep_gate = metrics.ForModel("gate", "1");
  ServedModel feature_time(&metrics, "ft", "tests/fixtures/parity/uni1_feature_td_after_truncpre");
  ServedModel gate(&metrics, "gate", "tests/fixtures/parity/bi1_gate_additive");
  Expected expected;
  RecordingSink a;
  feature_time.Infer({3, 7, 10}, &a);  // padded or truncated to the window of 7
  ExpectFromReturnedMaps("ft", a, 3, 16, &expected);
  RecordingSink b;
  gate.Infer({4, 6}, &b);
  ExpectFromReturnedMaps("gate", b, 2, 16, &expected);
  feature_time.Stop();
  gate.Stop();
  CheckRegistry(*metrics.registry(), expected);
  const prometheus::Registry& r = *metrics.registry();
  // Every map kind was there: feature shares for each of the 4 features, the
  // time map's steps, the gate.
  for (int j = 0; j < 4; ++j) {
    EXPECT_EQ(ReadSeries(r, "attnserve_attention_feature_share",
                         {{"model", "ft"}, {"map", "feature"}, {"feature", std::to_string(j)}})
                  .sample_count,
              3);
  }
  EXPECT_EQ(ReadSeries(r, "attnserve_attention_peak_position", {{"model", "ft"}, {"map", "time"}})
                .sample_count,
            3);
  EXPECT_EQ(ReadSeries(r, "attnserve_attention_gate_mean", {{"model", "gate"}, {"map", "gate"}})
                .sample_count,
            2);
  EXPECT_EQ(ReadSeries(r, "attnserve_attention_peak_weight",
                       {{"model", "gate"}, {"map", "temporal"}})
                .sample_count,
            2);
}

}  // namespace
}  // namespace attnserve::server
