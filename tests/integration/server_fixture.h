// ServerTest: the gtest fixture of the integration tests. The suite builds one
// TestRepository; each test starts its own attnserve processes on free ports,
// gRPC and metrics alike (so tests run in parallel safely) and, when it fails, gets every server's
// stderr printed. Servers still running at the end of a test are killed.
#ifndef ATTNSERVE_TESTS_INTEGRATION_SERVER_FIXTURE_H_
#define ATTNSERVE_TESTS_INTEGRATION_SERVER_FIXTURE_H_

#include <memory>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/integration/server_process.h"
#include "tests/integration/test_repository.h"

namespace attnserve::testing {

class ServerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite();
  static void TearDownTestSuite();
  void TearDown() override;

  // Starts attnserve on the suite's repository with WithDefaults(flags); on
  // failure adds a test failure (with the server's stderr) and returns null.
  ServerProcess* StartServer(const std::vector<std::string>& flags = {});
  // The same on `repository`, with `env` ("NAME=VALUE") added to the server's
  // environment.
  ServerProcess* StartServerOn(const std::string& repository, const std::vector<std::string>& flags,
                               const std::vector<std::string>& env = {});

  // Starting attnserve on `repository` with WithDefaults(flags) fails: it
  // exits with `exit_code` before listening, and what it reports (its status
  // and stderr) contains `why`.
  static ::testing::AssertionResult FailsToStart(const std::string& repository,
                                                 const std::vector<std::string>& flags,
                                                 int exit_code, const std::string& why);

  // `flags` after the flags every test server needs to run in parallel with
  // others (the metrics endpoint on a free port, not the fixed default).
  static std::vector<std::string> WithDefaults(const std::vector<std::string>& flags);

  static const std::string& repository() { return repository_->path(); }

 private:
  static TestRepository* repository_;
  std::vector<std::unique_ptr<ServerProcess>> servers_;
};

}  // namespace attnserve::testing

#endif  // ATTNSERVE_TESTS_INTEGRATION_SERVER_FIXTURE_H_
