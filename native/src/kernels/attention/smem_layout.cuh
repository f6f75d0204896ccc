// smem_layout.cuh: shared-memory layout of one CTA (dynamic shared memory, base rounded up to 1024 bytes so that
// every tile starts on a 128-byte-swizzle atom boundary).
//
//   FP8  (kStagesFp8 = 5):  [Q 128x128 B = 16 KiB] [stage s: K 16 KiB | V^T 16 KiB] x5 [K-scale ring 512 B] x10
//                           [block metadata 16 B] x5 [barriers]
//   BF16 (kStagesBf16 = 3): [Q 2 x (128 rows x 64 cols) = 32 KiB] [stage s: K 32 KiB | V 32 KiB] x3
//                           [block metadata 16 B] x3 [barriers]
// Every tile is written by TMA with CU_TENSOR_MAP_SWIZZLE_128B: rows of 128 bytes, 16-byte chunk c of row r stored at
// chunk c ^ (r % 8). BF16 tiles (256-byte rows) are two 128-row x 64-column boxes, the second 16 KiB after the first.
// FP8 K rows are stored in the key order of kFp8KeyOfRow (below) so that the S accumulator's columns are already in
// the A-operand order of the P.V WGMMA (no shuffles); V^T (channels x keys) is in natural key order.
// K-scale ring (FP8 per-row K scales only; mainloop.cuh "K-scale ring"): the 128 K scales of the j-th key block of the
// CTA's list go to slot j mod 2G (G = kStages), decoupled from the K/V stages, and are released per group of G blocks.
// Barriers: qFull (tx-count, 1 arrival), full[s] (tx-count, 1 arrival: the producer; also completes the block's
// K-scale copy), empty[s] (8 arrivals: lane 0 of each of the 8 consumer warps, after its last WGMMA on the stage
// retired), FP8 only: scaleEmpty[g] (256 arrivals: every consumer thread, after reading the scales of a group's last
// block).
#pragma once

#include <cstdint>

#include "kernels/attention/tile_policy.h"

namespace fpsattn {
namespace attention {

template <bool kFp8>
struct SmemLayout {
  static constexpr int kStages = kFp8 ? kStagesFp8 : kStagesBf16;
  static constexpr uint32_t kQBytes = kFp8 ? 16384u : 32768u;
  static constexpr uint32_t kKBytes = kFp8 ? 16384u : 32768u;
  static constexpr uint32_t kVBytes = kKBytes;
  static constexpr uint32_t kScaleBytes = kFp8 ? uint32_t(kBlockN * sizeof(float)) : 0u;
  static constexpr uint32_t kStageBytes = kKBytes + kVBytes;
  static constexpr uint32_t kQ = 0;
  static constexpr uint32_t kStage0 = kQBytes;
  static constexpr int kScaleSlots = kFp8 ? 2 * kStages : 0;  // K-scale ring: 2 groups of G = kStages slots
  static constexpr int kScaleBarriers = kFp8 ? 2 : 0;          // scaleEmpty[0..1]
  static constexpr uint32_t kScale0 = kStage0 + kStages * kStageBytes;
  static constexpr uint32_t kMeta0 = kScale0 + kScaleSlots * kScaleBytes;  // block metadata, 16 bytes per stage
  static constexpr uint32_t kBars = kMeta0 + kStages * 16u;
  static constexpr uint32_t kTotal = kBars + 8u * (1 + 2 * kStages + kScaleBarriers);
  static constexpr uint32_t kAlloc = kTotal + 1024u;  // slack for rounding the base up to 1024

  static __device__ __forceinline__ uint32_t k(uint32_t base, int s) { return base + kStage0 + s * kStageBytes; }
  static __device__ __forceinline__ uint32_t v(uint32_t base, int s) { return k(base, s) + kKBytes; }
  // K-scale ring slot 0 .. 2*kStages-1 (not a stage index).
  static __device__ __forceinline__ uint32_t scale(uint32_t base, int slot) {
    return base + kScale0 + slot * kScaleBytes;
  }
  // Stage s's key block: {id, valid rows, K block scale bits, 0}, written by the producer before it arrives on full[s].
  static __device__ __forceinline__ uint32_t meta(uint32_t base, int s) { return base + kMeta0 + 16u * s; }
  static __device__ __forceinline__ uint32_t qFull(uint32_t base) { return base + kBars; }
  static __device__ __forceinline__ uint32_t full(uint32_t base, int s) { return base + kBars + 8u * (1 + s); }
  static __device__ __forceinline__ uint32_t empty(uint32_t base, int s) {
    return base + kBars + 8u * (1 + kStages + s);
  }
  static __device__ __forceinline__ uint32_t scaleEmpty(uint32_t base, int g) {
    return base + kBars + 8u * (1 + 2 * kStages + g);
  }
  static_assert(kScale0 % 16 == 0 && kScaleBytes % 16 == 0, "bulk copies need 16-byte aligned slots");
  static_assert(kBars % 8 == 0, "mbarriers need 8-byte alignment");
  static_assert(kAlloc <= 227u * 1024u, "shared memory over the 227 KiB per-CTA limit");
};

// FP8 key permutation inside each 32-key chunk: smem row n = b + 2*q + 8*g + 16*h holds key b + 4*q + 2*g + 16*h
// (b, g, h in {0,1}, q in 0..3). The S accumulator column n of thread quad-lane q is then exactly the k index of the
// e4m3 A fragment of m64nNk32 (4 consecutive k per register), so P packs into A registers in place. The TMA map of K
// is a 5-D view [D][b:2][q:4][g:2][16-key groups] that produces this order in a single load.
__host__ __device__ constexpr int kFp8KeyOfRow(int n) {
  return (n & ~31) + (n & 16) + (n & 1) + ((n >> 1) & 3) * 4 + ((n >> 3) & 1) * 2;
}

}  // namespace attention
}  // namespace fpsattn
