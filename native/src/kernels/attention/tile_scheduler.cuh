// tile_scheduler.cuh: which (query block, head, batch item) a CTA computes, and its key-block list.
//
// Static schedule: one CTA per query tile, grid = numBlocks * heads * batch, tile index = blockIdx.x with the query
// block fastest, then head, then batch item. Consecutive CTAs therefore share one (batch, head): its K and V (about
// 19 MB of FP8 at Wan 720p) stay in the 50 MB L2 while ~132 query tiles stream over them. Each CTA holds a whole SM
// (1 CTA/SM, > 140 KiB of shared memory), so the hardware block scheduler acts as a dynamic tile scheduler: a CTA
// that finishes early (short key list) is replaced at once. A persistent variant is future work (README.md).
#pragma once

#include <cstdint>

#include "kernels/attention/attention_params.h"

namespace fpsattn {
namespace attention {

struct TileCoord {
  int qb;     // query block
  int head;
  int batch;
};

__device__ __forceinline__ TileCoord tileOf(int tile, const AttentionParams& p) {
  TileCoord c;
  c.qb = tile % p.numBlocks;
  const int rest = tile / p.numBlocks;
  c.head = rest % p.heads;
  c.batch = rest / p.heads;
  return c;
}

// The key blocks a query tile visits: entries [begin, end) of colIdx, or all key blocks 0..keyBlocks-1 when rowPtr is
// null (dense). keyBlocks is the key geometry's block count (= numBlocks unless keys are separate: attention_params.h).
struct KeyList {
  int begin;
  int end;
  const int32_t* colIdx;
  __device__ __forceinline__ int count() const { return end - begin; }
  __device__ __forceinline__ int block(int i) const { return colIdx ? __ldg(colIdx + begin + i) : begin + i; }
};

__device__ __forceinline__ KeyList keyListOf(const AttentionParams& p, const TileCoord& c) {
  KeyList l;
  if (p.rowPtr == nullptr) {
    l.begin = 0;
    l.end = p.keyBlocks;
    l.colIdx = nullptr;
  } else {
    const int listHead = p.listHeads == 1 ? 0 : c.head;
    const int32_t* row = p.rowPtr + int64_t(listHead) * (p.numBlocks + 1) + c.qb;
    l.begin = __ldg(row);
    l.end = __ldg(row + 1);
    l.colIdx = p.colIdx;
    if (l.end < l.begin) l.end = l.begin;
  }
  return l;
}

}  // namespace attention
}  // namespace fpsattn
