// The row layout shared by the DiT norm kernels (layer_norm_modulate.cu, rms_norm_rope.cu): one thread block per row,
// the whole row held in registers, so the statistics pass and the output pass read global memory once.
//
//   pack      8 consecutive elements of a row: elements [8p, 8p + 8). Vector path (every row and operand 16-byte
//             aligned: dim % 8 == 0): an f32 pack is two 16-byte loads, a BF16 pack one, and the 8 BF16 outputs one
//             16-byte store. Scalar path (any other dim): element by element, past-the-end elements read as 0.
//   thread t  packs t, t + T, t + 2T, ... (kPacksPerThread of them, T = blockDim.x): a warp's loads are 32 consecutive
//             packs, 512 (f32) or 256 (BF16) contiguous bytes.
//   T, kPacksPerThread  normLaunchShape(): the smallest kPacksPerThread in {1, 2, 4, 8} that needs at most
//             kNormMaxThreads threads, T = that thread count rounded up to a warp. Wan: dim 1536 -> 192 threads x 1,
//             5120 -> 160 x 4, 256 (wan-tiny) -> 32 x 1. At most kNormMaxThreads x 8 x 8 = 16,384 elements per row.
// Reductions: each thread sums its elements in order (float32, __fadd_rn), then a butterfly over the warp, then the
// warp sums in warp order through shared memory: about log2(dim) levels, so the float32 error stays near
// (8 kPacksPerThread + log2 T) u of the sum of magnitudes. The ops declare a tolerance against their float64 twins.
#pragma once

#include <cstdint>
#include <type_traits>

#include "common/launch_config.h"
#ifdef __CUDACC__
#include "common/bf16_round.cuh"
#include "common/fp8_math.cuh"
#endif

