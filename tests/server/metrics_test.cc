// Metrics after driving the batcher and real inference calls: counts and sums
// match what was sent; a model version's series live exactly as long as a
// handle to them; lifecycle events are counted per model.
#include "server/observability/metrics.h"

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "absl/synchronization/blocking_counter.h"
#include "gtest/gtest.h"
#include "server/batching/batcher.h"
#include "server/lifecycle/model_manager.h"
#include "server/lifecycle/version_loader.h"
#include "server/observability/batch_metrics.h"
#include "server/serving/inference_call.h"
#include "server/serving/model_registry.h"
#include "server/serving/servable_reaper.h"
#include "tests/engine/fixture_cases.h"
#include "tests/server/fake_clock.h"
#include "tests/server/fake_task.h"
#include "tests/server/metric_reader.h"
#include "tests/server/recording_sink.h"

namespace attnserve::server {
namespace {

using attnserve::testing::FakeClock;
using attnserve::testing::FakeTask;
using attnserve::testing::ReadSeries;
using attnserve::testing::RecordingSink;
using std::chrono::microseconds;

const std::map<std::string, std::string> kDemo = {{"model", "demo"}, {"version", "1"}};

std::map<std::string, std::string> With(std::map<std::string, std::string> labels,
                                        const std::string& key, const std::string& value) {
  labels[key] = value;
  return labels;
}

// Answers every task OK.
class OkExecutor : public BatchExecutor<FakeTask> {
 public:
  void Run(absl::Span<QueuedTask<FakeTask>> batch, Clock::TimePoint /*start*/) override {
    for (QueuedTask<FakeTask>& entry : batch) {
      entry.task->answer(absl::OkStatus(), static_cast<int64_t>(batch.size()));
    }
  }
};

TEST(MetricsTest, BatcherRecordsQueueWaitDepthAndDrops) {
  Metrics metrics;
  BatchMetrics observer(metrics.ForModel("demo", "1"));
  FakeClock clock;
  BatchingOptions options;
  options.max_batch_size = 4;
  options.max_queue_delay = microseconds(1000);
  options.max_padding_fraction = 1.0;  // one batch whatever the lengths
  Batcher<FakeTask> batcher(options, 1, [](int) { return std::make_unique<OkExecutor>(); },
                            &clock, &observer);
  absl::BlockingCounter expired(1);
  absl::BlockingCounter ran(4);
  auto task = [](int length, Clock::TimePoint deadline, absl::BlockingCounter* done) {
    auto t = attnserve::testing::MakeFakeTask(length, deadline);
    t->answer = [done](const absl::Status&, int64_t) { done->DecrementCount(); };
    return t;
  };
  auto expiring = task(3, clock.Now() + microseconds(100), &expired);
  ASSERT_TRUE(batcher.Schedule(&expiring).ok());
  clock.Advance(microseconds(100));  // expires it before it can join a batch
  expired.Wait();
  for (int length : {10, 20, 30, 40}) {
    auto t = task(length, Clock::TimePoint::max(), &ran);
    ASSERT_TRUE(batcher.Schedule(&t).ok());  // the fourth fills a batch
  }
  ran.Wait();
  batcher.Stop(Clock::Duration::zero());

  const prometheus::Registry& r = *metrics.registry();
  EXPECT_EQ(ReadSeries(r, "attnserve_queue_duration_seconds", kDemo).sample_count, 4);
  EXPECT_EQ(ReadSeries(r, "attnserve_rejected_total", With(kDemo, "reason", "deadline")).value, 1);
  EXPECT_EQ(ReadSeries(r, "attnserve_queue_depth", kDemo).value, 0);
}

// The demo repository behind a registry, as the server builds it.
class ServingMetricsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ModelManagerOptions options;
    options.repository = attnserve::testing::SourcePath("models");
    options.defaults.workers = 1;
    options.metrics = &metrics_;
    loader_ = std::make_unique<EngineVersionLoader>(RealClock(), nullptr, &reaper_);
    manager_ = std::make_unique<ModelManager>(options, loader_.get(), &registry_);
    ASSERT_TRUE(manager_->LoadInitial().ok());
  }

