// ClassifyStream: requests on one stream are answered in completion order,
// each response carrying its request_id and the same results as the engine; a
// bad request is answered on the stream with its status and the stream goes
// on; cancelling the stream drops its queued requests without computing them.
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/integration/classify_stream.h"
#include "tests/integration/client_helpers.h"
#include "tests/integration/server_fixture.h"

namespace attnserve::testing {
namespace {

using grpc::StatusCode;

class IntegrationStreamTest : public ServerTest {};

v1::ClassifyRequest WithId(v1::ClassifyRequest request, const std::string& id) {
  request.set_request_id(id);
  return request;
}

TEST_F(IntegrationStreamTest, AnswersAreMatchedByRequestIdAndCorrect) {
  ServerProcess* server = StartServer();
  ASSERT_NE(server, nullptr);
  auto stub = Connect(server->address());

  struct Sent {
    std::string id;
    std::string model;
    std::vector<std::vector<float>> sequences;
  };
  std::vector<Sent> sent;
  for (int i = 0; i < 5; ++i) {
    sent.push_back({"demo-" + std::to_string(i),
                    "demo",
                    {RandomValues(1 + 40 * i, kDemoFeatures, 700 + i),
                     RandomValues(3 + i, kDemoFeatures, 710 + i)}});
  }
  for (int i = 0; i < 3; ++i) {
    sent.push_back(
        {"bi-" + std::to_string(i), "bi", {RandomValues(50 * (i + 1), kBiFeatures, 720 + i)}});
  }
  std::vector<float> nan = RandomValues(4, kDemoFeatures, 730);
  nan[5] = std::nanf("");

  ClassifyStream stream(stub.get());
  for (size_t i = 0; i < sent.size(); ++i) {
    ASSERT_TRUE(stream.Write(
        WithId(MakeRequest(sent[i].model, sent[i].sequences, /*return_attention=*/i % 2 == 0),
               sent[i].id)));
    if (i == 3) {
      ASSERT_TRUE(stream.Write(WithId(MakeRequest("demo", {nan}), "bad")));
    }
  }
  ASSERT_TRUE(stream.WritesDone());
  const grpc::Status status = stream.Finish();
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(stream.read_count(), static_cast<int>(sent.size()) + 1) << "one answer per request";

  for (size_t i = 0; i < sent.size(); ++i) {
    auto it = stream.responses().find(sent[i].id);
    ASSERT_NE(it, stream.responses().end()) << "no answer to " << sent[i].id;
    const v1::ClassifyResponse& response = it->second;
    EXPECT_EQ(response.status().code(), 0) << response.status().message();
    EXPECT_EQ(response.model(), sent[i].model);
    EXPECT_EQ(response.model_version(), 1);
    absl::StatusOr<std::vector<Expected>> engine =
        EngineReference(sent[i].model == "bi" ? BiVersionDir() : DemoVersionDir(),
                        sent[i].sequences, sent[i].model == "bi" ? kBiFeatures : kDemoFeatures);
    ASSERT_TRUE(engine.ok()) << engine.status();
    ASSERT_EQ(response.results_size(), static_cast<int>(sent[i].sequences.size()));
    for (int s = 0; s < response.results_size(); ++s) {
      Expected want = (*engine)[s];
      if (i % 2 != 0) want.attention.clear();
      EXPECT_TRUE(Matches(response.results(s), want)) << sent[i].id << " sequence " << s;
      EXPECT_EQ(response.results(s).attention_size(), i % 2 == 0 ? 1 : 0);
    }
  }
  auto bad = stream.responses().find("bad");
  ASSERT_NE(bad, stream.responses().end());
  EXPECT_EQ(bad->second.status().code(), static_cast<int>(StatusCode::INVALID_ARGUMENT));
  EXPECT_NE(bad->second.status().message().find("sequence 0: step 1, feature 1 is NaN"),
            std::string::npos)
      << bad->second.status().message();
  EXPECT_EQ(bad->second.results_size(), 0);
}

TEST_F(IntegrationStreamTest, BadRequestGetsItsStatusAndTheStreamContinues) {
  ServerProcess* server = StartServer();
  ASSERT_NE(server, nullptr);
  auto stub = Connect(server->address());
  const std::vector<float> values = RandomValues(12, kDemoFeatures, 740);
  absl::StatusOr<std::vector<Expected>> engine =
      EngineReference(DemoVersionDir(), {values}, kDemoFeatures);
  ASSERT_TRUE(engine.ok()) << engine.status();

  ClassifyStream stream(stub.get());
  struct Bad {
    v1::ClassifyRequest request;
    StatusCode code;
    std::string message;
  };
  const std::vector<Bad> bad = {
      {MakeRequest("nope", {values}), StatusCode::NOT_FOUND, "model 'nope' not found"},
      {MakeRequest("", {values}), StatusCode::INVALID_ARGUMENT, "names no model"},
      {MakeRequest("demo", {}), StatusCode::INVALID_ARGUMENT, "no sequences"},
      {MakeRequest("broken", {values}), StatusCode::UNAVAILABLE, "has no ready version"},
  };
  for (size_t i = 0; i < bad.size(); ++i) {
    const std::string bad_id = "bad-" + std::to_string(i);
    ASSERT_TRUE(stream.Write(WithId(bad[i].request, bad_id)));
    std::optional<v1::ClassifyResponse> refused = stream.Await(bad_id);
    ASSERT_TRUE(refused.has_value()) << "the stream ended at " << bad_id;
    EXPECT_EQ(refused->status().code(), static_cast<int>(bad[i].code)) << bad_id;
    EXPECT_NE(refused->status().message().find(bad[i].message), std::string::npos)
        << bad_id << ": " << refused->status().message();
    EXPECT_EQ(refused->results_size(), 0);

    const std::string good_id = "good-" + std::to_string(i);
    ASSERT_TRUE(stream.Write(WithId(MakeRequest("demo", {values}), good_id)));
    std::optional<v1::ClassifyResponse> answered = stream.Await(good_id);
    ASSERT_TRUE(answered.has_value()) << "the stream ended at " << good_id;
    EXPECT_EQ(answered->status().code(), 0) << answered->status().message();
    ASSERT_EQ(answered->results_size(), 1);
    EXPECT_TRUE(Matches(answered->results(0), (*engine)[0]));
  }
  ASSERT_TRUE(stream.WritesDone());
  const grpc::Status status = stream.Finish();
  EXPECT_TRUE(status.ok()) << status.error_message();
}

TEST_F(IntegrationStreamTest, CancelledStreamDropsItsQueuedRequests) {
  // Requests wait 1 s for a batch of eight that never fills.
  ServerProcess* server =
      StartServer({"--max_batch_size=8", "--max_queue_delay_us=1000000", "--workers=1"});
  ASSERT_NE(server, nullptr);
  auto stub = Connect(server->address());
  const std::vector<float> values = RandomValues(16, kDemoFeatures, 750);
  {
    ClassifyStream stream(stub.get());
    for (int i = 0; i < 3; ++i) {
      ASSERT_TRUE(stream.Write(WithId(MakeRequest("demo", {values}), "q" + std::to_string(i))));
    }
    // The stream reads one request at a time and queues it before reading the
    // next, so the answer to this probe proves q0..q2 are queued.
    ASSERT_TRUE(stream.Write(WithId(MakeRequest("nope", {values}), "probe")));
    std::optional<v1::ClassifyResponse> probe = stream.Await("probe");
    ASSERT_TRUE(probe.has_value());
    EXPECT_EQ(probe->status().code(), static_cast<int>(StatusCode::NOT_FOUND));
    EXPECT_EQ(stream.read_count(), 1) << "a queued request was answered before the cancel";
    stream.Cancel();
    EXPECT_EQ(stream.Finish().error_code(), StatusCode::CANCELLED);
    EXPECT_EQ(stream.responses().size(), 1u);
  }
  // The server keeps serving; the new request runs alone when its batch is
  // due, so the cancelled ones left the queue uncomputed.
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
  v1::ClassifyResponse response;
  const grpc::Status status = stub->Classify(&context, MakeRequest("demo", {values}), &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(response.results(0).timing().batch_size(), 1u);
  absl::StatusOr<std::vector<Expected>> engine =
      EngineReference(DemoVersionDir(), {values}, kDemoFeatures);
  ASSERT_TRUE(engine.ok()) << engine.status();
  EXPECT_TRUE(Matches(response.results(0), (*engine)[0]));
}

}  // namespace
}  // namespace attnserve::testing
