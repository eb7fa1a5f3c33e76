// Tests of attnctl's input parsing (client/sequence_input.h): the JSON forms
// (object with "sequences", bare array, objects and plain 2-D arrays), CSV,
// format detection, random sequences, and that every malformed input fails
// with a message naming the place that is wrong.
#include "client/sequence_input.h"

#include <random>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace attnserve::client {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

// The message of a parse that must fail with InvalidArgument.
template <typename T>
std::string ErrorOf(const absl::StatusOr<T>& result) {
  EXPECT_FALSE(result.ok());
  if (result.ok()) return "";
  EXPECT_EQ(result.status().code(), absl::StatusCode::kInvalidArgument) << result.status();
  return std::string(result.status().message());
}

TEST(ParseJsonSequences, ObjectWithSequences) {
  auto parsed = ParseJsonSequences(R"({"model": "demo", "sequences": [
      {"label": "up", "values": [[1, 2], [3, 4], [5, 6]]},
      {"values": [[-0.5, 1e-3]], "label": 7}]})",
                                   0, "in.json");
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  ASSERT_EQ(parsed->size(), 2u);
  EXPECT_THAT((*parsed)[0].values, ElementsAre(1, 2, 3, 4, 5, 6));
  EXPECT_EQ((*parsed)[0].steps, 3);
  EXPECT_EQ((*parsed)[0].features, 2);
  EXPECT_EQ((*parsed)[0].expected, "up");
  EXPECT_THAT((*parsed)[1].values, ElementsAre(-0.5f, 1e-3f));
  EXPECT_EQ((*parsed)[1].steps, 1);
  EXPECT_EQ((*parsed)[1].expected, "7");
}

TEST(ParseJsonSequences, BareArrayOfArraysAndObjects) {
  auto parsed =
      ParseJsonSequences(R"([[[1, 2, 3]], {"values": [[4, 5, 6], [7, 8, 9]]}])", 3, "in.json");
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  ASSERT_EQ(parsed->size(), 2u);
  EXPECT_EQ((*parsed)[0].steps, 1);
  EXPECT_EQ((*parsed)[0].expected, "");
  EXPECT_EQ((*parsed)[1].steps, 2);
  EXPECT_EQ((*parsed)[1].features, 3);
  EXPECT_THAT((*parsed)[1].values, ElementsAre(4, 5, 6, 7, 8, 9));
}

TEST(ParseJsonSequences, DemoSample) {
  auto text = ReadTextFile(ATTNSERVE_SOURCE_DIR "/client/samples/demo.json");
  ASSERT_TRUE(text.ok()) << text.status();
  auto parsed = ParseJsonSequences(*text, 4, "demo.json");
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  ASSERT_FALSE(parsed->empty());
  for (const InputSequence& seq : *parsed) {
    EXPECT_EQ(seq.features, 4);
    EXPECT_EQ(seq.values.size(), static_cast<size_t>(seq.steps * 4));
    EXPECT_FALSE(seq.expected.empty());
  }
}

TEST(ParseJsonSequences, MalformedInputsNameTheProblem) {
  EXPECT_THAT(ErrorOf(ParseJsonSequences("{\"sequences\": [", 0, "a.json")),
              HasSubstr("a.json: invalid JSON: parse error at line 1"));
  EXPECT_THAT(ErrorOf(ParseJsonSequences(R"({"values": [[1]]})", 0, "a.json")),
              HasSubstr("a.json: expected a \"sequences\" array"));
  EXPECT_THAT(ErrorOf(ParseJsonSequences("42", 0, "a.json")),
              HasSubstr("or an array of sequences, got a number"));
  EXPECT_THAT(ErrorOf(ParseJsonSequences(R"({"sequences": []})", 0, "a.json")),
              HasSubstr("a.json has no sequences"));
  EXPECT_THAT(ErrorOf(ParseJsonSequences("[[1, 2], [3, 4]]", 0, "a.json")),
              HasSubstr("sequence 0: expected an array of steps, each an array of values, got "
                        "an array of numbers (wrap a single sequence"));
  EXPECT_THAT(ErrorOf(ParseJsonSequences(R"([{"label": "up"}])", 0, "a.json")),
              HasSubstr("a.json: sequence 0 has no \"values\""));
  EXPECT_THAT(ErrorOf(ParseJsonSequences(R"([[[1]], {"values": []}])", 0, "a.json")),
              HasSubstr("a.json: sequence 1 has no steps"));
  EXPECT_THAT(ErrorOf(ParseJsonSequences("[[[1, 2], []]]", 0, "a.json")),
              HasSubstr("sequence 0, step 1 has no values"));
  EXPECT_THAT(ErrorOf(ParseJsonSequences("[[[1, 2], [3]]]", 0, "a.json")),
              HasSubstr("sequence 0, step 1 has 1 values; step 0 has 2"));
  EXPECT_THAT(ErrorOf(ParseJsonSequences("[[[1, 2]]]", 4, "a.json")),
              HasSubstr("sequence 0, step 0 has 2 values; expected 4 features"));
  EXPECT_THAT(ErrorOf(ParseJsonSequences(R"([[[1, "2"]]])", 0, "a.json")),
              HasSubstr("sequence 0, step 0, value 1: expected a number, got a string"));
  EXPECT_THAT(ErrorOf(ParseJsonSequences("[[[1, null]]]", 0, "a.json")),
              HasSubstr("value 1: expected a number, got null"));
  EXPECT_THAT(ErrorOf(ParseJsonSequences("[[[1e39]]]", 0, "a.json")),
              HasSubstr("value 0 (1e+39) is out of float range"));
  EXPECT_THAT(ErrorOf(ParseJsonSequences(R"([[[1]], "x"])", 0, "a.json")),
              HasSubstr("sequence 1: expected an array of steps, got a string"));
}

