// quantize_rows.cu: FP8 quantization of Q and K rows, codes plus one float32 scale per (group of rows, head).
//
// Computes (exact contract: QuantizeRowsParams in quantize_rows.h; the CPU twin is quantizeRowsCpu in packages/kernels
// src/ops/quantize-rows.ts and both must agree bit for bit with @fpsattn/fp8's quantize()):
//   x [rows, heads*headDim] BF16 -> codes [rows, cols] FP8 (same layout), scales [groupCount, heads] f32:
//   one scale per (group of rows, head); groupOfRow maps each row to its group, so any granularity from per-tensor
//   (all rows group 0) to per-token works, 3D tiles being one case. Optional K smoothing: subtract mean[c]
//   (channel_mean.cu) in float32 before everything else.
// Not included: V (quantize_v.cu), the attention itself, P quantization, dynamic (per-step) scale caching.
//
// Paths and launch shapes:
//   Two-pass (any group map):
//     1. amaxRowsKernel: grid (ceil(rows/kAmaxRows), ceil(cols/8/256)), block min(256, cols/8 rounded to 32);
//        each thread owns 8 channels and walks kAmaxRows rows (cached loads: the tail stays in L2 for pass 3), keeps a running max while the (block-uniform) group
//        stays the same, reduces it over the headDim/8 lanes of its head with shuffles and atomicMax-es the float
//        bits (non-negative floats order like their bit patterns) into amaxWork[g][h].
//     2. finalizeScalesKernel (common/finalize_scales.cuh): scale = f(amax) for each (g, h).
//     3. quantizeRowsKernel: flat loop, 16 channels per thread (two 16-byte loads, one 16-byte store), last row
//        first so that it starts on what pass 1 left in L2.
//     Moves 2 + 2 + 1 = 5 bytes per element.
//   Fused (groups are contiguous runs of rows, e.g. tiles after the tile-major gather; up to kFusedMaxSmem bytes
//   per (group, head)): fusedGroupKernel, 1-D grid of groupCount * heads blocks (heads fastest, so neighbouring
//   blocks read neighbouring slices of the same rows), block 256, dynamic shared memory
//   groupRows*headDim*2 bytes holding the group's BF16 slice. Thread t owns vector t % (headDim/8) of every row it
//   visits, so a warp's 16-byte loads cover whole 256-byte head rows and its 8-byte stores whole 128-byte code rows.
//   Phase 1 loads the slice and reduces amax over the block (shuffles + 8-word shared array); phase 2 quantizes
//   from shared memory. Moves 2 + 1 = 3 bytes per element (the minimum). Slices of up to 2,048 16-byte vectors stay
//   in registers instead (fusedGroupRegKernel).
//
// Check: gpu-test/kernels.test.mjs (bit-exact against the CPU twin, poisoned outputs, real sizes) and
// the same suite under compute-sanitizer memcheck/racecheck at small sizes (scripts/gpu/run-kernels.sh).
#include <algorithm>
#include <cstdint>

#include "common/cuda_check.h"
#include "common/finalize_scales.cuh"
#include "common/fp8_math.cuh"
#include "common/launch_config.h"
#include "kernels/quantize_rows.h"

