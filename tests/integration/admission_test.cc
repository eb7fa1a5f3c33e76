// Admission against the real binary: a noisy client (large requests, many in
// flight) beside a quiet one; overload refused early by the queue-wait bound;
// per-client and per-request limits; deadlines counted as DEADLINE_EXCEEDED,
// not CANCELLED, in the server's metrics.
//
// Latency is compared only within one run: the quiet client's p99 beside the
// noisy one against its own p99 alone, measured moments before, and the noisy
// batches' run time (the old behaviour, one queue in arrival order, exceeds
// the bound many times over: the quiet request waited behind the whole
// queue).
#include <algorithm>
#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "tests/integration/classify_stream.h"
#include "tests/integration/client_helpers.h"
#include "tests/integration/http_get.h"
#include "tests/integration/metrics_text.h"
#include "tests/integration/server_fixture.h"

namespace attnserve::testing {
namespace {

using grpc::StatusCode;
using std::chrono::seconds;
using SteadyClock = std::chrono::steady_clock;

class IntegrationAdmissionTest : public ServerTest {};

// Under AddressSanitizer (make test-sanitize) every thread runs several times
// slower, and unevenly: the fairness scenarios still run there (for memory
// errors and their functional checks) but their latency bounds are asserted
// only in the normal build.
#if defined(__SANITIZE_ADDRESS__)
constexpr bool kLatencyBoundsAsserted = false;
#else
constexpr bool kLatencyBoundsAsserted = true;
#endif

grpc::Status ClassifyAs(v1::AttnServe::Stub* stub, const std::string& client,
                        const v1::ClassifyRequest& request, v1::ClassifyResponse* response,
                        std::chrono::milliseconds deadline = std::chrono::milliseconds(60000)) {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + deadline);
  context.AddMetadata("x-attnserve-client", client);
  return stub->Classify(&context, request, response);
}

double Percentile(std::vector<double> values, double p) {
  std::sort(values.begin(), values.end());
  const size_t index = std::min(values.size() - 1, static_cast<size_t>(p * values.size()));
  return values[index];
}

// The metrics text of `server`; fails the test if unreadable.
std::string Scrape(const ServerProcess& server) {
  absl::StatusOr<std::string> text = HttpGet(server.metrics_port(), "/metrics");
  EXPECT_TRUE(text.ok()) << text.status();
  return text.ok() ? *text : "";
}

// Waits until the sum of `name` over series with `labels` reaches
// `at_least`; false (and the last value in `last`) after `patience`.
bool AwaitMetric(const ServerProcess& server, const std::string& name,
                 const std::vector<std::string>& labels, double at_least, double* last,
                 seconds patience = seconds(60)) {
  const SteadyClock::time_point give_up = SteadyClock::now() + patience;
  do {
    *last = MetricSum(Scrape(server), name, labels);
    if (*last >= at_least) return true;
  } while (SteadyClock::now() < give_up);
  return false;
}

// `count` sequential quiet requests; their latencies in ms. Every one must
// succeed. With `server`, also how many batches of `model` the server
// completed while each request was out (`batches`).
std::vector<double> QuietLatencies(v1::AttnServe::Stub* stub, int count,
                                   const v1::ClassifyRequest& request,
                                   const ServerProcess* server = nullptr,
                                   std::vector<double>* batches = nullptr) {
  const std::vector<std::string> model = {"model=\"" + request.model() + "\""};
  std::vector<double> ms;
  for (int i = 0; i < count; ++i) {
    v1::ClassifyResponse response;
    const double before =
        server != nullptr ? MetricSum(Scrape(*server), "attnserve_batch_size_count", model) : 0;
    const SteadyClock::time_point start = SteadyClock::now();
    const grpc::Status status = ClassifyAs(stub, "quiet", request, &response);
    ms.push_back(std::chrono::duration<double, std::milli>(SteadyClock::now() - start).count());
    if (server != nullptr) {
      batches->push_back(MetricSum(Scrape(*server), "attnserve_batch_size_count", model) - before);
    }
    EXPECT_TRUE(status.ok()) << "quiet request " << i << ": " << status.error_message();
  }
  return ms;
}

TEST_F(IntegrationAdmissionTest, AQuietClientKeepsItsLatencyBesideANoisyOne) {
  // The noisy client may queue 1,024 sequences: fair sharing alone (not the
  // per-client limit, tested below) keeps the quiet client's latency.
  ServerProcess* server =
      StartServer({"--workers=2", "--max_queue_size=2048", "--max_queued_per_client=1024"});
  ASSERT_NE(server, nullptr);
  auto stub = Connect(server->address());
  // The bidirectional two-layer model: its batches cost far more compute per
  // byte sent than the demo's, so the noise loads the workers, not the
  // client's and server's protobuf coding.
  const v1::ClassifyRequest quiet =
      MakeRequest("bi", {RandomValues(16, kBiFeatures, 1)}, /*return_attention=*/false);
  std::vector<std::vector<float>> big(128, RandomValues(64, kBiFeatures, 2));
  const v1::ClassifyRequest noisy = MakeRequest("bi", big, /*return_attention=*/false);

  QuietLatencies(stub.get(), 10, quiet);  // warm the connection and the shapes
  const double baseline_p99 = Percentile(QuietLatencies(stub.get(), 100, quiet), 0.99);

  // Eight noisy callers, each sending 128 long sequences at a time, again and
  // again: the noisy client keeps up to 1,024 sequences queued while the
  // quiet client runs (and is never refused, so it never spins retrying).
  std::atomic<bool> stop{false};
  std::atomic<int64_t> noisy_ok{0}, noisy_refused{0};
  std::mutex compute_mu;
  std::vector<double> noisy_compute_ms;  // per noisy batch
  std::vector<std::thread> noise;
  for (int t = 0; t < 8; ++t) {
    noise.emplace_back([&] {
      auto own = Connect(server->address());
      while (!stop.load()) {
        v1::ClassifyResponse response;
        const grpc::Status status = ClassifyAs(own.get(), "noisy", noisy, &response);
        if (status.ok()) {
          ++noisy_ok;
          std::lock_guard<std::mutex> lock(compute_mu);
          for (const auto& r : response.results()) {
            noisy_compute_ms.push_back(static_cast<double>(r.timing().compute_us()) / 1000.0);
          }
        } else {
          ++noisy_refused;
          EXPECT_EQ(status.error_code(), StatusCode::UNAVAILABLE) << status.error_message();
        }
      }
    });
  }
  // The noise has filled the queue before the quiet client measures.
  double depth = 0;
  ASSERT_TRUE(AwaitMetric(*server, "attnserve_queue_depth", {"model=\"bi\""}, 512, &depth))
      << "the noise never filled the queue: depth " << depth;
  std::vector<double> batches;  // completed while each quiet request was out
  const double noisy_p99 =
      Percentile(QuietLatencies(stub.get(), 100, quiet, server, &batches), 0.99);
  stop.store(true);
  for (std::thread& t : noise) t.join();

  // The quiet client has been served far less than the noisy one, so its
  // request anchors the next batch: it waits only for the sooner of the two
  // batches running when it arrives, and while it is active those noisy
  // batches are half size (--max_client_batch_share). So its p99 stays
  // within a few of the noisy batches' typical run time of its own p99
  // alone, with room for a loaded machine's scheduling delays (measured on a
  // loaded 2-core machine: 19 to 43 ms, once 110 ms at load average 8; in
  // arrival order, behind the whole queue, 370 to 680 ms). The batches
  // completed while it was out are reported, not bounded: with half-size
  // noisy batches and the request's time mostly scheduling delay, their count
  // follows the machine's load rather than the policy.
  ASSERT_FALSE(noisy_compute_ms.empty());
  const double batch_ms = Percentile(noisy_compute_ms, 0.5);
  const double bound_ms = 10 * baseline_p99 + 10 * batch_ms + 60;
  EXPECT_GT(noisy_ok.load(), 0);
  if (kLatencyBoundsAsserted) {
    EXPECT_LE(noisy_p99, bound_ms) << "quiet p99 alone " << baseline_p99
                                   << " ms, beside the noise " << noisy_p99
                                   << " ms; a noisy batch takes " << batch_ms << " ms (median)";
  }
  std::cout << "quiet p99: alone " << baseline_p99 << " ms, beside a noisy client " << noisy_p99
            << " ms (bound " << bound_ms << " ms, noisy batch median " << batch_ms
            << " ms); batches completed per quiet request p50 " << Percentile(batches, 0.5)
            << ", p99 " << Percentile(batches, 0.99) << "; noisy requests " << noisy_ok.load()
            << " served, " << noisy_refused.load() << " refused\n";
}

TEST_F(IntegrationAdmissionTest, ARequestOverItsLimitIsResourceExhaustedAndAClientOverItsShareUnavailable) {
  // Two sequences per client may wait; batches of eight wait 600 s to fill.
  ServerProcess* server = StartServer({"--max_queued_per_client=2", "--max_batch_size=8",
                                       "--max_queue_delay_us=600000000", "--workers=1",
                                       "--shutdown_grace_s=0"});
  ASSERT_NE(server, nullptr);
  auto stub = Connect(server->address());
  const std::vector<float> values = RandomValues(10, kDemoFeatures, 3);
  v1::ClassifyResponse response;
  const grpc::Status too_big =
      ClassifyAs(stub.get(), "a", MakeRequest("demo", {values, values, values}), &response);
  EXPECT_TRUE(HasStatus(too_big, StatusCode::RESOURCE_EXHAUSTED,
                        "the request has 3 sequences; at most 2 are accepted in one request"));

  // Without the header a client is its address: this process queues two
  // sequences (they wait for a batch of eight) ...
  AsyncClassify first(stub.get(), MakeRequest("demo", {values, values}));
  // ... which the server shows in its queue depth before the next request.
  double depth = 0;
  ASSERT_TRUE(AwaitMetric(*server, "attnserve_queue_depth", {"model=\"demo\""}, 2, &depth))
      << "queue depth " << depth;
  grpc::ClientContext context;
  const grpc::Status over = stub->Classify(&context, MakeRequest("demo", {values}), &response);
  EXPECT_TRUE(HasStatus(over, StatusCode::UNAVAILABLE,
                        "this client already has 2 sequences waiting and asked for 1 more; at "
                        "most 2 may wait per client"));
  // A client named by the header still has its share.
  AsyncClassify other_client(stub.get(), MakeRequest("demo", {values}), std::nullopt, nullptr, "b");
  ASSERT_TRUE(AwaitMetric(*server, "attnserve_queue_depth", {"model=\"demo\""}, 3, &depth))
      << "queue depth " << depth;
  const std::string text = Scrape(*server);
  EXPECT_EQ(MetricSum(text, "attnserve_rejected_total", {"reason=\"too_large\"", "model=\"demo\""}),
            1);
  EXPECT_EQ(MetricSum(text, "attnserve_rejected_total", {"reason=\"client_limit\"", "model=\"demo\""}),
            1);
  EXPECT_EQ(MetricSum(text, "attnserve_requests_total",
                      {"code=\"RESOURCE_EXHAUSTED\"", "model=\"demo\""}),
            1);
}

TEST_F(IntegrationAdmissionTest, OverloadIsRefusedEarlyAndAcceptedRequestsWaitLittle) {
  // One worker, a 30 ms bound on the estimated wait, and a queue that would
  // otherwise hold seconds of work.
  ServerProcess* server = StartServer({"--workers=1", "--max_queue_wait_ms=30",
                                       "--max_queued_per_client=0", "--max_queue_size=4096"});
  ASSERT_NE(server, nullptr);
  auto stub = Connect(server->address());
  const std::vector<float> values = RandomValues(128, kDemoFeatures, 4);
  v1::ClassifyResponse response;
  // The server learns what a sequence costs from the batches it runs.
  ASSERT_TRUE(ClassifyAs(stub.get(), "probe", MakeRequest("demo", {values}), &response).ok());

  std::vector<std::unique_ptr<AsyncClassify>> flood;
  for (int i = 0; i < 400; ++i) {
    flood.push_back(std::make_unique<AsyncClassify>(
        stub.get(), MakeRequest("demo", {values, values, values, values}, false)));
  }
  int ok = 0, refused = 0;
  int64_t longest_queue_us = 0;
  for (auto& call : flood) {
    const grpc::Status& status = call->Wait();
    if (status.ok()) {
      ++ok;
      for (const auto& r : call->response().results()) {
        longest_queue_us = std::max<int64_t>(longest_queue_us, r.timing().queue_us());
      }
    } else {
      ++refused;
      EXPECT_TRUE(HasStatus(status, StatusCode::UNAVAILABLE, "the model is overloaded"));
    }
  }
  EXPECT_GT(ok, 0);
  EXPECT_GT(refused, 0);
  // The estimate is an estimate: a generous bound, far below what the
  // 1,600 sequences of the flood would wait in one unbounded queue.
  EXPECT_LT(longest_queue_us, 10 * 30000) << ok << " accepted, " << refused << " refused";
  EXPECT_EQ(MetricSum(Scrape(*server), "attnserve_rejected_total",
                      {"reason=\"overload\"", "model=\"demo\""}),
            4 * refused);
}

TEST_F(IntegrationAdmissionTest, ADeadlineThatPassesIsCountedAsDeadlineExceeded) {
  // Lone requests wait 600 s for a batch of two.
  ServerProcess* server = StartServer(
      {"--max_batch_size=2", "--max_queue_delay_us=600000000", "--workers=1", "--shutdown_grace_s=0"});
  ASSERT_NE(server, nullptr);
  auto stub = Connect(server->address());
  {  // The channel connected first, so each deadline below reaches the server
     // (a call whose deadline passes while connecting never gets there).
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + seconds(60));
    v1::ListModelsResponse models;
    ASSERT_TRUE(stub->ListModels(&context, v1::ListModelsRequest(), &models).ok());
  }
  const std::vector<float> values = RandomValues(10, kDemoFeatures, 5);
  double answered = 0;
  for (int i = 0; i < 3; ++i) {
    v1::ClassifyResponse response;
    const grpc::Status status = ClassifyAs(stub.get(), "a", MakeRequest("demo", {values}),
                                           &response, std::chrono::milliseconds(1000));
    EXPECT_EQ(status.error_code(), StatusCode::DEADLINE_EXCEEDED) << status.error_message();
    // The server has answered (and counted) it, so it has left the queue
    // before the next one comes (two would make a batch).
    ASSERT_TRUE(AwaitMetric(*server, "attnserve_requests_total", {"model=\"demo\""}, i + 1,
                            &answered))
        << "request " << i << " was never counted; answered " << answered;
  }
  {  // And a real cancellation.
    AsyncClassify cancelled(stub.get(), MakeRequest("demo", {values}));
    double queued = 0;
    ASSERT_TRUE(AwaitMetric(*server, "attnserve_queue_depth", {"model=\"demo\""}, 1, &queued))
        << "the request to cancel never reached the queue";
    cancelled.Cancel();
    EXPECT_EQ(cancelled.Wait().error_code(), StatusCode::CANCELLED);
  }
  // The server counts each call when it has answered it.
  ASSERT_TRUE(AwaitMetric(*server, "attnserve_requests_total", {"model=\"demo\""}, 4, &answered))
      << "answered " << answered;
  const std::string text = Scrape(*server);
  EXPECT_EQ(MetricSum(text, "attnserve_requests_total",
                      {"code=\"DEADLINE_EXCEEDED\"", "model=\"demo\""}),
            3)
      << text;
  EXPECT_EQ(MetricSum(text, "attnserve_requests_total", {"code=\"CANCELLED\"", "model=\"demo\""}),
            1);
}

