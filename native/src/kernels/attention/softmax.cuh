// softmax.cuh: online softmax of one 64x128 score tile held by a consumer warpgroup (fp32, exp2 domain).
//
// Per thread: 2 rows (r = 16*warp + lane/4 and r + 8), 32 of the 128 key columns each (accumulator layout in
// hopper_ptx.cuh). Row max and row sum are reduced over the 4 threads of a quad with two xor-shuffles; the row sum
// is kept per thread (partial) and reduced once in the epilogue, since alpha is uniform across the quad.
//
//   FP8:  x = rowFactor[row] * (s * kScale[key]) with rowFactor = qScale[row] * softmaxScale * log2(e) (per-key K
//         scales, kKeyScale), or x = rowFactor[row] * s with the key block's single K scale folded into rowFactor
//         (per-block K scales: no per-score multiply, no shared-memory scale reads). The row factor folds into the
//         exp2's FFMA; p' = exp2(x - m + log2(448)) = 448 * p (fixed P scale), l sums p' (unquantized), P packs to
//         E4M3 (RNE, satfinite) into the A fragment of the P.V WGMMA.
//   BF16: x = s * softmaxScale * log2(e); p = exp2(x - m); l sums p; P packs to bf16 (RNE).
// m is the exact running max including the current block (no lagging max: FP8 P never exceeds 448). The max
// propagates NaN (a NaN score turns its row NaN). Masked keys (key >= valid rows of the key block) get p = 0 and do
// not enter the max; only the column groups that can hold a key past validKeys are masked (padding is at the end of
// a block, so a 120-row tile masks one 32-key chunk of four). A block with no valid key never reaches this code.
// Exponentials: MUFU ex2, except the column groups of kPolyExp2Every (tile_policy.h), which take ex2Poly on the
// FMA/ALU pipes.
#pragma once

#include <cmath>
#include <cstdint>

#include "kernels/attention/hopper_ptx.cuh"
#include "kernels/attention/smem_layout.cuh"
#include "kernels/attention/tile_policy.h"

namespace fpsattn {
namespace attention {

constexpr float kLog2e = 1.4426950408889634f;
constexpr float kLog2PScale = 8.807354922057604f;  // log2(448)

// Keys of accumulator column n: FP8 K rows are permuted inside 32-key chunks (smem_layout.cuh), BF16 are in order.
template <bool kFp8>
__device__ __forceinline__ int keyOfColumn(int n) {
  return kFp8 ? kFp8KeyOfRow(n) : n;
}
// Column group j (8 columns) holds keys below this bound: the group's 32-key chunk (FP8) or its 8 keys (BF16).
template <bool kFp8>
__host__ __device__ constexpr int groupKeyEnd(int j) {
  return kFp8 ? 32 * (j / 4) + 32 : 8 * j + 8;
}
// Column groups whose exponentials go to the polynomial (every kPolyExp2Every-th group, the last of each run).
__host__ __device__ constexpr bool polyGroup(int j) {
  return kPolyExp2Every > 0 && j % kPolyExp2Every == kPolyExp2Every - 1;
}

template <bool kFp8, bool kKeyScale>
struct OnlineSoftmax {
  static_assert(kFp8 || !kKeyScale, "per-key scales exist for FP8 only");
  float m[2];  // running max per row (log2 domain, scaled), -inf before the first block
  float l[2];  // running partial row sum of this thread

  __device__ __forceinline__ void init() {
    m[0] = m[1] = -INFINITY;
    l[0] = l[1] = 0.f;
  }

  // kKeyScale only: this thread's 32 K scales of a key block (kScale[128] in shared memory, natural key order), read
  // before the S = Q K^T wait so that their latency hides under the WGMMA.
  struct KeyScales {
    float2 c[kKeyScale ? 16 : 1];
  };
  __device__ __forceinline__ static void loadKeyScales(KeyScales& ks, const float* colScale, int quadLane) {
    if constexpr (kKeyScale) {
#pragma unroll
      for (int j = 0; j < 16; ++j) {
        const int key = kFp8KeyOfRow(8 * j + 2 * quadLane);  // even: keys key, key+1 are adjacent
        ks.c[j] = *reinterpret_cast<const float2*>(colScale + key);
      }
    }
  }

