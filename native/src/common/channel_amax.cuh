// Per-channel amax of a BF16 [rows, cols] tensor, block by block: the layout and the reduction shared by the V
// channel-amax pass (quantize_v.cu) and the gather that computes V's amax while it copies (permute_rows.cu).
//
// Block = kChannelAmaxLanes row lanes x kChannelAmaxVecs 16-byte vectors (256 channels), thread (lane = tid / 32,
// vec = tid % 32), so each warp load reads 512 contiguous bytes of one row. Lane l walks kChannelAmaxRowsPerLane rows,
// kChannelAmaxRowsInFlight loads at a time; the lanes meet in shared memory and one thread per channel does one
// atomicMax per block (max is order-free, so the result is deterministic). Grid (ceil(cols/256), ceil(rows/512)),
// column tiles fastest so that the blocks in flight read whole rows: 6 x 148 = 888 blocks at 720p. The output is the
// float bits of non-negative maxima (they order like unsigned integers) and must be zeroed before the launch.
#pragma once

#include <cstdint>

#include "common/fp8_math.cuh"
#include "common/launch_config.h"

namespace fpsattn {

constexpr int kChannelAmaxLanes = 8;
constexpr int kChannelAmaxVecs = 32;
constexpr int kChannelAmaxThreads = kChannelAmaxLanes * kChannelAmaxVecs;  // 256
constexpr int kChannelAmaxRowsPerLane = 64;
constexpr int kChannelAmaxRowsInFlight = 8;

/// This thread's place in the block layout above.
struct ChannelAmaxTile {
  int lane;        // row lane within the block
  int vecInBlock;  // 16-byte vector within the block's 256 channels
  int64_t vec;     // 16-byte vector within the row
  int64_t r0, r1;  // rows [r0, r1) this lane walks
};

__device__ __forceinline__ ChannelAmaxTile channelAmaxTile(int64_t rows) {
  ChannelAmaxTile t;
  t.lane = threadIdx.x / kChannelAmaxVecs;
  t.vecInBlock = threadIdx.x % kChannelAmaxVecs;
  t.vec = int64_t(blockIdx.x) * kChannelAmaxVecs + t.vecInBlock;
  t.r0 = (int64_t(blockIdx.y) * kChannelAmaxLanes + t.lane) * kChannelAmaxRowsPerLane;
  t.r1 = min(rows, t.r0 + kChannelAmaxRowsPerLane);
  return t;
}

/// m[j] = max(m[j], |x_j|) over the finite values of 8 BF16 values. (Packed 16-bit integer maxima on the bit
/// patterns, __vmaxu2/__vcmpltu2, ran 15% slower: those SIMD intrinsics are emulated on sm_90.)
__device__ __forceinline__ void accumulateAbsMax8(float (&m)[8], const uint4& q) {
  float f[8];
  unpackBf16x8(q, f);
#pragma unroll
  for (int j = 0; j < 8; ++j) m[j] = fmaxf(m[j], finiteAbs(f[j]));
}

/// Combines the lanes' maxima in shared memory and raises amax[c] with one atomicMax per channel of the block.
/// Every thread of the block must call it (it holds a barrier).
__device__ __forceinline__ void publishBlockChannelAmax(const float (&m)[8], const ChannelAmaxTile& t,
                                                        int64_t vecPerRow, uint32_t* __restrict__ amax) {
  __shared__ float smem_max[kChannelAmaxLanes][kChannelAmaxVecs * 8];
#pragma unroll
  for (int j = 0; j < 8; ++j) smem_max[t.lane][t.vecInBlock * 8 + j] = m[j];
  __syncthreads();
  if (threadIdx.x < kChannelAmaxVecs * 8) {
    const int64_t c = int64_t(blockIdx.x) * kChannelAmaxVecs * 8 + threadIdx.x;
    float mc = 0.0f;
#pragma unroll
    for (int l = 0; l < kChannelAmaxLanes; ++l) mc = fmaxf(mc, smem_max[l][threadIdx.x]);
    if (c < vecPerRow * 8 && mc > 0.0f) atomicMax(amax + c, __float_as_uint(mc));
  }
}

/// The grid of the layout above for a [rows, vecPerRow * 8] tensor.
inline dim3 channelAmaxGrid(int64_t vecPerRow, int64_t rows) {
  return dim3(unsigned(ceilDiv(vecPerRow, int64_t(kChannelAmaxVecs))),
              unsigned(ceilDiv(rows, int64_t(kChannelAmaxLanes) * kChannelAmaxRowsPerLane)));
}

}  // namespace fpsattn
