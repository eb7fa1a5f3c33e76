// Metrics after driving the batcher and real ClassifyCalls: counts and sums
// match what was sent. No gRPC transport: ClassifyCall is the service's
// request path minus the reactor.
#include "server/observability/metrics.h"

#include <atomic>
#include <future>
#include <memory>
#include <string>
#include <vector>

#include "absl/synchronization/blocking_counter.h"
#include "engine/model.h"
#include "gtest/gtest.h"
#include "server/observability/batch_metrics.h"
#include "server/batching/batcher.h"
#include "server/serving/classify_call.h"
#include "server/serving/model_registry.h"
#include "tests/engine/fixture_cases.h"
#include "tests/server/fake_clock.h"
#include "tests/server/metric_reader.h"

namespace attnserve::server {
namespace {

using attnserve::testing::FakeClock;
using attnserve::testing::ReadSeries;
using std::chrono::microseconds;

const std::map<std::string, std::string> kDemo = {{"model", "demo"}, {"version", "1"}};

std::map<std::string, std::string> With(std::map<std::string, std::string> labels,
                                        const std::string& key, const std::string& value) {
  labels[key] = value;
  return labels;
}

class FixedExecutor : public BatchExecutor {
 public:
  absl::Status Run(absl::Span<const engine::SequenceView> batch,
                   engine::BatchOutput* out) override {
    int64_t longest = 0;
    for (const auto& s : batch) longest = std::max<int64_t>(longest, s.length);
    out->batch_size = static_cast<int64_t>(batch.size());
    out->num_outputs = 1;
    out->padded_steps = longest;
    out->outputs.assign(batch.size(), 0.5f);
    return absl::OkStatus();
  }
};

TEST(MetricsTest, BatcherRecordsBatchesStepsQueueWaitAndDrops) {
  Metrics metrics;
  ModelMetrics* m = metrics.ForModel("demo", "1");
  BatchMetrics observer(m);
  FakeClock clock;
  BatchingOptions options;
  options.max_batch_size = 4;
  options.max_queue_delay = microseconds(1000);
  options.max_padding_fraction = 1.0;  // one batch whatever the lengths
  Batcher batcher(options, 1, [](int) { return std::make_unique<FixedExecutor>(); }, &clock,
                  &observer);
  absl::BlockingCounter done(5);
  auto task = [&](int length, Clock::TimePoint deadline) {
    auto t = std::make_unique<BatchTask>();
    t->values.assign(length, 1.0f);
    t->length = length;
    t->deadline = deadline;
    t->done = [&done](const TaskResult&) { done.DecrementCount(); };
    return t;
  };
  auto expiring = task(3, clock.Now() + microseconds(100));
  ASSERT_TRUE(batcher.Schedule(&expiring).ok());
  for (int length : {10, 20, 30, 40}) {
    auto t = task(length, Clock::TimePoint::max());
    ASSERT_TRUE(batcher.Schedule(&t).ok());
  }
  clock.Advance(microseconds(100));  // expires the first; the other four fill a batch
  done.Wait();
  batcher.Stop(Clock::Duration::zero());

  const prometheus::Registry& r = *metrics.registry();
  EXPECT_EQ(ReadSeries(r, "attnserve_batch_size", kDemo).sample_count, 1);
  EXPECT_EQ(ReadSeries(r, "attnserve_batch_size", kDemo).sample_sum, 4);
  EXPECT_EQ(ReadSeries(r, "attnserve_timesteps_requested_total", kDemo).value, 100);
  EXPECT_EQ(ReadSeries(r, "attnserve_timesteps_computed_total", kDemo).value, 4 * 40);
  EXPECT_EQ(ReadSeries(r, "attnserve_queue_duration_seconds", kDemo).sample_count, 4);
  EXPECT_EQ(ReadSeries(r, "attnserve_batch_compute_duration_seconds", kDemo).sample_count, 1);
  EXPECT_EQ(ReadSeries(r, "attnserve_rejected_total", With(kDemo, "reason", "deadline")).value, 1);
  EXPECT_EQ(ReadSeries(r, "attnserve_queue_depth", kDemo).value, 0);
}

// A real model version behind a batcher, as the registry builds it.
class ClassifyMetricsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    RegistryOptions options;
    options.workers = 1;
    options.metrics = &metrics_;
    auto registry = ModelRegistry::Load(attnserve::testing::SourcePath("models"), options);
    ASSERT_TRUE(registry.ok()) << registry.status();
    registry_ = *std::move(registry);
    auto servable = registry_->Find("demo", 0);
    ASSERT_TRUE(servable.ok());
    servable_ = *servable;
  }

