// The harness and the process lifecycle: attnserve prints its port, exits 0 on
// SIGTERM and SIGINT, fails to start with a clear message on bad flags or a
// missing repository, and a ServerProcess never leaves its child behind.
#include <signal.h>

#include <cerrno>
#include <chrono>

#include "gtest/gtest.h"
#include "tests/integration/server_fixture.h"

namespace attnserve::testing {
namespace {

using std::chrono::seconds;

class IntegrationHarnessTest : public ServerTest {};

TEST_F(IntegrationHarnessTest, ListensOnAPortAndExitsZeroOnSigterm) {
  ServerProcess* server = StartServer();
  ASSERT_NE(server, nullptr);
  EXPECT_GT(server->port(), 0);
  EXPECT_TRUE(server->running());
  ASSERT_TRUE(server->Signal(SIGTERM).ok());
  absl::StatusOr<int> code = server->WaitForExit(seconds(30));
  ASSERT_TRUE(code.ok()) << code.status();
  EXPECT_EQ(*code, 0);
  const std::string log = server->Stderr();
  EXPECT_NE(log.find("model demo version 1 READY"), std::string::npos) << log;
  EXPECT_NE(log.find("received SIGTERM"), std::string::npos) << log;
  EXPECT_NE(log.find("stopped"), std::string::npos) << log;
  EXPECT_FALSE(server->Signal(SIGTERM).ok());  // already reaped
}

TEST_F(IntegrationHarnessTest, ExitsZeroOnSigint) {
  ServerProcess* server = StartServer();
  ASSERT_NE(server, nullptr);
  ASSERT_TRUE(server->Signal(SIGINT).ok());
  absl::StatusOr<int> code = server->WaitForExit(seconds(30));
  ASSERT_TRUE(code.ok()) << code.status();
  EXPECT_EQ(*code, 0);
}

TEST_F(IntegrationHarnessTest, BadFlagFailsToStartWithTheServersMessage) {
  absl::StatusOr<std::unique_ptr<ServerProcess>> server =
      ServerProcess::Start(repository(), WithDefaults({"--batch_grouping=bogus"}));
  ASSERT_FALSE(server.ok());
  const std::string message(server.status().message());
  EXPECT_NE(message.find("exited with status 2"), std::string::npos) << message;
  EXPECT_NE(message.find("--batch_grouping must be 'length' or 'arrival'"), std::string::npos)
      << message;
}

TEST_F(IntegrationHarnessTest, NegativeFeatureMetricsWidthFailsToStart) {
  absl::StatusOr<std::unique_ptr<ServerProcess>> server = ServerProcess::Start(
      repository(), WithDefaults({"--attention_feature_metrics_max_d=-1"}));
  ASSERT_FALSE(server.ok());
  const std::string message(server.status().message());
  EXPECT_NE(message.find("exited with status 2"), std::string::npos) << message;
  EXPECT_NE(message.find("--attention_feature_metrics_max_d must be 0 or more, not -1"),
            std::string::npos)
      << message;
}

TEST_F(IntegrationHarnessTest, MissingRepositoryFailsToStart) {
  absl::StatusOr<std::unique_ptr<ServerProcess>> server =
      ServerProcess::Start(repository() + "/no-such-dir", WithDefaults({}));
  ASSERT_FALSE(server.ok());
  const std::string message(server.status().message());
  EXPECT_NE(message.find("exited with status 1"), std::string::npos) << message;
  EXPECT_NE(message.find("is not a directory"), std::string::npos) << message;
}

TEST_F(IntegrationHarnessTest, DestructorKillsAndReapsTheServer) {
  absl::StatusOr<std::unique_ptr<ServerProcess>> server =
      ServerProcess::Start(repository(), WithDefaults({}));
  ASSERT_TRUE(server.ok()) << server.status();
  const pid_t pid = (*server)->pid();
  server->reset();
  errno = 0;
  EXPECT_EQ(kill(pid, 0), -1);  // no such process: killed and reaped, not a zombie
  EXPECT_EQ(errno, ESRCH);
}

}  // namespace
}  // namespace attnserve::testing