  // Runs one request and returns its final status.
  absl::Status Infer(const std::vector<std::vector<float>>& sequences,
                     Protocol protocol = Protocol::kV1) {
    absl::StatusOr<ServableHandle> servable = registry_.Resolve(ModelRef{"demo", 0, ""});
    if (!servable.ok()) return servable.status();
    InferenceRequest request;
    request.protocol = protocol;
    for (const std::vector<float>& values : sequences) {
      request.sequences.push_back(SequenceInput{absl::MakeConstSpan(values), 0, 0, {}});
    }
    RecordingSink sink;
    InferenceCall::Start(*servable, request, &sink, ServerLimits{}, RealClock());
    return sink.Wait();
  }

  static std::vector<float> Values(int length) {
    std::vector<float> values;
    for (int i = 0; i < length * 4; ++i) values.push_back(0.1f * static_cast<float>(i % 7));
    return values;
  }

  Metrics metrics_;
  ServableReaper reaper_;
  ModelRegistry registry_;
  std::unique_ptr<EngineVersionLoader> loader_;
  std::unique_ptr<ModelManager> manager_;
};

TEST_F(ServingMetricsTest, RequestsLatencyLengthsBatchesAndInvalidInputAreCounted) {
  ASSERT_TRUE(Infer({Values(5), Values(9)}).ok());
  ASSERT_TRUE(Infer({Values(12)}, Protocol::kKServeHttp).ok());
  std::vector<float> bad = Values(3);
  bad.push_back(1.0f);  // 13 values: not a multiple of 4
  EXPECT_EQ(Infer({bad}).code(), absl::StatusCode::kInvalidArgument);

  const prometheus::Registry& r = *metrics_.registry();
  EXPECT_EQ(ReadSeries(r, "attnserve_requests_total", With(kDemo, "code", "OK")).value, 2);
  EXPECT_EQ(
      ReadSeries(r, "attnserve_requests_total", With(kDemo, "code", "INVALID_ARGUMENT")).value, 1);
  EXPECT_EQ(ReadSeries(r, "attnserve_requests_total", With(kDemo, "protocol", "kserve_http")).value,
            1);
  EXPECT_EQ(ReadSeries(r, "attnserve_requests_total", With(kDemo, "protocol", "v1")).value, 2);
  EXPECT_EQ(ReadSeries(r, "attnserve_rejected_total", With(kDemo, "reason", "invalid")).value, 1);
  EXPECT_EQ(ReadSeries(r, "attnserve_request_duration_seconds", kDemo).sample_count, 2);
  EXPECT_EQ(ReadSeries(r, "attnserve_request_duration_seconds",
                       With(kDemo, "protocol", "kserve_http")).sample_count,
            1);
  EXPECT_GT(ReadSeries(r, "attnserve_request_duration_seconds", kDemo).sample_sum, 0);
  EXPECT_EQ(ReadSeries(r, "attnserve_sequence_length", kDemo).sample_count, 3);
  EXPECT_EQ(ReadSeries(r, "attnserve_sequence_length", kDemo).sample_sum, 26);
  EXPECT_EQ(ReadSeries(r, "attnserve_timesteps_requested_total", kDemo).value, 26);
  EXPECT_GE(ReadSeries(r, "attnserve_timesteps_computed_total", kDemo).value, 26);
  EXPECT_EQ(ReadSeries(r, "attnserve_batch_size", kDemo).sample_sum, 3);
  EXPECT_EQ(ReadSeries(r, "attnserve_inflight_requests", kDemo).value, 0);
  EXPECT_EQ(ReadSeries(r, "attnserve_model_state", With(kDemo, "state", "ready")).value, 1);
  EXPECT_EQ(ReadSeries(r, "attnserve_model_state", With(kDemo, "state", "failed")).value, 0);
  EXPECT_GT(ReadSeries(r, "attnserve_model_load_duration_seconds", kDemo).value, 0);
  EXPECT_GT(ReadSeries(r, "attnserve_model_warmup_duration_seconds", kDemo).value, 0);
  EXPECT_EQ(ReadSeries(r, "attnserve_model_loads_total", {{"model", "demo"}}).value, 1);
}