TEST_F(IntegrationAdmissionTest, AStreamMessageHasADeadlineOfItsOwn) {
  ServerProcess* server = StartServer(
      {"--max_batch_size=2", "--max_queue_delay_us=600000000", "--workers=1", "--shutdown_grace_s=0"});
  ASSERT_NE(server, nullptr);
  auto stub = Connect(server->address());
  ClassifyStream stream(stub.get());  // the stream itself has no deadline
  v1::ClassifyRequest timed = MakeRequest("demo", {RandomValues(10, kDemoFeatures, 6)});
  timed.set_request_id("timed");
  timed.set_timeout_ms(50);
  ASSERT_TRUE(stream.Write(timed));
  std::optional<v1::ClassifyResponse> answer = stream.Await("timed");
  ASSERT_TRUE(answer.has_value());
  EXPECT_EQ(answer->status().code(), static_cast<int>(StatusCode::DEADLINE_EXCEEDED))
      << answer->status().message();
  // The stream goes on: two more fill a batch and are answered.
  for (const char* id : {"a", "b"}) {
    v1::ClassifyRequest request = MakeRequest("demo", {RandomValues(10, kDemoFeatures, 7)});
    request.set_request_id(id);
    ASSERT_TRUE(stream.Write(request));
  }
  for (const char* id : {"a", "b"}) {
    std::optional<v1::ClassifyResponse> ok = stream.Await(id);
    ASSERT_TRUE(ok.has_value());
    EXPECT_EQ(ok->status().code(), 0) << ok->status().message();
    EXPECT_EQ(ok->results_size(), 1);
  }
  ASSERT_TRUE(stream.WritesDone());
  EXPECT_TRUE(stream.Finish().ok());
}

}  // namespace
}  // namespace attnserve::testing
