// Answers over gRPC equal the engine's: the bidirectional 2-layer parity
// fixture's cases, sent in one request, match the fixture's golden values and
// an in-process engine::Session on the same version directory (1e-5); the demo
// model answers like the engine and classifies its held-out set.
#include <cmath>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/engine/fixture_cases.h"
#include "tests/integration/client_helpers.h"
#include "tests/integration/server_fixture.h"

namespace attnserve::testing {
namespace {

class IntegrationParityTest : public ServerTest {};

// Row `i` of a right-padded [N, T, D] cases tensor, cut to its length.
std::vector<float> CaseValues(const Cases& cases, int64_t i) {
  const float* begin = cases.inputs.values.data() + i * cases.max_steps() * cases.features();
  return std::vector<float>(begin, begin + cases.lengths[i] * cases.features());
}

TEST_F(IntegrationParityTest, BiFixtureMatchesGoldenValuesAndEngine) {
  ServerProcess* server = StartServer();
  ASSERT_NE(server, nullptr);
  absl::StatusOr<Cases> cases = ReadCases(BiVersionDir() + "/cases.safetensors");
  ASSERT_TRUE(cases.ok()) << cases.status();
  ASSERT_EQ(cases->features(), kBiFeatures);
  std::vector<std::vector<float>> sequences;
  for (int64_t i = 0; i < cases->count(); ++i) sequences.push_back(CaseValues(*cases, i));

  v1::ClassifyRequest request = MakeRequest("bi", sequences, /*return_attention=*/true);
  request.set_version(1);
  request.set_request_id("parity");
  v1::ClassifyResponse response;
  grpc::ClientContext context;
  const grpc::Status status = Connect(server->address())->Classify(&context, request, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(response.request_id(), "parity");
  EXPECT_EQ(response.model(), "bi");
  EXPECT_EQ(response.model_version(), 1);
  ASSERT_EQ(response.results_size(), cases->count());

  const absl::StatusOr<engine::FloatTensor> probabilities = cases->file.GetFloat("probabilities");
  ASSERT_TRUE(probabilities.ok()) << probabilities.status();
  // The temporal map's expected weights ("attention" in older fixtures).
  const absl::StatusOr<engine::FloatTensor> attention = cases->file.GetFloat(
      cases->file.Contains("attention.temporal") ? "attention.temporal" : "attention");
  ASSERT_TRUE(attention.ok()) << attention.status();
  const int64_t classes = probabilities->shape[1];
  absl::StatusOr<std::vector<Expected>> engine =
      EngineReference(BiVersionDir(), sequences, kBiFeatures);
  ASSERT_TRUE(engine.ok()) << engine.status();
  for (int64_t i = 0; i < cases->count(); ++i) {
    const v1::Classification& got = response.results(static_cast<int>(i));
    Expected golden;
    golden.probabilities.assign(probabilities->values.begin() + i * classes,
                                probabilities->values.begin() + (i + 1) * classes);
    const auto row = attention->values.begin() + i * cases->max_steps();
    golden.attention.assign(row, row + cases->lengths[i]);
    EXPECT_TRUE(Matches(got, golden)) << "case " << i << " vs the fixture";
    EXPECT_TRUE(Matches(got, (*engine)[i])) << "case " << i << " vs the engine";
    double sum = 0;
    for (float w : got.attention(0).weights()) sum += w;
    EXPECT_NEAR(sum, 1.0, 1e-5) << "case " << i;
    EXPECT_EQ(got.label(), "class_" + std::to_string(got.label_index()));
  }
}

TEST_F(IntegrationParityTest, AttentionOnlyWhenAskedAndTimingAlways) {
  ServerProcess* server = StartServer();
  ASSERT_NE(server, nullptr);
  const std::vector<std::vector<float>> sequences = {RandomValues(7, kBiFeatures, 1),
                                                     RandomValues(30, kBiFeatures, 2)};
  v1::ClassifyResponse response;
  grpc::ClientContext context;
  const grpc::Status status =
      Connect(server->address())
          ->Classify(&context, MakeRequest("bi", sequences, /*return_attention=*/false), &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_EQ(response.results_size(), 2);
  absl::StatusOr<std::vector<Expected>> engine =
      EngineReference(BiVersionDir(), sequences, kBiFeatures);
  ASSERT_TRUE(engine.ok()) << engine.status();
  for (int i = 0; i < 2; ++i) {
    const v1::Classification& got = response.results(i);
    EXPECT_EQ(got.attention_size(), 0);
    Expected probabilities_only{(*engine)[i].probabilities, {}};
    EXPECT_TRUE(Matches(got, probabilities_only));
    EXPECT_GE(got.timing().batch_size(), 1u);
    EXPECT_GE(got.timing().compute_us(), 0);
    EXPECT_GE(got.timing().queue_us(), 0);
  }
  EXPECT_GT(response.server_us(), 0);
}

TEST_F(IntegrationParityTest, DemoMatchesEngineWithTopK) {
  ServerProcess* server = StartServer();
  ASSERT_NE(server, nullptr);
  std::vector<std::vector<float>> sequences;
  for (int length : {1, 5, 64, 200}) {
    sequences.push_back(RandomValues(length, kDemoFeatures, 100 + length));
  }
  v1::ClassifyRequest request = MakeRequest("demo", sequences, /*return_attention=*/true);
  request.set_top_k(2);
  v1::ClassifyResponse response;
  grpc::ClientContext context;
  const grpc::Status status = Connect(server->address())->Classify(&context, request, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  absl::StatusOr<std::vector<Expected>> engine =
      EngineReference(DemoVersionDir(), sequences, kDemoFeatures);
  ASSERT_TRUE(engine.ok()) << engine.status();
  const std::vector<std::string> labels = {"up", "down", "left", "right"};
  ASSERT_EQ(response.results_size(), 4);
  for (int i = 0; i < 4; ++i) {
    const v1::Classification& got = response.results(i);
    EXPECT_TRUE(Matches(got, (*engine)[i])) << "sequence " << i;
    EXPECT_EQ(got.label(), labels[got.label_index()]);
    ASSERT_EQ(got.top_size(), 2);
    EXPECT_EQ(got.top(0).index(), got.label_index());
    EXPECT_EQ(got.top(0).label(), got.label());
    EXPECT_GE(got.top(0).probability(), got.top(1).probability());
    EXPECT_EQ(got.top(1).label(), labels[got.top(1).index()]);
    EXPECT_FLOAT_EQ(got.top(1).probability(), got.probabilities(got.top(1).index()));
  }
}

TEST_F(IntegrationParityTest, DemoClassifiesItsHeldOutSet) {
  ServerProcess* server = StartServer();
  ASSERT_NE(server, nullptr);
  absl::StatusOr<Cases> heldout = ReadCases(SourcePath("tests/fixtures/demo/heldout.safetensors"));
  ASSERT_TRUE(heldout.ok()) << heldout.status();
  absl::StatusOr<std::vector<int64_t>> labels = heldout->file.GetInt("labels");
  ASSERT_TRUE(labels.ok()) << labels.status();
  std::vector<std::vector<float>> sequences;
  for (int64_t i = 0; i < heldout->count(); ++i) sequences.push_back(CaseValues(*heldout, i));
  v1::ClassifyResponse response;
  grpc::ClientContext context;
  const grpc::Status status =
      Connect(server->address())->Classify(&context, MakeRequest("demo", sequences), &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_EQ(response.results_size(), heldout->count());
  int correct = 0;
  for (int64_t i = 0; i < heldout->count(); ++i) {
    correct += response.results(static_cast<int>(i)).label_index() == (*labels)[i];
  }
  EXPECT_GE(correct, 0.95 * static_cast<double>(heldout->count()));
}

}  // namespace
}  // namespace attnserve::testing