TEST(MetricsTest, EveryGrpcCodeHasASeriesAndLabelsStayBounded) {
  Metrics metrics;
  auto first = metrics.ForModel("demo", "1");
  auto second = metrics.ForModel("demo", "1");  // the same handles, no new series
  EXPECT_EQ(first.get(), second.get());
  size_t requests_series = 0;
  for (const auto& family : metrics.registry()->Collect()) {
    if (family.name == "attnserve_requests_total") requests_series = family.metric.size();
  }
  // demo/1 and the unresolved series, each per protocol and code.
  EXPECT_EQ(requests_series, 2u * kProtocols * kGrpcCodes);
  EXPECT_STREQ(ProtocolName(Protocol::kKServeHttp), "kserve_http");
  EXPECT_STREQ(GrpcCodeName(14), "UNAVAILABLE");
}

TEST(MetricsTest, AVersionsSeriesGoWithItsLastHandle) {
  Metrics metrics;
  const prometheus::Registry& r = *metrics.registry();
  auto handle = metrics.ForModel("demo", "2");
  handle->CountRequest(Protocol::kKServeGrpc, absl::StatusCode::kOk);
  handle->SetState(ModelStateMetric::kReady);
  auto other = metrics.ForModel("demo", "1");
  const std::map<std::string, std::string> v2 = {{"model", "demo"}, {"version", "2"}};
  EXPECT_EQ(ReadSeries(r, "attnserve_requests_total", With(v2, "code", "OK")).value, 1);
  std::map<std::string, std::string> grpc = With(v2, "code", "OK");
  grpc["protocol"] = "kserve_grpc";
  EXPECT_EQ(ReadSeries(r, "attnserve_requests_total", grpc).value, 1);
  grpc["protocol"] = "v1";
  EXPECT_EQ(ReadSeries(r, "attnserve_requests_total", grpc).value, 0);
  auto copy = handle;
  handle.reset();
  EXPECT_TRUE(ReadSeries(r, "attnserve_model_state", v2).found);  // `copy` holds them
  copy.reset();
  for (const char* name : {"attnserve_requests_total", "attnserve_model_state",
                           "attnserve_queue_depth", "attnserve_request_duration_seconds",
                           "attnserve_rejected_total", "attnserve_model_load_duration_seconds"}) {
    EXPECT_FALSE(ReadSeries(r, name, v2).found) << name;
    EXPECT_TRUE(ReadSeries(r, name, kDemo).found) << name;  // version 1 untouched
  }
  // A new handle for the same version starts from zero.
  auto again = metrics.ForModel("demo", "2");
  EXPECT_EQ(ReadSeries(r, "attnserve_requests_total", With(v2, "code", "OK")).value, 0);
}

TEST(MetricsTest, LifecycleEventsAreCountedPerModel) {
  Metrics metrics;
  metrics.CountLifecycle("demo", LifecycleEvent::kLoaded);
  metrics.CountLifecycle("demo", LifecycleEvent::kLoaded);
  metrics.CountLifecycle("demo", LifecycleEvent::kUnloaded);
  metrics.CountLifecycle("bi", LifecycleEvent::kLoadFailed);
  const prometheus::Registry& r = *metrics.registry();
  EXPECT_EQ(ReadSeries(r, "attnserve_model_loads_total", {{"model", "demo"}}).value, 2);
  EXPECT_EQ(ReadSeries(r, "attnserve_model_unloads_total", {{"model", "demo"}}).value, 1);
  EXPECT_EQ(ReadSeries(r, "attnserve_model_load_failures_total", {{"model", "bi"}}).value, 1);
  EXPECT_FALSE(ReadSeries(r, "attnserve_model_load_failures_total", {{"model", "demo"}}).found);
  metrics.AddModel("demo");  // rates exist before the first event
  EXPECT_TRUE(ReadSeries(r, "attnserve_model_load_failures_total", {{"model", "demo"}}).found);
  EXPECT_EQ(ReadSeries(r, "attnserve_model_loads_total", {{"model", "demo"}}).value, 2);
}

}  // namespace
}  // namespace attnserve::server
