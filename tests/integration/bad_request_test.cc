// Every kind of bad Classify request is refused with the right code and a
// message that says what is wrong (and, for a sequence, which one); after each,
// a good request on the same server is answered correctly.
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/integration/client_helpers.h"
#include "tests/integration/server_fixture.h"

namespace attnserve::testing {
namespace {

using grpc::StatusCode;

constexpr int kServerMaxLength = 100;  // below demo's max_length (256)
constexpr int kMaxMessageBytes = 65536;
constexpr int kMaxQueueSize = 16;  // also the most sequences per request

class IntegrationBadRequestTest : public ServerTest {
 protected:
  void SetUp() override {
    server_ = StartServer({"--max_sequence_length=" + std::to_string(kServerMaxLength),
                           "--max_message_bytes=" + std::to_string(kMaxMessageBytes),
                           "--max_queue_size=" + std::to_string(kMaxQueueSize)});
    ASSERT_NE(server_, nullptr);
    stub_ = Connect(server_->address());
  }

  grpc::Status Classify(const v1::ClassifyRequest& request) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
    v1::ClassifyResponse response;
    return stub_->Classify(&context, request, &response);
  }

  // A demo request whose sequence 0 is good and sequence 1 is `bad`.
  static v1::ClassifyRequest WithBadSecond(const v1::Sequence& bad) {
    v1::ClassifyRequest request = MakeRequest("demo", {RandomValues(5, kDemoFeatures, 1)});
    *request.add_sequences() = bad;
    return request;
  }

  // `request` is refused with `code` and a message containing `substring`,
  // then a good request is answered correctly.
  void ExpectRefused(const v1::ClassifyRequest& request, StatusCode code,
                     const std::string& substring) {
    EXPECT_TRUE(HasStatus(Classify(request), code, substring));
    ExpectServing(*stub_);
  }

  static void ExpectServing(v1::AttnServe::Stub& stub) {
    const std::vector<float> values = RandomValues(kServerMaxLength, kDemoFeatures, 7);
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
    v1::ClassifyResponse response;
    const grpc::Status status = stub.Classify(&context, MakeRequest("demo", {values}), &response);
    ASSERT_TRUE(status.ok()) << "the good request after it: " << status.error_message();
    absl::StatusOr<std::vector<Expected>> engine =
        EngineReference(DemoVersionDir(), {values}, kDemoFeatures);
    ASSERT_TRUE(engine.ok()) << engine.status();
    ASSERT_EQ(response.results_size(), 1);
    EXPECT_TRUE(Matches(response.results(0), (*engine)[0]));
  }

