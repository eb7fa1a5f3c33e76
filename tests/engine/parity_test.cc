// Parity with PyTorch: every fixture under tests/fixtures/parity, run as one
// padded batch and one sequence at a time, within 1e-5 (max absolute error)
// of the reference computed per sequence by tools/make_fixtures.py.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "engine/model.h"
#include "engine/session.h"
#include "gtest/gtest.h"
#include "tests/engine/fixture_cases.h"

namespace attnserve::engine {
namespace {

using attnserve::testing::Cases;
using attnserve::testing::ReadCases;
using attnserve::testing::SourcePath;

constexpr double kTolerance = 1e-5;

std::vector<std::string> FixtureNames() {
  std::vector<std::string> names;
  for (const auto& entry :
       std::filesystem::directory_iterator(SourcePath("tests/fixtures/parity"))) {
    if (entry.is_directory()) names.push_back(entry.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

struct Errors {
  double outputs = 0;
  double attention = 0;
};

// Compares sequence `b` of `out` with row `row` of the expected tensors.
void Accumulate(const Cases& cases, const BatchOutput& out, int64_t b, int64_t row,
                Errors* errors) {
  const FloatTensor expected = *cases.file.GetFloat("probabilities");
  const int64_t classes = expected.shape[1];
  ASSERT_EQ(out.num_outputs, classes);
  for (int64_t c = 0; c < classes; ++c) {
    errors->outputs = std::max<double>(
        errors->outputs,
        std::fabs(out.outputs[b * classes + c] - expected.values[row * classes + c]));
  }
  if (!cases.file.Contains("attention")) {
    EXPECT_TRUE(out.attention.empty());
    return;
  }
  const FloatTensor attention = *cases.file.GetFloat("attention");
  ASSERT_EQ(out.attention.size(), 1u);
  const AttentionMap& map = out.attention[0];
  const int64_t length = cases.lengths[row];
  ASSERT_EQ(map.shapes[b].rank, 1);
  ASSERT_EQ(map.shapes[b].dims[0], length);  // covers its own valid steps only
  double sum = 0;
  for (int64_t t = 0; t < length; ++t) {
    const float got = map.values[b * map.stride + t];
    sum += got;
    errors->attention = std::max<double>(
        errors->attention, std::fabs(got - attention.values[row * cases.max_steps() + t]));
  }
  EXPECT_NEAR(sum, 1.0, 1e-5);
}

class ParityTest : public ::testing::TestWithParam<std::string> {};

TEST_P(ParityTest, MatchesPyTorchBatchedAndAlone) {
  const std::string dir = SourcePath("tests/fixtures/parity/" + GetParam());
  absl::StatusOr<std::shared_ptr<const Model>> model = Model::Load(dir);
  ASSERT_TRUE(model.ok()) << model.status();
  absl::StatusOr<Cases> cases = ReadCases(dir + "/cases.safetensors");
  ASSERT_TRUE(cases.ok()) << cases.status();
  ASSERT_GE(cases->count(), 2);

  Session session(*model, SessionOptions{});
  std::vector<SequenceView> all;
  for (int64_t i = 0; i < cases->count(); ++i) all.push_back(cases->View(i));

  BatchOutput batched;
  ASSERT_TRUE(session.Run(all, &batched).ok());
  Errors batch_errors;
  for (int64_t i = 0; i < cases->count(); ++i) Accumulate(*cases, batched, i, i, &batch_errors);

  Errors alone_errors;
  BatchOutput single;
  for (int64_t i = 0; i < cases->count(); ++i) {
    ASSERT_TRUE(session.Run({&all[i], 1}, &single).ok());
    Accumulate(*cases, single, 0, i, &alone_errors);
  }
  std::printf(
      "parity %-28s batched: outputs %.2e attention %.2e | alone: outputs %.2e "
      "attention %.2e\n",
      GetParam().c_str(), batch_errors.outputs, batch_errors.attention, alone_errors.outputs,
      alone_errors.attention);
  EXPECT_LE(batch_errors.outputs, kTolerance);
  EXPECT_LE(batch_errors.attention, kTolerance);
  EXPECT_LE(alone_errors.outputs, kTolerance);
  EXPECT_LE(alone_errors.attention, kTolerance);
  EXPECT_EQ(session.stats().weight_reorders, 0) << "a shape needed its own weight layout";
}

INSTANTIATE_TEST_SUITE_P(Fixtures, ParityTest, ::testing::ValuesIn(FixtureNames()),
                         [](const ::testing::TestParamInfo<std::string>& p) { return p.param; });

TEST(ParityFixtures, CoverTheFamilies) {
  // Guards against a fixture directory silently emptied or not generated.
  EXPECT_GE(FixtureNames().size(), 12u);
}

}  // namespace
}  // namespace attnserve::engine
