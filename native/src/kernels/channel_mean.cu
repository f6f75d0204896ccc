// channel_mean.cu: deterministic per-channel mean over tokens of a BF16 [rows, cols] tensor (K smoothing).
//
// Computes mean[c] = float32(S[c] / rows), S[c] a sum in a FIXED order, so that the CPU twin
// (packages/kernels src/ops/channel-mean.ts channelMeanCpu) reproduces it bit for bit:
//   chunk[b][c] = ((0.0f + x[b*R][c]) + x[b*R+1][c]) + ...      float32, the R = kMeanRowsPerChunk rows of chunk b
//   group[g][c] = ((0.0 + chunk[g*G][c]) + chunk[g*G+1][c]) + ... float64, the G = kMeanChunksPerGroup chunks of g
//   lane[i][c]  = ((0.0 + group[i][c]) + group[i+32][c]) + ...   float64, i = 0..31: groups i, i+32, i+64, ...
//   S[c]        = butterfly over the 32 lanes: for d = 16, 8, 4, 2, 1: lane[i] = lane[i] + lane[i + d] (i < d)
// Chunks sum in float32 (64 BF16 values: relative error below 2^-18, far under BF16's own 2^-9) because converting every
// element to float64 costs a slow F2F instruction each; the few chunk sums are widened exactly and added in float64.
// Not included: smoothing itself (quantize_rows.cu subtracts the mean).
//
// Launch shapes:
//   channelGroupSumKernel: grid (ceil(cols/8 / kVecPerBlock), groups), column tiles fastest, block kMeanChunksPerGroup * kVecPerBlock
//     = 8 x 32 = 256 threads. Thread (chunk lane = tid / 32, vec = tid % 32) sums its chunk's R rows for 8 channels
//     (one 16-byte load per row, 8 rows in flight): each warp load instruction reads 512 contiguous bytes of one row.
//     The 8 chunk sums of the block meet in shared memory ([8][256] doubles, 16 KB) and each thread adds them in chunk
//     order for one channel. At 720p (75,600 x 1,536): 148 x 6 = 888 blocks. (A 32-lane x 8-vector layout, whose
//     warps read 4 rows x 128 bytes, ran 7% slower.)
//   channelMeanFinalizeKernel: one warp per channel: per-lane ordered sums, a fixed butterfly, the division.
// Check: gpu-test/kernels.test.mjs compares with the CPU twin bit for bit.
#include <cstdint>

#include "common/cuda_check.h"
#include "common/fp8_math.cuh"
#include "common/launch_config.h"
#include "kernels/channel_mean.h"