  // Runs one request through ClassifyCall and returns its final status.
  absl::Status Classify(const v1::ClassifyRequest& request) {
    v1::ClassifyResponse response;
    std::promise<absl::Status> finished;
    auto call = ClassifyCall::Create(request, *servable_, ServerLimits{}, RealClock(),
                                     Clock::TimePoint::max(), nullptr, &response,
                                     [&](const absl::Status& s) { finished.set_value(s); });
    if (!call.ok()) return call.status();
    (*call)->Start();
    return finished.get_future().get();
  }

  static v1::ClassifyRequest Request(const std::vector<int>& lengths) {
    v1::ClassifyRequest request;
    request.set_model("demo");
    for (int length : lengths) {
      v1::Sequence* seq = request.add_sequences();
      for (int i = 0; i < length * 4; ++i) seq->add_values(0.1f * (i % 7));
    }
    return request;
  }

  Metrics metrics_;
  std::unique_ptr<ModelRegistry> registry_;
  const ServableVersion* servable_ = nullptr;
};

TEST_F(ClassifyMetricsTest, RequestsLatencyLengthsAndInvalidInputAreCounted) {
  ASSERT_TRUE(Classify(Request({5, 9})).ok());
  ASSERT_TRUE(Classify(Request({12})).ok());
  v1::ClassifyRequest bad = Request({3});
  bad.mutable_sequences(0)->add_values(1.0f);  // 13 values: not a multiple of 4
  EXPECT_EQ(Classify(bad).code(), absl::StatusCode::kInvalidArgument);

  const prometheus::Registry& r = *metrics_.registry();
  EXPECT_EQ(ReadSeries(r, "attnserve_requests_total", With(kDemo, "code", "OK")).value, 2);
  EXPECT_EQ(
      ReadSeries(r, "attnserve_requests_total", With(kDemo, "code", "INVALID_ARGUMENT")).value, 1);
  EXPECT_EQ(ReadSeries(r, "attnserve_rejected_total", With(kDemo, "reason", "invalid")).value, 1);
  EXPECT_EQ(ReadSeries(r, "attnserve_request_duration_seconds", kDemo).sample_count, 2);
  EXPECT_GT(ReadSeries(r, "attnserve_request_duration_seconds", kDemo).sample_sum, 0);
  EXPECT_EQ(ReadSeries(r, "attnserve_sequence_length", kDemo).sample_count, 3);
  EXPECT_EQ(ReadSeries(r, "attnserve_sequence_length", kDemo).sample_sum, 26);
  EXPECT_EQ(ReadSeries(r, "attnserve_timesteps_requested_total", kDemo).value, 26);
  EXPECT_EQ(ReadSeries(r, "attnserve_inflight_requests", kDemo).value, 0);
  EXPECT_EQ(ReadSeries(r, "attnserve_model_state", With(kDemo, "state", "ready")).value, 1);
  EXPECT_EQ(ReadSeries(r, "attnserve_model_state", With(kDemo, "state", "failed")).value, 0);
  EXPECT_GT(ReadSeries(r, "attnserve_model_load_duration_seconds", kDemo).value, 0);
}

TEST(MetricsTest, EveryGrpcCodeHasASeriesAndLabelsStayBounded) {
  Metrics metrics;
  metrics.ForModel("demo", "1");
  metrics.ForModel("demo", "1");  // the same handles, no new series
  size_t requests_series = 0;
  for (const auto& family : metrics.registry()->Collect()) {
    if (family.name == "attnserve_requests_total") requests_series = family.metric.size();
  }
  EXPECT_EQ(requests_series, 2u * kGrpcCodes);  // demo/1 and the unresolved series
  EXPECT_STREQ(GrpcCodeName(14), "UNAVAILABLE");
}

}  // namespace
}  // namespace attnserve::server
