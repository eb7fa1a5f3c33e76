// The Open Inference Protocol tensor contract without a transport: how a
// V2InferRequest's tensors become the protocol-neutral sequences (ragged rows
// by LENGTHS, raw bytes read in place or copied when misaligned, INT32 token
// ids widened), and which outputs it answers.
#include "server/kserve/v2_tensor_contract.h"

#include <cstring>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace attnserve::server {
namespace {

engine::ModelSpec ValueModel() {
  engine::ModelSpec spec;
  spec.input_size = 2;
  spec.labels = {"a", "b", "c"};
  return spec;
}

const std::vector<engine::AttentionOutputInfo> kMaps = {
    {"feature", {engine::kSequenceLength, 2}}, {"temporal", {engine::kSequenceLength}},
    {"temporal", {engine::kSequenceLength}}};

absl::StatusOr<std::unique_ptr<V2Inference>> Decode(const V2InferRequest& request,
                                                   const engine::ModelSpec& spec) {
  return DecodeV2Request(request, spec, kMaps, Clock::TimePoint::max(), Protocol::kKServeHttp);
}

V2InputTensor Tensor(const std::string& name, const std::string& datatype,
                     std::vector<int64_t> shape) {
  V2InputTensor t;
  t.name = name;
  t.datatype = datatype;
  t.shape = std::move(shape);
  return t;
}

TEST(V2TensorContractTest, RowsAreCutToTheirLengthsAndReadInPlace) {
  const std::vector<float> values = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};  // [2, 3, 2]
  const std::vector<int32_t> lengths = {3, 1};
  V2InferRequest request;
  request.inputs.push_back(Tensor("INPUT", "FP32", {2, 3, 2}));
  request.inputs.back().contents.fp32 = absl::MakeConstSpan(values);
  request.inputs.push_back(Tensor("LENGTHS", "INT32", {2}));
  request.inputs.back().contents.int32 = absl::MakeConstSpan(lengths);
  auto decoded = Decode(request, ValueModel());
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  const InferenceRequest& r = (*decoded)->request;
  EXPECT_EQ(r.protocol, Protocol::kKServeHttp);
  ASSERT_EQ(r.sequences.size(), 2u);
  EXPECT_EQ(r.sequences[0].steps, 3);
  EXPECT_EQ(r.sequences[0].values.data(), values.data());  // borrowed, not copied
  EXPECT_EQ(r.sequences[0].values.size(), 6u);
  EXPECT_EQ(r.sequences[1].steps, 1);
  EXPECT_EQ(r.sequences[1].values.data(), values.data() + 6);
  EXPECT_EQ(r.sequences[1].values.size(), 2u);
  // Default outputs: every one but top-k; repeated map names are numbered.
  std::vector<std::string> names;
  for (const V2OutputSlot& slot : (*decoded)->outputs) names.push_back(slot.name);
  EXPECT_EQ(names, (std::vector<std::string>{"PROBABILITIES", "LABEL", "LABEL_INDEX",
                                             "attention.feature", "attention.temporal",
                                             "attention.temporal_2"}));
}

TEST(V2TensorContractTest, MisalignedRawBytesAreCopiedNotReinterpreted) {
  const std::vector<float> values = {0.5f, -1.25f, 3.0f, 7.75f};  // [1, 2, 2]
  std::string storage(1 + sizeof(float) * values.size(), '\0');
  std::memcpy(storage.data() + 1, values.data(), sizeof(float) * values.size());
  V2InferRequest request;
  request.inputs.push_back(Tensor("INPUT", "FP32", {1, 2, 2}));
  request.inputs.back().has_raw = true;
  request.inputs.back().raw = absl::string_view(storage).substr(1);
  auto decoded = Decode(request, ValueModel());
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  const absl::Span<const float> got = (*decoded)->request.sequences[0].values;
  EXPECT_EQ(std::vector<float>(got.begin(), got.end()), values);
  EXPECT_EQ(got.data(), (*decoded)->values.data());  // the aligned copy
}

