// channel_mean.cu: deterministic per-channel mean over tokens of a BF16 [rows, cols] tensor (K smoothing).
//
// Computes mean[c] = float32(S[c] / rows) where S[c] is a float64 sum in a FIXED order, so that the CPU twin
// (packages/kernels src/cpu/channel-mean.ts) reproduces it bit for bit:
//   partial[b][c] = ((0.0 + x[b*R][c]) + x[b*R+1][c]) + ...   over the R = kMeanRowsPerChunk rows of chunk b
//   S[c]          = ((0.0 + partial[0][c]) + partial[1][c]) + ...
// Not a fast reduction (it is one read of K, which is memory-bound anyway; float64 adds are cheap next to it).
//
// Grid/block: pass 1 grid (chunks, ceil(cols/8 / 256)), 256 threads; each thread owns 8 channels (one 16-byte
// vector) of one chunk and walks its R rows in order. Pass 2: one thread per channel sums the partials in order.
// No shared memory. Check: gpu-test compares against the CPU twin bit for bit.
#include <cstdint>

#include "common/cuda_check.h"
#include "common/fp8_math.cuh"
#include "common/launch_config.h"
#include "common/params.h"

namespace fpsattn {
namespace {

constexpr int kThreads = 256;

__global__ void __launch_bounds__(kThreads) channelSumChunksKernel(const uint4* __restrict__ x,
                                                                   double* __restrict__ partials, int64_t rows,
                                                                   int64_t vecPerRow) {
  const int64_t v = int64_t(blockIdx.y) * kThreads + threadIdx.x;
  if (v >= vecPerRow) return;
  const int64_t chunk = blockIdx.x;
  const int64_t r0 = chunk * kMeanRowsPerChunk;
  const int64_t r1 = min(rows, r0 + kMeanRowsPerChunk);
  double acc[8];
#pragma unroll
  for (int j = 0; j < 8; ++j) acc[j] = 0.0;
  int64_t r = r0;
  for (; r + 4 <= r1; r += 4) {
    uint4 q[4];
#pragma unroll
    for (int k = 0; k < 4; ++k) q[k] = __ldg(x + (r + k) * vecPerRow + v);
#pragma unroll
    for (int k = 0; k < 4; ++k) {
      float f[8];
      unpackBf16x8(q[k], f);
#pragma unroll
      for (int j = 0; j < 8; ++j) acc[j] = __dadd_rn(acc[j], double(f[j]));
    }
  }
  for (; r < r1; ++r) {
    float f[8];
    unpackBf16x8(__ldg(x + r * vecPerRow + v), f);
#pragma unroll
    for (int j = 0; j < 8; ++j) acc[j] = __dadd_rn(acc[j], double(f[j]));
  }
  double* out = partials + chunk * vecPerRow * 8 + v * 8;
#pragma unroll
  for (int j = 0; j < 8; ++j) out[j] = acc[j];
}

__global__ void __launch_bounds__(kThreads) channelMeanFinalizeKernel(const double* __restrict__ partials,
                                                                      float* __restrict__ mean, int64_t chunks,
                                                                      int64_t cols, int64_t rows) {
  const int64_t c = int64_t(blockIdx.x) * kThreads + threadIdx.x;
  if (c >= cols) return;
  double s = 0.0;
  for (int64_t b = 0; b < chunks; ++b) s = __dadd_rn(s, partials[b * cols + c]);
  mean[c] = __double2float_rn(__ddiv_rn(s, double(rows)));
}

}  // namespace

int64_t channelMeanWorkspaceBytes(int64_t rows, int64_t cols) {
  return ceilDiv(rows, kMeanRowsPerChunk) * cols * int64_t(sizeof(double));
}

void launchChannelMean(const ChannelMeanParams& p, cudaStream_t stream) {
  if (p.cols == 0) return;
  if (p.rows == 0) {
    // Mean of nothing: define it as 0 (nothing to smooth).
    FPSATTN_CUDA_CHECK(cudaMemsetAsync(p.mean, 0, size_t(p.cols) * sizeof(float), stream));
    return;
  }
  const int64_t vecPerRow = p.cols / 8;
  const int64_t chunks = ceilDiv(p.rows, kMeanRowsPerChunk);
  const dim3 grid1(unsigned(chunks), unsigned(ceilDiv(vecPerRow, kThreads)));
  channelSumChunksKernel<<<grid1, kThreads, 0, stream>>>(static_cast<const uint4*>(p.x), p.partials, p.rows,
                                                         vecPerRow);
  FPSATTN_CHECK_LAUNCH();
  channelMeanFinalizeKernel<<<unsigned(ceilDiv(p.cols, kThreads)), kThreads, 0, stream>>>(p.partials, p.mean, chunks,
                                                                                         p.cols, p.rows);
  FPSATTN_CHECK_LAUNCH();
}

}  // namespace fpsattn
