// The matmul LSTM (engine/matmul_lstm.h) and how a model's LSTM implementation
// is chosen (engine/encoder_choice.h): the same results as oneDNN's LSTM
// primitive where both can run a model, padding and batch composition never
// changing a result, only the requested timesteps computed, weights shared by
// layout, and the refusals where the primitive cannot compute a model.
// Numerical results are checked on every CPU; which kernels run is checked in
// lstm_gates_test.cc.
#include <algorithm>
#include <cmath>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "engine/model.h"
#include "engine/packed_gemm.h"
#include "engine/recurrent_gemm.h"
#include "engine/session.h"
#include "gtest/gtest.h"
#include "tests/engine/random_model.h"
#include "tests/engine/weight_sharing.h"

namespace attnserve::engine {
namespace {

using attnserve::testing::MakeSpec;
using attnserve::testing::RandomModel;
using attnserve::testing::RandomSequence;

absl::StatusOr<std::shared_ptr<const Model>> Build(const ModelSpec& spec, LstmImpl impl,
                                                   uint32_t seed = 7) {
  LoadOptions options;
  options.lstm_impl = impl;
  return Model::Build(RandomModel(spec, seed), options);
}

ModelSpec WithActivations(ModelSpec spec, RecurrentActivation recurrent, CellActivation cell) {
  spec.encoder.recurrent_activation = recurrent;
  spec.encoder.activation = cell;
  return spec;
}

struct Batch {
  std::vector<std::vector<float>> data;
  std::vector<SequenceView> views;
};

Batch MakeBatch(const std::vector<int>& lengths, int features, uint32_t seed) {
  Batch batch;
  for (size_t i = 0; i < lengths.size(); ++i) {
    batch.data.push_back(RandomSequence(lengths[i], features, seed + static_cast<uint32_t>(i)));
  }
  for (size_t i = 0; i < lengths.size(); ++i) {
    batch.views.push_back({batch.data[i].data(), lengths[i]});
  }
  return batch;
}

// Max abs difference of outputs and attention between two runs of the same batch.
double MaxDifference(const BatchOutput& a, const BatchOutput& b) {
  double diff = 0;
  for (int64_t i = 0; i < a.batch_size * a.num_outputs; ++i) {
    diff = std::max<double>(diff, std::fabs(a.outputs[i] - b.outputs[i]));
  }
  for (size_t m = 0; m < a.attention.size(); ++m) {
    for (int64_t s = 0; s < a.batch_size; ++s) {
      const int64_t size = a.attention[m].shapes[s].size();
      for (int64_t i = 0; i < size; ++i) {
        diff = std::max<double>(diff, std::fabs(a.attention[m].values[s * a.attention[m].stride + i] -
                                                b.attention[m].values[s * b.attention[m].stride + i]));
      }
    }
  }
  return diff;
}

class BothImplementationsTest : public ::testing::TestWithParam<bool> {};

// Where both can run a model, they compute the same function.
TEST_P(BothImplementationsTest, AgreeOnSigmoidTanhModels) {
  const bool bidirectional = GetParam();
  for (int hidden : {5, 32, 130}) {
    SCOPED_TRACE(hidden);
    const ModelSpec spec = MakeSpec(6, hidden, 2, bidirectional, 3);
    auto rnn = Build(spec, LstmImpl::kRnnPrimitive);
    auto matmul = Build(spec, LstmImpl::kMatmul);
    ASSERT_TRUE(rnn.ok()) << rnn.status();
    ASSERT_TRUE(matmul.ok()) << matmul.status();
    EXPECT_EQ((*rnn)->lstm_impl(), LstmImpl::kRnnPrimitive);
    EXPECT_EQ((*matmul)->lstm_impl(), LstmImpl::kMatmul);
    const Batch batch = MakeBatch({17, 3, 40, 1, 40, 22, 9}, 6, 5);
    Session a(*rnn, {});
    Session b(*matmul, {});
    BatchOutput out_a, out_b;
    ASSERT_TRUE(a.Run(batch.views, &out_a).ok());
    ASSERT_TRUE(b.Run(batch.views, &out_b).ok());
    EXPECT_LE(MaxDifference(out_a, out_b), 2e-6);
  }
}

// A sequence alone, next to much longer ones, at another position and with a
// garbage tail gives the same result, with every activation.
TEST_P(BothImplementationsTest, MatmulBatchCompositionNeverChangesAResult) {
  const bool bidirectional = GetParam();
  for (auto [recurrent, cell] :
       {std::pair{RecurrentActivation::kHardSigmoid, CellActivation::kTanh},
        std::pair{RecurrentActivation::kHardSigmoidKeras3, CellActivation::kRelu},
        std::pair{RecurrentActivation::kSigmoid, CellActivation::kLinear}}) {
    const ModelSpec spec = WithActivations(MakeSpec(5, 24, 2, bidirectional, 3), recurrent, cell);
    auto model = Build(spec, LstmImpl::kMatmul);
    ASSERT_TRUE(model.ok()) << model.status();
    Session session(*model, {});
    const std::vector<float> target = RandomSequence(9, 5, 1);
    std::vector<float> garbage_tail = target;
    garbage_tail.resize(40 * 5, 1e6f);
    const Batch others = MakeBatch({150, 1, 33}, 5, 2);
    BatchOutput alone, mixed, tail;
    const SequenceView one = {target.data(), 9};
    ASSERT_TRUE(session.Run({&one, 1}, &alone).ok());
    std::vector<SequenceView> views = {others.views[0], others.views[1], one, others.views[2]};
    ASSERT_TRUE(session.Run(views, &mixed).ok());
    views[2] = {garbage_tail.data(), 9};
    ASSERT_TRUE(session.Run(views, &tail).ok());
    for (const BatchOutput* out : {&mixed, &tail}) {
      for (int64_t c = 0; c < alone.num_outputs; ++c) {
        EXPECT_NEAR(alone.outputs[c], out->outputs[2 * out->num_outputs + c], 1e-6);
      }
      const AttentionMap& map = out->attention[0];
      ASSERT_EQ(map.shapes[2].size(), 9);
      for (int64_t t = 0; t < 9; ++t) {
        EXPECT_NEAR(alone.attention[0].values[t], map.values[2 * map.stride + t], 1e-6);
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Directions, BothImplementationsTest, ::testing::Values(false, true),
                         [](const auto& p) { return p.param ? "Bidirectional" : "Unidirectional"; });

// The primitive's fixed sigmoid/tanh: asking for it on another activation is
// refused, naming the activation; auto takes the matmul LSTM and says why.
TEST(LstmImplChoiceTest, PrimitiveRefusesOtherActivationsAndAutoTakesMatmul) {
  const struct {
    RecurrentActivation recurrent;
    CellActivation cell;
    const char* named;
  } cases[] = {{RecurrentActivation::kHardSigmoid, CellActivation::kTanh, "hard_sigmoid"},
               {RecurrentActivation::kHardSigmoidKeras3, CellActivation::kTanh,
                "hard_sigmoid_keras3"},
               {RecurrentActivation::kSigmoid, CellActivation::kRelu, "relu"},
               {RecurrentActivation::kSigmoid, CellActivation::kLinear, "linear"}};
  for (const auto& c : cases) {
    SCOPED_TRACE(c.named);
    const ModelSpec spec = WithActivations(MakeSpec(4, 8, 1, true, 2), c.recurrent, c.cell);
    auto refused = Build(spec, LstmImpl::kRnnPrimitive);
    ASSERT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition) << refused.status();
    EXPECT_NE(refused.status().message().find(std::string("\"") + c.named + "\""),
              std::string::npos)
        << refused.status();
    EXPECT_NE(refused.status().message().find("matmul"), std::string::npos) << refused.status();
    auto automatic = Build(spec, LstmImpl::kAuto);
    ASSERT_TRUE(automatic.ok()) << automatic.status();
    EXPECT_EQ((*automatic)->lstm_impl(), LstmImpl::kMatmul);
    EXPECT_NE((*automatic)->lstm_impl_note().find("cannot compute"), std::string::npos)
        << (*automatic)->lstm_impl_note();
  }
}

// Auto times both on the warm-up shapes and keeps one of them; its weights
// alone stay charged to the model.
TEST(LstmImplChoiceTest, AutoKeepsOneImplementationAndOnlyItsWeights) {
  const ModelSpec spec = MakeSpec(8, 32, 1, false, 2);
  auto automatic = Build(spec, LstmImpl::kAuto);
  auto rnn = Build(spec, LstmImpl::kRnnPrimitive);
  auto matmul = Build(spec, LstmImpl::kMatmul);
  ASSERT_TRUE(automatic.ok() && rnn.ok() && matmul.ok());
  const LstmImpl chosen = (*automatic)->lstm_impl();
  ASSERT_NE(chosen, LstmImpl::kAuto);
  EXPECT_NE((*automatic)->lstm_impl_note().find("auto: 7 warm-up shapes"), std::string::npos)
      << (*automatic)->lstm_impl_note();
  const auto& same = chosen == LstmImpl::kMatmul ? *matmul : *rnn;
  EXPECT_EQ((*automatic)->weight_stats().tensors, same->weight_stats().tensors);
  EXPECT_EQ((*rnn)->lstm_impl_note(), "rnn_primitive (requested)");
}

TEST(LstmImplTest, NamesRoundTrip) {
  for (LstmImpl impl : {LstmImpl::kAuto, LstmImpl::kRnnPrimitive, LstmImpl::kMatmul}) {
    absl::StatusOr<LstmImpl> parsed = ParseLstmImpl(LstmImplName(impl));
    ASSERT_TRUE(parsed.ok());
    EXPECT_EQ(*parsed, impl);
  }
  absl::StatusOr<LstmImpl> bad = ParseLstmImpl("cudnn");
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("auto, rnn_primitive or matmul"), std::string::npos);
}

// Lengths uniform in 10..200, batches of 1 to 32 sequences: the matmul LSTM
// computes the requested timesteps plus one per inert row, within 2%.
TEST(MatmulLstmTest, ComputesTheRequestedTimestepsOnMixedLengths) {
  auto model = Build(MakeSpec(4, 16, 1, true, 2), LstmImpl::kMatmul);
  ASSERT_TRUE(model.ok()) << model.status();
  Session session(*model, {});
  std::mt19937 rng(11);
  std::uniform_int_distribution<int> length(10, 200);
  std::uniform_int_distribution<int> size(1, 32);
  BatchOutput out;
  for (int b = 0; b < 30; ++b) {
    std::vector<int> lengths(static_cast<size_t>(size(rng)));
    for (int& l : lengths) l = length(rng);
    const Batch batch = MakeBatch(lengths, 4, static_cast<uint32_t>(b));
    ASSERT_TRUE(session.Run(batch.views, &out).ok());
    int64_t requested = 0;
    for (int l : lengths) requested += l;
    EXPECT_EQ(out.steps_computed, requested + (out.padded_rows - out.batch_size));
  }
  const double ratio = static_cast<double>(session.stats().steps_computed) /
                       static_cast<double>(session.stats().steps_requested);
  std::printf("matmul LSTM, lengths 10..200: computed / requested timesteps %.4f\n", ratio);
  EXPECT_LE(ratio, 1.02);
}

// The recurrent GEMM on oneDNN's packed GEMM (the default, where this build
// links it) and on oneDNN matmul compute the same function. 40 sequences of
// lengths 1..40 run every row count from 40 down to 1 through each step's
// product; a 2-thread session runs its own pack (packed_gemm.h) and agrees too.
TEST(MatmulLstmTest, PackedAndRowMatmulRecurrentGemmsAgreeAtEveryRowCount) {
  for (bool bidirectional : {false, true}) {
    SCOPED_TRACE(bidirectional ? "bidirectional" : "unidirectional");
    const ModelSpec spec = MakeSpec(6, 40, 2, bidirectional, 3);
    LoadOptions options;
    options.lstm_impl = LstmImpl::kMatmul;
    auto packed = Model::Build(RandomModel(spec, 7), options);
    options.recurrent_gemm = RecurrentGemm::kRowMatmul;
    auto row_matmul = Model::Build(RandomModel(spec, 7), options);
    ASSERT_TRUE(packed.ok()) << packed.status();
    ASSERT_TRUE(row_matmul.ok()) << row_matmul.status();
    EXPECT_NE((*row_matmul)->lstm_impl_note().find("recurrent GEMM: oneDNN matmul (requested)"),
              std::string::npos)
        << (*row_matmul)->lstm_impl_note();
    if (PackedGemmWeights::Linked()) {
      EXPECT_NE((*packed)->lstm_impl_note().find("recurrent GEMM: oneDNN packed sgemm"),
                std::string::npos)
          << (*packed)->lstm_impl_note();
    }
    std::vector<int> lengths;
    for (int l = 1; l <= 40; ++l) lengths.push_back((l * 17) % 40 + 1);  // 1..40, shuffled
    const Batch batch = MakeBatch(lengths, 6, 3);
    SessionOptions two_threads;
    two_threads.threads = 2;
    Session a(*packed, {});
    Session b(*row_matmul, {});
    Session c(*packed, two_threads);
    BatchOutput out_a, out_b, out_c;
    ASSERT_TRUE(a.Run(batch.views, &out_a).ok());
    ASSERT_TRUE(b.Run(batch.views, &out_b).ok());
    ASSERT_TRUE(c.Run(batch.views, &out_c).ok());
    EXPECT_LE(MaxDifference(out_a, out_b), 2e-6);
    EXPECT_LE(MaxDifference(out_a, out_c), 2e-6);
    // Each sequence alone: one row per step.
    for (int i : {0, 7, 39}) {
      BatchOutput alone;
      ASSERT_TRUE(a.Run({&batch.views[i], 1}, &alone).ok());
      for (int64_t k = 0; k < alone.num_outputs; ++k) {
        EXPECT_NEAR(alone.outputs[k], out_b.outputs[i * out_b.num_outputs + k], 2e-6);
      }
    }
  }
}

// kPacked where the weights cannot be packed fails the load; where they can,
// it is what auto does.
TEST(MatmulLstmTest, PackedIsRefusedOnlyWhereItCannotRun) {
  LoadOptions options;
  options.lstm_impl = LstmImpl::kMatmul;
  options.recurrent_gemm = RecurrentGemm::kPacked;
  auto model = Model::Build(RandomModel(MakeSpec(4, 16, 1, false, 2), 3), options);
  if (PackedGemmWeights::Linked()) {
    ASSERT_TRUE(model.ok()) << model.status();
    EXPECT_NE((*model)->lstm_impl_note().find("recurrent GEMM: oneDNN packed sgemm"),
              std::string::npos);
  } else {
    EXPECT_EQ(model.status().code(), absl::StatusCode::kUnimplemented) << model.status();
  }
  EXPECT_EQ(ParseRecurrentGemm("row_matmul").value(), RecurrentGemm::kRowMatmul);
  EXPECT_EQ(ParseRecurrentGemm(RecurrentGemmName(RecurrentGemm::kPacked)).value(),
            RecurrentGemm::kPacked);
  EXPECT_EQ(ParseRecurrentGemm("cublas").status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(MatmulLstmTest, WeightsAreSharedByLayoutAcrossShapesAndSessions) {
  for (int hidden : {16, 128}) {
    SCOPED_TRACE(hidden);
    auto model = Build(MakeSpec(32, hidden, 2, true, 4), LstmImpl::kMatmul);
    ASSERT_TRUE(model.ok()) << model.status();
    attnserve::testing::ExpectWeightsSharedAcrossShapes(*model);
  }
}

}  // namespace
}  // namespace attnserve::engine
