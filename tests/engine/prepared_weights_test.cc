// PreparedWeights: each layout is prepared once and shared, the plain layout
// is never copied, concurrent first requests reorder once, and the ledger
// counts what is held. Layouts are described explicitly (not asked of a
// primitive), so the test is the same on every ISA.
#include "engine/prepared_weights.h"

#include <memory>
#include <thread>
#include <vector>

#include "absl/synchronization/barrier.h"
#include "engine/dnnl_util.h"
#include "gtest/gtest.h"

namespace attnserve::engine {
namespace {

using dnnl::memory;
using tag = memory::format_tag;
using dt = memory::data_type;

constexpr int64_t kIn = 6, kGates = 4, kHidden = 5;

memory PlainLdigo() {
  memory m({{1, 1, kIn, kGates, kHidden}, dt::f32, tag::ldigo}, CpuEngine());
  float* v = static_cast<float*>(m.get_data_handle());
  for (int64_t i = 0; i < kIn * kGates * kHidden; ++i) v[i] = static_cast<float>(i);
  return m;
}

memory::desc Ldgoi() { return {{1, 1, kIn, kGates, kHidden}, dt::f32, tag::ldgoi}; }

TEST(PreparedWeightsTest, EachLayoutIsPreparedOnceAndShared) {
  auto ledger = std::make_shared<WeightLedger>();
  PreparedWeights weights(PlainLdigo(), ledger);
  const size_t bytes = kIn * kGates * kHidden * sizeof(float);
  EXPECT_EQ(ledger->Read().tensors, 1);
  EXPECT_EQ(ledger->Read().bytes, static_cast<int64_t>(bytes));

  // The plain layout is the plain memory itself.
  EXPECT_EQ(weights.Get(weights.plain().get_desc()).get_data_handle(),
            weights.plain().get_data_handle());
  EXPECT_EQ(weights.layouts(), 0);

  const memory first = weights.Get(Ldgoi());
  const memory again = weights.Get(Ldgoi());
  EXPECT_EQ(first.get_data_handle(), again.get_data_handle());
  EXPECT_NE(first.get_data_handle(), weights.plain().get_data_handle());
  EXPECT_EQ(weights.layouts(), 1);
  const WeightStats stats = ledger->Read();
  EXPECT_EQ(stats.layouts, 1);
  EXPECT_EQ(stats.reorders, 1);
  EXPECT_EQ(stats.bytes, static_cast<int64_t>(2 * bytes));

  // The copy holds the same values, transposed: ldgoi[i, g, o] -> [g, o, i].
  const float* plain = static_cast<const float*>(weights.plain().get_data_handle());
  const float* copy = static_cast<const float*>(first.get_data_handle());
  for (int64_t i = 0; i < kIn; ++i) {
    for (int64_t go = 0; go < kGates * kHidden; ++go) {
      EXPECT_EQ(copy[go * kIn + i], plain[i * kGates * kHidden + go]);
    }
  }

  // Another data type is another layout.
  const memory bf16 = weights.Get({{1, 1, kIn, kGates, kHidden}, dt::bf16, tag::ldigo});
  EXPECT_EQ(bf16.get_desc().data_type(), dt::bf16);
  EXPECT_EQ(weights.layouts(), 2);
  EXPECT_EQ(ledger->Read().reorders, 2);
}

TEST(PreparedWeightsTest, ConcurrentFirstRequestsReorderOnce) {
  auto ledger = std::make_shared<WeightLedger>();
  PreparedWeights weights(PlainLdigo(), ledger);
  constexpr int kThreads = 8;
  absl::Barrier start(kThreads);
  std::vector<void*> handles(kThreads, nullptr);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      start.Block();
      handles[t] = weights.Get(Ldgoi()).get_data_handle();
    });
  }
  for (std::thread& thread : threads) thread.join();
  for (void* handle : handles) EXPECT_EQ(handle, handles[0]);
  EXPECT_EQ(ledger->Read().reorders, 1);
  EXPECT_EQ(weights.layouts(), 1);
}

TEST(PreparedWeightsTest, WorksWithoutALedger) {
  PreparedWeights weights(PlainLdigo(), nullptr);
  EXPECT_NE(weights.Get(Ldgoi()).get_data_handle(), nullptr);
  EXPECT_EQ(weights.layouts(), 1);
}

}  // namespace
}  // namespace attnserve::engine
