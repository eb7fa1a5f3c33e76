// oneDNN's packed GEMM (engine/packed_gemm.h): the product at every row count
// from one pack (the pack holds the weights only), with row strides wider than
// the rows, on each of several matrices; packs per OpenMP thread count, made
// once and charged to the ledger; bf16 where the CPU has it. Each value is
// checked against a double-precision product within the classic bound of a
// k-term f32 dot product (k x unit roundoff x the sum of |terms|).
#include <omp.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <memory>
#include <random>
#include <vector>

#include "engine/cpu_info.h"
#include "engine/dnnl_util.h"
#include "engine/packed_gemm.h"
#include "engine/weight_ledger.h"
#include "gtest/gtest.h"

namespace attnserve::engine {
namespace {

using dnnl::memory;

// f32 weights [count, k, n] in a plain oneDNN memory, uniform in [-1, 1].
memory Weights(int64_t count, int64_t k, int64_t n, uint32_t seed) {
  memory w(count == 1 ? PlainF32({k, n}) : PlainF32({count, k, n}), CpuEngine());
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> value(-1.0f, 1.0f);
  float* p = static_cast<float*>(w.get_data_handle());
  for (int64_t i = 0; i < count * k * n; ++i) p[i] = value(rng);
  return w;
}

float RoundToBf16(float value) {
  uint32_t bits;
  std::memcpy(&bits, &value, sizeof(bits));
  bits = (bits + 0x7fffu + ((bits >> 16) & 1u)) & 0xffff0000u;
  float out;
  std::memcpy(&out, &bits, sizeof(out));
  return out;
}

uint16_t Bf16Bits(float value) {
  uint32_t bits;
  std::memcpy(&bits, &value, sizeof(bits));
  return static_cast<uint16_t>(bits >> 16);
}

struct Case {
  int64_t count, k, n;
};

PackedGemmShape ShapeOf(const Case& c, bool bf16 = false) {
  PackedGemmShape shape;
  shape.count = c.count;
  shape.k = c.k;
  shape.n = c.n;
  shape.bf16 = bf16;
  return shape;
}

// Runs matrix `index` on `rows` rows of `src` (row stride src_stride) into a
// dst of row stride dst_stride, and checks every value (and that the columns
// past n of every dst row are untouched).
void CheckProduct(const PackedGemm& gemm, const float* w, const Case& c, int64_t index,
                  int64_t rows, bool bf16) {
  const int64_t src_stride = c.k + 3;
  const int64_t dst_stride = c.n + 5;
  std::mt19937 rng(static_cast<uint32_t>(rows * 31 + index));
  std::uniform_real_distribution<float> value(-1.0f, 1.0f);
  std::vector<float> src(static_cast<size_t>(rows * src_stride));
  for (float& v : src) v = bf16 ? RoundToBf16(value(rng)) : value(rng);
  std::vector<uint16_t> src_bf16(src.size());
  for (size_t i = 0; i < src.size(); ++i) src_bf16[i] = Bf16Bits(src[i]);
  constexpr float kCanary = -12345.0f;
  std::vector<float> dst(static_cast<size_t>(rows * dst_stride), kCanary);
  gemm.Run(index, rows, bf16 ? static_cast<const void*>(src_bf16.data()) : src.data(),
           src_stride, dst.data(), dst_stride);
  const float* wi = w + index * c.k * c.n;
  const double unit_roundoff = std::ldexp(1.0, -24);
  int failures = 0;
  for (int64_t r = 0; r < rows && failures < 5; ++r) {
    for (int64_t j = 0; j < c.n && failures < 5; ++j) {
      double exact = 0;
      double magnitude = 0;
      for (int64_t i = 0; i < c.k; ++i) {
        const double wv = bf16 ? RoundToBf16(wi[i * c.n + j]) : wi[i * c.n + j];
        const double term = double{src[static_cast<size_t>(r * src_stride + i)]} * wv;
        exact += term;
        magnitude += std::fabs(term);
      }
      const double got = dst[static_cast<size_t>(r * dst_stride + j)];
      const double bound = static_cast<double>(c.k + 1) * unit_roundoff * magnitude + 1e-30;
      if (std::fabs(got - exact) > bound) {
        ADD_FAILURE() << "rows " << rows << " matrix " << index << " [" << r << ", " << j
                      << "]: " << got << " vs " << exact << " (bound " << bound << ")";
        ++failures;
      }
    }
    for (int64_t j = c.n; j < dst_stride; ++j) {
      ASSERT_EQ(dst[static_cast<size_t>(r * dst_stride + j)], kCanary) << "wrote past n";
    }
  }
}

class PackedGemmTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!PackedGemmWeights::Linked()) {
      GTEST_SKIP() << "this build did not link oneDNN's packed GEMM (the configure check "
                      "ATTNSERVE_HAVE_ONEDNN_PACKED_GEMM failed); the engine uses RowMatmul";
    }
    previous_threads_ = omp_get_max_threads();
    omp_set_num_threads(1);
  }
  void TearDown() override {
    if (previous_threads_ > 0) omp_set_num_threads(previous_threads_);
  }
  int previous_threads_ = 0;
};

