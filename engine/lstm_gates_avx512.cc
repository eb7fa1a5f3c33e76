// The fused LSTM gate step for AVX-512 (F, BW, VL, DQ): 16 floats per vector,
// the row tail under a lane mask. Compiled with those instructions enabled
// (engine/CMakeLists.txt) and called only where the CPU has them (lstm_gates.cc).
// Includes nothing but the kernel's plain interface and the intrinsics, so no
// inline function compiled here can be picked by the linker for other code.
#include <immintrin.h>

#include <cstdint>

#include "engine/lstm_gate_kernel.h"

namespace {

struct Avx512 {
  using T = __m512;
  static constexpr int kWidth = 16;
  static __mmask16 Lanes(int n) { return static_cast<__mmask16>((1u << n) - 1u); }
  static T Load(const float* p, int n) {
    return n == kWidth ? _mm512_loadu_ps(p) : _mm512_maskz_loadu_ps(Lanes(n), p);
  }
  static void Store(float* p, T v, int n) {
    if (n == kWidth) {
      _mm512_storeu_ps(p, v);
    } else {
      _mm512_mask_storeu_ps(p, Lanes(n), v);
    }
  }
  static void StoreBf16(uint16_t* p, T v, int n) {
    // Round to nearest even: add 0x7fff plus the lowest kept bit, keep the top half.
    const __m512i bits = _mm512_castps_si512(v);
    const __m512i lsb = _mm512_and_si512(_mm512_srli_epi32(bits, 16), _mm512_set1_epi32(1));
    const __m512i rounded =
        _mm512_add_epi32(bits, _mm512_add_epi32(lsb, _mm512_set1_epi32(0x7fff)));
    const __m256i halves = _mm512_cvtepi32_epi16(_mm512_srli_epi32(rounded, 16));
    _mm256_mask_storeu_epi16(p, Lanes(n), halves);
  }
  static T Set(float x) { return _mm512_set1_ps(x); }
  static T Add(T a, T b) { return _mm512_add_ps(a, b); }
  static T Sub(T a, T b) { return _mm512_sub_ps(a, b); }
  static T Mul(T a, T b) { return _mm512_mul_ps(a, b); }
  static T Recip(T a) {
    // 14-bit estimate, one Newton step: r (2 - a r).
    const T r = _mm512_rcp14_ps(a);
    return _mm512_mul_ps(r, _mm512_fnmadd_ps(a, r, _mm512_set1_ps(2.0f)));
  }
  static T Min(T a, T b) { return _mm512_min_ps(a, b); }
  static T Max(T a, T b) { return _mm512_max_ps(a, b); }
  static T Fma(T a, T b, T c) { return _mm512_fmadd_ps(a, b, c); }
  static T Fms(T a, T b, T c) { return _mm512_fmsub_ps(a, b, c); }
  static T ScaleByPow2(T p, T n, T) { return _mm512_scalef_ps(p, n); }
};

}  // namespace

#include "engine/lstm_gate_body.inc"

namespace attnserve::engine::lstm_gate_kernel {

void RunAvx512(const Step& step) { RunStep<Avx512>(step); }

}  // namespace attnserve::engine::lstm_gate_kernel
