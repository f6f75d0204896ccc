// clamp_to_planar.cu: the first channels of channels-last F32 pixels, clamped, to planar F32 or BF16 (the Wan-VAE's
// RGB output frames). Math: clamp_to_planar.h.
//
// Launch shape: flat grid-stride loop over the output elements (c, r), block kThreads = 256, grid
// flatGrid(channels x rows, 256, 4): consecutive threads write consecutive pixels of one plane (coalesced stores) and
// read with a stride of cols x 4 bytes (32 bytes at the VAE's 8 padded channels: every sector read serves its 3
// planes from L2). 32-bit indices (the binding checks channels x rows < 2^31). Memory-bound and small: one frame's
// output.
// Check: gpu-test/vae-ops.test.mjs compares with clampToPlanarCpu bit for bit.
#include <cstdint>

#include "common/bf16_round.cuh"
#include "common/cuda_check.h"
#include "common/launch_config.h"
#include "kernels/vae/clamp_to_planar.h"

namespace fpsattn {
namespace {

constexpr int kThreads = 256;
constexpr int kItemsPerThread = 4;  // of the grid-size estimate only (grid-stride loop)

template <PlanarOutput O>
__global__ void __launch_bounds__(kThreads) clampToPlanarKernel(const ClampToPlanarParams p, uint32_t items) {
  const uint32_t rows = uint32_t(p.rows);
  for (uint32_t i = blockIdx.x * kThreads + threadIdx.x; i < items; i += gridDim.x * kThreads) {
    const uint32_t c = i / rows;
    const uint32_t r = i - c * rows;
    float v = __ldg(p.x + int64_t(r) * p.cols + c);
    v = v < p.lo ? p.lo : (v > p.hi ? p.hi : v);  // comparisons with NaN are false: NaN passes through
    if constexpr (O == PlanarOutput::F32) {
      static_cast<float*>(p.out)[i] = v;
    } else {
      static_cast<uint16_t*>(p.out)[i] = uint16_t(bf16BitsRn(v));
    }
  }
}

}  // namespace

void launchClampToPlanar(const ClampToPlanarParams& p, cudaStream_t stream) {
  const int64_t items = p.rows * p.channels;
  if (items == 0) return;
  const unsigned grid = flatGrid(items, kThreads, kItemsPerThread);
  if (p.output == PlanarOutput::F32) {
    clampToPlanarKernel<PlanarOutput::F32><<<grid, kThreads, 0, stream>>>(p, uint32_t(items));
  } else {
    clampToPlanarKernel<PlanarOutput::BF16><<<grid, kThreads, 0, stream>>>(p, uint32_t(items));
  }
  FPSATTN_CHECK_LAUNCH();
}

}  // namespace fpsattn
