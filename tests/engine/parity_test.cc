// Parity with PyTorch: every fixture under tests/fixtures/parity, on each LSTM
// implementation (lstm_impl.h; the matmul LSTM with each recurrent GEMM,
// recurrent_gemm.h), run as one padded batch and one sequence at a
// time, within 1e-5 (max absolute error)
// of the reference computed per sequence by tools/make_fixtures.py: the
// outputs and every attention map the model returns (cases tensors
// "attention.<name>": temporal [N, S], feature [N, S, D] or [N, D], time
// [N, W, k] or [N, W]). A fixture whose activations oneDNN's LSTM primitive
// cannot compute is refused on that implementation, with FailedPrecondition
// naming the activation. Also checks that the fixtures cover the catalog and
// every LSTM activation.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include "engine/lstm_impl.h"
#include "engine/model.h"
#include "engine/packed_gemm.h"
#include "engine/recurrent_gemm.h"
#include "engine/session.h"
#include "gtest/gtest.h"
#include "tests/engine/fixture_cases.h"

namespace attnserve::engine {
namespace {

using attnserve::testing::Cases;
using attnserve::testing::ReadCases;
using attnserve::testing::SourcePath;

constexpr double kTolerance = 1e-5;
constexpr char kMapPrefix[] = "attention.";

std::vector<std::string> FixtureNames() {
  std::vector<std::string> names;
  for (const auto& entry :
       std::filesystem::directory_iterator(SourcePath("tests/fixtures/parity"))) {
    if (entry.is_directory()) names.push_back(entry.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

absl::StatusOr<ModelSpec> ReadSpec(const std::string& name) {
  std::ifstream file(SourcePath("tests/fixtures/parity/" + name + "/model.json"));
  std::stringstream text;
  text << file.rdbuf();
  return ParseModelSpec(text.str());
}

struct Errors {
  double outputs = 0;
  double attention = 0;
};

// Compares one map of sequence `b` (fixture row `row`) with its expected
// tensor [N, ...]: same rank, the map's shape within the expected one, every
// value, zeros in the expected tensor beyond the map's shape (the map covers
// the sequence's own steps only) and in the map's storage beyond its shape.
void CompareMap(const Cases& cases, const AttentionMap& map, int64_t b, int64_t row,
                double* error) {
  const absl::StatusOr<FloatTensor> expected = cases.file.GetFloat(kMapPrefix + map.name);
  ASSERT_TRUE(expected.ok()) << "the model returns \"" << map.name << "\"; the fixture has no "
                             << kMapPrefix << map.name;
  const AttentionShape& shape = map.shapes[b];
  const std::vector<int64_t>& dims = expected->shape;
  ASSERT_EQ(static_cast<int>(dims.size()) - 1, shape.rank) << map.name;
  const int64_t rows = shape.rank == 2 ? shape.dims[0] : 1;
  const int64_t cols = shape.rank == 2 ? shape.dims[1] : shape.dims[0];
  const int64_t expected_rows = shape.rank == 2 ? dims[1] : 1;
  const int64_t expected_cols = dims.back();
  ASSERT_LE(rows, expected_rows) << map.name;
  ASSERT_LE(cols, expected_cols) << map.name;
  if (shape.rank == 2) {
    ASSERT_EQ(cols, expected_cols) << map.name;
  }
  const float* want = expected->values.data() + row * expected_rows * expected_cols;
  const float* got = map.values.data() + b * map.stride;
  for (int64_t r = 0; r < expected_rows; ++r) {
    for (int64_t c = 0; c < expected_cols; ++c) {
      const float w = want[r * expected_cols + c];
      if (r >= rows || c >= cols) {
        EXPECT_EQ(w, 0.0f) << map.name << ": the reference has weight beyond the returned shape";
        continue;
      }
      *error = std::max<double>(*error, std::fabs(got[r * cols + c] - w));
    }
  }
  for (int64_t i = shape.size(); i < map.stride; ++i) {
    ASSERT_EQ(got[i], 0.0f) << map.name << ": storage beyond the shape must be 0";
  }
}

// Compares sequence `b` of `out` with row `row` of the expected tensors.
void Accumulate(const Cases& cases, const Model& model, const BatchOutput& out, int64_t b,
                int64_t row, Errors* errors) {
  const FloatTensor expected = *cases.file.GetFloat("probabilities");
  const int64_t classes = expected.shape[1];
  ASSERT_EQ(out.num_outputs, classes);
  for (int64_t c = 0; c < classes; ++c) {
    errors->outputs = std::max<double>(
        errors->outputs,
        std::fabs(out.outputs[b * classes + c] - expected.values[row * classes + c]));
  }
  std::set<std::string> names;
  for (const auto& [name, info] : cases.file.tensors()) {
    if (name.rfind(kMapPrefix, 0) == 0) names.insert(name.substr(sizeof(kMapPrefix) - 1));
  }
  ASSERT_EQ(out.attention.size(), names.size());
  ASSERT_EQ(out.attention.size(), model.attention_outputs().size());
  for (size_t m = 0; m < out.attention.size(); ++m) {
    const AttentionMap& map = out.attention[m];
    EXPECT_EQ(map.name, model.attention_outputs()[m].name);
    EXPECT_EQ(names.count(map.name), 1u) << map.name;
    const std::vector<int64_t>& dims = model.attention_outputs()[m].dims;
    for (size_t r = 0; r < dims.size(); ++r) {
      // A sequence-length dimension covers the sequence's own steps.
      if (dims[r] == kSequenceLength) {
        EXPECT_EQ(map.shapes[b].dims[r], cases.lengths[row]);
      }
    }
    CompareMap(cases, map, b, row, &errors->attention);
  }
}

// An implementation as the parity tests run it.
struct Side {
  LstmImpl impl;
  RecurrentGemm gemm;
  const char* name;
};
constexpr Side kSides[] = {{LstmImpl::kRnnPrimitive, RecurrentGemm::kAuto, "rnn_primitive"},
                           {LstmImpl::kMatmul, RecurrentGemm::kAuto, "matmul"},
                           {LstmImpl::kMatmul, RecurrentGemm::kRowMatmul, "matmul_row_matmul"}};

class ParityTest : public ::testing::TestWithParam<std::tuple<std::string, Side>> {};

TEST_P(ParityTest, MatchesPyTorchBatchedAndAlone) {
  const auto& [name, side] = GetParam();
  const LstmImpl impl = side.impl;
  const std::string dir = SourcePath("tests/fixtures/parity/" + name);
  LoadOptions options;
  options.lstm_impl = impl;
  options.recurrent_gemm = side.gemm;
  absl::StatusOr<std::shared_ptr<const Model>> model = Model::Load(dir, options);
  absl::StatusOr<ModelSpec> spec = ReadSpec(name);
  ASSERT_TRUE(spec.ok()) << spec.status();
  if (impl == LstmImpl::kRnnPrimitive && !RnnPrimitiveComputes(spec->encoder).ok()) {
    ASSERT_EQ(model.status().code(), absl::StatusCode::kFailedPrecondition) << model.status();
    EXPECT_NE(model.status().message().find("cannot run on oneDNN's LSTM primitive"),
              std::string::npos)
        << model.status();
    return;
  }
  ASSERT_TRUE(model.ok()) << model.status();
  EXPECT_EQ((*model)->lstm_impl(), spec->has_encoder ? impl : LstmImpl::kNone);
  if (spec->has_encoder && impl == LstmImpl::kMatmul) {
    // The recurrent GEMM asked for runs: oneDNN's packed GEMM by default
    // wherever this build links it (f32 packs on every x86-64 ISA oneDNN
    // runs; bf16 on AVX-512), oneDNN's matmul when asked for.
    const std::string& note = (*model)->lstm_impl_note();
    if (side.gemm == RecurrentGemm::kRowMatmul) {
      EXPECT_NE(note.find("recurrent GEMM: oneDNN matmul (requested)"), std::string::npos) << note;
    } else if (PackedGemmWeights::Linked()) {
      EXPECT_NE(note.find("recurrent GEMM: oneDNN packed"), std::string::npos) << note;
    }
  }
  absl::StatusOr<Cases> cases = ReadCases(dir + "/cases.safetensors");
  ASSERT_TRUE(cases.ok()) << cases.status();
  ASSERT_GE(cases->count(), 2);

  Session session(*model, SessionOptions{});
  std::vector<SequenceView> all;
  for (int64_t i = 0; i < cases->count(); ++i) all.push_back(cases->View(i));

  BatchOutput batched;
  ASSERT_TRUE(session.Run(all, &batched).ok());
  Errors batch_errors;
  for (int64_t i = 0; i < cases->count(); ++i) {
    Accumulate(*cases, **model, batched, i, i, &batch_errors);
  }

  Errors alone_errors;
  BatchOutput single;
  for (int64_t i = 0; i < cases->count(); ++i) {
    ASSERT_TRUE(session.Run({&all[i], 1}, &single).ok());
    Accumulate(*cases, **model, single, 0, i, &alone_errors);
  }
  std::printf(
      "parity %-38s batched: outputs %.2e attention %.2e | alone: outputs %.2e "
      "attention %.2e\n",
      (name + "/" + side.name).c_str(), batch_errors.outputs, batch_errors.attention, alone_errors.outputs,
      alone_errors.attention);
  EXPECT_LE(batch_errors.outputs, kTolerance);
  EXPECT_LE(batch_errors.attention, kTolerance);
  EXPECT_LE(alone_errors.outputs, kTolerance);
  EXPECT_LE(alone_errors.attention, kTolerance);
  // Portable on every ISA: each layout was prepared by exactly one reorder.
  const WeightStats weights = (*model)->weight_stats();
  EXPECT_EQ(weights.reorders, weights.layouts);
}

INSTANTIATE_TEST_SUITE_P(
    Fixtures, ParityTest,
    ::testing::Combine(::testing::ValuesIn(FixtureNames()), ::testing::ValuesIn(kSides)),
    [](const ::testing::TestParamInfo<std::tuple<std::string, Side>>& p) {
      return std::get<0>(p.param) + "_" + std::get<1>(p.param).name;
    });

// Every catalog entry and option the fixtures must exercise, as short labels.
std::set<std::string> CoveredLabels() {
  std::set<std::string> labels;
  for (const std::string& name : FixtureNames()) {
    absl::StatusOr<ModelSpec> spec = ReadSpec(name);
    if (!spec.ok()) continue;
    if (spec->has_embedding) labels.insert("embedding");
    if (spec->head.gate && spec->head.gate_after > 0) labels.insert("gate_after");
    if (!spec->has_encoder) {
      labels.insert("no_encoder");
      continue;
    }
    labels.insert(std::string("recurrent.") +
                  RecurrentActivationName(spec->encoder.recurrent_activation));
    labels.insert(std::string("activation.") + CellActivationName(spec->encoder.activation));
    if (spec->encoder.activation != CellActivation::kTanh ||
        spec->encoder.recurrent_activation != RecurrentActivation::kSigmoid) {
      labels.insert(std::string("activations.") + (spec->encoder.bidirectional ? "bi" : "uni") +
                    std::to_string(spec->encoder.num_layers));
    }
    const std::string encoder = spec->encoder.bidirectional ? "bi" : "uni";
    labels.insert(encoder + std::to_string(spec->encoder.num_layers));
    if (spec->head.gate) labels.insert("gate");
    if (spec->attention.size() == 2) {
      labels.insert(std::string(AttentionKindName(spec->attention[0].kind)) + "+" +
                    (IsTemporal(spec->attention[1].kind) ? "temporal" : "time_dense"));
    }
    for (const AttentionSpec& block : spec->attention) {
      std::string label = AttentionKindName(block.kind);
      if (IsQueryBased(block.kind)) {
        if (block.score_mix) labels.insert("score_mix");
        if (block.attention_size > 0) labels.insert("bahdanau.attention_size");
        if (block.score_mix && spec->has_embedding) labels.insert("score_mix+embedding");
        label += std::string(".") + QueryOutputName(block.output) +
                 (block.exclude_query_step ? ".exclude" : "");
      }
      if (block.kind == AttentionKind::kTimeDense && spec->has_embedding) {
        labels.insert("time_dense+embedding");
      }
      if (block.kind == AttentionKind::kTimeDense) {
        label += std::string(".") + PlacementName(block.placement);
        labels.insert(std::string("pad.") + (block.pad == PadSide::kPre ? "pre" : "post"));
        labels.insert(std::string("truncate.") + (block.truncate == Truncation::kNone ? "none"
                                                  : block.truncate == Truncation::kPre ? "pre"
                                                                                       : "post"));
        if (block.pad_value != 0.0f) labels.insert("pad_value");
      }
      if (block.kind == AttentionKind::kTimeDense || block.kind == AttentionKind::kFeature) {
        label += block.single_vector ? ".single" : ".per_step";
      }
      labels.insert(label);
    }
  }
  return labels;
}

TEST(ParityFixtures, CoverTheCatalog) {
  const std::set<std::string> covered = CoveredLabels();
  std::vector<std::string> wanted = {
      "uni1", "uni2", "bi1", "bi2", "gate", "feedforward", "additive", "pad.pre", "pad.post",
      "pad_value", "truncate.none", "truncate.pre", "truncate.post", "feature+temporal",
      "feature+time_dense", "time_dense+temporal"};
  for (const char* kind : {"dot", "general", "general_tanh", "cosine", "bahdanau"}) {
    for (const char* output : {"context", "context_plus_query", "luong"}) {
      for (const char* exclude : {"", ".exclude"}) {
        wanted.push_back(std::string(kind) + "." + output + exclude);
      }
    }
  }
  for (const char* placement : {"before_lstm", "after_lstm"}) {
    for (const char* single : {".single", ".per_step"}) {
      wanted.push_back(std::string("time_dense.") + placement + single);
    }
  }
  for (const char* recurrent : {"sigmoid", "hard_sigmoid", "hard_sigmoid_keras3"}) {
    wanted.push_back(std::string("recurrent.") + recurrent);
  }
  for (const char* activation : {"tanh", "relu", "linear"}) {
    wanted.push_back(std::string("activation.") + activation);
  }
  // Other activations on a bidirectional and on a stacked encoder.
  wanted.push_back("activations.bi1");
  wanted.push_back("activations.uni2");
  // The model format's extensions.
  for (const char* extension : {"embedding", "no_encoder", "gate_after", "bahdanau.attention_size",
                                "score_mix", "score_mix+embedding", "time_dense+embedding"}) {
    wanted.push_back(extension);
  }
  wanted.push_back("feature.single");
  wanted.push_back("feature.per_step");
  for (const std::string& label : wanted) EXPECT_EQ(covered.count(label), 1u) << label;
}

}  // namespace
}  // namespace attnserve::engine
