// Request validation is protocol-neutral: the same checks and messages for
// every adapter, for value sequences and for token-id sequences.
#include "server/serving/request_validation.h"

#include <cstdint>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace attnserve::server {
namespace {

engine::ModelSpec ValueModel() {
  engine::ModelSpec spec;
  spec.input_size = 4;
  return spec;
}

engine::ModelSpec TokenModel() {
  engine::ModelSpec spec;
  spec.input_size = 8;  // the embedding's dimension
  spec.has_embedding = true;
  spec.embedding.vocab = 40;
  return spec;
}

InferenceRequest OneSequence(SequenceInput input) {
  InferenceRequest request;
  request.sequences.push_back(input);
  return request;
}

std::string Check(const InferenceRequest& request, const engine::ModelSpec& spec) {
  ServerLimits limits;
  limits.max_sequence_length = 100;
  return std::string(ValidateRequest(request, spec, limits, 16).message());
}

TEST(RequestValidationTest, TokenIdsAreCheckedAgainstTheVocabulary) {
  const std::vector<int64_t> ids = {1, 2, 39};
  const std::vector<int64_t> outside = {1, 2, 40};
  const std::vector<float> values(8, 0.5f);
  SequenceInput good{{}, 0, 0, absl::MakeConstSpan(ids)};
  EXPECT_EQ(Check(OneSequence(good), TokenModel()), "");
  EXPECT_EQ(StepsOf(good, 8), 3);
  EXPECT_TRUE(IsTokenSequence(good, ValueModel()));

  EXPECT_EQ(Check(OneSequence({{}, 0, 0, absl::MakeConstSpan(outside)}), TokenModel()),
            "sequence 0: step 2: token id 40 is outside the vocabulary [0, 40)");
  EXPECT_EQ(Check(OneSequence({absl::MakeConstSpan(values), 0, 0, {}}), TokenModel()),
            "sequence 0: carries values; the model reads token ids (field ids)");
  EXPECT_EQ(Check(OneSequence({{}, 0, 0, {}}), TokenModel()),
            "sequence 0: is empty (no token ids)");
  EXPECT_EQ(Check(OneSequence({{}, 4, 0, absl::MakeConstSpan(ids)}), TokenModel()),
            "sequence 0: steps is 4 but it has 3 ids");
  EXPECT_EQ(Check(OneSequence({{}, 0, 2, absl::MakeConstSpan(ids)}), TokenModel()),
            "sequence 0: has 2 features; a token model takes one id per step");
  EXPECT_EQ(Check(OneSequence(good), ValueModel()),
            "sequence 0: carries token ids; the model reads values (4 features per step)");
}

TEST(RequestValidationTest, ValueSequencesKeepTheirChecks) {
  const std::vector<float> eight(8, 0.5f);
  EXPECT_EQ(Check(OneSequence({absl::MakeConstSpan(eight), 0, 0, {}}), ValueModel()), "");
  EXPECT_EQ(StepsOf({absl::MakeConstSpan(eight), 0, 0, {}}, 4), 2);
  EXPECT_EQ(Check(OneSequence({absl::MakeConstSpan(eight), 0, 4, {}}), ValueModel()), "");
  EXPECT_EQ(Check(OneSequence({absl::MakeConstSpan(eight), 3, 0, {}}), ValueModel()),
            "sequence 0: steps is 3 but 8 values make 2 steps of 4 features");
  const std::vector<float> long_one(101 * 4, 0.5f);
  EXPECT_EQ(Check(OneSequence({absl::MakeConstSpan(long_one), 0, 0, {}}), ValueModel()),
            "sequence 0: has 101 steps; the server accepts at most 100");
  InferenceRequest many;
  for (int i = 0; i < 17; ++i) many.sequences.push_back({absl::MakeConstSpan(eight), 0, 0, {}});
  EXPECT_EQ(Check(many, ValueModel()),
            "the request has 17 sequences; at most 16 are accepted in one request; split it");
  ServerLimits limits;
  EXPECT_EQ(ValidateRequest(many, ValueModel(), limits, 16).code(),
            absl::StatusCode::kResourceExhausted);
}

}  // namespace
}  // namespace attnserve::server
