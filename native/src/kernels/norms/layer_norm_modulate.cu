// layer_norm_modulate.cu: LayerNorm over the last dim of an f32 [rows, dim] residual stream, then the optional affine
// (Wan's norm3) and the optional adaLN modulation n * (1 + scale[item]) + shift[item], written as BF16 for the next
// GEMM. Math and rounding: layer_norm_modulate.h. Not included: the modulation vectors themselves (modulation + e0,
// computed once per step on the host side of the forward).
//
// With residualY, the row is first updated in place, x += y * gate (the previous part's gated residual, fused so that
// the stream is read once: saves a full read of x per norm), and the norm is taken of the updated row.
//
// Launch shape (norms/row_layout.cuh): one block per row, grid (rows), block normLaunchShape(dim).threads (192 at
// dim 1536), each thread holding kPacksPerThread packs of 8 elements in registers. Two block reductions (sum, then
// sum of squared deviations: a two-pass variance over the registers, no cancellation of E[x^2] - mean^2), each with
// its own 32-float shared array (256 bytes in all). Memory-bound: reads 4 dim bytes, writes 2 dim bytes per row (plus
// weight/bias/shift/scale rows, which stay in L2: [items, dim] f32 is 12 KB per item at dim 1536).
// Check: gpu-test/dit-ops.test.mjs compares with layerNormModulateCpu within the op's declared tolerance.
#include <cstdint>

#include "common/cuda_check.h"
#include "kernels/norms/layer_norm_modulate.h"
#include "kernels/norms/row_layout.cuh"

namespace fpsattn {
namespace {

template <int V, bool kVec>
__global__ void __launch_bounds__(kNormMaxThreads, 1) layerNormModulateKernel(const LayerNormModulateParams p) {
  __shared__ float smem_sum[kNormMaxThreads / 32];
  __shared__ float smem_sq[kNormMaxThreads / 32];
  const int64_t row = blockIdx.x;
  const int64_t dim = p.dim;
  float* __restrict__ xRow = p.x + row * dim;
  const int64_t item = row / p.rowsPerItem;

  float v[V][8];
  float sum = 0.0f;
#pragma unroll
  for (int k = 0; k < V; ++k) {
    const int64_t e0 = (int64_t(threadIdx.x) + int64_t(k) * blockDim.x) * kNormPack;
    loadPackF32<kVec>(xRow, e0, dim, v[k], /*streaming=*/true);
    if (p.residualY != nullptr) {  // block-uniform: the fused gated residual, bit-identical to gated_residual.cu
      float y[8];
      if (p.residualF32) loadPackF32<kVec>(static_cast<const float*>(p.residualY) + row * dim, e0, dim, y, /*streaming=*/true);
      else loadPackBf16<kVec>(static_cast<const uint16_t*>(p.residualY) + row * dim, e0, dim, y);
      if (p.residualGate != nullptr) {
        float g[8];
        loadPackF32<kVec>(p.residualGate + item * dim, e0, dim, g, /*streaming=*/false);
#pragma unroll
        for (int i = 0; i < 8; ++i) y[i] = __fmul_rn(y[i], g[i]);
      }
#pragma unroll
      for (int i = 0; i < 8; ++i) v[k][i] = __fadd_rn(v[k][i], y[i]);
      storePackF32<kVec>(xRow, e0, dim, v[k]);
    }
#pragma unroll
    for (int i = 0; i < 8; ++i) sum = __fadd_rn(sum, v[k][i]);  // past-the-end elements are 0
  }
  const float mean = __fdiv_rn(blockSum(sum, smem_sum), float(dim));

  float sq = 0.0f;
#pragma unroll
  for (int k = 0; k < V; ++k) {
    const int64_t e0 = (int64_t(threadIdx.x) + int64_t(k) * blockDim.x) * kNormPack;
#pragma unroll
    for (int i = 0; i < 8; ++i) {
      const float d = __fsub_rn(v[k][i], mean);
      if (e0 + i < dim) sq = __fadd_rn(sq, __fmul_rn(d, d));  // padding would add mean^2
    }
  }
  const float inv = inverseRootF32(__fdiv_rn(blockSum(sq, smem_sq), float(dim)), p.eps);

  const float* __restrict__ shiftRow = p.shift == nullptr ? nullptr : p.shift + item * dim;
  const float* __restrict__ scaleRow = p.scale == nullptr ? nullptr : p.scale + item * dim;
  uint16_t* __restrict__ outRow = static_cast<uint16_t*>(p.out) + row * dim;
#pragma unroll
  for (int k = 0; k < V; ++k) {
    const int64_t e0 = (int64_t(threadIdx.x) + int64_t(k) * blockDim.x) * kNormPack;
    if (e0 >= dim) continue;
    float n[8];
#pragma unroll
    for (int i = 0; i < 8; ++i) n[i] = __fmul_rn(__fsub_rn(v[k][i], mean), inv);
    float a[8];
    if (p.weight != nullptr) {  // block-uniform branches: the pointers are the same for every thread
      loadPackF32<kVec>(p.weight, e0, dim, a, /*streaming=*/false);
#pragma unroll
      for (int i = 0; i < 8; ++i) n[i] = __fmul_rn(n[i], a[i]);
    }
    if (p.bias != nullptr) {
      loadPackF32<kVec>(p.bias, e0, dim, a, /*streaming=*/false);
#pragma unroll
      for (int i = 0; i < 8; ++i) n[i] = __fadd_rn(n[i], a[i]);
    }
    if (scaleRow != nullptr) {
      float b[8];
      loadPackF32<kVec>(scaleRow, e0, dim, a, /*streaming=*/false);
      loadPackF32<kVec>(shiftRow, e0, dim, b, /*streaming=*/false);
#pragma unroll
      for (int i = 0; i < 8; ++i) n[i] = __fadd_rn(__fmul_rn(n[i], __fadd_rn(1.0f, a[i])), b[i]);
    }
    storePackBf16<kVec>(outRow, e0, dim, n);
  }
}

}  // namespace

void launchLayerNormModulate(const LayerNormModulateParams& p, cudaStream_t stream) {
  if (p.rows == 0 || p.dim == 0) return;
  const NormLaunchShape shape = normLaunchShape(p.dim);
  const bool vec = p.dim % kNormPack == 0;  // every row then starts 32-byte (f32) / 16-byte (bf16) aligned
  FPSATTN_NORM_SWITCH(shape.packsPerThread, vec, V, kVec, [&] {
    layerNormModulateKernel<V, kVec><<<unsigned(p.rows), shape.threads, 0, stream>>>(p);
  });
  FPSATTN_CHECK_LAUNCH();
}

}  // namespace fpsattn
