// The shutdown sequence against the real binary: on SIGTERM health turns
// NOT_SERVING first while calls are still served for --drain_delay_s; then new
// calls are refused UNAVAILABLE (never CANCELLED), the queue drains and the
// process exits 0; a second signal exits at once with status 3. Nothing
// sleeps: the test polls health and calls until each phase shows.
#include <signal.h>

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "grpc/health/v1/health.grpc.pb.h"
#include "gtest/gtest.h"
#include "tests/integration/client_helpers.h"
#include "tests/integration/server_fixture.h"

namespace attnserve::testing {
namespace {

using grpc::StatusCode;
using grpc::health::v1::Health;
using grpc::health::v1::HealthCheckRequest;
using grpc::health::v1::HealthCheckResponse;
using std::chrono::seconds;
using SteadyClock = std::chrono::steady_clock;

class IntegrationDrainTest : public ServerTest {};

constexpr int kForcedExitCode = 3;

grpc::Status Classify(v1::AttnServe::Stub* stub, const v1::ClassifyRequest& request) {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + seconds(30));
  v1::ClassifyResponse response;
  return stub->Classify(&context, request, &response);
}

// Polls readiness until it is NOT_SERVING (or the server is unreachable).
void AwaitNotServing(Health::Stub* health) {
  while (true) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + seconds(10));
    HealthCheckRequest request;
    request.set_service("attnserve.v1.AttnServe");
    HealthCheckResponse response;
    const grpc::Status status = health->Check(&context, request, &response);
    if (!status.ok() || response.status() == HealthCheckResponse::NOT_SERVING) return;
  }
}

TEST_F(IntegrationDrainTest, NotServingFirstThenStillServingForTheDelayThenUnavailable) {
  constexpr double kDelayS = 3;
  ServerProcess* server = StartServer({"--drain_delay_s=3"});
  ASSERT_NE(server, nullptr);
  auto channel = grpc::CreateChannel(server->address(), grpc::InsecureChannelCredentials());
  auto stub = v1::AttnServe::NewStub(channel);
  auto health = Health::NewStub(channel);
  const v1::ClassifyRequest request = MakeRequest("demo", {RandomValues(10, kDemoFeatures, 1)});
  ASSERT_TRUE(Classify(stub.get(), request).ok());

  const SteadyClock::time_point signalled = SteadyClock::now();
  ASSERT_TRUE(server->Signal(SIGTERM).ok());
  AwaitNotServing(health.get());
  // Health says NOT_SERVING, and a call is still served.
  const grpc::Status during = Classify(stub.get(), request);
  const double elapsed_s =
      std::chrono::duration<double>(SteadyClock::now() - signalled).count();
  if (elapsed_s < kDelayS) {
    EXPECT_TRUE(during.ok()) << "refused " << elapsed_s << " s after SIGTERM: "
                             << during.error_message();
  }
  // Then, once the delay is over, calls are refused UNAVAILABLE (or cannot
  // connect once the server has gone, also UNAVAILABLE); never CANCELLED.
  int served = 0;
  while (true) {
    const grpc::Status status = Classify(stub.get(), request);
    if (status.ok()) {
      ++served;
      continue;
    }
    EXPECT_EQ(status.error_code(), StatusCode::UNAVAILABLE) << status.error_message();
    break;
  }
  EXPECT_GE(std::chrono::duration<double>(SteadyClock::now() - signalled).count(), kDelayS)
      << "refused before the drain delay was over";
  absl::StatusOr<int> code = server->WaitForExit(seconds(60));
  ASSERT_TRUE(code.ok()) << code.status();
  EXPECT_EQ(*code, 0);
  std::cout << served << " calls served during the drain delay\n";
}

TEST_F(IntegrationDrainTest, ASecondSignalExitsAtOnceWithItsOwnStatus) {
  ServerProcess* server = StartServer({"--drain_delay_s=600", "--shutdown_grace_s=600"});
  ASSERT_NE(server, nullptr);
  auto channel = grpc::CreateChannel(server->address(), grpc::InsecureChannelCredentials());
  auto health = Health::NewStub(channel);
  ASSERT_TRUE(server->Signal(SIGTERM).ok());
  AwaitNotServing(health.get());
  ASSERT_TRUE(server->Signal(SIGINT).ok());
  absl::StatusOr<int> code = server->WaitForExit(seconds(60));
  ASSERT_TRUE(code.ok()) << code.status();
  EXPECT_EQ(*code, kForcedExitCode);
  EXPECT_NE(server->Stderr().find("again while draining: exiting at once"), std::string::npos)
      << server->Stderr();
}

TEST_F(IntegrationDrainTest, CallsRacingTheShutdownAreServedOrUnavailableNeverCancelled) {
  ServerProcess* server = StartServer({"--drain_delay_s=0"});
  ASSERT_NE(server, nullptr);
  const v1::ClassifyRequest request = MakeRequest("demo", {RandomValues(10, kDemoFeatures, 2)});
  std::atomic<bool> exited{false};
  std::mutex mu;
  std::map<int, int> by_code;
  std::vector<std::thread> callers;
  for (int t = 0; t < 4; ++t) {
    callers.emplace_back([&] {
      auto stub = Connect(server->address());
      while (!exited.load()) {
        const grpc::Status status = Classify(stub.get(), request);
        std::lock_guard<std::mutex> lock(mu);
        ++by_code[status.error_code()];
      }
    });
  }
  // Calls are flowing before the signal.
  while (true) {
    std::lock_guard<std::mutex> lock(mu);
    if (by_code[0] >= 20) break;
  }
  ASSERT_TRUE(server->Signal(SIGTERM).ok());
  absl::StatusOr<int> code = server->WaitForExit(seconds(60));
  exited.store(true);
  for (std::thread& t : callers) t.join();
  ASSERT_TRUE(code.ok()) << code.status();
  EXPECT_EQ(*code, 0);
  for (const auto& [status, count] : by_code) {
    EXPECT_TRUE(status == StatusCode::OK || status == StatusCode::UNAVAILABLE)
        << count << " calls ended with code " << status;
  }
  EXPECT_GT(by_code[StatusCode::UNAVAILABLE], 0);
}

}  // namespace
}  // namespace attnserve::testing
