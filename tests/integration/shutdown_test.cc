// SIGTERM with requests in flight: every accepted request (queued or running)
// is answered OK, health turns NOT_SERVING, from then on new calls and new
// requests on open streams get UNAVAILABLE, and the process exits 0. Requests
// still queued when the grace period ends are answered UNAVAILABLE, not lost.
#include <signal.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "grpc/health/v1/health.grpc.pb.h"
#include "gtest/gtest.h"
#include "tests/integration/classify_stream.h"
#include "tests/integration/client_helpers.h"
#include "tests/integration/server_fixture.h"

namespace attnserve::testing {
namespace {

using grpc::StatusCode;
using grpc::health::v1::Health;
using grpc::health::v1::HealthCheckRequest;
using grpc::health::v1::HealthCheckResponse;
using std::chrono::seconds;

class IntegrationShutdownTest : public ServerTest {};

std::chrono::system_clock::time_point In(seconds d) { return std::chrono::system_clock::now() + d; }

v1::ClassifyRequest WithId(v1::ClassifyRequest request, const std::string& id) {
  request.set_request_id(id);
  return request;
}

TEST_F(IntegrationShutdownTest, SigtermAnswersEveryAcceptedRequestAndRefusesNewOnes) {
  // One worker, batches of four, and a queue delay longer than the test: at
  // the signal, batches are running and requests wait in the queue.
  ServerProcess* server = StartServer({"--workers=1", "--max_batch_size=4",
                                       "--max_queue_delay_us=600000000", "--shutdown_grace_s=60"});
  ASSERT_NE(server, nullptr);
  auto channel = grpc::CreateChannel(server->address(), grpc::InsecureChannelCredentials());
  auto stub = v1::AttnServe::NewStub(channel);
  auto health = Health::NewStub(channel);

  grpc::ClientContext watch_context;
  HealthCheckRequest overall;
  auto watch = health->Watch(&watch_context, overall);
  HealthCheckResponse seen;
  ASSERT_TRUE(watch->Read(&seen));
  ASSERT_EQ(seen.status(), HealthCheckResponse::SERVING);

  constexpr int kStreamed = 10;
  std::vector<std::vector<float>> bi_sequences;
  for (int i = 0; i < kStreamed; ++i)
    bi_sequences.push_back(RandomValues(300, kBiFeatures, 800 + i));
  constexpr int kUnary = 6;
  std::vector<std::vector<float>> demo_sequences;
  for (int i = 0; i < kUnary; ++i)
    demo_sequences.push_back(RandomValues(100, kDemoFeatures, 820 + i));

  // Unary calls, accepted before the signal unless the machine is very slow.
  std::vector<std::unique_ptr<AsyncClassify>> unary;
  for (int i = 0; i < kUnary; ++i) {
    unary.push_back(std::make_unique<AsyncClassify>(
        stub.get(), MakeRequest("demo", {demo_sequences[i]}), In(seconds(60))));
  }
  // Streamed requests, certainly accepted: the stream queues each request
  // before reading the next, so the probe's answer proves r0..r9 are in.
  ClassifyStream stream(stub.get());
  for (int i = 0; i < kStreamed; ++i) {
    ASSERT_TRUE(
        stream.Write(WithId(MakeRequest("bi", {bi_sequences[i]}, true), "r" + std::to_string(i))));
  }
  ASSERT_TRUE(stream.Write(WithId(MakeRequest("nope", {bi_sequences[0]}), "probe")));
  ASSERT_TRUE(stream.Await("probe").has_value());

  ASSERT_TRUE(server->Signal(SIGTERM).ok());
  // Health turns NOT_SERVING (the server refuses new work before it says so).
  while (seen.status() != HealthCheckResponse::NOT_SERVING) {
    ASSERT_TRUE(watch->Read(&seen)) << "the health watch ended before NOT_SERVING";
  }
  watch_context.TryCancel();
  watch->Finish().IgnoreError();

  {  // A new call is refused (or cannot connect once the server is gone).
    grpc::ClientContext context;
    context.set_deadline(In(seconds(30)));
    v1::ClassifyResponse response;
    const grpc::Status late =
        stub->Classify(&context, MakeRequest("demo", {demo_sequences[0]}), &response);
    EXPECT_EQ(late.error_code(), StatusCode::UNAVAILABLE) << late.error_message();
  }
  // A new request on the open stream is answered UNAVAILABLE on the stream.
  ASSERT_TRUE(stream.Write(WithId(MakeRequest("bi", {bi_sequences[0]}), "late")));
  std::optional<v1::ClassifyResponse> late = stream.Await("late");
  ASSERT_TRUE(late.has_value());
  EXPECT_EQ(late->status().code(), static_cast<int>(StatusCode::UNAVAILABLE));
  EXPECT_NE(late->status().message().find("shutting down"), std::string::npos)
      << late->status().message();
  ASSERT_TRUE(stream.WritesDone());
  const grpc::Status stream_status = stream.Finish();
  EXPECT_TRUE(stream_status.ok()) << stream_status.error_message();

  absl::StatusOr<std::vector<Expected>> bi_engine =
      EngineReference(BiVersionDir(), bi_sequences, kBiFeatures);
  ASSERT_TRUE(bi_engine.ok()) << bi_engine.status();
  for (int i = 0; i < kStreamed; ++i) {
    auto it = stream.responses().find("r" + std::to_string(i));
    ASSERT_NE(it, stream.responses().end()) << "r" << i << " was lost";
    EXPECT_EQ(it->second.status().code(), 0) << "r" << i << ": " << it->second.status().message();
    ASSERT_EQ(it->second.results_size(), 1) << "r" << i;
    EXPECT_TRUE(Matches(it->second.results(0), (*bi_engine)[i])) << "r" << i;
  }
  absl::StatusOr<std::vector<Expected>> demo_engine =
      EngineReference(DemoVersionDir(), demo_sequences, kDemoFeatures);
  ASSERT_TRUE(demo_engine.ok()) << demo_engine.status();
  for (int i = 0; i < kUnary; ++i) {
    const grpc::Status& status = unary[i]->Wait();
    if (status.ok()) {
      EXPECT_TRUE(Matches(unary[i]->response().results(0), (*demo_engine)[i])) << "unary " << i;
    } else {  // only if it reached the server after the signal
      EXPECT_TRUE(HasStatus(status, StatusCode::UNAVAILABLE, "shutting down")) << "unary " << i;
    }
  }

  absl::StatusOr<int> code = server->WaitForExit(seconds(60));
  ASSERT_TRUE(code.ok()) << code.status();
  EXPECT_EQ(*code, 0);
}

TEST_F(IntegrationShutdownTest, RequestsStillQueuedAfterTheGracePeriodAreUnavailable) {
  // No grace: what waits in the queue at the signal is answered, not run.
  ServerProcess* server = StartServer({"--workers=1", "--max_batch_size=8",
                                       "--max_queue_delay_us=600000000", "--shutdown_grace_s=0"});
  ASSERT_NE(server, nullptr);
  auto stub = Connect(server->address());
  ClassifyStream stream(stub.get());
  const std::vector<float> values = RandomValues(20, kDemoFeatures, 900);
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(stream.Write(WithId(MakeRequest("demo", {values}), "q" + std::to_string(i))));
  }
  ASSERT_TRUE(stream.Write(WithId(MakeRequest("nope", {values}), "probe")));
  ASSERT_TRUE(stream.Await("probe").has_value());  // q0..q2 are queued

  ASSERT_TRUE(server->Signal(SIGTERM).ok());
  for (int i = 0; i < 3; ++i) {
    std::optional<v1::ClassifyResponse> answer = stream.Await("q" + std::to_string(i));
    ASSERT_TRUE(answer.has_value()) << "q" << i << " was lost";
    EXPECT_EQ(answer->status().code(), static_cast<int>(StatusCode::UNAVAILABLE));
    EXPECT_NE(answer->status().message().find("shut down before the request could run"),
              std::string::npos)
        << answer->status().message();
  }
  ASSERT_TRUE(stream.WritesDone());
  EXPECT_TRUE(stream.Finish().ok());
  absl::StatusOr<int> code = server->WaitForExit(seconds(60));
  ASSERT_TRUE(code.ok()) << code.status();
  EXPECT_EQ(*code, 0);
}

}  // namespace
}  // namespace attnserve::testing