// One pack, every row count from 1 to 70 and a few beyond, both matrices of
// a bidirectional layer, odd and LSTM-like shapes.
TEST_F(PackedGemmTest, OnePackComputesEveryRowCount) {
  for (const Case& c : {Case{2, 5, 20}, Case{1, 32, 128}, Case{2, 128, 512}, Case{1, 256, 1024}}) {
    SCOPED_TRACE(::testing::Message() << c.count << " x [" << c.k << ", " << c.n << "]");
    const memory w = Weights(c.count, c.k, c.n, 3);
    auto packed = PackedGemmWeights::Create(w, ShapeOf(c), nullptr);
    ASSERT_TRUE(packed.ok()) << packed.status();
    const std::shared_ptr<const PackedGemm> gemm = (*packed)->ForCurrentThreads();
    ASSERT_EQ(gemm->threads(), 1);
    // Every count to 70 (the largest shape, the slowest to check: the counts
    // around its kernels' blocking), then a few larger ones.
    std::vector<int64_t> row_counts;
    if (c.k < 256) {
      for (int64_t rows = 1; rows <= 70; ++rows) row_counts.push_back(rows);
    } else {
      row_counts = {1, 2, 3, 4, 5, 6, 7, 8, 9, 15, 16, 17, 23, 24, 25, 31, 32, 33, 47, 48, 49};
    }
    for (int64_t rows : {96, 128, 200}) row_counts.push_back(rows);
    for (int64_t index = 0; index < c.count; ++index) {
      for (int64_t rows : row_counts) {
        CheckProduct(*gemm, static_cast<const float*>(w.get_data_handle()), c, index, rows,
                     false);
      }
    }
  }
}

// A pack per OpenMP thread count, each made once and charged to the ledger as
// a layout; a 2-thread pack computes the same products.
TEST_F(PackedGemmTest, PacksOncePerThreadCount) {
  const Case c{2, 128, 512};
  const memory w = Weights(c.count, c.k, c.n, 5);
  auto ledger = std::make_shared<WeightLedger>();
  auto packed = PackedGemmWeights::Create(w, ShapeOf(c), ledger);
  ASSERT_TRUE(packed.ok()) << packed.status();
  EXPECT_EQ((*packed)->packs(), 1);
  const WeightStats at_load = ledger->Read();
  EXPECT_EQ(at_load.layouts, 1);
  EXPECT_EQ(at_load.reorders, 1);
  // Two matrices of 128 x 512 floats: at least their bytes.
  EXPECT_GE(at_load.bytes, 2 * 128 * 512 * 4);
  const std::shared_ptr<const PackedGemm> one = (*packed)->ForCurrentThreads();
  EXPECT_EQ(one, (*packed)->ForCurrentThreads());
  EXPECT_EQ(ledger->Read().layouts, 1);

  omp_set_num_threads(2);
  const std::shared_ptr<const PackedGemm> two = (*packed)->ForCurrentThreads();
  EXPECT_EQ(two->threads(), 2);
  EXPECT_NE(one, two);
  EXPECT_EQ(two, (*packed)->ForCurrentThreads());
  EXPECT_EQ((*packed)->packs(), 2);
  const WeightStats after = ledger->Read();
  EXPECT_EQ(after.layouts, 2);
  EXPECT_EQ(after.reorders, 2);
  EXPECT_EQ(after.bytes - at_load.bytes, static_cast<int64_t>(two->bytes()));
  for (int64_t rows : {1, 2, 3, 17, 64, 129}) {
    for (int64_t index = 0; index < c.count; ++index) {
      CheckProduct(*two, static_cast<const float*>(w.get_data_handle()), c, index, rows, false);
    }
  }
}

// bf16 weights and rows, f32 results: on CPUs with bf16 (oneDNN packs bf16 on
// AVX-512 only; bf16 models run only where the CPU has bf16).
TEST_F(PackedGemmTest, Bf16ComputesEveryRowCount) {
  if (!HostCpu().bf16) {
    GTEST_SKIP() << "oneDNN runs " << HostCpu().isa << ", without bf16: bf16 models do not "
                 << "run here, so neither does the bf16 packed GEMM";
  }
  const Case c{2, 128, 512};
  const memory w = Weights(c.count, c.k, c.n, 9);
  auto packed = PackedGemmWeights::Create(w, ShapeOf(c, /*bf16=*/true), nullptr);
  ASSERT_TRUE(packed.ok()) << packed.status();
  const std::shared_ptr<const PackedGemm> gemm = (*packed)->ForCurrentThreads();
  for (int64_t rows = 1; rows <= 40; ++rows) {
    for (int64_t index = 0; index < c.count; ++index) {
      CheckProduct(*gemm, static_cast<const float*>(w.get_data_handle()), c, index, rows, true);
    }
  }
}

}  // namespace
}  // namespace attnserve::engine
