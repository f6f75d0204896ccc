// quantize_fp8.cu: FP8 quantization of attention inputs, codes plus float32 scales.
//
// Computes (exact contract in common/params.h; the CPU twin is packages/kernels src/cpu/twins.ts and both must
// agree bit for bit with @fpsattn/fp8's quantize()):
//   Q/K  x [rows, heads*headDim] BF16 -> codes [rows, cols] FP8 (same layout), scales [groupCount, heads] f32:
//        one scale per (group of rows, head); groupOfRow maps each row to its group, so any granularity from
//        per-tensor (all rows group 0) to per-token works, 3D tiles being one case. Optional K smoothing: subtract
//        mean[c] (channel_mean.cu) in float32 before everything else.
//   V    v [rows, cols] BF16 -> codesT [cols, tokenStride] FP8 (transposed, K-major, as FP8 wgmma wants V),
//        scales [cols] f32: one scale per channel (per head) over all rows; columns rows..tokenStride-1 are 0.
// Not included: the attention itself, P quantization, dynamic (per-step) scale caching.
//
// Paths and launch shapes:
//   Q/K two-pass (any group map):
//     1. amaxRowsKernel: grid (ceil(rows/kAmaxRows), ceil(cols/8/256)), block min(256, cols/8 rounded to 32);
//        each thread owns 8 channels and walks kAmaxRows rows (cached loads: the tail stays in L2 for pass 3), keeps a running max while the (block-uniform) group
//        stays the same, reduces it over the headDim/8 lanes of its head with shuffles and atomicMax-es the float
//        bits (non-negative floats order like their bit patterns) into amaxWork[g][h].
//     2. finalizeScalesKernel: scale = f(amax) for each (g, h).
//     3. quantizeRowsKernel: flat loop, 16 channels per thread (two 16-byte loads, one 16-byte store), last row
//        first so that it starts on what pass 1 left in L2.
//     Moves 2 + 2 + 1 = 5 bytes per element.
//   Q/K fused (groups are contiguous runs of rows, e.g. tiles after the tile-major gather; up to kFusedMaxSmem bytes
//   per (group, head)): fusedGroupKernel, 1-D grid of groupCount * heads blocks (heads fastest, so neighbouring
//   blocks read neighbouring slices of the same rows), block 256, dynamic shared memory
//   groupRows*headDim*2 bytes holding the group's BF16 slice. Thread t owns vector t % (headDim/8) of every row it
//   visits, so a warp's 16-byte loads cover whole 256-byte head rows and its 8-byte stores whole 128-byte code rows.
//   Phase 1 loads the slice and reduces amax over the block (shuffles + 8-word shared array); phase 2 quantizes
//   from shared memory. Moves 2 + 1 = 3 bytes per element (the minimum).
//   V with a handed-in amax (QuantizeVParams::amaxIn, from the tile-major gather in permute_rows.cu): only
//   finalizeScalesKernel and transposeQuantizeVKernel run, one pass over V (3 bytes per element).
//   V: channelAmaxKernel (common/channel_amax.cuh: 8 row lanes x 32 vectors per block, one atomicMax per channel
//   per block), finalizeScalesKernel, then transposeQuantizeVKernel: 256 tokens x 64 channels
//   per block (grid (cols/64, token tiles), channel tiles fastest, token tiles last-to-first to reuse L2),
//   256 threads; thread (v = tid%8, tg = tid/8) loads 8 tokens x 8 channels, writes 4-token code words into a
//   [64][64+1]-word shared tile, then 16-byte stores of the transposed tile (256-byte runs per channel row).
//   5 bytes per element.
//
// Check: gpu-test/kernels.test.mjs (bit-exact against the CPU twin, poisoned outputs, real sizes) and
// the same suite under compute-sanitizer memcheck/racecheck at small sizes (scripts/gpu/run-kernels.sh).
#include <algorithm>
#include <cstdint>

#include "common/channel_amax.cuh"
#include "common/cuda_check.h"
#include "common/fp8_math.cuh"
#include "common/launch_config.h"
#include "common/params.h"