namespace fpsattn {
namespace {

constexpr int kVecPerBlock = 32;                                  // 16-byte vectors (8 channels each) per block
constexpr int kGroupThreads = kMeanChunksPerGroup * kVecPerBlock;  // 8 x 32 = 256
constexpr int kChannelsPerBlock = kVecPerBlock * 8;                 // 256
constexpr int kRowsInFlight = 8;
constexpr int kFinalizeThreads = 256;
static_assert(kMeanRowsPerChunk % kRowsInFlight == 0, "chunks must hold whole batches of rows");

__global__ void __launch_bounds__(kGroupThreads) channelGroupSumKernel(const uint4* __restrict__ x,
                                                                       double* __restrict__ groupSums, int64_t rows,
                                                                       int64_t vecPerRow) {
  __shared__ double smem_chunk[kMeanChunksPerGroup][kChannelsPerBlock];
  const int lane = threadIdx.x / kVecPerBlock;  // chunk within the group
  const int vecInBlock = threadIdx.x % kVecPerBlock;
  const int64_t vec = int64_t(blockIdx.x) * kVecPerBlock + vecInBlock;
  const int64_t r0 = (int64_t(blockIdx.y) * kMeanChunksPerGroup + lane) * kMeanRowsPerChunk;
  const int64_t r1 = min(rows, r0 + kMeanRowsPerChunk);

  float acc[8];
#pragma unroll
  for (int j = 0; j < 8; ++j) acc[j] = 0.0f;
  if (vec < vecPerRow) {
    int64_t r = r0;
    for (; r + kRowsInFlight <= r1; r += kRowsInFlight) {
      uint4 q[kRowsInFlight];
#pragma unroll
      for (int k = 0; k < kRowsInFlight; ++k) q[k] = __ldcs(x + (r + k) * vecPerRow + vec);
#pragma unroll
      for (int k = 0; k < kRowsInFlight; ++k) {
        float f[8];
        unpackBf16x8(q[k], f);
#pragma unroll
        for (int j = 0; j < 8; ++j) acc[j] = __fadd_rn(acc[j], f[j]);
      }
    }
    for (; r < r1; ++r) {  // the last chunk may be short
      float f[8];
      unpackBf16x8(__ldcs(x + r * vecPerRow + vec), f);
#pragma unroll
      for (int j = 0; j < 8; ++j) acc[j] = __fadd_rn(acc[j], f[j]);
    }
  }
#pragma unroll
  for (int j = 0; j < 8; ++j) smem_chunk[lane][vecInBlock * 8 + j] = double(acc[j]);
  __syncthreads();

  // Chunk sums in chunk order (chunks past the last row hold 0.0, and adding 0.0 changes nothing... except -0.0,
  // which cannot occur: a sum that starts at +0.0 never becomes -0.0 under round-to-nearest).
  if (threadIdx.x < kChannelsPerBlock) {
    const int64_t c = int64_t(blockIdx.x) * kChannelsPerBlock + threadIdx.x;
    if (c < vecPerRow * 8) {
      double s = 0.0;
#pragma unroll 8
      for (int b = 0; b < kMeanChunksPerGroup; ++b) s = __dadd_rn(s, smem_chunk[b][threadIdx.x]);
      groupSums[int64_t(blockIdx.y) * vecPerRow * 8 + c] = s;
    }
  }
}

/// One warp per channel: lane i adds groups i, i+32, ... in order (its loads all in flight together), then the 32
/// lane sums meet in a fixed butterfly (__shfl_xor_sync, offsets 16..1), which the CPU twin replays. A sequential
/// sum over all groups in one thread took 10-18 us at 720p: a chain of dependent adds and rounds of load latency.
__global__ void __launch_bounds__(kFinalizeThreads) channelMeanFinalizeKernel(const double* __restrict__ groupSums,
                                                                              float* __restrict__ mean,
                                                                              int64_t groups, int64_t cols,
                                                                              int64_t rows) {
  const int64_t c = (int64_t(blockIdx.x) * kFinalizeThreads + threadIdx.x) / 32;
  const int lane = threadIdx.x & 31;
  if (c >= cols) return;  // whole warps leave together (c is warp-uniform)
  double s = 0.0;
#pragma unroll 4
  for (int64_t g = lane; g < groups; g += 32) s = __dadd_rn(s, groupSums[g * cols + c]);
#pragma unroll
  for (int offset = 16; offset > 0; offset >>= 1) s = __dadd_rn(s, __shfl_xor_sync(0xffffffffu, s, offset));
  if (lane == 0) mean[c] = __double2float_rn(__ddiv_rn(s, double(rows)));
}

int64_t groupsOf(int64_t rows) { return ceilDiv(rows, int64_t(kMeanRowsPerChunk) * kMeanChunksPerGroup); }

}  // namespace

int64_t channelMeanWorkspaceBytes(int64_t rows, int64_t cols) {
  return groupsOf(rows) * cols * int64_t(sizeof(double));
}

void launchChannelMean(const ChannelMeanParams& p, cudaStream_t stream) {
  if (p.cols == 0) return;
  if (p.rows == 0) {
    // Mean of nothing: define it as 0 (nothing to smooth).
    FPSATTN_CUDA_CHECK(cudaMemsetAsync(p.mean, 0, size_t(p.cols) * sizeof(float), stream));
    return;
  }
  const int64_t vecPerRow = p.cols / 8;
  const int64_t groups = groupsOf(p.rows);
  // Column tiles vary fastest: the blocks running together read whole rows, not one 512-byte run of many rows.
  const dim3 grid1(unsigned(ceilDiv(vecPerRow, int64_t(kVecPerBlock))), unsigned(groups));
  channelGroupSumKernel<<<grid1, kGroupThreads, 0, stream>>>(static_cast<const uint4*>(p.x), p.partials, p.rows,
                                                             vecPerRow);
  FPSATTN_CHECK_LAUNCH();
  channelMeanFinalizeKernel<<<unsigned(ceilDiv(p.cols * 32, int64_t(kFinalizeThreads))), kFinalizeThreads, 0, stream>>>(
      p.partials, p.mean, groups, p.cols, p.rows);
  FPSATTN_CHECK_LAUNCH();
}

}  // namespace fpsattn
