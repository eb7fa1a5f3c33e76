#include "tests/integration/server_fixture.h"

#include <cstdio>

namespace attnserve::testing {

TestRepository* ServerTest::repository_ = nullptr;

void ServerTest::SetUpTestSuite() {
  absl::StatusOr<std::unique_ptr<TestRepository>> repository = TestRepository::Create();
  ASSERT_TRUE(repository.ok()) << repository.status();
  repository_ = repository->release();
}

void ServerTest::TearDownTestSuite() {
  delete repository_;
  repository_ = nullptr;
}

void ServerTest::TearDown() {
  if (HasFailure()) {
    for (const auto& server : servers_) {
      std::fprintf(stderr, "---- attnserve (pid %d, port %d) stderr ----\n%s----\n",
                   static_cast<int>(server->pid()), server->port(), server->Stderr().c_str());
    }
  }
  servers_.clear();
}

std::vector<std::string> ServerTest::WithDefaults(const std::vector<std::string>& flags) {
  std::vector<std::string> all = {"--metrics_port=0"};
  all.insert(all.end(), flags.begin(), flags.end());
  return all;
}

::testing::AssertionResult ServerTest::FailsToStart(const std::string& repository,
                                                   const std::vector<std::string>& flags,
                                                   int exit_code, const std::string& why) {
  absl::StatusOr<std::unique_ptr<ServerProcess>> server =
      ServerProcess::Start(repository, WithDefaults(flags));
  if (server.ok()) {
    return ::testing::AssertionFailure() << "it started (port " << (*server)->port() << ")";
  }
  const std::string message(server.status().message());
  const std::string exited = "exited with status " + std::to_string(exit_code);
  if (message.find(exited) == std::string::npos || message.find(why) == std::string::npos) {
    return ::testing::AssertionFailure()
           << "expected '" << exited << "' and '" << why << "' in: " << message;
  }
  return ::testing::AssertionSuccess();
}

ServerProcess* ServerTest::StartServer(const std::vector<std::string>& flags) {
  if (repository_ == nullptr) {
    ADD_FAILURE() << "no model repository (SetUpTestSuite failed)";
    return nullptr;
  }
  return StartServerOn(repository_->path(), flags);
}

ServerProcess* ServerTest::StartServerOn(const std::string& repository,
                                         const std::vector<std::string>& flags,
                                         const std::vector<std::string>& env) {
  absl::StatusOr<std::unique_ptr<ServerProcess>> server =
      ServerProcess::Start(repository, WithDefaults(flags), std::chrono::seconds(60), env);
  if (!server.ok()) {
    ADD_FAILURE() << server.status();
    return nullptr;
  }
  servers_.push_back(*std::move(server));
  return servers_.back().get();
}

}  // namespace attnserve::testing