namespace fpsattn {
namespace {

constexpr int kMaxThreads = 256;
constexpr int kAmaxRows = 32;           // rows per block in the Q/K amax pass
constexpr int kAmaxUnroll = 4;          // rows loaded before they are reduced
constexpr int kQuantItemsPerThread = 2; // 16-channel units per thread per iteration in quantizeRowsKernel
constexpr int kFusedThreads = 256;
constexpr int kFusedMaxSmem = 160 * 1024;  // bytes of BF16 staging per (group, head) block in the fused path
constexpr int kRegVecsPerThread = 8;     // register-resident fused path: up to 256 x 8 16-byte vectors per slice
constexpr int kVTileTokens = 256;       // V transpose tile: tokens (8 per thread)
constexpr int kVTileChannels = 64;      //                   channels
constexpr int kVTileWords = kVTileTokens / 4 + 1;  // shared row pitch in 32-bit words (+1: fewer bank conflicts)
constexpr int kVTokensPerThread = 8;

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

template <Fp8Format F>
__global__ void finalizeScalesKernel(const uint32_t* __restrict__ amax, float* __restrict__ scales, int64_t n) {
  const int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i < n) scales[i] = scaleFromAmax<F>(__uint_as_float(amax[i]));
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

// ------------------------------------------------------------------------------------------ V path
/// Per-channel amax of V over all rows (layout and reduction: common/channel_amax.cuh). The first version, 591 blocks
/// with 591 atomics per channel, reached 46% of DRAM bandwidth under Nsight Compute.
__global__ void __launch_bounds__(kChannelAmaxThreads) channelAmaxKernel(const uint4* __restrict__ v,
                                                                         uint32_t* __restrict__ amax, int64_t rows,
                                                                         int64_t vecPerRow) {
  const ChannelAmaxTile t = channelAmaxTile(rows);
  float m[8];
#pragma unroll
  for (int j = 0; j < 8; ++j) m[j] = 0.0f;
  if (t.vec < vecPerRow) {
    int64_t r = t.r0;
    for (; r + kChannelAmaxRowsInFlight <= t.r1; r += kChannelAmaxRowsInFlight) {
      uint4 q[kChannelAmaxRowsInFlight];
#pragma unroll
      for (int k = 0; k < kChannelAmaxRowsInFlight; ++k) q[k] = __ldcs(v + (r + k) * vecPerRow + t.vec);
#pragma unroll
      for (int k = 0; k < kChannelAmaxRowsInFlight; ++k) accumulateAbsMax8(m, q[k]);
    }
    for (; r < t.r1; ++r) accumulateAbsMax8(m, __ldcs(v + r * vecPerRow + t.vec));
  }
  publishBlockChannelAmax(m, t, vecPerRow, amax);
}

template <Fp8Format F>
__global__ void __launch_bounds__(kMaxThreads) transposeQuantizeVKernel(const uint4* __restrict__ v,
                                                                        const float* __restrict__ scales,
                                                                        uint4* __restrict__ codesT, int64_t rows,
                                                                        int64_t cols, int64_t tokenStride) {
  __shared__ uint32_t smem_tile[kVTileChannels][kVTileWords];  // [channel][4-token code word]
  // Channel tiles vary fastest (neighbouring blocks read whole rows); token tiles run last-to-first so that the first
  // blocks find the rows the amax pass read last still in L2.
  const int64_t t0 = int64_t(gridDim.y - 1 - blockIdx.y) * kVTileTokens;
  const int64_t c0 = int64_t(blockIdx.x) * kVTileChannels;
  const int vec = threadIdx.x & 7;   // 8-channel vector within the 64-channel tile
  const int tg = threadIdx.x >> 3;   // 8-token group within the 256-token tile
  const int64_t vecPerRow = cols / 8;

  float inv[8];
  {
    const float4 a = __ldg(reinterpret_cast<const float4*>(scales + c0 + vec * 8));
    const float4 b = __ldg(reinterpret_cast<const float4*>(scales + c0 + vec * 8 + 4));
    inv[0] = inverseScale(a.x); inv[1] = inverseScale(a.y); inv[2] = inverseScale(a.z); inv[3] = inverseScale(a.w);
    inv[4] = inverseScale(b.x); inv[5] = inverseScale(b.y); inv[6] = inverseScale(b.z); inv[7] = inverseScale(b.w);
  }
  uint4 q[kVTokensPerThread];
#pragma unroll
  for (int k = 0; k < kVTokensPerThread; ++k) {
    const int64_t t = t0 + tg * kVTokensPerThread + k;
    q[k] = t < rows ? __ldcs(v + t * vecPerRow + c0 / 8 + vec) : make_uint4(0u, 0u, 0u, 0u);
  }
  // Four tokens of channel j become one 32-bit word of codes (lowest token in the lowest byte): two paired
  // conversions (cvt.rn.satfinite.*x2.f32) per word instead of four single ones and the shifts to pack them.
  // Out-of-range tokens were loaded as zeros: their codes are 0, the padding the layout promises.
#pragma unroll
  for (int w = 0; w < kVTokensPerThread / 4; ++w) {
    float f[4][8];
#pragma unroll
    for (int k = 0; k < 4; ++k) unpackBf16x8(q[w * 4 + k], f[k]);
#pragma unroll
    for (int j = 0; j < 8; ++j) {
      const uint32_t lo = encodeFp8x2<F>(__fmul_rn(f[0][j], inv[j]), __fmul_rn(f[1][j], inv[j]));
      const uint32_t hi = encodeFp8x2<F>(__fmul_rn(f[2][j], inv[j]), __fmul_rn(f[3][j], inv[j]));
      smem_tile[vec * 8 + j][tg * (kVTokensPerThread / 4) + w] = lo | (hi << 16);
    }
  }
  __syncthreads();

  // Store: 64 channel rows x 256 token bytes = 64 x 16 uint4; 4 per thread, consecutive threads along tokens.
  constexpr int kPiecesPerRow = kVTileTokens / 16;
#pragma unroll
  for (int k = 0; k < kVTileChannels * kPiecesPerRow / kMaxThreads; ++k) {
    const int item = threadIdx.x + k * kMaxThreads;
    const int ch = item / kPiecesPerRow;
    const int part = item % kPiecesPerRow;  // 16-byte piece (16 tokens) of the row
    const int64_t t = t0 + part * 16;
    if (t < tokenStride) {
      const uint32_t* w = &smem_tile[ch][part * 4];
      __stcs(codesT + ((c0 + ch) * tokenStride + t) / 16, make_uint4(w[0], w[1], w[2], w[3]));
    }
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

/// V pass 1: zero the workspace, then per-channel maxima over all rows (channelAmaxKernel).
void launchChannelAmax(const QuantizeVParams& p, cudaStream_t stream) {
  FPSATTN_CUDA_CHECK(cudaMemsetAsync(p.amaxWork, 0, size_t(p.cols) * sizeof(uint32_t), stream));
  if (p.rows == 0) return;
  const int64_t vecPerRow = p.cols / 8;
  channelAmaxKernel<<<channelAmaxGrid(vecPerRow, p.rows), kChannelAmaxThreads, 0, stream>>>(static_cast<const uint4*>(p.v), p.amaxWork, p.rows,
                                                                     vecPerRow);
  FPSATTN_CHECK_LAUNCH();
}

template <Fp8Format F>
void launchQuantizeVTyped(const QuantizeVParams& p, cudaStream_t stream) {
  if (p.amaxIn != nullptr) {
    // One pass: the maxima came with the gather (permute_rows.cu); they are non-negative floats, read as bits.
    finalizeScalesKernel<F><<<unsigned(ceilDiv(p.cols, kMaxThreads)), kMaxThreads, 0, stream>>>(
        reinterpret_cast<const uint32_t*>(p.amaxIn), p.scales, p.cols);
    FPSATTN_CHECK_LAUNCH();
  } else {
    launchChannelAmax(p, stream);
    finalizeScalesKernel<F><<<unsigned(ceilDiv(p.cols, kMaxThreads)), kMaxThreads, 0, stream>>>(p.amaxWork, p.scales,
                                                                                                 p.cols);
    FPSATTN_CHECK_LAUNCH();
  }
  if (p.tokenStride == 0) return;
  const dim3 grid2(unsigned(p.cols / kVTileChannels), unsigned(ceilDiv(p.tokenStride, kVTileTokens)));
  transposeQuantizeVKernel<F><<<grid2, kMaxThreads, 0, stream>>>(static_cast<const uint4*>(p.v), p.scales,
                                                                  reinterpret_cast<uint4*>(p.codesT), p.rows, p.cols,
                                                                  p.tokenStride);
  FPSATTN_CHECK_LAUNCH();
}

}  // namespace

int64_t quantizeRowsFusedMaxGroupRows(int32_t headDim) { return kFusedMaxSmem / (2 * int64_t(headDim)); }

bool quantizeRowsUsesFusedPath(const QuantizeRowsParams& p) {
  if (p.groupStart == nullptr || p.path == 1) return false;
  // One block per (group, head): the grid must fit gridDim.x, and the slice the shared-memory staging.
  const bool fits = p.maxGroupRows * p.headDim * 2 <= kFusedMaxSmem && p.groupCount * p.heads <= 2147483647LL;
  if (p.path == 2) return fits;
  // Auto: fused when the slices fit and are large enough to keep a 256-thread block busy (>= 8 rows on average).
  return fits && p.groupCount > 0 && p.rows / p.groupCount >= 8;
}

void launchQuantizeRows(const QuantizeRowsParams& p, cudaStream_t stream) {
  if (p.rows == 0 && p.groupCount == 0) return;
  FPSATTN_FP8_SWITCH(p.format, F, [&] { launchQuantizeRowsTyped<F>(p, stream); });
}

void launchQuantizeV(const QuantizeVParams& p, cudaStream_t stream) {
  if (p.cols == 0) return;
  FPSATTN_FP8_SWITCH(p.format, F, [&] { launchQuantizeVTyped<F>(p, stream); });
}

}  // namespace fpsattn
