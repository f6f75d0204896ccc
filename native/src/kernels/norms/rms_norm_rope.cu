// rms_norm_rope.cu: the q/k path of Wan's self-attention between the projection and attention: RMSNorm over the full
// dim (all heads at once), times the weight, then the 3D RoPE rotation of each head's interleaved pairs, written as
// BF16 (attention's input). Cross-attention calls it without rope. Math and rounding: rms_norm_rope.h. Not included:
// the RoPE tables (cos/sin [tokens, headDim/2], float32, built once per grid on the host).
//
// Launch shape (norms/row_layout.cuh): one block per row, grid (rows), block normLaunchShape(dim).threads, each thread
// holding kPacksPerThread packs of 8 elements in registers; one block reduction (sum of squares). A pack's 8 elements
// are 4 whole pairs (packs start at even elements and heads at multiples of the even headDim), so the rotation never
// crosses threads: the vector path (dim % 8 == 0 and headDim % 8 == 0) reads the pack's 4 cos and 4 sin values as one
// 16-byte load each (the table row is 16-byte aligned since headDim / 2 is a multiple of 4).
// Memory-bound: reads 2 or 4 dim bytes, writes 2 dim bytes per row; cos/sin ([tokens, 64] f32 x 2, 38 MB at Wan 720p)
// are read once per row of each batch item and head, mostly from L2.
// Check: gpu-test/dit-ops.test.mjs compares with rmsNormRopeCpu within the op's declared tolerance.
#include <cstdint>

#include "common/cuda_check.h"
#include "kernels/norms/rms_norm_rope.h"
#include "kernels/norms/row_layout.cuh"

namespace fpsattn {
namespace {

template <typename TIn, int V, bool kVec>
__global__ void __launch_bounds__(kNormMaxThreads, 1) rmsNormRopeKernel(const RmsNormRopeParams p) {
  __shared__ float smem_sq[kNormMaxThreads / 32];
  const int64_t row = blockIdx.x;
  const int64_t dim = p.dim;

  float v[V][8];
  float sq = 0.0f;
#pragma unroll
  for (int k = 0; k < V; ++k) {
    const int64_t e0 = (int64_t(threadIdx.x) + int64_t(k) * blockDim.x) * kNormPack;
    if constexpr (sizeof(TIn) == 4) {
      loadPackF32<kVec>(static_cast<const float*>(p.x) + row * dim, e0, dim, v[k], /*streaming=*/true);
    } else {
      loadPackBf16<kVec>(static_cast<const uint16_t*>(p.x) + row * dim, e0, dim, v[k]);
    }
#pragma unroll
    for (int i = 0; i < 8; ++i) sq = __fadd_rn(sq, __fmul_rn(v[k][i], v[k][i]));  // past-the-end elements are 0
  }
  const float inv = inverseRootF32(__fdiv_rn(blockSum(sq, smem_sq), float(dim)), p.eps);

  const bool rope = p.cos != nullptr;
  const int64_t half = p.headDim / 2;
  const int64_t tableRow = rope ? (row % p.tokens) * half : 0;
  uint16_t* __restrict__ outRow = static_cast<uint16_t*>(p.out) + row * dim;
#pragma unroll
  for (int k = 0; k < V; ++k) {
    const int64_t e0 = (int64_t(threadIdx.x) + int64_t(k) * blockDim.x) * kNormPack;
    if (e0 >= dim) continue;
    float w[8];
    loadPackF32<kVec>(p.weight, e0, dim, w, /*streaming=*/false);
    float y[8];
#pragma unroll
    for (int i = 0; i < 8; ++i) y[i] = __fmul_rn(__fmul_rn(v[k][i], inv), w[i]);
    if (rope) {  // block-uniform
      float c[4], s[4];
      const int64_t j0 = (int(e0) % int(p.headDim)) / 2;  // pair of element e0 within its head (32-bit: dim <= kNormMaxDim)
      if (kVec) {
        const float4 c4 = __ldg(reinterpret_cast<const float4*>(p.cos + tableRow + j0));
        const float4 s4 = __ldg(reinterpret_cast<const float4*>(p.sin + tableRow + j0));
        c[0] = c4.x; c[1] = c4.y; c[2] = c4.z; c[3] = c4.w;
        s[0] = s4.x; s[1] = s4.y; s[2] = s4.z; s[3] = s4.w;
      } else {
#pragma unroll
        for (int i = 0; i < 4; ++i) {
          // pairs of a ragged pack may run into the next head (headDim not a multiple of 8) or past the row
          const int64_t e = e0 + 2 * i;
          const int64_t j = (int(e) % int(p.headDim)) / 2;
          const bool in = e < dim;
          c[i] = in ? __ldg(p.cos + tableRow + j) : 0.0f;
          s[i] = in ? __ldg(p.sin + tableRow + j) : 0.0f;
        }
      }
#pragma unroll
      for (int i = 0; i < 4; ++i) {
        const float a = y[2 * i];
        const float b = y[2 * i + 1];
        y[2 * i] = __fsub_rn(__fmul_rn(a, c[i]), __fmul_rn(b, s[i]));
        y[2 * i + 1] = __fadd_rn(__fmul_rn(a, s[i]), __fmul_rn(b, c[i]));
      }
    }
    storePackBf16<kVec>(outRow, e0, dim, y);
  }
}

}  // namespace

void launchRmsNormRope(const RmsNormRopeParams& p, cudaStream_t stream) {
  if (p.rows == 0 || p.dim == 0) return;
  const NormLaunchShape shape = normLaunchShape(p.dim);
  // Vector path: 16-byte rows and 16-byte cos/sin pack reads (headDim / 2 a multiple of 4, so j0 is too).
  const bool vec = p.dim % kNormPack == 0 && (p.cos == nullptr || p.headDim % kNormPack == 0);
  FPSATTN_NORM_SWITCH(shape.packsPerThread, vec, V, kVec, [&] {
    if (p.input == RmsNormInput::F32) {
      rmsNormRopeKernel<float, V, kVec><<<unsigned(p.rows), shape.threads, 0, stream>>>(p);
    } else {
      rmsNormRopeKernel<uint16_t, V, kVec><<<unsigned(p.rows), shape.threads, 0, stream>>>(p);
    }
  });
  FPSATTN_CHECK_LAUNCH();
}

}  // namespace fpsattn
