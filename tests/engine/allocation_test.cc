// Steady-state allocations of Session::Run. Counts every operator new in the
// process while a batch runs (its own binary: it replaces the global
// allocation functions), on each LSTM implementation. Once a shape's plan and
// buffers exist, a batch allocates nothing per request: the count is the same
// for 16, 64 and 128 sequences and from one run to the next. What remains is oneDNN's
// per-execution bookkeeping (the C++ API's argument vector, the library's
// execution context, and a few shape-dependent internals: a batch of fewer
// than 16 sequences may count slightly fewer), a few per primitive run.
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <new>
#include <string>
#include <tuple>
#include <vector>

#include "engine/model.h"
#include "engine/session.h"
#include "gtest/gtest.h"
#include "tests/engine/fixture_cases.h"
#include "tests/engine/random_model.h"

namespace {
std::atomic<bool> g_counting{false};
std::atomic<long> g_allocations{0};
}  // namespace

void* operator new(std::size_t size) {
  if (g_counting.load(std::memory_order_relaxed)) g_allocations.fetch_add(1);
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t size) { return operator new(size); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
// (-Wmismatched-new-delete cannot see that these pairs are consistent.)

namespace attnserve::engine {
namespace {

using attnserve::testing::RandomSequence;
using attnserve::testing::SourcePath;

long CountAllocations(Session& session, const std::vector<SequenceView>& batch,
                      BatchOutput* out) {
  g_allocations.store(0);
  g_counting.store(true);
  const absl::Status status = session.Run(batch, out);
  g_counting.store(false);
  EXPECT_TRUE(status.ok()) << status;
  return g_allocations.load();
}

class AllocationTest : public ::testing::TestWithParam<std::tuple<std::string, LstmImpl>> {};

TEST_P(AllocationTest, SteadyStateAllocatesTheSameWhateverTheBatchSize) {
  const auto& [name, impl] = GetParam();
  LoadOptions options;
  options.lstm_impl = impl;
  auto model = Model::Load(SourcePath("tests/fixtures/parity/" + name), options);
  ASSERT_TRUE(model.ok()) << model.status();
  const int features = (*model)->spec().input_size;
  const Embedding* embedding = (*model)->embedding();
  const bool one_step = !(*model)->spec().has_encoder;
  Session session(*model, {});
  std::vector<std::vector<float>> data;
  std::vector<std::vector<int64_t>> ids;  // token-id models
  for (int i = 0; i < 128; ++i) {
    data.push_back(RandomSequence(12 + i % 4, features, i));
    ids.emplace_back();
    for (int t = 0; t < 16 && embedding != nullptr; ++t) {
      ids.back().push_back((i * 7 + t * 3) % embedding->vocab());
    }
  }
  auto views = [&](int count) {
    std::vector<SequenceView> v;
    for (int i = 0; i < count; ++i) {
      const int length = one_step ? 1 : 12 + i % 4;
      v.push_back(embedding != nullptr ? SequenceView::Ids(ids[i].data(), length)
                                       : SequenceView{data[i].data(), length});
    }
    return v;
  };
  const std::vector<int> sizes = {16, 64, 128};
  BatchOutput out;
  for (int warm = 0; warm < 2; ++warm) {  // build the plans, grow the buffers
    for (int size : sizes) CountAllocations(session, views(size), &out);
  }
  std::vector<long> counts;
  for (int size : sizes) {
    const std::vector<SequenceView> batch = views(size);
    counts.push_back(CountAllocations(session, batch, &out));
    EXPECT_EQ(CountAllocations(session, batch, &out), counts.back()) << "not steady";
  }
  std::printf("%s on %s: %ld, %ld, %ld allocations per batch of 16, 64, 128 sequences\n",
              name.c_str(), LstmImplName(impl), counts[0], counts[1], counts[2]);
  EXPECT_EQ(counts[1], counts[0]) << "allocations grow with the number of sequences";
  EXPECT_EQ(counts[2], counts[0]) << "allocations grow with the number of sequences";
  EXPECT_LE(counts[0], 250) << "more than oneDNN's per-primitive bookkeeping";
}

INSTANTIATE_TEST_SUITE_P(
    Models, AllocationTest,
    ::testing::Combine(::testing::Values("bi2_addres_d12_h32_c4_softmax",
                                         "uni1_ff_d8_h16_c3_softmax",
                                         "bi1_none_d10_h40_c8_softmax", "bi1_dot_luong_excl",
                                         "bi1_feature_sv", "uni1_emb_ff",
                                         "uni1_emb_bahdanau_mix_luong", "noenc_gate_after1",
                                         "uni2_add_gate_after2"),
                       ::testing::Values(LstmImpl::kRnnPrimitive, LstmImpl::kMatmul)),
    [](const ::testing::TestParamInfo<std::tuple<std::string, LstmImpl>>& p) {
      return std::string(std::get<0>(p.param)) + "_" + LstmImplName(std::get<1>(p.param));
    });

}  // namespace
}  // namespace attnserve::engine
