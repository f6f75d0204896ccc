// gated_residual.cu: x += y * gate[item] (or x += y) on the float32 residual stream, in place. Math: gated_residual.h.
//
// Launch shape: grid (ceil(rows / rowsPerBlock)), block kThreads = 256. A block owns rowsPerBlock consecutive rows
// (about kPacksPerBlock packs: 5 rows at dim 1536) and its threads walk their packs in order, thread t taking packs
// t, t + 256, ... of that run, so a warp touches 32 consecutive packs. Vector path (dim % 8 == 0): a pack is 8
// elements, x as two 16-byte loads and stores, y one (BF16) or two (f32) 16-byte loads, the gate two 16-byte loads
// (from L2: [items, dim] f32 is small); scalar path (any other dim): a pack is one element. Indices within a block are
// 32-bit (at most max(kPacksPerBlock, dim) packs), the item of a row one 32-bit division (rows < 2^31).
// Memory-bound: 8 + 2 (BF16 y) or 8 + 4 bytes per element.
// Check: gpu-test/dit-ops.test.mjs compares with gatedResidualCpu bit for bit.
#include <cstdint>

#include "common/cuda_check.h"
#include "common/fp8_math.cuh"
#include "common/launch_config.h"
#include "kernels/gated_residual.h"

namespace fpsattn {
namespace {

constexpr int kThreads = 256;
constexpr int64_t kPacksPerBlock = 4 * kThreads;  // 4 packs (32 elements) per thread on the vector path

template <int kWidth>
__device__ __forceinline__ void loadF32(const float* __restrict__ p, float (&v)[kWidth], bool streaming) {
  if constexpr (kWidth == 8) {
    const float4* q = reinterpret_cast<const float4*>(p);
    const float4 a = streaming ? __ldcs(q) : __ldg(q);
    const float4 b = streaming ? __ldcs(q + 1) : __ldg(q + 1);
    v[0] = a.x; v[1] = a.y; v[2] = a.z; v[3] = a.w;
    v[4] = b.x; v[5] = b.y; v[6] = b.z; v[7] = b.w;
  } else {
    v[0] = streaming ? __ldcs(p) : __ldg(p);
  }
}

template <typename TY, int kWidth>
__device__ __forceinline__ void loadY(const TY* __restrict__ p, float (&v)[kWidth]) {
  if constexpr (sizeof(TY) == 4) {
    loadF32<kWidth>(reinterpret_cast<const float*>(p), v, /*streaming=*/true);
  } else if constexpr (kWidth == 8) {
    unpackBf16x8(__ldcs(reinterpret_cast<const uint4*>(p)), v);
  } else {
    v[0] = __uint_as_float(uint32_t(__ldcs(reinterpret_cast<const uint16_t*>(p))) << 16);
  }
}

/// kWidth elements per pack: 8 (vector path) or 1 (scalar path). TY: float or uint16_t (BF16 bits).
template <typename TY, int kWidth>
__global__ void __launch_bounds__(kThreads) gatedResidualKernel(const GatedResidualParams p, uint32_t rowsPerBlock) {
  const uint32_t packsPerRow = uint32_t(p.dim / kWidth);
  const int64_t r0 = int64_t(blockIdx.x) * rowsPerBlock;
  const uint32_t blockRows = uint32_t(min(int64_t(rowsPerBlock), p.rows - r0));
  const uint32_t packs = blockRows * packsPerRow;
  const TY* __restrict__ y = static_cast<const TY*>(p.y);
  for (uint32_t j = threadIdx.x; j < packs; j += kThreads) {
    const uint32_t localRow = j / packsPerRow;
    const int64_t row = r0 + localRow;
    const int64_t at = row * p.dim + int64_t(j - localRow * packsPerRow) * kWidth;
    float xv[kWidth], yv[kWidth];
    loadF32<kWidth>(p.x + at, xv, /*streaming=*/true);
    loadY<TY, kWidth>(y + at, yv);
    if (p.gate != nullptr) {  // grid-uniform
      const int64_t item = uint32_t(row) / uint32_t(p.rowsPerItem);
      float g[kWidth];
      loadF32<kWidth>(p.gate + item * p.dim + (at - row * p.dim), g, /*streaming=*/false);
#pragma unroll
      for (int i = 0; i < kWidth; ++i) xv[i] = __fadd_rn(xv[i], __fmul_rn(yv[i], g[i]));
    } else {
#pragma unroll
      for (int i = 0; i < kWidth; ++i) xv[i] = __fadd_rn(xv[i], yv[i]);
    }
    if constexpr (kWidth == 8) {
      float4* q = reinterpret_cast<float4*>(p.x + at);
      __stcs(q, make_float4(xv[0], xv[1], xv[2], xv[3]));
      __stcs(q + 1, make_float4(xv[4], xv[5], xv[6], xv[7]));
    } else {
      __stcs(p.x + at, xv[0]);
    }
  }
}

template <typename TY, int kWidth>
void launchWith(const GatedResidualParams& p, cudaStream_t stream) {
  const int64_t packsPerRow = p.dim / kWidth;
  const int64_t rowsPerBlock = packsPerRow >= kPacksPerBlock ? 1 : kPacksPerBlock / packsPerRow;
  const int64_t blocks = ceilDiv(p.rows, rowsPerBlock);
  gatedResidualKernel<TY, kWidth><<<unsigned(blocks), kThreads, 0, stream>>>(p, uint32_t(rowsPerBlock));
  FPSATTN_CHECK_LAUNCH();
}

}  // namespace

void launchGatedResidual(const GatedResidualParams& p, cudaStream_t stream) {
  if (p.rows == 0 || p.dim == 0) return;
  const bool vec = p.dim % 8 == 0;  // rows of x, y and gate then start 16-byte aligned (the tensors do: checked)
  if (p.input == GatedResidualInput::F32) {
    vec ? launchWith<float, 8>(p, stream) : launchWith<float, 1>(p, stream);
  } else {
    vec ? launchWith<uint16_t, 8>(p, stream) : launchWith<uint16_t, 1>(p, stream);
  }
}

}  // namespace fpsattn
