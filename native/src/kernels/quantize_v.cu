// quantize_v.cu: FP8 quantization of V, one float32 scale per channel, codes transposed to K-major.
//
// Computes (exact contract: QuantizeVParams in quantize_v.h; the CPU twin is quantizeVCpu in packages/kernels
// src/ops/quantize-v.ts and both must agree bit for bit with @fpsattn/fp8's quantize()):
//   v [rows, cols] BF16 -> codesT [cols, tokenStride] FP8 (transposed, K-major, as FP8 wgmma wants V),
//   scales [cols] f32: one scale per channel (per head) over all rows; columns rows..tokenStride-1 are 0.
//   Same scale and code rule as quantize_rows.cu.
//
// Paths and launch shapes:
//   channelAmaxKernel (common/channel_amax.cuh: 8 row lanes x 32 vectors per block, one atomicMax per channel
//   per block), finalizeScalesKernel (common/finalize_scales.cuh), then transposeQuantizeVKernel: 256 tokens x 64
//   channels per block (grid (cols/64, token tiles), channel tiles fastest, token tiles last-to-first to reuse L2),
//   256 threads; thread (v = tid%8, tg = tid/8) loads 8 tokens x 8 channels, writes 4-token code words into a
//   [64][64+1]-word shared tile, then 16-byte stores of the transposed tile (256-byte runs per channel row).
//   5 bytes per element.
//   With a handed-in amax (QuantizeVParams::amaxIn, from the tile-major gather in permute_rows.cu): only
//   finalizeScalesKernel and transposeQuantizeVKernel run, one pass over V (3 bytes per element).
//
// Check: gpu-test/kernels.test.mjs (bit-exact against the CPU twin, poisoned outputs, real sizes) and
// the same suite under compute-sanitizer memcheck/racecheck at small sizes (scripts/gpu/run-kernels.sh).
#include <cstdint>

#include "common/channel_amax.cuh"
#include "common/cuda_check.h"
#include "common/finalize_scales.cuh"
#include "common/fp8_math.cuh"
#include "common/launch_config.h"
#include "kernels/quantize_v.h"

namespace fpsattn {
namespace {

constexpr int kMaxThreads = 256;
constexpr int kVTileTokens = 256;       // V transpose tile: tokens (8 per thread)
constexpr int kVTileChannels = 64;      //                   channels
constexpr int kVTileWords = kVTileTokens / 4 + 1;  // shared row pitch in 32-bit words (+1: fewer bank conflicts)
constexpr int kVTokensPerThread = 8;

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

void launchQuantizeV(const QuantizeVParams& p, cudaStream_t stream) {
  if (p.cols == 0) return;
  FPSATTN_FP8_SWITCH(p.format, F, [&] { launchQuantizeVTyped<F>(p, stream); });
}

}  // namespace fpsattn
