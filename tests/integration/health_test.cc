// grpc.health.v1: "" (the process) is SERVING while it serves; the AttnServe
// service reports readiness: with strict readiness (the default) only when
// every model has a ready version, otherwise when at least one has; each model
// reports SERVING when a version of it is ready (a model with no loadable
// version reports NOT_SERVING while the others serve); unknown names are
// NOT_FOUND.
#include <string>
#include <vector>

#include "grpc/health/v1/health.grpc.pb.h"
#include "gtest/gtest.h"
#include "tests/integration/client_helpers.h"
#include "tests/integration/server_fixture.h"
#include "tests/integration/test_repository.h"

namespace attnserve::testing {
namespace {

using grpc::health::v1::Health;
using grpc::health::v1::HealthCheckRequest;
using grpc::health::v1::HealthCheckResponse;

class IntegrationHealthTest : public ServerTest {};

grpc::Status Check(Health::Stub& stub, const std::string& service,
                   HealthCheckResponse::ServingStatus* serving) {
  HealthCheckRequest request;
  request.set_service(service);
  HealthCheckResponse response;
  grpc::ClientContext context;
  const grpc::Status status = stub.Check(&context, request, &response);
  *serving = response.status();
  return status;
}

struct Case {
  std::string service;
  HealthCheckResponse::ServingStatus want;
};

void ExpectStatuses(const ServerProcess& server, const std::vector<Case>& cases) {
  auto health =
      Health::NewStub(grpc::CreateChannel(server.address(), grpc::InsecureChannelCredentials()));
  for (const Case& c : cases) {
    HealthCheckResponse::ServingStatus serving = HealthCheckResponse::UNKNOWN;
    const grpc::Status status = Check(*health, c.service, &serving);
    ASSERT_TRUE(status.ok()) << "'" << c.service << "': " << status.error_message();
    EXPECT_EQ(serving, c.want) << "'" << c.service << "'";
  }
  HealthCheckResponse::ServingStatus serving = HealthCheckResponse::UNKNOWN;
  EXPECT_EQ(Check(*health, "nope", &serving).error_code(), grpc::StatusCode::NOT_FOUND);
}

TEST_F(IntegrationHealthTest, StrictReadinessWaitsForEveryModel) {
  // `broken` cannot load: the server is live but not ready.
  ServerProcess* server = StartServer();
  ASSERT_NE(server, nullptr);
  ExpectStatuses(*server, {Case{"", HealthCheckResponse::SERVING},
                           Case{"attnserve.v1.AttnServe", HealthCheckResponse::NOT_SERVING},
                           Case{"demo", HealthCheckResponse::SERVING},
                           Case{"bi", HealthCheckResponse::SERVING},
                           Case{"broken", HealthCheckResponse::NOT_SERVING}});
}

TEST_F(IntegrationHealthTest, WithoutStrictReadinessOneReadyModelIsEnough) {
  ServerProcess* server = StartServer({"--strict_readiness=false"});
  ASSERT_NE(server, nullptr);
  ExpectStatuses(*server, {Case{"", HealthCheckResponse::SERVING},
                           Case{"attnserve.v1.AttnServe", HealthCheckResponse::SERVING},
                           Case{"demo", HealthCheckResponse::SERVING},
                           Case{"bi", HealthCheckResponse::SERVING},
                           Case{"broken", HealthCheckResponse::NOT_SERVING}});
}

TEST_F(IntegrationHealthTest, StrictReadinessIsReadyWhenEveryModelServes) {
  ServerProcess* server = StartServerOn(DemoRepository(), {});
  ASSERT_NE(server, nullptr);
  auto health =
      Health::NewStub(grpc::CreateChannel(server->address(), grpc::InsecureChannelCredentials()));
  HealthCheckResponse::ServingStatus serving = HealthCheckResponse::UNKNOWN;
  ASSERT_TRUE(Check(*health, "attnserve.v1.AttnServe", &serving).ok());
  EXPECT_EQ(serving, HealthCheckResponse::SERVING);
}

}  // namespace
}  // namespace attnserve::testing