TEST(ParseCsvSequences, OneSequencePerLine) {
  auto parsed = ParseCsvSequences("# a comment\n1, 2, 3, 4\r\n\n  -1.5,2e-1 \n", 2, "in.csv");
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  ASSERT_EQ(parsed->size(), 2u);
  EXPECT_THAT((*parsed)[0].values, ElementsAre(1, 2, 3, 4));
  EXPECT_EQ((*parsed)[0].steps, 2);
  EXPECT_EQ((*parsed)[0].features, 2);
  EXPECT_THAT((*parsed)[1].values, ElementsAre(-1.5f, 0.2f));
  EXPECT_EQ((*parsed)[1].steps, 1);
}

TEST(ParseCsvSequences, MalformedInputsNameTheLine) {
  EXPECT_THAT(ErrorOf(ParseCsvSequences("1,2\n", 0, "b.csv")),
              HasSubstr("b.csv: CSV input needs the feature count"));
  EXPECT_THAT(ErrorOf(ParseCsvSequences("1,2\n1,2,3\n", 2, "b.csv")),
              HasSubstr("b.csv:2: 3 values are not a multiple of 2 features"));
  EXPECT_THAT(ErrorOf(ParseCsvSequences("f0,f1\n1,2\n", 2, "b.csv")),
              HasSubstr("b.csv:1: field 1: 'f0' is not a number"));
  EXPECT_THAT(ErrorOf(ParseCsvSequences("1,,2\n", 1, "b.csv")),
              HasSubstr("b.csv:1: field 2 is empty"));
  EXPECT_THAT(ErrorOf(ParseCsvSequences("1,2,\n", 1, "b.csv")),
              HasSubstr("b.csv:1: field 3 is empty"));
  EXPECT_THAT(ErrorOf(ParseCsvSequences("1,nan\n", 1, "b.csv")),
              HasSubstr("b.csv:1: field 2 'nan' is not finite"));
  EXPECT_THAT(ErrorOf(ParseCsvSequences("# only a comment\n\n", 1, "b.csv")),
              HasSubstr("b.csv has no sequences"));
}

TEST(DetectInputFormat, ExtensionThenContent) {
  EXPECT_EQ(DetectInputFormat("x.JSON", "1,2"), InputFormat::kJson);
  EXPECT_EQ(DetectInputFormat("x.csv", "[[1]]"), InputFormat::kCsv);
  EXPECT_EQ(DetectInputFormat("x.txt", "  \n[[[1]]]"), InputFormat::kJson);
  EXPECT_EQ(DetectInputFormat("x", "{\"sequences\": []}"), InputFormat::kJson);
  EXPECT_EQ(DetectInputFormat("x", "0.5,1"), InputFormat::kCsv);
}

TEST(ReadTextFile, MissingFileIsNotFound) {
  auto text = ReadTextFile("/nonexistent/attnctl-input.json");
  ASSERT_FALSE(text.ok());
  EXPECT_EQ(text.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(text.status().message()), HasSubstr("/nonexistent/attnctl-input.json"));
}

