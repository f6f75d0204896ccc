// softmax_rows.cu: row softmax of F32 attention scores (scaled, with padded key columns masked) to BF16
// probabilities. Math: softmax_rows.h. Not an online (flash) softmax: the scores are materialised by a GEMM first,
// which is what the Wan-VAE's one small attention per frame needs (14,400 pixels at 720p: 0.8 GB of scores).
//
// Launch shape: one block of kThreads = 256 per row, grid (rows). Three passes over the row, thread t taking columns
// t, t + 256, ... (coalesced 4-byte loads, 2-byte stores): the max, the sum of exponentials, then the probabilities;
// the second and third reads mostly hit L2 (a row is cols x 4 bytes: 56 KB at 14,400). Block reductions: a xor
// butterfly per warp, then warp 0 over the 8 warp results in shared memory.
// Memory-bound: 4 bytes read (once from DRAM) and 2 written per element.
// Check: gpu-test/vae-ops.test.mjs compares with softmaxRowsCpu within the declared tolerance.
#include <cfloat>
#include <cstdint>

#include "common/bf16_round.cuh"
#include "common/cuda_check.h"
#include "kernels/vae/softmax_rows.h"

namespace fpsattn {
namespace {

constexpr int kThreads = 256;
constexpr int kWarps = kThreads / 32;

struct SmemReduce {
  float warp[kWarps];
  float result;
};

template <bool kMax>
__device__ __forceinline__ float combine(float a, float b) {
  if constexpr (kMax) return fmaxf(a, b);
  else return __fadd_rn(a, b);
}

/// The block-wide max or sum of `v`, returned to every thread.
template <bool kMax>
__device__ __forceinline__ float blockReduce(float v, SmemReduce& smem) {
#pragma unroll
  for (int offset = 16; offset > 0; offset >>= 1) v = combine<kMax>(v, __shfl_xor_sync(0xffffffffu, v, offset));
  const int warp = threadIdx.x >> 5;
  const int lane = threadIdx.x & 31;
  if (lane == 0) smem.warp[warp] = v;
  __syncthreads();
  if (warp == 0) {
    float w = lane < kWarps ? smem.warp[lane] : (kMax ? -FLT_MAX : 0.0f);
#pragma unroll
    for (int offset = kWarps / 2; offset > 0; offset >>= 1) w = combine<kMax>(w, __shfl_xor_sync(0xffffffffu, w, offset));
    if (lane == 0) smem.result = w;
  }
  __syncthreads();
  const float result = smem.result;
  __syncthreads();  // smem is reused by the next reduction
  return result;
}

__global__ void __launch_bounds__(kThreads) softmaxRowsKernel(const SoftmaxRowsParams p) {
  __shared__ SmemReduce smem;
  const int64_t row = blockIdx.x;
  const float* __restrict__ x = p.x + row * p.cols;
  uint16_t* __restrict__ out = p.out + row * p.cols;
  const uint32_t valid = uint32_t(p.validCols);
  const uint32_t cols = uint32_t(p.cols);

  float m = -FLT_MAX;
  for (uint32_t j = threadIdx.x; j < valid; j += kThreads) m = fmaxf(m, __ldg(x + j));
  m = blockReduce</*kMax=*/true>(m, smem);

  float s = 0.0f;
  for (uint32_t j = threadIdx.x; j < valid; j += kThreads) s = __fadd_rn(s, expf(__fmul_rn(__fsub_rn(__ldg(x + j), m), p.scale)));
  s = blockReduce</*kMax=*/false>(s, smem);

  const float inv = __fdiv_rn(1.0f, s);
  for (uint32_t j = threadIdx.x; j < cols; j += kThreads) {
    const float e = j < valid ? __fmul_rn(expf(__fmul_rn(__fsub_rn(__ldg(x + j), m), p.scale)), inv) : 0.0f;
    out[j] = uint16_t(bf16BitsRn(e));
  }
}

}  // namespace

void launchSoftmaxRows(const SoftmaxRowsParams& p, cudaStream_t stream) {
  if (p.rows == 0) return;
  softmaxRowsKernel<<<unsigned(p.rows), kThreads, 0, stream>>>(p);
  FPSATTN_CHECK_LAUNCH();
}

}  // namespace fpsattn