namespace fpsattn {

constexpr int kNormPack = 8;          // elements per pack
constexpr int kNormMaxThreads = 256;  // threads per block (row); also the kernels' __launch_bounds__
constexpr int kNormMaxPacksPerThread = 8;
constexpr int64_t kNormMaxDim = int64_t(kNormMaxThreads) * kNormMaxPacksPerThread * kNormPack;  // 16,384

struct NormLaunchShape {
  int packsPerThread;  // 1, 2, 4 or 8
  int threads;         // multiple of 32, at most kNormMaxThreads
};

inline NormLaunchShape normLaunchShape(int64_t dim) {
  const int64_t packs = ceilDiv(dim, int64_t(kNormPack));
  int v = 1;
  while (v < kNormMaxPacksPerThread && ceilDiv(packs, int64_t(v)) > kNormMaxThreads) v *= 2;
  return {v, int(roundUp(ceilDiv(packs, int64_t(v)), 32))};
}

/// Instantiates `body` with `constexpr int V` = packsPerThread (1, 2, 4 or 8) and `constexpr bool kVec`.
#define FPSATTN_NORM_SWITCH(packsPerThread, vec, V, kVec, ...)                       \
  [&] {                                                                              \
    auto withVec = [&](auto vTag) {                                                  \
      constexpr int V = decltype(vTag)::value;                                       \
      if (vec) {                                                                     \
        constexpr bool kVec = true;                                                  \
        return __VA_ARGS__();                                                        \
      } else {                                                                       \
        constexpr bool kVec = false;                                                 \
        return __VA_ARGS__();                                                        \
      }                                                                              \
    };                                                                               \
    switch (packsPerThread) {                                                        \
      case 1: return withVec(std::integral_constant<int, 1>{});                      \
      case 2: return withVec(std::integral_constant<int, 2>{});                      \
      case 4: return withVec(std::integral_constant<int, 4>{});                      \
      default: return withVec(std::integral_constant<int, 8>{});                     \
    }                                                                                \
  }()

#ifdef __CUDACC__

/// Loads pack `e0 / 8` of a float32 row (e0 a multiple of 8): 8 values, 0 past `dim`.
template <bool kVec>
__device__ __forceinline__ void loadPackF32(const float* __restrict__ row, int64_t e0, int64_t dim, float (&v)[8],
                                            bool streaming) {
  if (kVec) {
    if (e0 < dim) {
      const float4* p = reinterpret_cast<const float4*>(row + e0);
      const float4 a = streaming ? __ldcs(p) : __ldg(p);
      const float4 b = streaming ? __ldcs(p + 1) : __ldg(p + 1);
      v[0] = a.x; v[1] = a.y; v[2] = a.z; v[3] = a.w;
      v[4] = b.x; v[5] = b.y; v[6] = b.z; v[7] = b.w;
    } else {
#pragma unroll
      for (int i = 0; i < 8; ++i) v[i] = 0.0f;
    }
  } else {
#pragma unroll
    for (int i = 0; i < 8; ++i) v[i] = e0 + i < dim ? (streaming ? __ldcs(row + e0 + i) : __ldg(row + e0 + i)) : 0.0f;
  }
}

/// Loads pack `e0 / 8` of a BF16 row, widened exactly to float32; 0 past `dim`.
template <bool kVec>
__device__ __forceinline__ void loadPackBf16(const uint16_t* __restrict__ row, int64_t e0, int64_t dim,
                                             float (&v)[8]) {
  if (kVec) {
    if (e0 < dim) {
      const uint4 q = __ldcs(reinterpret_cast<const uint4*>(row + e0));
      unpackBf16x8(q, v);
    } else {
#pragma unroll
      for (int i = 0; i < 8; ++i) v[i] = 0.0f;
    }
  } else {
#pragma unroll
    for (int i = 0; i < 8; ++i) v[i] = e0 + i < dim ? __uint_as_float(uint32_t(__ldcs(row + e0 + i)) << 16) : 0.0f;
  }
}

/// Stores 8 float32 values at elements [e0, e0 + 8) ∩ [0, dim) of a row (streaming: the row is not read again soon).
template <bool kVec>
__device__ __forceinline__ void storePackF32(float* __restrict__ row, int64_t e0, int64_t dim, const float (&v)[8]) {
  if (kVec) {
    if (e0 < dim) {
      float4* q = reinterpret_cast<float4*>(row + e0);
      __stcs(q, make_float4(v[0], v[1], v[2], v[3]));
      __stcs(q + 1, make_float4(v[4], v[5], v[6], v[7]));
    }
  } else {
#pragma unroll
    for (int i = 0; i < 8; ++i)
      if (e0 + i < dim) row[e0 + i] = v[i];
  }
}

/// Stores 8 values as BF16 (round to nearest even, NaN -> 0x7fff) at elements [e0, e0 + 8) ∩ [0, dim) of a row.
template <bool kVec>
__device__ __forceinline__ void storePackBf16(uint16_t* __restrict__ row, int64_t e0, int64_t dim, const float (&v)[8]) {
  if (kVec) {
    if (e0 < dim) *reinterpret_cast<uint4*>(row + e0) = packBf16x8(v);
  } else {
#pragma unroll
    for (int i = 0; i < 8; ++i)
      if (e0 + i < dim) row[e0 + i] = uint16_t(bf16BitsRn(v[i]));
  }
}

/// Sum over the block: butterfly within each warp, then the warp sums in warp order (every thread gets the same
/// value). `smem_partial` holds one float per warp; each reduction of a kernel uses its own array, so no barrier is
/// needed between two reductions.
__device__ __forceinline__ float blockSum(float v, float* smem_partial) {
#pragma unroll
  for (int offset = 16; offset > 0; offset >>= 1) v = __fadd_rn(v, __shfl_xor_sync(0xffffffffu, v, offset));
  if ((threadIdx.x & 31) == 0) smem_partial[threadIdx.x >> 5] = v;
  __syncthreads();
  float total = 0.0f;
  const int warps = blockDim.x >> 5;
  for (int w = 0; w < warps; ++w) total = __fadd_rn(total, smem_partial[w]);
  return total;
}

/// 1 / sqrt(meanSquare + eps), the square root and the division in float64 from the float32 statistic, rounded once
/// to float32 (one per row: its cost does not show, and it keeps the only extra error in the float32 statistic).
__device__ __forceinline__ float inverseRootF32(float meanSquare, double eps) {
  return float(1.0 / sqrt(double(meanSquare) + eps));
}

#endif  // __CUDACC__

}  // namespace fpsattn