TEST(V2TensorContractTest, Int32TokenIdsAreWidened) {
  engine::ModelSpec spec = ValueModel();
  spec.has_embedding = true;
  spec.embedding.vocab = 10;
  const std::vector<int32_t> ids = {1, 2, 3, 4, 0, 0};  // [2, 3]
  const std::vector<int32_t> lengths = {3, 1};
  V2InferRequest request;
  request.inputs.push_back(Tensor("INPUT", "INT32", {2, 3}));
  request.inputs.back().contents.int32 = absl::MakeConstSpan(ids);
  request.inputs.push_back(Tensor("LENGTHS", "INT32", {2}));
  request.inputs.back().contents.int32 = absl::MakeConstSpan(lengths);
  auto decoded = Decode(request, spec);
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  const auto& seqs = (*decoded)->request.sequences;
  EXPECT_EQ(std::vector<int64_t>(seqs[0].ids.begin(), seqs[0].ids.end()),
            (std::vector<int64_t>{1, 2, 3}));
  EXPECT_EQ(std::vector<int64_t>(seqs[1].ids.begin(), seqs[1].ids.end()),
            (std::vector<int64_t>{4}));
  EXPECT_TRUE(seqs[0].values.empty());
}

TEST(V2TensorContractTest, BadTensorsAreNamed) {
  const std::vector<float> values(6, 0.0f);
  V2InferRequest request;
  request.inputs.push_back(Tensor("INPUT", "FP32", {1, 3, 2}));
  request.inputs.back().contents.fp32 = absl::MakeConstSpan(values).subspan(0, 5);
  EXPECT_EQ(Decode(request, ValueModel()).status().message(),
            "input INPUT: has 5 elements; shape [1, 3, 2] needs 6");
  request.inputs.back().shape = {1, -3, 2};
  EXPECT_EQ(Decode(request, ValueModel()).status().message(),
            "input INPUT: shape [1, -3, 2] has a negative dimension");
  request.inputs.back().shape = {1 << 20, 1 << 20, 2};
  EXPECT_EQ(Decode(request, ValueModel()).status().message(),
            "input INPUT: shape [1048576, 1048576, 2] has too many elements");
  request.inputs.clear();
  EXPECT_EQ(Decode(request, ValueModel()).status().message(),
            "the request has no input INPUT (FP32 [B, T, 2])");
  request.inputs.push_back(Tensor("INPUT", "FP32", {1, 3, 2}));
  request.inputs.back().contents.fp32 = absl::MakeConstSpan(values);
  request.inputs.push_back(request.inputs.back());
  EXPECT_EQ(Decode(request, ValueModel()).status().message(), "input INPUT is given twice");
  request.inputs.pop_back();
  request.parameters["return_attention"] = std::string("yes");
  EXPECT_EQ(Decode(request, ValueModel()).status().message(),
            "parameter return_attention must be a bool");
  request.parameters.clear();
  request.outputs = {{"LABEL", false}, {"LABEL", false}};
  EXPECT_EQ(Decode(request, ValueModel()).status().message(), "output LABEL is requested twice");
}

TEST(V2TensorContractTest, MetadataMarksVariableDimensions) {
  const std::vector<V2TensorInfo> outputs = V2ModelOutputs(ValueModel(), kMaps);
  ASSERT_EQ(outputs.size(), 8u);
  EXPECT_EQ(outputs[0].shape, (std::vector<int64_t>{-1, 3}));
  EXPECT_EQ(outputs[5].name, "attention.feature");
  EXPECT_EQ(outputs[5].shape, (std::vector<int64_t>{-1, -1, 2}));
  EXPECT_EQ(outputs[7].name, "attention.temporal_2");
  EXPECT_EQ(V2ModelInputs(ValueModel())[0].shape, (std::vector<int64_t>{-1, -1, 2}));
}

}  // namespace
}  // namespace attnserve::server
