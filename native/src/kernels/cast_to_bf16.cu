// cast_to_bf16.cu: float32 / FP16 / BF16 / E4M3 / E5M2 -> BF16, elementwise, with an optional float32 scale (used to
// upload checkpoint tensors in their stored dtype and convert them on the device). Math: cast_to_bf16.h.
//
// Launch shape: flat grid-stride loop over packs of kPack = 16 elements (one to four 16-byte loads: 64 bytes of f32,
// 32 of FP16/BF16, 16 of FP8; two 16-byte BF16 stores), grid flatGrid(packs, 256, 4), block 256. The count % 16 tail
// elements go to the first threads of block 0, one element each. Every tensor starts 16-byte aligned (checked by the
// binding) and packs start at multiples of 16 elements, so every vector access is aligned for every source dtype.
// Memory-bound: (source bytes + 2) per element.
// Check: gpu-test/dit-ops.test.mjs compares with castToBf16Cpu bit for bit, including NaN, infinities, subnormals and
// overflow past BF16's range.
#include <cuda_fp16.h>

#include <cstdint>
#include <stdexcept>

#include "common/bf16_round.cuh"
#include "common/cuda_check.h"
#include "common/fp8_math.cuh"
#include "common/launch_config.h"
#include "kernels/cast_to_bf16.h"

namespace fpsattn {
namespace {

constexpr int kThreads = 256;
constexpr int kPack = 16;
constexpr int kPacksPerThread = 4;  // of the grid-size estimate only (grid-stride loop)

template <CastSource S>
__device__ __forceinline__ float decodeOne(const void* src, int64_t i) {
  if constexpr (S == CastSource::F32) {
    return __ldcs(static_cast<const float*>(src) + i);
  } else if constexpr (S == CastSource::F16) {
    return __half2float(__ushort_as_half(__ldcs(static_cast<const unsigned short*>(src) + i)));
  } else if constexpr (S == CastSource::BF16) {
    return __uint_as_float(uint32_t(__ldcs(static_cast<const unsigned short*>(src) + i)) << 16);
  } else {
    return decodeFp8<S == CastSource::E4M3 ? Fp8Format::E4M3 : Fp8Format::E5M2>(
        __ldcs(static_cast<const unsigned char*>(src) + i));
  }
}

/// The 16 values of pack `pack`, decoded exactly to float32.
template <CastSource S>
__device__ __forceinline__ void decodePack(const void* src, int64_t pack, float (&v)[kPack]) {
  if constexpr (S == CastSource::F32) {
    const float4* q = static_cast<const float4*>(src) + pack * 4;
#pragma unroll
    for (int k = 0; k < 4; ++k) {
      const float4 a = __ldcs(q + k);
      v[4 * k] = a.x; v[4 * k + 1] = a.y; v[4 * k + 2] = a.z; v[4 * k + 3] = a.w;
    }
  } else if constexpr (S == CastSource::F16 || S == CastSource::BF16) {
    const uint4* q = static_cast<const uint4*>(src) + pack * 2;
#pragma unroll
    for (int k = 0; k < 2; ++k) {
      const uint4 a = __ldcs(q + k);
      const uint32_t w[4] = {a.x, a.y, a.z, a.w};
#pragma unroll
      for (int i = 0; i < 4; ++i) {
        if constexpr (S == CastSource::BF16) {
          v[8 * k + 2 * i] = bf16LowToFloat(w[i]);
          v[8 * k + 2 * i + 1] = bf16HighToFloat(w[i]);
        } else {
          v[8 * k + 2 * i] = __half2float(__ushort_as_half((unsigned short)(w[i] & 0xffffu)));
          v[8 * k + 2 * i + 1] = __half2float(__ushort_as_half((unsigned short)(w[i] >> 16)));
        }
      }
    }
  } else {
    constexpr Fp8Format F = S == CastSource::E4M3 ? Fp8Format::E4M3 : Fp8Format::E5M2;
    const uint4 a = __ldcs(static_cast<const uint4*>(src) + pack);
    const uint32_t w[4] = {a.x, a.y, a.z, a.w};
#pragma unroll
    for (int i = 0; i < 4; ++i)
#pragma unroll
      for (int b = 0; b < 4; ++b) v[4 * i + b] = decodeFp8<F>((w[i] >> (8 * b)) & 0xffu);
  }
}

template <CastSource S>
__global__ void __launch_bounds__(kThreads) castToBf16Kernel(const CastToBf16Params p) {
  const int64_t packs = p.count / kPack;
  uint4* __restrict__ out = static_cast<uint4*>(p.out);
  for (int64_t pack = int64_t(blockIdx.x) * kThreads + threadIdx.x; pack < packs;
       pack += int64_t(gridDim.x) * kThreads) {
    float v[kPack];
    decodePack<S>(p.src, pack, v);
    if (p.hasScale) {  // grid-uniform
#pragma unroll
      for (int i = 0; i < kPack; ++i) v[i] = __fmul_rn(v[i], p.scale);
    }
    const float lo[8] = {v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7]};
    const float hi[8] = {v[8], v[9], v[10], v[11], v[12], v[13], v[14], v[15]};
    __stcs(out + 2 * pack, packBf16x8(lo));
    __stcs(out + 2 * pack + 1, packBf16x8(hi));
  }
  const int64_t tail = p.count - packs * kPack;  // < 16 elements
  if (blockIdx.x == 0 && threadIdx.x < tail) {
    const int64_t i = packs * kPack + threadIdx.x;
    float v = decodeOne<S>(p.src, i);
    if (p.hasScale) v = __fmul_rn(v, p.scale);
    static_cast<uint16_t*>(p.out)[i] = uint16_t(bf16BitsRn(v));
  }
}

template <CastSource S>
void launchFor(const CastToBf16Params& p, cudaStream_t stream) {
  castToBf16Kernel<S><<<flatGrid(ceilDiv(p.count, int64_t(kPack)), kThreads, kPacksPerThread), kThreads, 0, stream>>>(p);
  FPSATTN_CHECK_LAUNCH();
}

}  // namespace

void launchCastToBf16(const CastToBf16Params& p, cudaStream_t stream) {
  if (p.count == 0) return;
  switch (p.source) {
    case CastSource::F32: return launchFor<CastSource::F32>(p, stream);
    case CastSource::F16: return launchFor<CastSource::F16>(p, stream);
    case CastSource::BF16: return launchFor<CastSource::BF16>(p, stream);
    case CastSource::E4M3: return launchFor<CastSource::E4M3>(p, stream);
    case CastSource::E5M2: return launchFor<CastSource::E5M2>(p, stream);
  }
  throw std::logic_error("castToBf16: unknown source dtype");
}

}  // namespace fpsattn
