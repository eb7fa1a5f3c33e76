// The queue seen from clients: a full queue refuses with UNAVAILABLE at once
// (and every accepted request is still answered correctly); a request whose
// deadline passes while it waits gets DEADLINE_EXCEEDED; a call cancelled while
// queued gets CANCELLED, is never computed, and the server keeps serving.
//
// Requests are made to wait deterministically with a queue delay far longer
// than the test's own steps and batches that cannot fill; nothing sleeps.
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/integration/client_helpers.h"
#include "tests/integration/server_fixture.h"

namespace attnserve::testing {
namespace {

using std::chrono::seconds;
using Clock = std::chrono::steady_clock;

class IntegrationQueueTest : public ServerTest {};

std::chrono::system_clock::time_point In(std::chrono::milliseconds d) {
  return std::chrono::system_clock::now() + d;
}

// Starts one demo call per sequence; each reports its index to `order`.
std::vector<std::unique_ptr<AsyncClassify>> StartCalls(
    v1::AttnServe::Stub* stub, const std::vector<std::vector<float>>& sequences,
    CompletionOrder* order) {
  std::vector<std::unique_ptr<AsyncClassify>> calls;
  for (size_t i = 0; i < sequences.size(); ++i) {
    calls.push_back(std::make_unique<AsyncClassify>(
        stub, MakeRequest("demo", {sequences[i]}), In(std::chrono::seconds(60)),
        [order, i] { order->Push(static_cast<int>(i)); }));
  }
  return calls;
}

TEST_F(IntegrationQueueTest, FullQueueRefusesWithUnavailableAndServesTheRest) {
  // Two sequences fit in the queue; a batch needs four, so none leaves it for 1 s.
  ServerProcess* server = StartServer(
      {"--max_queue_size=2", "--max_batch_size=4", "--max_queue_delay_us=1000000", "--workers=1"});
  ASSERT_NE(server, nullptr);
  auto stub = Connect(server->address());
  std::vector<std::vector<float>> sequences;
  for (int i = 0; i < 3; ++i) sequences.push_back(RandomValues(10, kDemoFeatures, 300 + i));
  absl::StatusOr<std::vector<Expected>> engine =
      EngineReference(DemoVersionDir(), sequences, kDemoFeatures);
  ASSERT_TRUE(engine.ok()) << engine.status();

  CompletionOrder order;
  auto calls = StartCalls(stub.get(), sequences, &order);
  const int refused = order.Pop();  // the two others wait for their batch
  EXPECT_TRUE(HasStatus(calls[refused]->Wait(), grpc::StatusCode::UNAVAILABLE, "queue is full"));
  for (int i = 0; i < 3; ++i) {
    if (i == refused) continue;
    const grpc::Status& status = calls[i]->Wait();
    ASSERT_TRUE(status.ok()) << "request " << i << ": " << status.error_message();
    EXPECT_TRUE(Matches(calls[i]->response().results(0), (*engine)[i])) << "request " << i;
    EXPECT_EQ(calls[i]->response().results(0).timing().batch_size(), 2u);
  }
}

TEST_F(IntegrationQueueTest, FloodOfLongSequencesGetsUnavailableAndCorrectAnswers) {
  // One worker, batches of one, two waiting at most: a flood of long bi
  // sequences keeps the worker busy while the queue overflows.
  ServerProcess* server = StartServer({"--max_queue_size=2", "--workers=1", "--max_batch_size=1"});
  ASSERT_NE(server, nullptr);
  auto stub = Connect(server->address());
  constexpr int kDistinct = 4;
  constexpr int kFlood = 48;
  std::vector<std::vector<float>> sequences;
  for (int i = 0; i < kDistinct; ++i) sequences.push_back(RandomValues(512, kBiFeatures, 400 + i));
  absl::StatusOr<std::vector<Expected>> engine =
      EngineReference(BiVersionDir(), sequences, kBiFeatures);
  ASSERT_TRUE(engine.ok()) << engine.status();

  int unavailable = 0;
  int ok = 0;
  // Overflow is all but certain in the first round; a few rounds make it so.
  for (int round = 0; round < 5 && unavailable == 0; ++round) {
    std::vector<std::unique_ptr<AsyncClassify>> calls;
    for (int i = 0; i < kFlood; ++i) {
      calls.push_back(std::make_unique<AsyncClassify>(
          stub.get(), MakeRequest("bi", {sequences[i % kDistinct]}, /*return_attention=*/true),
          In(seconds(60))));
    }
    for (int i = 0; i < kFlood; ++i) {
      const grpc::Status& status = calls[i]->Wait();
      if (status.ok()) {
        ++ok;
        EXPECT_TRUE(Matches(calls[i]->response().results(0), (*engine)[i % kDistinct]))
            << "request " << i;
      } else {
        ++unavailable;
        EXPECT_TRUE(HasStatus(status, grpc::StatusCode::UNAVAILABLE, "queue"));
      }
    }
  }
  EXPECT_GT(unavailable, 0);
  EXPECT_GT(ok, 0);
}

TEST_F(IntegrationQueueTest, DeadlinePassingInTheQueueIsDeadlineExceeded) {
  // A lone request waits 1 s for a batch of two; its deadline is 100 ms.
  ServerProcess* server =
      StartServer({"--max_batch_size=2", "--max_queue_delay_us=1000000", "--workers=1"});
  ASSERT_NE(server, nullptr);
  auto stub = Connect(server->address());
  const Clock::time_point start = Clock::now();
  grpc::ClientContext context;
  context.set_deadline(In(std::chrono::milliseconds(100)));
  v1::ClassifyResponse response;
  const grpc::Status status = stub->Classify(
      &context, MakeRequest("demo", {RandomValues(10, kDemoFeatures, 500)}), &response);
  // The server answers "the deadline passed while the request waited in the
  // queue"; the client may notice the deadline first. Either way the code is:
  EXPECT_EQ(status.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED) << status.error_message();
  EXPECT_LT(Clock::now() - start, seconds(1)) << "answered only when its batch was due";

  // The server keeps serving: two requests fill a batch at once.
  std::vector<std::vector<float>> sequences = {RandomValues(10, kDemoFeatures, 501),
                                               RandomValues(12, kDemoFeatures, 502)};
  absl::StatusOr<std::vector<Expected>> engine =
      EngineReference(DemoVersionDir(), sequences, kDemoFeatures);
  ASSERT_TRUE(engine.ok()) << engine.status();
  CompletionOrder order;
  auto calls = StartCalls(stub.get(), sequences, &order);
  for (int i = 0; i < 2; ++i) {
    ASSERT_TRUE(calls[i]->Wait().ok()) << calls[i]->Wait().error_message();
    EXPECT_TRUE(Matches(calls[i]->response().results(0), (*engine)[i]));
  }
}

TEST_F(IntegrationQueueTest, CancelledWhileQueuedIsCancelledAndNeverComputed) {
  // Two sequences fit in the queue and wait 1 s for a batch of four; a third
  // call is refused, which proves the other two are queued.
  ServerProcess* server = StartServer(
      {"--max_queue_size=2", "--max_batch_size=4", "--max_queue_delay_us=1000000", "--workers=1"});
  ASSERT_NE(server, nullptr);
  auto stub = Connect(server->address());
  std::vector<std::vector<float>> sequences;
  for (int i = 0; i < 3; ++i) sequences.push_back(RandomValues(10, kDemoFeatures, 600 + i));
  absl::StatusOr<std::vector<Expected>> engine =
      EngineReference(DemoVersionDir(), sequences, kDemoFeatures);
  ASSERT_TRUE(engine.ok()) << engine.status();

  CompletionOrder order;
  auto calls = StartCalls(stub.get(), sequences, &order);
  const int refused = order.Pop();
  ASSERT_TRUE(HasStatus(calls[refused]->Wait(), grpc::StatusCode::UNAVAILABLE, "queue is full"));
  const int cancelled = (refused + 1) % 3;
  const int kept = (refused + 2) % 3;
  calls[cancelled]->Cancel();
  EXPECT_EQ(calls[cancelled]->Wait().error_code(), grpc::StatusCode::CANCELLED);

  // The other queued call runs when its batch is due, alone: the cancelled
  // one left the queue without being computed.
  const grpc::Status& status = calls[kept]->Wait();
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_TRUE(Matches(calls[kept]->response().results(0), (*engine)[kept]));
  EXPECT_EQ(calls[kept]->response().results(0).timing().batch_size(), 1u);

  // And a new request is served.
  grpc::ClientContext context;
  context.set_deadline(In(seconds(60)));
  v1::ClassifyResponse response;
  const grpc::Status again =
      stub->Classify(&context, MakeRequest("demo", {sequences[cancelled]}), &response);
  ASSERT_TRUE(again.ok()) << again.error_message();
  EXPECT_TRUE(Matches(response.results(0), (*engine)[cancelled]));
}

}  // namespace
}  // namespace attnserve::testing