namespace fpsattn {
namespace {

constexpr int kMaxThreads = 256;
constexpr int kAmaxRows = 32;           // rows per block in the Q/K amax pass
constexpr int kAmaxUnroll = 4;          // rows loaded before they are reduced
constexpr int kQuantItemsPerThread = 2; // 16-channel units per thread per iteration in quantizeRowsKernel
constexpr int kFusedThreads = 256;
constexpr int kFusedMaxSmem = 160 * 1024;  // bytes of BF16 staging per (group, head) block in the fused path
constexpr int kRegVecsPerThread = 8;     // register-resident fused path: up to 256 x 8 16-byte vectors per slice

__device__ __forceinline__ void loadMean8(const float* __restrict__ mean, int64_t c, float (&m)[8]) {
  const float4 a = __ldg(reinterpret_cast<const float4*>(mean + c));
  const float4 b = __ldg(reinterpret_cast<const float4*>(mean + c + 4));
  m[0] = a.x; m[1] = a.y; m[2] = a.z; m[3] = a.w; m[4] = b.x; m[5] = b.y; m[6] = b.z; m[7] = b.w;
}

/// The 8 (optionally smoothed) float32 values of a 16-byte BF16 vector.
__device__ __forceinline__ void valuesOf(const uint4& q, const float* __restrict__ mean, int64_t c, float (&f)[8]) {
  unpackBf16x8(q, f);
  if (mean != nullptr) {
    float m[8];
    loadMean8(mean, c, m);
#pragma unroll
    for (int j = 0; j < 8; ++j) f[j] = __fsub_rn(f[j], m[j]);
  }
}

__device__ __forceinline__ float max8Finite(const float (&f)[8]) {
  float m = 0.0f;
#pragma unroll
  for (int j = 0; j < 8; ++j) m = fmaxf(m, finiteAbs(f[j]));
  return m;
}

/// Codes of 8 values scaled by `inv` (= inverseScale(scale)): one rounded product per element, then FP8.
template <Fp8Format F>
__device__ __forceinline__ uint2 encode8(const float (&f)[8], float inv) {
  uint32_t c[4];  // 2 codes per conversion (cvt.rn.satfinite.{e4m3,e5m2}x2.f32): same rounding as one at a time
#pragma unroll
  for (int j = 0; j < 4; ++j) c[j] = encodeFp8x2<F>(__fmul_rn(f[2 * j], inv), __fmul_rn(f[2 * j + 1], inv));
  return make_uint2(c[0] | (c[1] << 16), c[2] | (c[3] << 16));
}

// ------------------------------------------------------------------------------------------ Q/K two-pass path
__global__ void amaxRowsKernel(const uint4* __restrict__ x, const int32_t* __restrict__ groupOfRow,
                               const float* __restrict__ mean, uint32_t* __restrict__ amax, int64_t rows,
                               int64_t vecPerRow, int lanesPerHead, int heads, int64_t groupCount) {
  const int64_t v = int64_t(blockIdx.y) * blockDim.x + threadIdx.x;  // this thread's 8-channel vector
  const bool active = v < vecPerRow;
  const int64_t r0 = int64_t(blockIdx.x) * kAmaxRows;
  const int64_t r1 = min(rows, r0 + kAmaxRows);
  const int head = active ? int((v * 8) / (int64_t(lanesPerHead) * 8)) : 0;
  const int lane = threadIdx.x & 31;

  // All threads of the block run every iteration (the group is block-uniform), so the shuffles below see full warps.
  auto flush = [&](int32_t g, float m) {
    for (int offset = lanesPerHead / 2; offset > 0; offset >>= 1)
      m = fmaxf(m, __shfl_xor_sync(0xffffffffu, m, offset));
    if (active && (lane % lanesPerHead) == 0 && g >= 0 && g < groupCount && m > 0.0f)
      atomicMax(amax + int64_t(g) * heads + head, __float_as_uint(m));
  };

  int32_t group = -1;
  float running = 0.0f;
  for (int64_t r = r0; r < r1; r += kAmaxUnroll) {
    uint4 q[kAmaxUnroll];
    int32_t g[kAmaxUnroll];
#pragma unroll
    for (int k = 0; k < kAmaxUnroll; ++k) {
      const bool in = r + k < r1;
      g[k] = in ? __ldg(groupOfRow + r + k) : -1;
      q[k] = (in && active) ? __ldg(x + (r + k) * vecPerRow + v) : make_uint4(0u, 0u, 0u, 0u);
    }
#pragma unroll
    for (int k = 0; k < kAmaxUnroll; ++k) {
      if (r + k >= r1) break;
      if (g[k] != group) {
        if (group >= 0) flush(group, running);
        group = g[k];
        running = 0.0f;
      }
      if (active) {
        float f[8];
        valuesOf(q[k], mean, v * 8, f);
        running = fmaxf(running, max8Finite(f));
      }
    }
  }
  if (group >= 0) flush(group, running);
}

template <Fp8Format F, typename Index>
__global__ void __launch_bounds__(kMaxThreads) quantizeRowsKernel(const uint4* __restrict__ x,
                                                                  const int32_t* __restrict__ groupOfRow,
                                                                  const float* __restrict__ mean,
                                                                  const float* __restrict__ scales,
                                                                  uint4* __restrict__ codes, Index rows,
                                                                  Index unitsPerRow, int unitsPerHead, int heads,
                                                                  int64_t groupCount) {
  const Index total = rows * unitsPerRow;
  const Index stride = Index(gridDim.x) * blockDim.x * kQuantItemsPerThread;
  for (Index base = Index(blockIdx.x) * blockDim.x * kQuantItemsPerThread + threadIdx.x; base < total;
       base += stride) {
    uint4 a[kQuantItemsPerThread], b[kQuantItemsPerThread];
    Index idx[kQuantItemsPerThread];
#pragma unroll
    for (int k = 0; k < kQuantItemsPerThread; ++k) {
      // Last rows first: they are the ones the amax pass read last, still in L2.
      const Index fwd = base + Index(k) * blockDim.x;
      idx[k] = fwd < total ? total - 1 - fwd : total;
      if (idx[k] < total) {
        a[k] = __ldcs(x + int64_t(idx[k]) * 2);
        b[k] = __ldcs(x + int64_t(idx[k]) * 2 + 1);
      }
    }
#pragma unroll
    for (int k = 0; k < kQuantItemsPerThread; ++k) {
      if (idx[k] >= total) continue;
      const Index row = idx[k] / unitsPerRow;
      const Index unit = idx[k] - row * unitsPerRow;
      const int32_t g = __ldg(groupOfRow + row);
      const int head = int(unit) / unitsPerHead;
      const float scale =
          (g >= 0 && g < groupCount) ? __ldg(scales + int64_t(g) * heads + head) : __int_as_float(0x7fffffff);
      float f0[8], f1[8];
      valuesOf(a[k], mean, int64_t(unit) * 16, f0);
      valuesOf(b[k], mean, int64_t(unit) * 16 + 8, f1);
      const float inv = inverseScale(scale);
      const uint2 lo = encode8<F>(f0, inv);
      const uint2 hi = encode8<F>(f1, inv);
      __stcs(codes + idx[k], make_uint4(lo.x, lo.y, hi.x, hi.y));
    }
  }
}

// ------------------------------------------------------------------------------------------ Q/K fused path
/// Rows [r0, r0 + groupRows) of group g, read from the device group starts and clamped to the tensor and to the
/// launch's maxGroupRows: whatever those starts hold, a fused block never reads or stages outside its buffers.
struct GroupSpan {
  int64_t r0;
  int groupRows;
};
__device__ __forceinline__ GroupSpan groupSpan(const int32_t* __restrict__ groupStart, int64_t g, int64_t rows,
                                               int maxGroupRows) {
  const int64_t r0 = min(max(int64_t(groupStart[g]), int64_t(0)), rows);
  const int64_t r1 = min(max(int64_t(groupStart[g + 1]), r0), rows);
  return {r0, int(min(r1 - r0, int64_t(maxGroupRows)))};
}

/// Max of `m` over a kFusedThreads block: shuffles within each warp, then the warp maxima through shared memory.
/// Every thread must call it (it holds a barrier); every thread gets the result.
__device__ __forceinline__ float blockMax(float m, float (&smem_warpMax)[kFusedThreads / 32]) {
  for (int offset = 16; offset > 0; offset >>= 1) m = fmaxf(m, __shfl_xor_sync(0xffffffffu, m, offset));
  if ((threadIdx.x & 31) == 0) smem_warpMax[threadIdx.x >> 5] = m;
  __syncthreads();
  float result = 0.0f;
#pragma unroll
  for (int w = 0; w < kFusedThreads / 32; ++w) result = fmaxf(result, smem_warpMax[w]);
  return result;
}

/// Register-resident variant of fusedGroupKernel for slices of at most kFusedThreads * kRegVecsPerThread vectors
/// (128 rows at headDim 128: tiles such as (3,5,8) or (3,10,4) = 120 tokens). Each thread loads all its vectors at
/// once (kRegVecsPerThread independent 16-byte loads in flight), so nothing is staged in shared memory and the block
/// needs only the 32-byte amax exchange; 4 blocks per SM keep about 128 KB of loads in flight per SM.
template <Fp8Format F>
__global__ void __launch_bounds__(kFusedThreads, 4) fusedGroupRegKernel(const uint4* __restrict__ x,
                                                                        const int32_t* __restrict__ groupStart,
                                                                        const float* __restrict__ mean,
                                                                        uint2* __restrict__ codes,
                                                                        float* __restrict__ scales, int64_t rows,
                                                                        int64_t cols, int headDim, int heads,
                                                                        int maxGroupRows) {
  __shared__ float smem_warpMax[kFusedThreads / 32];
  const int64_t g = blockIdx.x / heads;
  const int head = int(blockIdx.x - g * heads);
  const auto [r0, groupRows] = groupSpan(groupStart, g, rows, maxGroupRows);
  const int vecsPerRowHead = headDim / 8;
  const int vecShift = __ffs(vecsPerRowHead) - 1;
  const int vecs = groupRows * vecsPerRowHead;
  const int64_t vecPerRow = cols / 8;
  const int64_t headVec = int64_t(head) * vecsPerRowHead;
  const int myVec = threadIdx.x & (vecsPerRowHead - 1);
  const bool smooth = mean != nullptr;
  float means[8];
  if (smooth) loadMean8(mean, (headVec + myVec) * 8, means);

  uint4 q[kRegVecsPerThread];
#pragma unroll
  for (int k = 0; k < kRegVecsPerThread; ++k) {
    const int e = threadIdx.x + k * kFusedThreads;
    q[k] = e < vecs ? __ldcs(x + (r0 + (e >> vecShift)) * vecPerRow + headVec + myVec) : make_uint4(0u, 0u, 0u, 0u);
  }
  float m = 0.0f;
#pragma unroll
  for (int k = 0; k < kRegVecsPerThread; ++k) {
    float f[8];
    unpackBf16x8(q[k], f);
    if (smooth) {
#pragma unroll
      for (int j = 0; j < 8; ++j) f[j] = __fsub_rn(f[j], means[j]);
    }
    // Slots past the slice hold zeros (widened: 0 or -mean); leave them out of the amax.
    if (threadIdx.x + k * kFusedThreads < vecs) m = fmaxf(m, max8Finite(f));
  }
  const float scale = scaleFromAmax<F>(blockMax(m, smem_warpMax));
  const float inv = inverseScale(scale);
  if (threadIdx.x == 0) scales[g * heads + head] = scale;

#pragma unroll
  for (int k = 0; k < kRegVecsPerThread; ++k) {
    const int e = threadIdx.x + k * kFusedThreads;
    if (e >= vecs) break;
    float f[8];
    unpackBf16x8(q[k], f);
    if (smooth) {
#pragma unroll
      for (int j = 0; j < 8; ++j) f[j] = __fsub_rn(f[j], means[j]);
    }
    __stcs(codes + (r0 + (e >> vecShift)) * vecPerRow + headVec + myVec, encode8<F>(f, inv));
  }
}

template <Fp8Format F>
__global__ void __launch_bounds__(kFusedThreads) fusedGroupKernel(const uint4* __restrict__ x,
                                                                  const int32_t* __restrict__ groupStart,
                                                                  const float* __restrict__ mean,
                                                                  uint2* __restrict__ codes,
                                                                  float* __restrict__ scales, int64_t rows,
                                                                  int64_t cols, int headDim, int heads,
                                                                  int maxGroupRows) {
  extern __shared__ uint4 smem_slice[];  // [maxGroupRows][headDim/8] BF16 vectors of this (group, head)
  __shared__ float smem_warpMax[kFusedThreads / 32];

  const int64_t g = blockIdx.x / heads;  // heads vary fastest: neighbouring blocks read neighbouring head slices
  const int head = int(blockIdx.x - g * heads);
  const auto [r0, groupRows] = groupSpan(groupStart, g, rows, maxGroupRows);
  const int vecsPerRowHead = headDim / 8;  // 16-byte vectors per row of this head (power of two, <= 32)
  const int vecShift = __ffs(vecsPerRowHead) - 1;
  const int vecs = groupRows * vecsPerRowHead;
  const int64_t vecPerRow = cols / 8;
  const int64_t headVec = int64_t(head) * vecsPerRowHead;

  // A thread's vector within the head never changes (kFusedThreads is a multiple of vecsPerRowHead), so its 8
  // K-smoothing means are loaded once. Consecutive threads take consecutive vectors: each warp load and store
  // instruction covers whole rows of the head (2 x 256 contiguous bytes in, 2 x 128 out for headDim 128).
  static_assert(kFusedThreads % 32 == 0, "a thread must keep one vector across rows (headDim/8 <= 32)");
  const int myVec = threadIdx.x & (vecsPerRowHead - 1);
  const int64_t myChannel = (headVec + myVec) * 8;
  const bool smooth = mean != nullptr;
  float means[8];
  if (smooth) loadMean8(mean, myChannel, means);
  auto widen = [&](const uint4& q, float (&f)[8]) {
    unpackBf16x8(q, f);
    if (smooth) {
#pragma unroll
      for (int j = 0; j < 8; ++j) f[j] = __fsub_rn(f[j], means[j]);
    }
  };

  // Phase 1: stage the slice in shared memory and reduce |x| over its finite values.
  float m = 0.0f;
#pragma unroll 4
  for (int e = threadIdx.x; e < vecs; e += kFusedThreads) {
    const int row = e >> vecShift;
    const uint4 q = __ldcs(x + (r0 + row) * vecPerRow + headVec + myVec);
    smem_slice[e] = q;
    float f[8];
    widen(q, f);
    m = fmaxf(m, max8Finite(f));
  }
  const float scale = scaleFromAmax<F>(blockMax(m, smem_warpMax));
  const float inv = inverseScale(scale);
  if (threadIdx.x == 0) scales[g * heads + head] = scale;

  // Phase 2: each thread quantizes the vectors it staged itself (no barrier needed for smem_slice).
#pragma unroll 4
  for (int e = threadIdx.x; e < vecs; e += kFusedThreads) {
    const int row = e >> vecShift;
    float f[8];
    widen(smem_slice[e], f);
    // codes: row pitch cols bytes = vecPerRow uint2; this vector's 8 codes are one uint2.
    __stcs(codes + (r0 + row) * vecPerRow + headVec + myVec, encode8<F>(f, inv));
  }
}

template <Fp8Format F>
void launchQuantizeRowsTyped(const QuantizeRowsParams& p, cudaStream_t stream) {
  const int64_t scaleCount = p.groupCount * p.heads;
  const auto* x = static_cast<const uint4*>(p.x);
  if (quantizeRowsUsesFusedPath(p)) {
    const int smemBytes = int(p.maxGroupRows * p.headDim * 2);
    static bool attributeSet = false;  // per template instance; the binding calls from the main thread only
    if (!attributeSet) {
      FPSATTN_CUDA_CHECK(
          cudaFuncSetAttribute(fusedGroupKernel<F>, cudaFuncAttributeMaxDynamicSharedMemorySize, kFusedMaxSmem));
      attributeSet = true;
    }
    const unsigned grid = unsigned(p.groupCount * p.heads);
    if (p.maxGroupRows * (p.headDim / 8) <= int64_t(kFusedThreads) * kRegVecsPerThread) {
      fusedGroupRegKernel<F><<<grid, kFusedThreads, 0, stream>>>(x, p.groupStart, p.mean,
                                                                 reinterpret_cast<uint2*>(p.codes), p.scales, p.rows,
                                                                 p.cols, p.headDim, p.heads, int(p.maxGroupRows));
      FPSATTN_CHECK_LAUNCH();
      return;
    }
    fusedGroupKernel<F><<<grid, kFusedThreads, smemBytes, stream>>>(x, p.groupStart, p.mean,
                                                                     reinterpret_cast<uint2*>(p.codes), p.scales,
                                                                     p.rows, p.cols, p.headDim, p.heads,
                                                                     int(p.maxGroupRows));
    FPSATTN_CHECK_LAUNCH();
    return;
  }
  // Two-pass path.
  FPSATTN_CUDA_CHECK(cudaMemsetAsync(p.amaxWork, 0, size_t(scaleCount) * sizeof(uint32_t), stream));
  const int64_t vecPerRow = p.cols / 8;
  const int threads = int(std::min<int64_t>(kMaxThreads, roundUp(vecPerRow, 32)));
  if (p.rows > 0) {
    const dim3 grid1(unsigned(ceilDiv(p.rows, kAmaxRows)), unsigned(ceilDiv(vecPerRow, threads)));
    amaxRowsKernel<<<grid1, threads, 0, stream>>>(x, p.groupOfRow, p.mean, p.amaxWork, p.rows, vecPerRow,
                                                  p.headDim / 8, p.heads, p.groupCount);
    FPSATTN_CHECK_LAUNCH();
  }
  finalizeScalesKernel<F><<<unsigned(ceilDiv(scaleCount, kMaxThreads)), kMaxThreads, 0, stream>>>(
      p.amaxWork, p.scales, scaleCount);
  FPSATTN_CHECK_LAUNCH();
  const int64_t unitsPerRow = p.cols / 16;
  const int64_t items = p.rows * unitsPerRow;
  if (items == 0) return;
  const unsigned grid3 = flatGrid(items, kMaxThreads, kQuantItemsPerThread);
  if (items < (int64_t(1) << 31)) {
    quantizeRowsKernel<F, uint32_t><<<grid3, kMaxThreads, 0, stream>>>(
        x, p.groupOfRow, p.mean, p.scales, reinterpret_cast<uint4*>(p.codes), uint32_t(p.rows),
        uint32_t(unitsPerRow), p.headDim / 16, p.heads, p.groupCount);
  } else {
    quantizeRowsKernel<F, uint64_t><<<grid3, kMaxThreads, 0, stream>>>(
        x, p.groupOfRow, p.mean, p.scales, reinterpret_cast<uint4*>(p.codes), uint64_t(p.rows),
        uint64_t(unitsPerRow), p.headDim / 16, p.heads, p.groupCount);
  }
  FPSATTN_CHECK_LAUNCH();
}

}  // namespace

int64_t quantizeRowsFusedMaxGroupRows(int32_t headDim) { return kFusedMaxSmem / (2 * int64_t(headDim)); }

bool quantizeRowsUsesFusedPath(const QuantizeRowsParams& p) {
  if (p.groupStart == nullptr || p.path == QuantizePath::TwoPass) return false;
  // One block per (group, head): the grid must fit gridDim.x, and the slice the shared-memory staging.
  const bool fits = p.maxGroupRows * p.headDim * 2 <= kFusedMaxSmem && p.groupCount * p.heads <= 2147483647LL;
  if (p.path == QuantizePath::Fused) return fits;
  // Auto: fused when the slices fit and are large enough to keep a 256-thread block busy (>= 8 rows on average).
  return fits && p.groupCount > 0 && p.rows / p.groupCount >= 8;
}

void launchQuantizeRows(const QuantizeRowsParams& p, cudaStream_t stream) {
  if (p.rows == 0 && p.groupCount == 0) return;
  FPSATTN_FP8_SWITCH(p.format, F, [&] { launchQuantizeRowsTyped<F>(p, stream); });
}

}  // namespace fpsattn
