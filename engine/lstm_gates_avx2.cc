// The fused LSTM gate step for AVX2 with FMA: 8 floats per vector, the row
// tail through masked loads and stores. Compiled with those instructions
// enabled (engine/CMakeLists.txt) and called only where the CPU has them
// (lstm_gates.cc). Includes nothing but the kernel's plain interface and the
// intrinsics, so no inline function compiled here can be picked by the
// linker for other code.
#include <immintrin.h>

#include <cstdint>

#include "engine/lstm_gate_kernel.h"

namespace {

struct Avx2 {
  using T = __m256;
  static constexpr int kWidth = 8;
  static __m256i Lanes(int n) {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
  }
  static T Load(const float* p, int n) {
    return n == kWidth ? _mm256_loadu_ps(p) : _mm256_maskload_ps(p, Lanes(n));
  }
  static void Store(float* p, T v, int n) {
    if (n == kWidth) {
      _mm256_storeu_ps(p, v);
    } else {
      _mm256_maskstore_ps(p, Lanes(n), v);
    }
  }
  static void StoreBf16(uint16_t* p, T v, int n) {
    // Not on the hot path (bf16 needs an AVX-512 CPU): round to nearest even
    // lane by lane.
    alignas(32) uint32_t bits[kWidth];
    _mm256_store_si256(reinterpret_cast<__m256i*>(bits), _mm256_castps_si256(v));
    for (int i = 0; i < n; ++i) {
      p[i] = static_cast<uint16_t>((bits[i] + 0x7fffu + ((bits[i] >> 16) & 1u)) >> 16);
    }
  }
  static T Set(float x) { return _mm256_set1_ps(x); }
  static T Add(T a, T b) { return _mm256_add_ps(a, b); }
  static T Sub(T a, T b) { return _mm256_sub_ps(a, b); }
  static T Mul(T a, T b) { return _mm256_mul_ps(a, b); }
  static T Recip(T a) {
    // 12-bit estimate, one Newton step: r (2 - a r).
    const T r = _mm256_rcp_ps(a);
    return _mm256_mul_ps(r, _mm256_fnmadd_ps(a, r, _mm256_set1_ps(2.0f)));
  }
  static T Min(T a, T b) { return _mm256_min_ps(a, b); }
  static T Max(T a, T b) { return _mm256_max_ps(a, b); }
  static T Fma(T a, T b, T c) { return _mm256_fmadd_ps(a, b, c); }
  static T Fms(T a, T b, T c) { return _mm256_fmsub_ps(a, b, c); }
  static T ScaleByPow2(T p, T, T k) {
    // n sits in k's low mantissa bits: shifted by 23 it is n in the exponent
    // field (the bits of 1.5 * 2^23 shift out), added to p's exponent.
    return _mm256_castsi256_ps(_mm256_add_epi32(
        _mm256_castps_si256(p), _mm256_slli_epi32(_mm256_castps_si256(k), 23)));
  }
};

}  // namespace

#include "engine/lstm_gate_body.inc"

namespace attnserve::engine::lstm_gate_kernel {

void RunAvx2(const Step& step) { RunStep<Avx2>(step); }

}  // namespace attnserve::engine::lstm_gate_kernel