TEST(RandomSequences, ShapeAndSeed) {
  std::mt19937_64 rng(7);
  auto a = RandomSequences(3, 5, 4, rng);
  ASSERT_EQ(a.size(), 3u);
  for (const InputSequence& seq : a) {
    EXPECT_EQ(seq.steps, 5);
    EXPECT_EQ(seq.features, 4);
    EXPECT_EQ(seq.values.size(), 20u);
  }
  std::mt19937_64 same(7);
  EXPECT_EQ(RandomSequences(3, 5, 4, same)[2].values, a[2].values);
}

// A model that reads token ids: a JSON sequence is a flat array of integers
// (or {"ids": [...]}), a CSV line one sequence's ids.
TEST(TokenIds, JsonFlatArraysAndObjects) {
  auto parsed = ParseJsonSequences(
      R"({"sequences": [[3, 1, 4], {"ids": [1, 5], "label": "class_1"}, [9007199254740993]]})", 0,
      "ids.json", /*token_ids=*/true);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  ASSERT_EQ(parsed->size(), 3u);
  EXPECT_THAT((*parsed)[0].ids, ElementsAre(3, 1, 4));
  EXPECT_EQ((*parsed)[0].steps, 3);
  EXPECT_EQ((*parsed)[0].features, 0);
  EXPECT_TRUE((*parsed)[0].values.empty());
  EXPECT_THAT((*parsed)[1].ids, ElementsAre(1, 5));
  EXPECT_EQ((*parsed)[1].expected, "class_1");
  EXPECT_THAT((*parsed)[2].ids, ElementsAre(9007199254740993));  // exact beyond 2^53
  auto bare = ParseJsonSequences("[[7], [0, 2]]", 0, "b.json", true);
  ASSERT_TRUE(bare.ok()) << bare.status();
  EXPECT_THAT((*bare)[1].ids, ElementsAre(0, 2));
}

TEST(TokenIds, MalformedIdsNameTheProblem) {
  EXPECT_THAT(ErrorOf(ParseJsonSequences("[[1, 2.5]]", 0, "a.json", true)),
              HasSubstr("a.json: sequence 0, step 1: expected an integer token id, got 2.5"));
  EXPECT_THAT(ErrorOf(ParseJsonSequences("[[[1, 2]]]", 0, "a.json", true)),
              HasSubstr("sequence 0: the model reads token ids: a sequence is a flat array"));
  EXPECT_THAT(ErrorOf(ParseJsonSequences(R"([{"values": [1]}])", 0, "a.json", true)),
              HasSubstr("a.json: sequence 0 has no \"ids\""));
  EXPECT_THAT(ErrorOf(ParseJsonSequences("[[]]", 0, "a.json", true)),
              HasSubstr("sequence 0 has no steps"));
  EXPECT_THAT(ErrorOf(ParseJsonSequences(R"([["3"]])", 0, "a.json", true)),
              HasSubstr("step 0: expected an integer token id, got a string"));
  EXPECT_THAT(ErrorOf(ParseJsonSequences("[[18446744073709551615]]", 0, "a.json", true)),
              HasSubstr("expected an integer token id"));
}

TEST(TokenIds, CsvLinesAreSequences) {
  auto parsed = ParseCsvSequences("# ids\n3, 1, 4\n\n5\n", 0, "ids.csv", true);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  ASSERT_EQ(parsed->size(), 2u);
  EXPECT_THAT((*parsed)[0].ids, ElementsAre(3, 1, 4));
  EXPECT_EQ((*parsed)[0].steps, 3);
  EXPECT_THAT((*parsed)[1].ids, ElementsAre(5));
  EXPECT_THAT(ErrorOf(ParseCsvSequences("3, 1.5\n", 0, "ids.csv", true)),
              HasSubstr("ids.csv:1: field 2: '1.5' is not an integer token id"));
}

TEST(TokenIds, RandomIdsAreInTheVocabulary) {
  std::mt19937_64 rng(3);
  auto a = RandomTokenSequences(4, 50, 12, rng);
  ASSERT_EQ(a.size(), 4u);
  bool seen_top = false;
  for (const InputSequence& seq : a) {
    EXPECT_EQ(seq.steps, 50);
    EXPECT_EQ(seq.ids.size(), 50u);
    EXPECT_TRUE(seq.values.empty());
    for (int64_t id : seq.ids) {
      EXPECT_GE(id, 0);
      EXPECT_LT(id, 12);
      seen_top |= id == 11;
    }
  }
  EXPECT_TRUE(seen_top);  // 200 draws from 12 ids reach the last one
  std::mt19937_64 same(3);
  EXPECT_EQ(RandomTokenSequences(4, 50, 12, same)[3].ids, a[3].ids);
}

}  // namespace
}  // namespace attnserve::client
