// Device-side number helpers shared by the kernels: bf16 widening, the scale rule and FP8 encode/decode.
// Every operation here is the exact float32 arithmetic of the quantization contract (see kernels/quantize_rows.h): one IEEE division
// and one IEEE reciprocal per scale (__fdiv_rn, __frcp_rn), one rounded product per element (__fmul_rn: never
// contracted into an FMA), no fast-math, FP8 conversion by cuda_fp8.h with saturation to the finite max.
#pragma once

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_fp8.h>

#include "common/dtype_traits.h"

namespace fpsattn {

__device__ __forceinline__ float bf16LowToFloat(uint32_t word) { return __uint_as_float(word << 16); }
__device__ __forceinline__ float bf16HighToFloat(uint32_t word) { return __uint_as_float(word & 0xffff0000u); }

/// The 8 bf16 values of a 16-byte vector, widened exactly to float32.
__device__ __forceinline__ void unpackBf16x8(const uint4& v, float (&out)[8]) {
  out[0] = bf16LowToFloat(v.x); out[1] = bf16HighToFloat(v.x);
  out[2] = bf16LowToFloat(v.y); out[3] = bf16HighToFloat(v.y);
  out[4] = bf16LowToFloat(v.z); out[5] = bf16HighToFloat(v.z);
  out[6] = bf16LowToFloat(v.w); out[7] = bf16HighToFloat(v.w);
}

/// |x| if finite, else 0 (non-finite values do not take part in amax).
__device__ __forceinline__ float finiteAbs(float x) {
  const float a = fabsf(x);
  return a <= 3.402823466e38f ? a : 0.0f;  // false for inf and NaN
}

/// The smallest scale, 2^-126 (smallest normal float32): keeps 1 / scale finite (@fpsattn/fp8 MIN_SCALE).
constexpr float kMinScale = 1.17549435e-38f;

/// amax / maxFinite, floored at kMinScale; 1 for an amax of 0. An amax that is not a positive finite number (only
/// possible when it is handed in, see QuantizeVParams::amaxIn) also gives 1, as the CPU twin does.
template <Fp8Format F>
__device__ __forceinline__ float scaleFromAmax(float amax) {
  if (!(amax > 0.0f) || amax > 3.402823466e38f) return 1.0f;
  return fmaxf(__fdiv_rn(amax, Fp8Traits<F>::kMaxFinite), kMinScale);
}

/// float32(1 / scale), correctly rounded (@fpsattn/fp8 reciprocalScale). Finite because scale >= 2^-126.
__device__ __forceinline__ float inverseScale(float scale) { return __frcp_rn(scale); }

template <Fp8Format F>
__device__ __forceinline__ uint32_t encodeFp8(float value) {
  return uint32_t(__nv_cvt_float_to_fp8(value, __NV_SATFINITE, F == Fp8Format::E4M3 ? __NV_E4M3 : __NV_E5M2));
}

/// Two codes in the low 16 bits: `lo` in bits 0-7, `hi` in bits 8-15.
template <Fp8Format F>
__device__ __forceinline__ uint32_t encodeFp8x2(float lo, float hi) {
  return uint32_t(__nv_cvt_float2_to_fp8x2(make_float2(lo, hi), __NV_SATFINITE,
                                           F == Fp8Format::E4M3 ? __NV_E4M3 : __NV_E5M2));
}

template <Fp8Format F>
__device__ __forceinline__ float decodeFp8(uint32_t code) {
  const __half_raw h = __nv_cvt_fp8_to_halfraw(__nv_fp8_storage_t(code), F == Fp8Format::E4M3 ? __NV_E4M3 : __NV_E5M2);
  return __half2float(__half(h));
}

/// Four codes packed little-endian into one 32-bit word (lowest address = lowest byte).
__device__ __forceinline__ uint32_t pack4(uint32_t a, uint32_t b, uint32_t c, uint32_t d) {
  return a | (b << 8) | (c << 16) | (d << 24);
}

}  // namespace fpsattn
