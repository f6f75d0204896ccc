// channel_rms_norm.cu: the Wan-VAE's channel RMS norm (+ gamma, + optional SiLU) of channels-last F32 pixels to BF16.
// Math: channel_rms_norm.h.
//
// Launch shape: one warp per row (pixel), kWarps = 8 warps per block, grid ceil(rows / 8). Two passes over the row: the
// sum of squares (lane l takes packs l, l + 32, ... in order; then a xor butterfly), then normalise and write; the
// second read of the row hits L1/L2 (a row is C x 4 bytes: 1.5 KB at C = 384). Vector path (C % 8 == 0): a pack is 8
// channels, two 16-byte loads of x and gamma, one 16-byte BF16 store; scalar path (any other C): one element.
// Memory-bound: 4 bytes read (once from DRAM) and 2 written per element.
// Check: gpu-test/vae-ops.test.mjs compares with channelRmsNormCpu within the declared tolerance.
#include <cstdint>

#include "common/bf16_round.cuh"
#include "common/cuda_check.h"
#include "common/launch_config.h"
#include "kernels/vae/channel_rms_norm.h"

namespace fpsattn {
namespace {

constexpr int kWarps = 8;
constexpr int kThreads = kWarps * 32;
/// F.normalize's eps: the norm is clamped from below, never 0.
constexpr float kNormFloor = 1e-12f;

template <int kWidth>
__device__ __forceinline__ void loadF32(const float* __restrict__ p, float (&v)[kWidth]) {
  if constexpr (kWidth == 8) {
    const float4 a = __ldg(reinterpret_cast<const float4*>(p));
    const float4 b = __ldg(reinterpret_cast<const float4*>(p) + 1);
    v[0] = a.x; v[1] = a.y; v[2] = a.z; v[3] = a.w;
    v[4] = b.x; v[5] = b.y; v[6] = b.z; v[7] = b.w;
  } else {
    v[0] = __ldg(p);
  }
}

__device__ __forceinline__ float silu(float y) { return __fdiv_rn(y, __fadd_rn(1.0f, expf(-y))); }

/// kWidth: 8 (vector path) or 1 (scalar path).
template <int kWidth>
__global__ void __launch_bounds__(kThreads) channelRmsNormKernel(const ChannelRmsNormParams p) {
  const int lane = threadIdx.x & 31;
  const int64_t row = int64_t(blockIdx.x) * kWarps + (threadIdx.x >> 5);
  if (row >= p.rows) return;
  const uint32_t packs = uint32_t(p.channels / kWidth);
  const float* __restrict__ x = p.x + row * p.channels;
  float sum = 0.0f;
  for (uint32_t k = lane; k < packs; k += 32) {
    float v[kWidth];
    loadF32<kWidth>(x + int64_t(k) * kWidth, v);
#pragma unroll
    for (int i = 0; i < kWidth; ++i) sum = __fadd_rn(sum, __fmul_rn(v[i], v[i]));
  }
#pragma unroll
  for (int offset = 16; offset > 0; offset >>= 1) sum = __fadd_rn(sum, __shfl_xor_sync(0xffffffffu, sum, offset));
  const float factor = __fdiv_rn(sqrtf(float(p.channels)), fmaxf(sqrtf(sum), kNormFloor));
  uint16_t* __restrict__ out = p.out + row * p.channels;
  for (uint32_t k = lane; k < packs; k += 32) {
    float v[kWidth], g[kWidth];
    loadF32<kWidth>(x + int64_t(k) * kWidth, v);
    loadF32<kWidth>(p.gamma + int64_t(k) * kWidth, g);
#pragma unroll
    for (int i = 0; i < kWidth; ++i) {
      v[i] = __fmul_rn(__fmul_rn(v[i], factor), g[i]);
      if (p.silu) v[i] = silu(v[i]);  // grid-uniform
    }
    if constexpr (kWidth == 8) {
      *reinterpret_cast<uint4*>(out + int64_t(k) * 8) = packBf16x8(v);
    } else {
      out[k] = uint16_t(bf16BitsRn(v[0]));
    }
  }
}

}  // namespace

void launchChannelRmsNorm(const ChannelRmsNormParams& p, cudaStream_t stream) {
  if (p.rows == 0) return;
  const unsigned blocks = unsigned(ceilDiv(p.rows, kWarps));
  if (p.channels % 8 == 0) {
    channelRmsNormKernel<8><<<blocks, kThreads, 0, stream>>>(p);
  } else {
    channelRmsNormKernel<1><<<blocks, kThreads, 0, stream>>>(p);
  }
  FPSATTN_CHECK_LAUNCH();
}

}  // namespace fpsattn