  // s: raw accumulator (in place: becomes the probabilities); rowFactor: everything that multiplies a row's scores
  // (FP8: qScale * softmaxScale * log2e, times the block's K scale without kKeyScale; BF16: softmaxScale * log2e).
  // ks (kKeyScale only): the block's K scales of this thread's columns (loadKeyScales).
  // Returns alpha (rescale of the previous accumulator) per row.
  __device__ __forceinline__ void step(float (&s)[64], const float (&rowFactor)[2], const KeyScales& ks,
                                       int validKeys, int quadLane, float (&alpha)[2]) {
    if constexpr (kKeyScale) {
#pragma unroll
      for (int j = 0; j < 16; ++j) {
        s[4 * j + 0] *= ks.c[j].x;
        s[4 * j + 1] *= ks.c[j].y;
        s[4 * j + 2] *= ks.c[j].x;
        s[4 * j + 3] *= ks.c[j].y;
      }
    }
    const bool ragged = validKeys < kBlockN;
    if (ragged) {
#pragma unroll
      for (int j = 0; j < 16; ++j) {
        if (groupKeyEnd<kFp8>(j) <= validKeys) continue;  // warp-uniform: only the groups that reach the padding
#pragma unroll
        for (int e = 0; e < 4; ++e) {
          if (keyOfColumn<kFp8>(8 * j + 2 * quadLane + (e & 1)) >= validKeys) s[4 * j + e] = -INFINITY;
        }
      }
    }
    // kMaxChains independent FMNMX chains per row, combined at the end (max is exact in any order).
    float part[2][kMaxChains];
#pragma unroll
    for (int c = 0; c < kMaxChains; ++c) {
      part[0][c] = ptx::maxNaN(s[4 * c + 0], s[4 * c + 1]);
      part[1][c] = ptx::maxNaN(s[4 * c + 2], s[4 * c + 3]);
    }
#pragma unroll
    for (int j = kMaxChains; j < 16; ++j) {
      part[0][j % kMaxChains] = ptx::maxNaN(part[0][j % kMaxChains], ptx::maxNaN(s[4 * j + 0], s[4 * j + 1]));
      part[1][j % kMaxChains] = ptx::maxNaN(part[1][j % kMaxChains], ptx::maxNaN(s[4 * j + 2], s[4 * j + 3]));
    }
    float mx[2] = {part[0][0], part[1][0]};
#pragma unroll
    for (int c = 1; c < kMaxChains; ++c) {
      mx[0] = ptx::maxNaN(mx[0], part[0][c]);
      mx[1] = ptx::maxNaN(mx[1], part[1][c]);
    }
    float bias[2];
#pragma unroll
    for (int r = 0; r < 2; ++r) {
      mx[r] = ptx::maxNaN(mx[r], __shfl_xor_sync(0xffffffffu, mx[r], 1));
      mx[r] = ptx::maxNaN(mx[r], __shfl_xor_sync(0xffffffffu, mx[r], 2));
      const float mNew = ptx::maxNaN(m[r], mx[r] * rowFactor[r]);
      const float mUse = mNew == -INFINITY ? 0.f : mNew;
      alpha[r] = ptx::ex2(m[r] - mUse);
      m[r] = mNew;
      bias[r] = (kFp8 ? kLog2PScale : 0.f) - mUse;
    }
    float sum[2][kSumChains] = {};  // kSumChains independent FADD chains per row
#pragma unroll
    for (int j = 0; j < 16; ++j) {
      const bool maskGroup = ragged && groupKeyEnd<kFp8>(j) > validKeys;
#pragma unroll
      for (int e = 0; e < 4; ++e) {
        const int r = e >> 1;
        const float x = __fmaf_rn(rowFactor[r], s[4 * j + e], bias[r]);
        float p;
        if (polyGroup(j)) {
          p = ptx::ex2Poly(x);
          // the polynomial gives 2^-125 for a masked key's -inf: exact zero instead
          if (maskGroup && keyOfColumn<kFp8>(8 * j + 2 * quadLane + (e & 1)) >= validKeys) p = 0.f;
        } else {
          p = kDiagNoExp ? x : ptx::ex2(x);  // masked keys: rowFactor > 0 (RowFactors), so x = -inf and p = 0 exactly
        }
        s[4 * j + e] = p;
        sum[r][j % kSumChains] += p;
      }
    }
#pragma unroll
    for (int c = 1; c < kSumChains; ++c) {
      sum[0][0] += sum[0][c];
      sum[1][0] += sum[1][c];
    }
    l[0] = __fmaf_rn(l[0], alpha[0], sum[0][0]);
    l[1] = __fmaf_rn(l[1], alpha[1], sum[1][0]);
  }

  // Full row sums (after the last block): reduce the partial sums over the quad.
  __device__ __forceinline__ void finish() {
#pragma unroll
    for (int r = 0; r < 2; ++r) {
      l[r] += __shfl_xor_sync(0xffffffffu, l[r], 1);
      l[r] += __shfl_xor_sync(0xffffffffu, l[r], 2);
    }
  }
};

// P (64x128, probabilities in accumulator layout) -> E4M3 A fragments of 4 m64n128k32 steps. Thanks to the K row
// permutation (kFp8KeyOfRow) register 4*j+e already sits at the A-fragment k position of its key.
__device__ __forceinline__ void packPFp8(const float (&p)[64], uint32_t (&a)[4][4]) {
#pragma unroll
  for (int k = 0; k < 4; ++k) {
    const int b = 16 * k;
    a[k][0] = ptx::packE4m3x4(p[b + 0], p[b + 1], p[b + 4], p[b + 5]);     // row r,   k 4q..4q+3
    a[k][1] = ptx::packE4m3x4(p[b + 2], p[b + 3], p[b + 6], p[b + 7]);     // row r+8, k 4q..4q+3
    a[k][2] = ptx::packE4m3x4(p[b + 8], p[b + 9], p[b + 12], p[b + 13]);   // row r,   k 16+4q..
    a[k][3] = ptx::packE4m3x4(p[b + 10], p[b + 11], p[b + 14], p[b + 15]); // row r+8, k 16+4q..
  }
}

// P -> bf16 A fragments of 8 m64n128k16 steps (the accumulator layout of 16-bit types matches the A layout).
__device__ __forceinline__ void packPBf16(const float (&p)[64], uint32_t (&a)[8][4]) {
#pragma unroll
  for (int k = 0; k < 8; ++k) {
    const int b = 8 * k;
    a[k][0] = ptx::packBf16x2(p[b + 0], p[b + 1]);
    a[k][1] = ptx::packBf16x2(p[b + 2], p[b + 3]);
    a[k][2] = ptx::packBf16x2(p[b + 4], p[b + 5]);
    a[k][3] = ptx::packBf16x2(p[b + 6], p[b + 7]);
  }
}

}  // namespace attention
}  // namespace fpsattn
