// ClassifyStream robustness: a message that is not a valid ClassifyRequest is
// answered INVALID_ARGUMENT on the stream and the requests after it are
// served; a client that sends and never reads holds at most
// --max_stream_pending requests of the server's memory (the server stops
// reading its stream), and every request is answered once it reads.
#include <algorithm>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "tests/integration/client_helpers.h"
#include "tests/integration/http_get.h"
#include "tests/integration/metrics_text.h"
#include "tests/integration/sync_raw_stream.h"
#include "tests/integration/server_fixture.h"

namespace attnserve::testing {
namespace {

using grpc::StatusCode;

class IntegrationStreamFlowTest : public ServerTest {};

v1::ClassifyRequest WithId(v1::ClassifyRequest request, const std::string& id) {
  request.set_request_id(id);
  return request;
}

std::shared_ptr<grpc::Channel> Channel(const ServerProcess& server) {
  return grpc::CreateChannel(server.address(), grpc::InsecureChannelCredentials());
}

TEST_F(IntegrationStreamFlowTest, ACorruptMessageIsAnsweredAndTheStreamGoesOn) {
  ServerProcess* server = StartServer();
  ASSERT_NE(server, nullptr);
  SyncRawStream stream(Channel(*server));
  ASSERT_TRUE(stream.Write(WithId(MakeRequest("demo", {RandomValues(9, kDemoFeatures, 1)}), "r1")));
  // Field 1 (model), length 127, then the message ends: not a ClassifyRequest.
  ASSERT_TRUE(stream.WriteBytes(std::string("\x0a\x7f", 2)));
  ASSERT_TRUE(stream.Write(WithId(MakeRequest("demo", {RandomValues(9, kDemoFeatures, 3)}), "r3")));
  ASSERT_TRUE(stream.WritesDone());

  std::vector<v1::ClassifyResponse> answers(3);
  for (auto& answer : answers) ASSERT_TRUE(stream.Read(&answer));
  v1::ClassifyResponse extra;
  EXPECT_FALSE(stream.Read(&extra));
  const grpc::Status status = stream.Finish();
  EXPECT_TRUE(status.ok()) << status.error_message();

  int ok = 0, invalid = 0;
  for (const auto& answer : answers) {
    if (answer.request_id().empty()) {
      ++invalid;
      EXPECT_EQ(answer.status().code(), static_cast<int>(StatusCode::INVALID_ARGUMENT));
      EXPECT_NE(answer.status().message().find(
                    "message 2 of this stream is not a valid ClassifyRequest"),
                std::string::npos)
          << answer.status().message();
      EXPECT_EQ(answer.results_size(), 0);
    } else {
      ++ok;
      EXPECT_EQ(answer.status().code(), 0) << answer.request_id() << ": " << answer.status().message();
      EXPECT_EQ(answer.results_size(), 1);
    }
  }
  EXPECT_EQ(ok, 2);
  EXPECT_EQ(invalid, 1);
}

TEST_F(IntegrationStreamFlowTest, AClientThatNeverReadsHoldsABoundedNumberOfRequests) {
  constexpr int kMaxPending = 4;
  constexpr int kRequests = 300;
  ServerProcess* server = StartServer({"--max_stream_pending=" + std::to_string(kMaxPending)});
  ASSERT_NE(server, nullptr);
  // A client whose receive window stays at 16 kB (gRPC would otherwise grow
  // it to megabytes as it measures the connection, and buffer every answer in
  // the client's transport): answers of about 1 kB (200 attention weights)
  // fill it after a dozen, and the server cannot write more until the client
  // reads.
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_HTTP2_BDP_PROBE, 0);
  args.SetInt(GRPC_ARG_HTTP2_STREAM_LOOKAHEAD_BYTES, 16 * 1024);
  SyncRawStream stream(
      grpc::CreateCustomChannel(server->address(), grpc::InsecureChannelCredentials(), args));
  const v1::ClassifyRequest request =
      MakeRequest("demo", {RandomValues(200, kDemoFeatures, 5)}, /*return_attention=*/true);
  std::thread writer([&] {
    for (int i = 0; i < kRequests; ++i) {
      if (!stream.Write(WithId(request, std::to_string(i)))) return;
    }
    stream.WritesDone();
  });

  // The server stops reading once it holds kMaxPending requests it cannot
  // write back; it then stays there while the client does not read.
  double pending = 0;
  double most = 0;
  auto scrape = [&] {
    absl::StatusOr<std::string> text = HttpGet(server->metrics_port(), "/metrics");
    EXPECT_TRUE(text.ok()) << text.status();
    pending = MetricSum(*text, "attnserve_stream_pending_requests");
    most = std::max(most, pending);
    return MetricSum(*text, "attnserve_stream_read_pauses_total");
  };
  while (scrape() < 1 || pending < kMaxPending) {
  }
  for (int i = 0; i < 20; ++i) scrape();
  EXPECT_EQ(pending, kMaxPending);
  EXPECT_LE(most, kMaxPending);

  // Reading, the client gets every answer, in order of completion, all OK.
  std::vector<bool> seen(kRequests, false);
  v1::ClassifyResponse response;
  for (int i = 0; i < kRequests; ++i) {
    ASSERT_TRUE(stream.Read(&response)) << "answer " << i << " missing";
    EXPECT_EQ(response.status().code(), 0) << response.status().message();
    const int id = std::stoi(response.request_id());
    ASSERT_TRUE(id >= 0 && id < kRequests);
    EXPECT_FALSE(seen[id]) << "answered twice: " << id;
    seen[id] = true;
  }
  writer.join();
  EXPECT_FALSE(stream.Read(&response));
  EXPECT_TRUE(stream.Finish().ok());
  scrape();
  EXPECT_EQ(pending, 0);
  EXPECT_LE(most, kMaxPending);
}

}  // namespace
}  // namespace attnserve::testing
