// mainloop.cuh: the producer (TMA) and consumer (WGMMA + softmax) loops of one query tile.
//
// Roles (kThreads = 384, 1 CTA per SM):
//   warpgroup 0  producer: setmaxnreg 24; one thread issues every TMA. Q once (qFull), then for each listed key block
//                kb (CSR order) waits empty[s], posts expect-tx on full[s] and loads K(kb), V(kb) into stage
//                s = it % kStages (and, FP8 per-row K scales, the block's 128 K scales with a 512-byte bulk copy into
//                slot it % (2 * kStages) of the K-scale ring, completing on the same full[s]; protocol below), then
//                stores the block's id, valid rows and K block scale in the stage's metadata slot and arrives.
//   warpgroups 1, 2  consumers: setmaxnreg 240; rows 64*(wg-1) .. +63 of the query tile each. Per key block:
//                S = Q K^T (SS WGMMA), online softmax (softmax.cuh), O += P V (RS WGMMA, P from registers), release
//                the stage (lane 0 of each warp arrives on empty[s]). Software-pipelined (consumerLoop): the softmax
//                of block i runs while P V of block i-1 is on the tensor cores; and the two consumer warpgroups run
//                the same loop out of phase, so one's softmax also overlaps the other's WGMMAs.
// FP8 two-level accumulation: each block's P.V goes into a zeroed temporary (scale-d = 0 on the first k step), and
//   acc = acc * alpha + tmp in true fp32 (one FFMA per element, which also does the online-softmax rescale), so the
//   ~22-bit FP8 WGMMA accumulator never sums more than 128 keys.
// BF16 takes the same path (a per-block temporary added with one FFMA that also rescales): it keeps the accumulator
//   out of the WGMMA pipeline, which lets ptxas overlap the S and P V WGMMAs (accumulating in place made ptxas
//   serialise them, warning C7514).
#pragma once

#include <cfloat>
#include <cstdint>

#include "kernels/attention/attention_params.h"
#include "kernels/attention/hopper_ptx.cuh"
#include "kernels/attention/smem_layout.cuh"
#include "kernels/attention/softmax.cuh"
#include "kernels/attention/tile_policy.h"
#include "kernels/attention/tile_scheduler.cuh"
#include "kernels/attention/trace.cuh"

