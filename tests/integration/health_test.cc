// grpc.health.v1: the server as a whole, the AttnServe service and every
// model report SERVING when they can serve; a model with no loadable version
// reports NOT_SERVING while the others serve; unknown names are NOT_FOUND.
#include <string>

#include "grpc/health/v1/health.grpc.pb.h"
#include "gtest/gtest.h"
#include "tests/integration/client_helpers.h"
#include "tests/integration/server_fixture.h"

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

TEST_F(IntegrationHealthTest, ServerServiceAndModelsReportTheirStatus) {
  ServerProcess* server = StartServer();
  ASSERT_NE(server, nullptr);
  auto health =
      Health::NewStub(grpc::CreateChannel(server->address(), grpc::InsecureChannelCredentials()));
  struct Case {
    std::string service;
    HealthCheckResponse::ServingStatus want;
  };
  for (const Case& c :
       {Case{"", HealthCheckResponse::SERVING},
        Case{"attnserve.v1.AttnServe", HealthCheckResponse::SERVING},
        Case{"demo", HealthCheckResponse::SERVING}, Case{"bi", HealthCheckResponse::SERVING},
        Case{"broken", HealthCheckResponse::NOT_SERVING}}) {
    HealthCheckResponse::ServingStatus serving = HealthCheckResponse::UNKNOWN;
    const grpc::Status status = Check(*health, c.service, &serving);
    ASSERT_TRUE(status.ok()) << "'" << c.service << "': " << status.error_message();
    EXPECT_EQ(serving, c.want) << "'" << c.service << "'";
  }
  HealthCheckResponse::ServingStatus serving = HealthCheckResponse::UNKNOWN;
  EXPECT_EQ(Check(*health, "nope", &serving).error_code(), grpc::StatusCode::NOT_FOUND);
}

}  // namespace
}  // namespace attnserve::testing
