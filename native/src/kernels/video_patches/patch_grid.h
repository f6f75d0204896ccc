// The geometry the two video-patch kernels share (patchify.cu, unpatchify.cu): a video [items, C, F, H, W] cut into
// pt x ph x pw patches, its patch grid [F', H', W'] = [F / pt, H / ph, W / pw] with tokens row-major over
// (f', h', w'), and the tiles the kernels stage in shared memory (a run of tokens along w' of one (item, f', h')).
#pragma once

#include <algorithm>
#include <cstdint>

namespace fpsattn {

/// Longest patch vector (C pt ph pw values) the kernels stage: one token of unpatchify's float32 tile must fit in the
/// 48 KB of shared memory a launch gets without opting in (8,192 floats + padding = 32 KB). packages/kernels
/// PATCH_MAX_LENGTH is the same number.
constexpr int64_t kPatchMaxLength = 8192;

struct PatchGrid {
  int64_t items;                // batch items of the video tensor
  int64_t channels;             // C
  int64_t gridF, gridH, gridW;  // patches along F, H, W
  int32_t pt, ph, pw;           // patch size
};

/// C pt ph pw: the values of one token.
inline int64_t patchLength(const PatchGrid& g) { return g.channels * g.pt * g.ph * g.pw; }

/// How a launch cuts the token grid into tiles: `tokens` consecutive tokens of one (item, f', h') row per tile.
struct PatchTiles {
  int32_t tokens;       // tokens per tile (the last tile of a row may hold fewer)
  int64_t tilesPerRow;  // tiles along w'
  int64_t count;        // items F' H' tilesPerRow
};

/// At most `tileValues` staged values per tile (`paddedLength` per token; at least one token), the row's tiles made
/// equal in size so that no block gets a sliver: at Wan 720p (W' = 80, 66 or 65 values per token) one tile per row.
inline PatchTiles patchTiles(const PatchGrid& g, int64_t paddedLength, int64_t tileValues) {
  const int64_t most = std::max<int64_t>(1, std::min<int64_t>(g.gridW, tileValues / paddedLength));
  const int64_t tilesPerRow = (g.gridW + most - 1) / most;
  const int64_t tokens = (g.gridW + tilesPerRow - 1) / tilesPerRow;
  return {int32_t(tokens), tilesPerRow, g.items * g.gridF * g.gridH * tilesPerRow};
}

}  // namespace fpsattn
