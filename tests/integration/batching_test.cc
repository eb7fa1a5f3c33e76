// Dynamic batching seen from clients: concurrent requests of mixed lengths are
// batched together and every answer equals the answer the same sequence gets
// alone; a full batch forms as soon as max_batch_size sequences wait.
#include <future>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "tests/integration/client_helpers.h"
#include "tests/integration/server_fixture.h"

namespace attnserve::testing {
namespace {

using std::chrono::seconds;

class IntegrationBatchingTest : public ServerTest {};

constexpr int kThreads = 16;
constexpr int kRequestsPerThread = 4;
constexpr int kRequests = kThreads * kRequestsPerThread;

// Lengths 1..200, mixed so that neighbours in arrival order differ a lot.
int BurstLength(int i) { return 1 + (i * 67) % 200; }

TEST_F(IntegrationBatchingTest, ConcurrentMixedLengthBurstEqualsSingleRequests) {
  // The reference server computes every sequence alone (batches of one).
  ServerProcess* alone = StartServer({"--max_batch_size=1"});
  // Arrival order batches of 8 that wait up to 200 ms to fill: neighbours of
  // lengths 1..200 share batches, the strictest test of exact padding.
  ServerProcess* batched = StartServer({"--max_batch_size=8", "--max_queue_delay_us=200000",
                                        "--batch_grouping=arrival", "--workers=2"});
  ASSERT_NE(alone, nullptr);
  ASSERT_NE(batched, nullptr);

  std::vector<v1::ClassifyRequest> requests;
  std::vector<v1::ClassifyResponse> reference(kRequests);
  auto alone_stub = Connect(alone->address());
  for (int i = 0; i < kRequests; ++i) {
    requests.push_back(MakeRequest("demo", {RandomValues(BurstLength(i), kDemoFeatures, 1000 + i)},
                                   /*return_attention=*/true));
    requests.back().set_request_id(std::to_string(i));
    grpc::ClientContext context;
    const grpc::Status status = alone_stub->Classify(&context, requests[i], &reference[i]);
    ASSERT_TRUE(status.ok()) << status.error_message();
    ASSERT_EQ(reference[i].results(0).timing().batch_size(), 1u);
  }

  auto stub = Connect(batched->address());
  std::vector<v1::ClassifyResponse> responses(kRequests);
  std::vector<grpc::Status> statuses(kRequests);
  std::promise<void> go;
  std::shared_future<void> start = go.get_future().share();
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      start.wait();
      for (int k = 0; k < kRequestsPerThread; ++k) {
        const int i = t * kRequestsPerThread + k;
        grpc::ClientContext context;
        context.set_deadline(std::chrono::system_clock::now() + seconds(60));
        statuses[i] = stub->Classify(&context, requests[i], &responses[i]);
      }
    });
  }
  go.set_value();
  for (std::thread& thread : threads) thread.join();

  uint32_t largest_batch = 0;
  for (int i = 0; i < kRequests; ++i) {
    ASSERT_TRUE(statuses[i].ok()) << "request " << i << ": " << statuses[i].error_message();
    EXPECT_EQ(responses[i].request_id(), std::to_string(i));
    ASSERT_EQ(responses[i].results_size(), 1);
    EXPECT_TRUE(Matches(responses[i].results(0), reference[i].results(0)))
        << "request " << i << " (length " << BurstLength(i) << ")";
    largest_batch = std::max(largest_batch, responses[i].results(0).timing().batch_size());
  }
  EXPECT_GT(largest_batch, 1u) << "no two of " << kRequests
                               << " concurrent requests shared a batch";
}

TEST_F(IntegrationBatchingTest, FullBatchFormsAsSoonAsMaxBatchSizeWait) {
  // A batch can only start full: the queue delay is far longer than the test.
  ServerProcess* server =
      StartServer({"--max_batch_size=8", "--max_queue_delay_us=600000000", "--workers=2"});
  ASSERT_NE(server, nullptr);
  auto stub = Connect(server->address());
  constexpr int kBatch = 8;
  std::vector<std::vector<float>> sequences;
  std::vector<std::unique_ptr<AsyncClassify>> calls;
  for (int i = 0; i < kBatch; ++i) {
    sequences.push_back(RandomValues(20, kDemoFeatures, 50 + i));  // one length: one group
    calls.push_back(std::make_unique<AsyncClassify>(
        stub.get(), MakeRequest("demo", {sequences.back()}, /*return_attention=*/true),
        std::chrono::system_clock::now() + seconds(60)));
  }
  absl::StatusOr<std::vector<Expected>> engine =
      EngineReference(DemoVersionDir(), sequences, kDemoFeatures);
  ASSERT_TRUE(engine.ok()) << engine.status();
  for (int i = 0; i < kBatch; ++i) {
    const grpc::Status& status = calls[i]->Wait();
    ASSERT_TRUE(status.ok()) << "request " << i << ": " << status.error_message();
    const v1::Classification& result = calls[i]->response().results(0);
    EXPECT_EQ(result.timing().batch_size(), static_cast<uint32_t>(kBatch)) << "request " << i;
    EXPECT_TRUE(Matches(result, (*engine)[i])) << "request " << i;
  }
}

}  // namespace
}  // namespace attnserve::testing
