// FMA loop and oneDNN matmul throughput (see peak_flops.h).
//
// The FMA loop keeps 16 accumulators in registers: FMA latency is 4 cycles and
// a core issues up to 2 per cycle, so 8 chains would do; 16 leaves margin.
// Each step is acc = acc * a + b with a just below 1, so values stay finite.
#include "bench/peak_flops.h"

#include <immintrin.h>
#include <omp.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <unordered_map>
#include <vector>

#include "oneapi/dnnl/dnnl.hpp"

namespace attnserve::bench {
namespace {

using Clock = std::chrono::steady_clock;
constexpr int kChains = 16;
constexpr int64_t kChunk = 1 << 20;  // loop iterations between clock reads

__attribute__((target("avx512f"))) float FmaChunkAvx512(int64_t iterations) {
  __m512 acc[kChains];
  for (int k = 0; k < kChains; ++k) acc[k] = _mm512_set1_ps(0.001f * static_cast<float>(k));
  const __m512 a = _mm512_set1_ps(0.9999999f);
  const __m512 b = _mm512_set1_ps(1e-7f);
  for (int64_t i = 0; i < iterations; ++i) {
    for (int k = 0; k < kChains; ++k) acc[k] = _mm512_fmadd_ps(acc[k], a, b);
  }
  __m512 sum = acc[0];
  for (int k = 1; k < kChains; ++k) sum = _mm512_add_ps(sum, acc[k]);
  // Not _mm512_reduce_add_ps: GCC 12's header warns (-Wuninitialized) inside it.
  alignas(64) float lanes[16];
  _mm512_store_ps(lanes, sum);
  float total = 0;
  for (float v : lanes) total += v;
  return total;
}

__attribute__((target("avx2,fma"))) float FmaChunkAvx2(int64_t iterations) {
  __m256 acc[kChains];
  for (int k = 0; k < kChains; ++k) acc[k] = _mm256_set1_ps(0.001f * static_cast<float>(k));
  const __m256 a = _mm256_set1_ps(0.9999999f);
  const __m256 b = _mm256_set1_ps(1e-7f);
  for (int64_t i = 0; i < iterations; ++i) {
    for (int k = 0; k < kChains; ++k) acc[k] = _mm256_fmadd_ps(acc[k], a, b);
  }
  __m256 sum = acc[0];
  for (int k = 1; k < kChains; ++k) sum = _mm256_add_ps(sum, acc[k]);
  alignas(32) float lanes[8];
  _mm256_store_ps(lanes, sum);
  float total = 0;
  for (float v : lanes) total += v;
  return total;
}

// AVX-512 when the CPU has it and oneDNN may use it: ONEDNN_MAX_CPU_ISA=AVX2
// caps this loop too, so that it is the ceiling of the capped runs.
bool HasAvx512() {
  static const bool has = [] {
    const unsigned isa = static_cast<unsigned>(dnnl::get_effective_cpu_isa());
    const unsigned avx512 = static_cast<unsigned>(dnnl::cpu_isa::avx512_core);
    return __builtin_cpu_supports("avx512f") && (isa & avx512) == avx512;
  }();
  return has;
}

// FLOPs of one loop iteration: chains x lanes x 2.
double FlopsPerIteration() { return kChains * (HasAvx512() ? 16 : 8) * 2.0; }

}  // namespace

std::string FmaIsa() { return HasAvx512() ? "avx512f" : "avx2"; }

double FmaPeakGflops(int threads, double seconds) {
  const bool avx512 = HasAvx512();
  std::atomic<bool> go{false};
  std::vector<int64_t> iterations(threads, 0);
  std::vector<float> sink(threads, 0);
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      while (!go.load(std::memory_order_acquire)) std::this_thread::yield();
      const Clock::time_point end =
          Clock::now() + std::chrono::duration_cast<Clock::duration>(
                             std::chrono::duration<double>(seconds));
      while (Clock::now() < end) {
        sink[t] += avx512 ? FmaChunkAvx512(kChunk) : FmaChunkAvx2(kChunk);
        iterations[t] += kChunk;
      }
    });
  }
  const Clock::time_point start = Clock::now();
  go.store(true, std::memory_order_release);
  for (std::thread& t : pool) t.join();
  const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  double total = 0;
  for (int t = 0; t < threads; ++t) total += static_cast<double>(iterations[t]);
  volatile float keep = sink[0];  // the sums must look used
  (void)keep;
  return total * FlopsPerIteration() / elapsed / 1e9;
}

double MatmulGflops(int threads, int64_t size, double seconds) {
  using dnnl::memory;
  omp_set_num_threads(threads);
  dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  dnnl::stream stream(engine);
  const memory::dims dims = {size, size};
  const memory::desc desc(dims, memory::data_type::f32, memory::format_tag::ab);
  std::vector<float> a(static_cast<size_t>(size * size), 0.5f);
  std::vector<float> b(a.size(), 0.25f), c(a.size(), 0.0f);
  memory ma(desc, engine, a.data()), mb(desc, engine, b.data()), mc(desc, engine, c.data());
  dnnl::matmul matmul(dnnl::matmul::primitive_desc(dnnl::matmul::desc(desc, desc, desc), engine));
  const std::unordered_map<int, memory> args = {
      {DNNL_ARG_SRC, ma}, {DNNL_ARG_WEIGHTS, mb}, {DNNL_ARG_DST, mc}};
  matmul.execute(stream, args);  // warm-up
  stream.wait();
  int64_t runs = 0;
  const Clock::time_point start = Clock::now();
  double elapsed = 0;
  while (elapsed < seconds) {
    matmul.execute(stream, args);
    stream.wait();
    ++runs;
    elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  }
  const double n = static_cast<double>(size);
  return static_cast<double>(runs) * 2 * n * n * n / elapsed / 1e9;
}

}  // namespace attnserve::bench