namespace fpsattn {
namespace attention {

// K-scale ring (FP8 per-row K scales copied into shared memory: kScalesInSmem). The consumers read a block's 128 K
// scales with LDS (generic proxy) and the producer's next bulk copy into the slot is an async-proxy write, so every
// reading thread must fence.proxy.async and arrive on an mbarrier itself (compute-sanitizer racecheck still reports
// the other lanes' reads when a __syncwarp or a warpgroup named barrier precedes one arrive per warp: an arrive
// releases only the arriving thread's accesses). Step 17 did that on empty[s] for every block (256 arrivals) and it
// cost the per-row path 24%. Instead the scales have their own ring, decoupled from the K/V stages, and the per-thread
// arrive is paid once per G = kStages blocks:
//   - key block j of the CTA's list (j = 0, 1, ...) goes to slot j mod 2G; round r = j / G, group g = r & 1;
//   - producer: for j mod G == 0 and r >= 2 it waits on scaleEmpty[g] for the release of round r - 2 (the group's
//     completion number r/2 - 1: parity ((r >> 1) + 1) & 1), then bulk-copies into slot j mod 2G on full[s] as before;
//   - consumers: read block j's scales from slot j mod 2G; after (in program order) reading the scales of the last
//     block of a round (j mod G == G - 1), or skipping them (a block with no valid key), each of the 256 consumer
//     threads does fence.proxy.async and arrives on scaleEmpty[g] (count 256). A partial last round is never
//     released: the CTA exits.
// In the loops, s = j mod G and the stage-pass bit phase = (j / G) & 1 = g, so the slot is s + G * phase (no extra
// register) and a round ends where s == G - 1.
// No hang for any list length n: the producer waits (at j < n) only for round r - 2, whose blocks j - 2G .. j - G - 1
// all exist, and each consumer thread arrives for it in the iteration that reads block j - G - 1, which needs full[]
// of blocks <= j - G - 1 only (the paired loop reads one block ahead: full[] of that block), all issued before the
// producer reached j; the ping-pong turns need no block past the one being read. The barrier can neither miss nor
// over-count a phase: a thread cannot arrive for round r + 2 before everybody arrived for round r, since the slots of
// round r + 2 are only filled after that wait. In fact the wait never blocks: the producer is at most kStages blocks
// ahead (its empty[s] wait for block j needs every warp's release of block j - kStages, which each thread issues after
// its scale arrive for every round ending at or before block j - kStages; round r - 2 ends at j - G - 1 <
// j - kStages with G = kStages).
// Stages are read only by WGMMA (async proxy) then, so empty[s] takes one arrive per warp on every path.
template <bool kKeyScale>
constexpr bool kScalesInSmem = kKeyScale && !kKeyScaleFromGlobal;
constexpr uint32_t kEmptyArrivals = kConsumerWarpgroups * 4;
constexpr uint32_t kScaleEmptyArrivals = kConsumerWarpgroups * 128;

template <bool kFp8, bool kKeyScale>
__device__ __forceinline__ void producerLoop(const AttentionParams& p, const void* tmQ, const void* tmK,
                                             const void* tmV, uint32_t base, const TileCoord& c, const KeyList& list) {
  using L = SmemLayout<kFp8>;
  const int n = list.count();
  if (n <= 0) return;
  ptx::prefetchTensorMap(tmQ);
  ptx::prefetchTensorMap(tmK);
  ptx::prefetchTensorMap(tmV);
  const int qRow = int(int64_t(c.batch) * p.npad) + c.qb * kBlockM;
  const int col = c.head * kHeadDim;
  ptx::mbarArriveExpectTx(L::qFull(base), L::kQBytes);
  if constexpr (kFp8) {
    ptx::tmaLoad2d(base + L::kQ, tmQ, L::qFull(base), col, qRow);
  } else {
    ptx::tmaLoad2d(base + L::kQ, tmQ, L::qFull(base), col, qRow);
    ptx::tmaLoad2d(base + L::kQ + 16384, tmQ, L::qFull(base), col + 64, qRow);
  }
  const int hd = p.heads * kHeadDim;
  // Key geometry (attention_params.h: keyNpad = npad unless keys are separate), resolved once per CTA.
  const int keyRow0 = int(int64_t(c.batch) * p.keyNpad);
  const float* kScaleRow = kKeyScale ? p.kScale + (int64_t(c.batch) * p.heads + c.head) * p.keyNpad : nullptr;
  // Block metadata, stored only for consumers that read it from the stage (tile_policy.h kMetaFromProducer).
  constexpr bool kStoreMeta = kMetaFromProducer<kFp8, kKeyScale>;
  const float* kBlockScaleRow =
      (kStoreMeta && kFp8) ? p.kBlockScale + (int64_t(c.batch) * p.heads + c.head) * p.keyBlocks : nullptr;
  int s = 0;
  uint32_t parity = 1;  // first pass over the stages: the empty barriers' preceding phase counts as complete
  int kbNext = list.block(0);
  for (int it = 0; it < n; ++it, s = (s + 1 == L::kStages) ? 0 : s + 1, parity ^= (s == 0)) {
    const int kb = kbNext;
    // The block's metadata (stage meta, smem_layout.cuh), loaded before the empty wait so that its latency hides
    // there; stored after the copies are issued and before the arrive on full[s], whose release orders it before
    // the consumers' wait: no consumer waits on a global load for it (KeyBlockStream, kMetaFromProducer).
    const int valid = kStoreMeta ? __ldg(p.keyValidRows + kb) : 0;
    const float kBlock = kBlockScaleRow ? __ldg(kBlockScaleRow + kb) : 1.f;
    if (it + 1 < n) kbNext = list.block(it + 1);
    ptx::mbarWait(L::empty(base, s), parity);
    const uint32_t full = L::full(base, s);
    constexpr bool kCopyScales = kScalesInSmem<kKeyScale>;
    const int keyRow = keyRow0 + kb * kBlockN;
    // The copies may complete before the arrive below posts their byte count: the transaction count goes negative
    // meanwhile, and the phase cannot complete before that arrive.
    if constexpr (kFp8) {
      // K: 5-D permuted view, coordinate 4 = 16-key group.
      ptx::tmaLoad5d(L::k(base, s), tmK, full, col, 0, 0, 0, keyRow / 16);
      // V^T: rows = batch*H*D + channel, columns = keys.
      ptx::tmaLoad2d(L::v(base, s), tmV, full, kb * kBlockN, c.batch * hd + col);
      if constexpr (kCopyScales) {
        // K-scale ring (above): slot it mod 2G = s + G * g with g = (it / G) & 1 = parity ^ 1.
        const int g = int(parity ^ 1u);
        if (s == 0 && it >= 2 * L::kStages) {
          const int r = it / L::kStages;
          ptx::mbarWait(L::scaleEmpty(base, g), uint32_t(((r >> 1) + 1) & 1));  // round r - 2 released
        }
        const float* ks = kScaleRow + int64_t(kb) * kBlockN;
        ptx::bulkLoad(L::scale(base, s + g * L::kStages), ks, L::kScaleBytes, full);
      }
    } else {
      ptx::tmaLoad2d(L::k(base, s), tmK, full, col, keyRow);
      ptx::tmaLoad2d(L::k(base, s) + 16384, tmK, full, col + 64, keyRow);
      ptx::tmaLoad2d(L::v(base, s), tmV, full, col, keyRow);
      ptx::tmaLoad2d(L::v(base, s) + 16384, tmV, full, col + 64, keyRow);
    }
    if constexpr (kStoreMeta) {
      ptx::stShared4(L::meta(base, s), uint32_t(kb), uint32_t(valid), __float_as_uint(kBlock), 0u);
    }
    ptx::mbarArriveExpectTx(full, L::kStageBytes + (kCopyScales ? L::kScaleBytes : 0u));
  }
}

// S = Q K^T of one stage into sc (issued, not waited). qDesc / kDesc: descriptors of the tile starts; a descriptor's
// low 14 bits are the address / 16, so k-step offsets are added to the descriptor directly.
template <bool kFp8>
__device__ __forceinline__ void issueQK(float (&sc)[64], uint64_t qDesc, uint64_t kDesc) {
  if constexpr (kFp8) {
#pragma unroll
    for (int k = 0; k < 4; ++k) ptx::wgmmaSsE4m3(sc, qDesc + 2 * k, kDesc + 2 * k, k);  // +32 bytes per k step
  } else {
#pragma unroll
    for (int k = 0; k < 8; ++k) {
      const uint64_t off = (k / 4) * (16384 >> 4) + (k % 4) * 2;  // second 64-column box after 4 k steps
      ptx::wgmmaSsBf16(sc, qDesc + off, kDesc + off, k);
    }
  }
}

// o = P V of one stage into a zeroed accumulator (scale-d = 0 on the first k step; issued, not waited).
// accumulate: add to o's current value (else o is overwritten: scale-d = 0 on the first k step).
template <bool kFp8>
__device__ __forceinline__ void issuePV(float (&o)[64], const uint32_t (&pa)[kFp8 ? 4 : 8][4], uint64_t vDesc,
                                        bool accumulate = false) {
  if constexpr (kFp8) {
#pragma unroll
    for (int k = 0; k < 4; ++k) ptx::wgmmaRsE4m3(o, pa[k], vDesc + 2 * k, k > 0 || accumulate);  // 32 keys per k step
  } else {
#pragma unroll
    for (int k = 0; k < 8; ++k) ptx::wgmmaRsBf16TransB(o, pa[k], vDesc + k * (2048 >> 4), k > 0 || accumulate);
  }
}

// Descriptors of stage s: K-major SW128 for Q, K, FP8 V^T; MN-major SW128 (LBO = 64-column box) for BF16 V.
template <bool kFp8>
struct StageDescs {
  uint64_t k0, v0;
  __device__ __forceinline__ StageDescs(uint32_t base) {
    using L = SmemLayout<kFp8>;
    k0 = ptx::makeDesc(L::k(base, 0), 16, 1024);
    v0 = kFp8 ? ptx::makeDesc(L::v(base, 0), 16, 1024) : ptx::makeDesc(L::v(base, 0), 16384, 1024);
  }
  __device__ __forceinline__ uint64_t k(int s) const { return k0 + uint64_t(s) * (SmemLayout<kFp8>::kStageBytes >> 4); }
  __device__ __forceinline__ uint64_t v(int s) const { return v0 + uint64_t(s) * (SmemLayout<kFp8>::kStageBytes >> 4); }
};

// What multiplies a consumer thread's two rows of scores: FP8 qScale[row] * softmaxScale * log2(e) (times the key
// block's K scale when K has one scale per block: kBlockScale, loaded one block ahead with the block id); BF16
// softmaxScale * log2(e). Kept >= FLT_MIN (NaN stays NaN): a masked score is -inf, and rowFactor * -inf + bias must be
// -inf (p = 0), not NaN, when a scale is 0 (an all-zero Q row or K block); the scores of such a row are all 0 anyway.
template <bool kFp8, bool kKeyScale>
struct RowFactors {
  float base[2];
  int64_t blockScaleRow;  // (batch * heads + head) * keyBlocks
  __device__ __forceinline__ RowFactors(const AttentionParams& p, const TileCoord& c, int rowInTile0) {
    const float colMul = p.softmaxScale * kLog2e;
    const int64_t bh = int64_t(c.batch) * p.heads + c.head;
    blockScaleRow = bh * p.keyBlocks;
    if constexpr (kFp8) {
      const float* qs = p.qScale + bh * p.npad + int64_t(c.qb) * kBlockM;
      base[0] = ptx::maxNaN(__ldg(qs + rowInTile0) * colMul, FLT_MIN);
      base[1] = ptx::maxNaN(__ldg(qs + rowInTile0 + 8) * colMul, FLT_MIN);
    } else {
      base[0] = base[1] = colMul;
    }
  }
  __device__ __forceinline__ float blockScale(const AttentionParams& p, int kb) const {
    if constexpr (kFp8 && !kKeyScale) return __ldg(p.kBlockScale + blockScaleRow + kb);
    return 1.f;
  }
  __device__ __forceinline__ void forBlock(float kBlock, float (&f)[2]) const {
    if constexpr (kFp8 && !kKeyScale) {
      f[0] = ptx::maxNaN(base[0] * kBlock, FLT_MIN);
      f[1] = ptx::maxNaN(base[1] * kBlock, FLT_MIN);
    } else {
      f[0] = base[0];
      f[1] = base[1];
    }
  }
};

// The key blocks a consumer loop walks, with what it needs of each: id, valid-row count and K block scale, read one
// block ahead. With kKeyIdAhead 2 the ids are read a block earlier still, so the two loads whose address depends on an
// id never wait for it (ncu, session 6: 11% of the consumer warps' stall samples there); measured 1-3% slower, so the
// default is 1 (tile_policy.h).
// kFromStage (the paired schedule with kMetaFromProducer): no global loads at all; the producer wrote each block's
// id, valid rows and K block scale next to its stage (smem_layout.cuh meta), and fromStage reads them once the
// stage's full barrier has been waited for. Lane 0 reads and shuffles them to the warp, so that only the thread that
// releases the stage (releaseStage: lane 0's arrive on empty[s]) has read its shared memory.
template <bool kFp8, bool kKeyScale, bool kFromStage = false>
struct KeyBlockStream {
  int kb;        // the block the loop takes next
  int valid;     // its valid key rows
  float kBlock;  // its K block scale (1 unless FP8 with per-block K scales)
  int kbAhead;   // the id of the block after it (kKeyIdAhead 2 only)
  __device__ __forceinline__ KeyBlockStream(const KeyList& list, const AttentionParams& p,
                                            const RowFactors<kFp8, kKeyScale>& rows) {
    if constexpr (kFromStage) return;
    kb = list.block(0);
    valid = __ldg(p.keyValidRows + kb);
    kBlock = rows.blockScale(p, kb);
    kbAhead = (kKeyIdAhead > 1 && list.count() > 1) ? list.block(1) : 0;
  }
  // kFromStage: the block in the stage whose metadata sits at metaAddr (its full barrier already waited for).
  __device__ __forceinline__ void fromStage(uint32_t metaAddr) {
    static_assert(kFromStage, "fromStage: stage metadata mode only");
    uint4 m = make_uint4(0u, 0u, 0u, 0u);
    if (threadIdx.x % 32 == 0) m = ptx::ldShared4(metaAddr);
    if constexpr (kKeyScale && kKeyScaleFromGlobal) kb = int(__shfl_sync(0xffffffffu, m.x, 0));
    valid = int(__shfl_sync(0xffffffffu, m.y, 0));
    kBlock = (kFp8 && !kKeyScale) ? __uint_as_float(__shfl_sync(0xffffffffu, m.z, 0)) : 1.f;
  }
  // Moves to block j (1 <= j < list.count()).
  __device__ __forceinline__ void advance(const KeyList& list, const AttentionParams& p,
                                          const RowFactors<kFp8, kKeyScale>& rows, int j) {
    if constexpr (kFromStage) return;
    if constexpr (kKeyIdAhead > 1) {
      kb = kbAhead;
      if (j + 1 < list.count()) kbAhead = list.block(j + 1);
    } else {
      kb = list.block(j);
    }
    valid = __ldg(p.keyValidRows + kb);
    kBlock = rows.blockScale(p, kb);
  }
};

// Two-level accumulation: acc = acc * alpha + o in true fp32 (o = this block's P V from a zeroed WGMMA accumulator).
__device__ __forceinline__ void addBlock(float (&acc)[64], const float (&alpha)[2], const float (&o)[64]) {
#pragma unroll
  for (int j = 0; j < 16; ++j) {
    acc[4 * j + 0] = __fmaf_rn(acc[4 * j + 0], alpha[0], o[4 * j + 0]);
    acc[4 * j + 1] = __fmaf_rn(acc[4 * j + 1], alpha[0], o[4 * j + 1]);
    acc[4 * j + 2] = __fmaf_rn(acc[4 * j + 2], alpha[1], o[4 * j + 2]);
    acc[4 * j + 3] = __fmaf_rn(acc[4 * j + 3], alpha[1], o[4 * j + 3]);
  }
}

// o *= alpha per row (accumulator layout: registers 4j, 4j+1 are row r, 4j+2, 4j+3 row r + 8).
__device__ __forceinline__ void scaleRows(float (&o)[64], const float (&alpha)[2]) {
#pragma unroll
  for (int j = 0; j < 16; ++j) {
    o[4 * j + 0] *= alpha[0];
    o[4 * j + 1] *= alpha[0];
    o[4 * j + 2] *= alpha[1];
    o[4 * j + 3] *= alpha[1];
  }
}

// Bookkeeping of the P V group before block i's P V is issued (alpha: block i's rescale of everything before it):
// the first block of a group owes acc its alpha; a later one multiplies it in and rescales o, which holds the group's
// earlier blocks under the previous max. The max rarely moves after the first blocks, so that rescale is skipped when
// no row of the warp moved (warp-uniform branch).
__device__ __forceinline__ void accumulateScales(int inGroup, float (&accScale)[2], const float (&alpha)[2],
                                                 float (&o)[64]) {
  if (inGroup == 0) {
    accScale[0] = alpha[0];
    accScale[1] = alpha[1];
  } else {
    accScale[0] *= alpha[0];
    accScale[1] *= alpha[1];
    if (!__all_sync(0xffffffffu, alpha[0] == 1.f && alpha[1] == 1.f)) scaleRows(o, alpha);
  }
}

// Where block kb's per-row K scales are read from: its K-scale ring slot in shared memory (bulk-copied by the
// producer; s = the block's stage, phase = its stage-pass bit: slot s + G * phase), or global memory directly
// (kKeyScaleFromGlobal: no bulk copy and no proxy fence; 512 bytes per block, L1/L2 hits).
template <class L, bool kKeyScale>
__device__ __forceinline__ const float* keyScalesOf(const AttentionParams& p, const TileCoord& c, int kb,
                                                    uint8_t* smemGeneric, uint32_t smemGenericAddr, uint32_t base,
                                                    int s, uint32_t phase) {
  if constexpr (!kKeyScale) {
    return nullptr;
  } else if constexpr (kKeyScaleFromGlobal) {
    return p.kScale + (int64_t(c.batch) * p.heads + c.head) * p.keyNpad + int64_t(kb) * kBlockN;
  } else {
    const int slot = s + (phase ? L::kStages : 0);
    return reinterpret_cast<const float*>(smemGeneric + (L::scale(base, slot) - smemGenericAddr));
  }
}

// K-scale ring release (protocol at the top): called by every consumer thread once per key block (stage s, stage-pass
// bit phase), after its reads of that block's scales or in place of them; at the last block of a round (s == G - 1)
// the thread fences its LDS reads against the producer's next bulk copies and arrives on scaleEmpty[phase].
template <class L, bool kKeyScale>
__device__ __forceinline__ void releaseScales(uint32_t base, int s, uint32_t phase) {
  if constexpr (kScalesInSmem<kKeyScale>) {
    if (s == L::kStages - 1) {
      ptx::fenceProxyAsync();  // LDS (generic proxy) before the next bulk copy (async proxy) into these slots
      ptx::mbarArrive(L::scaleEmpty(base, int(phase)));
    }
  }
}

// Release a stage (empty[s], kEmptyArrivals = 8): the warp's WGMMAs on it retired; its K and V are read only by WGMMA
// (the per-row K scales live in the K-scale ring), so lane 0 arrives for the warp after a __syncwarp.
template <class L>
__device__ __forceinline__ void releaseStage(uint32_t base, int s) {
  __syncwarp();
  if (threadIdx.x % 32 == 0) ptx::mbarArrive(L::empty(base, s));
}

// Ping-pong between the two consumer warpgroups: wg waits for its turn (barrier 1 + wg) before issuing its WGMMAs and
// hands the turn to the other (barrier 2 - wg) right after, so one warpgroup's softmax runs under the other's GEMMs.
template <bool kFp8>
__device__ __forceinline__ void turnBegin(int wg) {
  if constexpr (Schedule<kFp8>::kPingPong) ptx::namedBarSync(1 + wg, 2 * 128);
}
template <bool kFp8>
__device__ __forceinline__ void turnEnd(int wg) {
  if constexpr (Schedule<kFp8>::kPingPong) ptx::namedBarArrive(2 - wg, 2 * 128);
}

// Consumer warpgroup wg (0 or 1) of the tile. Leaves the unnormalised accumulator in acc and the softmax state in sm.
// Software pipeline inside the warpgroup (FA3's intra-warpgroup overlap): iteration i issues S_i = Q K_i^T and the
// P_{i-1} V_{i-1} of the previous block back to back, waits only for S_i, runs the softmax of block i while P V
// still runs on the tensor cores, then retires P V (adds it to acc, releases the previous stage) and packs P_i.
// Blocks with no valid key are released without any work.
template <bool kFp8, bool kKeyScale>
__device__ __forceinline__ void consumerLoop(const AttentionParams& p, uint32_t base, const TileCoord& c,
                                             const KeyList& list, int wg, int rowInTile0, int quadLane,
                                             float (&acc)[64], OnlineSoftmax<kFp8, kKeyScale>& sm, uint8_t* smemGeneric,
                                             uint32_t smemGenericAddr) {
  using L = SmemLayout<kFp8>;
#pragma unroll
  for (int i = 0; i < 64; ++i) acc[i] = 0.f;
  sm.init();
  const int n = list.count();
  if (n <= 0) return;

  const RowFactors<kFp8, kKeyScale> rows(p, c, rowInTile0);
  const uint32_t qAddr = base + L::kQ + wg * 8192;  // this warpgroup's 64 rows (of each 128-row box)
  ptx::mbarWait(L::qFull(base), 0);

  uint32_t pa[kFp8 ? 4 : 8][4];
  float o[64];
  float alphaPrev[2] = {1.f, 1.f};
  int prevStage = -1;
  const uint64_t qDesc = ptx::makeDesc(qAddr, 16, 1024);
  const StageDescs<kFp8> desc(base);

  int s = 0;
  uint32_t phase = 0;
  KeyBlockStream<kFp8, kKeyScale> next(list, p, rows);
  for (int it = 0; it < n; ++it, s = (s + 1 == L::kStages) ? 0 : s + 1, phase ^= (s == 0)) {
    const int kb = next.kb;
    const int validKeys = next.valid;
    float rowFactor[2];
    rows.forBlock(next.kBlock, rowFactor);
    if (it + 1 < n) next.advance(list, p, rows, it + 1);
    ptx::mbarWait(L::full(base, s), phase);
    if (validKeys <= 0) {
      releaseScales<L, kKeyScale>(base, s, phase);
      releaseStage<L>(base, s);
      continue;
    }
    float sc[64];
    turnBegin<kFp8>(wg);
    ptx::wgmmaFence();
    issueQK<kFp8>(sc, qDesc, desc.k(s));
    ptx::wgmmaCommit();
    if (prevStage >= 0) {
      issuePV<kFp8>(o, pa, desc.v(prevStage));
      ptx::wgmmaCommit();
      turnEnd<kFp8>(wg);
      ptx::wgmmaWait<1>();
    } else {
      turnEnd<kFp8>(wg);
      ptx::wgmmaWait<0>();
    }
    ptx::fenceRegs(sc);

    typename OnlineSoftmax<kFp8, kKeyScale>::KeyScales ks;
    OnlineSoftmax<kFp8, kKeyScale>::loadKeyScales(
        ks, keyScalesOf<L, kKeyScale>(p, c, kb, smemGeneric, smemGenericAddr, base, s, phase), quadLane);
    float alpha[2];
    sm.step(sc, rowFactor, ks, validKeys, quadLane, alpha);

    if (prevStage >= 0) {
      // alpha + 0 * l (exact, not foldable without fast math) makes the retirement of P V depend on every
      // exponential of this block: without it ptxas hoisted wait + add + release above the softmax (SASS), which
      // serialised P V and the softmax again.
      const float alphaDep[2] = {alphaPrev[0] + sm.l[0] * 0.f, alphaPrev[1] + sm.l[1] * 0.f};
      ptx::wgmmaWait<0>();
      ptx::fenceRegs(o);
      addBlock(acc, alphaDep, o);
      releaseStage<L>(base, prevStage);
    }
    if constexpr (kFp8) {
      packPFp8(sc, pa);
    } else {
      packPBf16(sc, pa);
    }
    alphaPrev[0] = alpha[0];
    alphaPrev[1] = alpha[1];
    prevStage = s;
    releaseScales<L, kKeyScale>(base, s, phase);  // after this block's scale reads (above)
  }
  if (prevStage >= 0) {
    turnBegin<kFp8>(wg);
    ptx::wgmmaFence();
    issuePV<kFp8>(o, pa, desc.v(prevStage));
    ptx::wgmmaCommit();
    turnEnd<kFp8>(wg);
    ptx::wgmmaWait<0>();
    ptx::fenceRegs(o);
    addBlock(acc, alphaPrev, o);
    releaseStage<L>(base, prevStage);
  }
}

// Serial schedule (FPSATTN_ATTN_PIPELINE 0, the first rung of the ladder): S, softmax, P V, retire, per block.
template <bool kFp8, bool kKeyScale>
__device__ __forceinline__ void consumerLoopSerial(const AttentionParams& p, uint32_t base, const TileCoord& c,
                                                   const KeyList& list, int wg, int rowInTile0, int quadLane,
                                                   float (&acc)[64], OnlineSoftmax<kFp8, kKeyScale>& sm, uint8_t* smemGeneric,
                                                   uint32_t smemGenericAddr) {
  using L = SmemLayout<kFp8>;
#pragma unroll
  for (int i = 0; i < 64; ++i) acc[i] = 0.f;
  sm.init();
  const int n = list.count();
  if (n <= 0) return;
  const RowFactors<kFp8, kKeyScale> rows(p, c, rowInTile0);
  const uint32_t qAddr = base + L::kQ + wg * 8192;
  const uint64_t qDesc = ptx::makeDesc(qAddr, 16, 1024);
  const StageDescs<kFp8> desc(base);
  ptx::mbarWait(L::qFull(base), 0);
  int s = 0;
  uint32_t phase = 0;
  KeyBlockStream<kFp8, kKeyScale> next(list, p, rows);
  // P V of up to kPvGroup consecutive blocks accumulates in o (the WGMMA accumulator, ~22-bit), then one FFMA per
  // element adds it into acc in true fp32. Invariant: output = acc * accScale + o, all under the running max.
  float o[64];
  float accScale[2] = {1.f, 1.f};
  int inGroup = 0;
  for (int it = 0; it < n; ++it, s = (s + 1 == L::kStages) ? 0 : s + 1, phase ^= (s == 0)) {
    const int kb = next.kb;
    const int validKeys = next.valid;
    float rowFactor[2];
    rows.forBlock(next.kBlock, rowFactor);
    if (it + 1 < n) next.advance(list, p, rows, it + 1);
    ptx::mbarWait(L::full(base, s), phase);
    if (validKeys > 0) {
      float sc[64];
      turnBegin<kFp8>(wg);
      ptx::wgmmaFence();
      issueQK<kFp8>(sc, qDesc, desc.k(s));
      ptx::wgmmaCommit();
      turnEnd<kFp8>(wg);
      typename OnlineSoftmax<kFp8, kKeyScale>::KeyScales ks;
      OnlineSoftmax<kFp8, kKeyScale>::loadKeyScales(
        ks, keyScalesOf<L, kKeyScale>(p, c, kb, smemGeneric, smemGenericAddr, base, s, phase), quadLane);
      ptx::wgmmaWait<0>();
      ptx::fenceRegs(sc);
      float alpha[2];
      sm.step(sc, rowFactor, ks, validKeys, quadLane, alpha);
      uint32_t pa[kFp8 ? 4 : 8][4];
      if constexpr (kFp8) {
        packPFp8(sc, pa);
      } else {
        packPBf16(sc, pa);
      }
      accumulateScales(inGroup, accScale, alpha, o);
      ptx::wgmmaFence();
      issuePV<kFp8>(o, pa, desc.v(s), inGroup > 0);
      ptx::wgmmaCommit();
      ptx::wgmmaWait<0>();
      ptx::fenceRegs(o);
      if (++inGroup == kPvGroup) {
        addBlock(acc, accScale, o);
        inGroup = 0;
      }
    }
    releaseScales<L, kKeyScale>(base, s, phase);  // after this block's scale reads, or in place of them
    releaseStage<L>(base, s);
  }
  if (inGroup > 0) addBlock(acc, accScale, o);
}

// Paired schedule (Schedule::kPaired): S_{i+1} = Q K_{i+1}^T and P_i V_i are issued back to back in one ping-pong
// turn and retired with one wait, so each block pays one WGMMA round trip instead of two; the softmax of block i+1
// then runs while the other warpgroup's pair is on the tensor cores. A block with no valid key still gets its S
// (harmless, never read) but no softmax and no P V.
template <bool kFp8, bool kKeyScale>
__device__ __forceinline__ void consumerLoopPaired(const AttentionParams& p, uint32_t base, const TileCoord& c,
                                                   const KeyList& list, int wg, int rowInTile0, int quadLane,
                                                   float (&acc)[64], OnlineSoftmax<kFp8, kKeyScale>& sm,
                                                   uint8_t* smemGeneric, uint32_t smemGenericAddr) {
  using L = SmemLayout<kFp8>;
  using Softmax = OnlineSoftmax<kFp8, kKeyScale>;
  // Per-row K scales: read at the start of the block's softmax (after the S wait) instead of one block ahead, so the
  // 32 scale registers are not live across the pair's WGMMAs (held there, they spill: tile_policy.h).
  constexpr bool kLateKeyScales = kKeyScale && FPSATTN_ATTN_LATE_KEY_SCALES;
#pragma unroll
  for (int i = 0; i < 64; ++i) acc[i] = 0.f;
  sm.init();
  const int n = list.count();
  if (n <= 0) return;
  const RowFactors<kFp8, kKeyScale> rows(p, c, rowInTile0);
  const uint64_t qDesc = ptx::makeDesc(base + L::kQ + wg * 8192, 16, 1024);
  const StageDescs<kFp8> desc(base);
  ptx::mbarWait(L::qFull(base), 0);

  int s = 0;
  uint32_t phase = 0;
  KeyBlockStream<kFp8, kKeyScale, kMetaFromProducer<kFp8, kKeyScale>> next(list, p, rows);
  float sc[64];
  typename Softmax::KeyScales ks;
  // Prologue: S_0.
  ptx::mbarWait(L::full(base, s), phase);
  if constexpr (kMetaFromProducer<kFp8, kKeyScale>) next.fromStage(L::meta(base, s));
  turnBegin<kFp8>(wg);
  ptx::wgmmaFence();
  issueQK<kFp8>(sc, qDesc, desc.k(s));
  ptx::wgmmaCommit();
  turnEnd<kFp8>(wg);
  if constexpr (!kLateKeyScales) {
    Softmax::loadKeyScales(ks, keyScalesOf<L, kKeyScale>(p, c, next.kb, smemGeneric, smemGenericAddr, base, s, phase),
                           quadLane);
  }
  ptx::wgmmaWait<0>();
  ptx::fenceRegs(sc);
  if (threadIdx.x % 128 == 0 && wg == 0) traceCta(2);
  if constexpr (!kLateKeyScales) releaseScales<L, kKeyScale>(base, s, phase);  // block 0 (ends a round only if G == 1)

  float o[64];
  float accScale[2] = {1.f, 1.f};
  int inGroup = 0;
  uint32_t pa[kFp8 ? 4 : 8][4];
  bool nextLanded = false;  // kProbeNext: the full barrier of the block this iteration's S is issued for has completed
  for (int it = 0; it < n; ++it) {
    // Block it sits in stage s with its S in sc.
    const int validKeys = next.valid;
    const int kbCur = next.kb;
    float rowFactor[2];
    rows.forBlock(next.kBlock, rowFactor);
    const bool hasNext = it + 1 < n;
    const int sNext = (s + 1 == L::kStages) ? 0 : s + 1;
    const uint32_t phaseNext = phase ^ (sNext == 0);
    if (hasNext) next.advance(list, p, rows, it + 1);
    traceIter(wg, it, 0);
    const bool doPv = validKeys > 0;
    if (doPv) {
      float alpha[2];
      if constexpr (kLateKeyScales) {
        Softmax::loadKeyScales(
            ks, keyScalesOf<L, kKeyScale>(p, c, kbCur, smemGeneric, smemGenericAddr, base, s, phase), quadLane);
      }
      sm.step(sc, rowFactor, ks, validKeys, quadLane, alpha);
      if constexpr (kFp8) {
        packPFp8(sc, pa);
      } else {
        packPBf16(sc, pa);
      }
      accumulateScales(inGroup, accScale, alpha, o);
    }
    if constexpr (kLateKeyScales) releaseScales<L, kKeyScale>(base, s, phase);  // after block it's reads, or none
    traceIter(wg, it, 1);
    if (hasNext && !(kProbeNext && nextLanded)) ptx::mbarWait(L::full(base, sNext), phaseNext);
    traceIter(wg, it, 2);
    turnBegin<kFp8>(wg);
    ptx::wgmmaFence();
    if (hasNext && !kDiagNoQk) {
      issueQK<kFp8>(sc, qDesc, desc.k(sNext));
      ptx::wgmmaCommit();
    }
    if (doPv && !kDiagNoPv) {
      issuePV<kFp8>(o, pa, desc.v(s), inGroup > 0);
      ptx::wgmmaCommit();
    }
    turnEnd<kFp8>(wg);
    if constexpr (kMetaFromProducer<kFp8, kKeyScale>) {
      if (hasNext) next.fromStage(L::meta(base, sNext));  // under the pair's WGMMAs
    }
    if constexpr (kProbeNext) {
      // The block after next (issued in the next iteration): probed under the pair's WGMMAs; a miss waits there.
      const int sAfter = (sNext + 1 == L::kStages) ? 0 : sNext + 1;
      nextLanded = it + 2 < n && ptx::mbarTest(L::full(base, sAfter), phaseNext ^ (sAfter == 0));
    }
    if (!kLateKeyScales && hasNext) {
      Softmax::loadKeyScales(
          ks, keyScalesOf<L, kKeyScale>(p, c, next.kb, smemGeneric, smemGenericAddr, base, sNext, phaseNext), quadLane);
    }
    ptx::wgmmaWait<0>();
    ptx::fenceRegs(sc);
    ptx::fenceRegs(o);
    traceIter(wg, it, 3);
    if (!kLateKeyScales && hasNext) releaseScales<L, kKeyScale>(base, sNext, phaseNext);  // block it + 1's, read above
    releaseStage<L>(base, s);
    if (doPv && ++inGroup == kPvGroup) {
      addBlock(acc, accScale, o);
      inGroup = 0;
    }
    s = sNext;
    phase = phaseNext;
  }
  if (inGroup > 0) addBlock(acc, accScale, o);
}

}  // namespace attention
}  // namespace fpsattn
