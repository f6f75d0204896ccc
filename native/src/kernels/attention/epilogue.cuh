// epilogue.cuh: O tile (64 rows per consumer warpgroup, fp32 accumulator layout) -> bf16 global memory.
//   o[row, c] = acc[row, c] / l[row]  (* vScale[c] for FP8, where l carries the fixed P scale 448)
// Rows past blockValidRows[qb] (padding) and rows with no valid key (l == 0) are written as zeros. Each thread
// stores bf16 pairs (4 bytes): a quad writes 16 contiguous bytes per column group; the epilogue is < 1% of a tile's
// time at Wan shapes (one 32 KiB tile per 590 key blocks), so no shared-memory staging.
#pragma once

#include <cstdint>

#include "kernels/attention/attention_params.h"
#include "kernels/attention/hopper_ptx.cuh"
#include "kernels/attention/tile_policy.h"
#include "kernels/attention/tile_scheduler.cuh"

namespace fpsattn {
namespace attention {

template <bool kFp8>
__device__ __forceinline__ void storeOutput(const AttentionParams& p, const TileCoord& c, const float (&acc)[64],
                                            const float (&l)[2], int rowInTile0, int quadLane) {
  const int hd = p.heads * kHeadDim;
  const int valid = __ldg(p.blockValidRows + c.qb);
  const int colBase = c.head * kHeadDim + 2 * quadLane;
  float vs[32];
#pragma unroll
  for (int j = 0; j < 16; ++j) {
    if constexpr (kFp8) {
      const float2 v2 = __ldg(reinterpret_cast<const float2*>(p.vScale + int64_t(c.batch) * hd + colBase + 8 * j));
      vs[2 * j] = v2.x;
      vs[2 * j + 1] = v2.y;
    } else {
      vs[2 * j] = vs[2 * j + 1] = 1.f;
    }
  }
#pragma unroll
  for (int r = 0; r < 2; ++r) {
    const int rowInTile = rowInTile0 + 8 * r;
    const bool rowValid = rowInTile < valid && l[r] > 0.f;
    const float inv = rowValid ? 1.f / l[r] : 0.f;
    // NaN rows stay NaN (l NaN fails l > 0, so keep NaN explicitly).
    const float scale = (l[r] != l[r] && rowInTile < valid) ? l[r] : inv;
    const int64_t row = int64_t(c.batch) * p.npad + int64_t(c.qb) * kBlockM + rowInTile;
    uint32_t* dst = reinterpret_cast<uint32_t*>(static_cast<uint16_t*>(p.out) + row * hd + colBase);
#pragma unroll
    for (int j = 0; j < 16; ++j) {
      const float o0 = acc[4 * j + 2 * r] * scale * vs[2 * j];
      const float o1 = acc[4 * j + 2 * r + 1] * scale * vs[2 * j + 1];
      dst[4 * j] = rowInTile < valid ? ptx::packBf16x2(o0, o1) : 0u;  // column 8j: 4 uint32 per 8 columns
    }
  }
}

}  // namespace attention
}  // namespace fpsattn
