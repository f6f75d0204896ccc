// mainloop.cuh: the producer (TMA) and consumer (WGMMA + softmax) loops of one query tile.
//
// Roles (kThreads = 384, 1 CTA per SM):
//   warpgroup 0  producer: setmaxnreg 24; one thread issues every TMA. Q once (qFull), then for each listed key block
//                kb (CSR order) waits empty[s], posts expect-tx on full[s] and loads K(kb), V(kb) (and, FP8, the
//                block's 128 K scales with a 512-byte bulk copy) into stage s = it % kStages.
//   warpgroups 1, 2  consumers: setmaxnreg 240; rows 64*(wg-1) .. +63 of the query tile each. Per key block:
//                S = Q K^T (SS WGMMA), online softmax (softmax.cuh), O += P V (RS WGMMA, P from registers), release
//                the stage (lane 0 of each warp arrives on empty[s]). The two consumer warpgroups run the same loop
//                out of phase, so one's softmax overlaps the other's WGMMAs.
// FP8 two-level accumulation: each block's P.V goes into a zeroed temporary (scale-d = 0 on the first k step), and
//   acc = acc * alpha + tmp in true fp32 (one FFMA per element, which also does the online-softmax rescale), so the
//   ~22-bit FP8 WGMMA accumulator never sums more than 128 keys.
// BF16: acc *= alpha, then O += P V accumulates straight into acc.
#pragma once

#include <cstdint>

#include "kernels/attention/attention_params.h"
#include "kernels/attention/hopper_ptx.cuh"
#include "kernels/attention/smem_layout.cuh"
#include "kernels/attention/softmax.cuh"
#include "kernels/attention/tile_policy.h"
#include "kernels/attention/tile_scheduler.cuh"

