// Float32 -> BF16 rounding shared by the kernels that write BF16 (the DiT ops: norms, castToBf16). Written as integer
// arithmetic on purpose: it is bit-identical to @fpsattn/fp8 float32ToBf16Bits / encodeBf16Array (the CPU twins call
// those), round to nearest even, overflow to infinity, every NaN to 0x7fff (the code __float2bfloat16_rn returns),
// whatever the CUDA version's intrinsic does with NaN payloads.
#pragma once

#include <cstdint>

namespace fpsattn {

/// The BF16 code every NaN becomes (@fpsattn/fp8 BF16_NAN).
constexpr uint32_t kBf16Nan = 0x7fffu;

__device__ __forceinline__ uint32_t bf16BitsRn(float value) {
  const uint32_t bits = __float_as_uint(value);
  if ((bits & 0x7fffffffu) > 0x7f800000u) return kBf16Nan;
  // Adding 0x7fff plus the kept lsb rounds to nearest, ties to even; the carry may ripple into the exponent, which is
  // the right result (up to infinity). Cannot wrap: the largest non-NaN input is 0xff800000.
  return (bits + 0x7fffu + ((bits >> 16) & 1u)) >> 16;
}

/// Two BF16 codes in one word: `lo` at the lower address.
__device__ __forceinline__ uint32_t packBf16x2(float lo, float hi) { return bf16BitsRn(lo) | (bf16BitsRn(hi) << 16); }

/// Eight floats as eight BF16 codes in one 16-byte vector (element 0 at the lowest address).
__device__ __forceinline__ uint4 packBf16x8(const float (&v)[8]) {
  return make_uint4(packBf16x2(v[0], v[1]), packBf16x2(v[2], v[3]), packBf16x2(v[4], v[5]), packBf16x2(v[6], v[7]));
}

}  // namespace fpsattn