  ServerProcess* server_ = nullptr;
  std::unique_ptr<v1::AttnServe::Stub> stub_;
};

TEST_F(IntegrationBadRequestTest, UnknownModelIsNotFound) {
  ExpectRefused(MakeRequest("nope", {RandomValues(5, kDemoFeatures, 1)}), StatusCode::NOT_FOUND,
                "model 'nope' not found; known models: bi, broken, demo");
}

TEST_F(IntegrationBadRequestTest, UnknownVersionIsNotFound) {
  v1::ClassifyRequest request = MakeRequest("demo", {RandomValues(5, kDemoFeatures, 1)});
  request.set_version(7);
  ExpectRefused(request, StatusCode::NOT_FOUND, "model 'demo' has no version 7; versions: 1");
}

TEST_F(IntegrationBadRequestTest, NegativeVersionIsNotFound) {
  v1::ClassifyRequest request = MakeRequest("demo", {RandomValues(5, kDemoFeatures, 1)});
  request.set_version(-1);
  ExpectRefused(request, StatusCode::NOT_FOUND, "has no version -1");
}

TEST_F(IntegrationBadRequestTest, FailedModelIsUnavailableWithItsReason) {
  ExpectRefused(MakeRequest("broken", {RandomValues(5, kDemoFeatures, 1)}), StatusCode::UNAVAILABLE,
                "model 'broken' has no ready version (");
  v1::ClassifyRequest request = MakeRequest("broken", {RandomValues(5, kDemoFeatures, 1)});
  request.set_version(1);
  ExpectRefused(request, StatusCode::UNAVAILABLE, "model 'broken' version 1 is FAILED: ");
}

TEST_F(IntegrationBadRequestTest, WrongFeatureCountIsInvalid) {
  ExpectRefused(WithBadSecond(MakeSequence(RandomValues(2, 5, 2), 0, 5)),
                StatusCode::INVALID_ARGUMENT, "sequence 1: has 5 features; the model takes 4");
}

TEST_F(IntegrationBadRequestTest, EmptySequenceIsInvalid) {
  ExpectRefused(WithBadSecond(v1::Sequence()), StatusCode::INVALID_ARGUMENT,
                "sequence 1: is empty");
}

TEST_F(IntegrationBadRequestTest, ValuesNotAMultipleOfFeaturesAreInvalid) {
  ExpectRefused(WithBadSecond(MakeSequence(std::vector<float>(6, 0.5f))),
                StatusCode::INVALID_ARGUMENT,
                "sequence 1: 6 values are not a multiple of 4 features");
}

TEST_F(IntegrationBadRequestTest, StepsInconsistentWithValuesAreInvalid) {
  ExpectRefused(WithBadSecond(MakeSequence(std::vector<float>(8, 0.5f), /*steps=*/3)),
                StatusCode::INVALID_ARGUMENT, "sequence 1: steps is 3 but 8 values make 2 steps");
}

TEST_F(IntegrationBadRequestTest, LongerThanTheServerLimitIsInvalid) {
  ExpectRefused(WithBadSecond(MakeSequence(RandomValues(kServerMaxLength + 1, kDemoFeatures, 3))),
                StatusCode::INVALID_ARGUMENT,
                "sequence 1: has 101 steps; the server accepts at most 100");
}

TEST_F(IntegrationBadRequestTest, LongerThanTheModelLimitIsInvalid) {
  // Without a server limit, demo's own max_length (256) applies.
  ServerProcess* unlimited = StartServer({"--max_sequence_length=0"});
  ASSERT_NE(unlimited, nullptr);
  auto stub = Connect(unlimited->address());
  grpc::ClientContext context;
  v1::ClassifyResponse response;
  const grpc::Status status = stub->Classify(
      &context, WithBadSecond(MakeSequence(RandomValues(257, kDemoFeatures, 4))), &response);
  EXPECT_TRUE(HasStatus(status, StatusCode::INVALID_ARGUMENT,
                        "sequence 1: sequence length 257 exceeds the model's max_length 256"));
  ExpectServing(*stub);
}

TEST_F(IntegrationBadRequestTest, NaNIsInvalid) {
  std::vector<float> values = RandomValues(3, kDemoFeatures, 5);
  values[2 * kDemoFeatures + 3] = std::numeric_limits<float>::quiet_NaN();
  ExpectRefused(WithBadSecond(MakeSequence(values)), StatusCode::INVALID_ARGUMENT,
                "sequence 1: step 2, feature 3 is NaN");
}

TEST_F(IntegrationBadRequestTest, InfinityIsInvalid) {
  std::vector<float> values = RandomValues(3, kDemoFeatures, 6);
  values[1] = -std::numeric_limits<float>::infinity();
  ExpectRefused(WithBadSecond(MakeSequence(values)), StatusCode::INVALID_ARGUMENT,
                "sequence 1: step 0, feature 1 is infinite");
}

TEST_F(IntegrationBadRequestTest, NoSequencesIsInvalid) {
  ExpectRefused(MakeRequest("demo", {}), StatusCode::INVALID_ARGUMENT,
                "the request has no sequences");
}

TEST_F(IntegrationBadRequestTest, TooManySequencesIsResourceExhausted) {
  std::vector<std::vector<float>> sequences(kMaxQueueSize + 1, std::vector<float>(4, 0.5f));
  ExpectRefused(MakeRequest("demo", sequences), StatusCode::RESOURCE_EXHAUSTED,
                "the request has 17 sequences; at most 16 are accepted in one request");
}

TEST_F(IntegrationBadRequestTest, EmptyModelNameIsInvalid) {
  ExpectRefused(MakeRequest("", {RandomValues(5, kDemoFeatures, 1)}), StatusCode::INVALID_ARGUMENT,
                "the request names no model");
}

TEST_F(IntegrationBadRequestTest, MessageLargerThanTheLimitIsResourceExhausted) {
  // 20000 floats: about 80 kB against a 64 kB limit.
  ExpectRefused(MakeRequest("demo", {std::vector<float>(20000, 0.5f)}),
                StatusCode::RESOURCE_EXHAUSTED, "larger than max");
}

}  // namespace
}  // namespace attnserve::testing