namespace fpsattn {
namespace attention {

template <bool kFp8>
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
  for (int it = 0; it < n; ++it) {
    const int s = it % L::kStages;
    const uint32_t parity = ((it / L::kStages) & 1) ^ 1;
    const int kb = list.block(it);
    ptx::mbarWait(L::empty(base, s), parity);
    const uint32_t full = L::full(base, s);
    ptx::mbarArriveExpectTx(full, L::kStageBytes + L::kScaleBytes);
    const int keyRow = int(int64_t(c.batch) * p.npad) + kb * kBlockN;
    if constexpr (kFp8) {
      // K: 5-D permuted view, coordinate 4 = 16-key group.
      ptx::tmaLoad5d(L::k(base, s), tmK, full, col, 0, 0, 0, keyRow / 16);
      // V^T: rows = batch*H*D + channel, columns = keys.
      ptx::tmaLoad2d(L::v(base, s), tmV, full, kb * kBlockN, c.batch * hd + col);
      const float* ks = p.kScale + (int64_t(c.batch) * p.heads + c.head) * p.npad + int64_t(kb) * kBlockN;
      ptx::bulkLoad(L::scale(base, s), ks, L::kScaleBytes, full);
    } else {
      ptx::tmaLoad2d(L::k(base, s), tmK, full, col, keyRow);
      ptx::tmaLoad2d(L::k(base, s) + 16384, tmK, full, col + 64, keyRow);
      ptx::tmaLoad2d(L::v(base, s), tmV, full, col, keyRow);
      ptx::tmaLoad2d(L::v(base, s) + 16384, tmV, full, col + 64, keyRow);
    }
  }
}

// Consumer warpgroup wg (0 or 1) of the tile. Leaves the unnormalised accumulator in acc and the softmax state in sm.
template <bool kFp8>
__device__ __forceinline__ void consumerLoop(const AttentionParams& p, uint32_t base, const TileCoord& c,
                                             const KeyList& list, int wg, int rowInTile0, int quadLane,
                                             float (&acc)[64], OnlineSoftmax<kFp8>& sm, uint8_t* smemGeneric,
                                             uint32_t smemGenericAddr) {
  using L = SmemLayout<kFp8>;
  const int warpLane = threadIdx.x % 32;
#pragma unroll
  for (int i = 0; i < 64; ++i) acc[i] = 0.f;
  sm.init();
  const int n = list.count();
  if (n <= 0) return;

  float rowFactor[2];
  const float colMul = p.softmaxScale * kLog2e;
  if constexpr (kFp8) {
    const float* qs = p.qScale + (int64_t(c.batch) * p.heads + c.head) * p.npad + int64_t(c.qb) * kBlockM;
    rowFactor[0] = __ldg(qs + rowInTile0);
    rowFactor[1] = __ldg(qs + rowInTile0 + 8);
  } else {
    rowFactor[0] = rowFactor[1] = colMul;
  }
  const uint32_t qAddr = base + L::kQ + wg * 8192;  // this warpgroup's 64 rows (of each 128-row box)
  ptx::mbarWait(L::qFull(base), 0);

  for (int it = 0; it < n; ++it) {
    const int s = it % L::kStages;
    const int kb = list.block(it);
    const int validKeys = __ldg(p.blockValidRows + kb);
    ptx::mbarWait(L::full(base, s), (it / L::kStages) & 1);
    if (validKeys > 0) {
      float sc[64];
      ptx::wgmmaFence();
      if constexpr (kFp8) {
#pragma unroll
        for (int k = 0; k < 4; ++k)
          ptx::wgmmaSsE4m3(sc, ptx::makeDesc(qAddr + 32 * k, 16, 1024), ptx::makeDesc(L::k(base, s) + 32 * k, 16, 1024),
                           k);
      } else {
#pragma unroll
        for (int k = 0; k < 8; ++k)
          ptx::wgmmaSsBf16(sc, ptx::makeDesc(qAddr + (k / 4) * 16384 + (k % 4) * 32, 16, 1024),
                           ptx::makeDesc(L::k(base, s) + (k / 4) * 16384 + (k % 4) * 32, 16, 1024), k);
      }
      ptx::wgmmaCommit();
      ptx::wgmmaWait<0>();
      ptx::fenceRegs(sc);

      const float* colScale =
          kFp8 ? reinterpret_cast<const float*>(smemGeneric + (L::scale(base, s) - smemGenericAddr)) : nullptr;
      float alpha[2];
      sm.step(sc, rowFactor, colScale, colMul, validKeys, quadLane, alpha);

      if constexpr (kFp8) {
        uint32_t pa[4][4];
        packPFp8(sc, pa);
        float o[64];
        ptx::wgmmaFence();
#pragma unroll
        for (int k = 0; k < 4; ++k) ptx::wgmmaRsE4m3(o, pa[k], ptx::makeDesc(L::v(base, s) + 32 * k, 16, 1024), k);
        ptx::wgmmaCommit();
        ptx::wgmmaWait<0>();
        ptx::fenceRegs(o);
#pragma unroll
        for (int j = 0; j < 16; ++j) {
          acc[4 * j + 0] = __fmaf_rn(acc[4 * j + 0], alpha[0], o[4 * j + 0]);
          acc[4 * j + 1] = __fmaf_rn(acc[4 * j + 1], alpha[0], o[4 * j + 1]);
          acc[4 * j + 2] = __fmaf_rn(acc[4 * j + 2], alpha[1], o[4 * j + 2]);
          acc[4 * j + 3] = __fmaf_rn(acc[4 * j + 3], alpha[1], o[4 * j + 3]);
        }
      } else {
        uint32_t pa[8][4];
        packPBf16(sc, pa);
#pragma unroll
        for (int j = 0; j < 16; ++j) {
          acc[4 * j + 0] *= alpha[0];
          acc[4 * j + 1] *= alpha[0];
          acc[4 * j + 2] *= alpha[1];
          acc[4 * j + 3] *= alpha[1];
        }
        ptx::wgmmaFence();
#pragma unroll
        for (int k = 0; k < 8; ++k)
          ptx::wgmmaRsBf16TransB(acc, pa[k], ptx::makeDesc(L::v(base, s) + 2048 * k, 16384, 1024), 1);
        ptx::wgmmaCommit();
        ptx::wgmmaWait<0>();
        ptx::fenceRegs(acc);
      }
    }
    __syncwarp();
    if (warpLane == 0) ptx::mbarArrive(L::empty(base, s));
  }
}

}  // namespace attention
}  // namespace fpsattn
