// Device side of the video-patch tiles (patch_grid.h): where tile `index` lies in the token grid, and the padded
// token stride of each kernel's shared-memory tile.
#pragma once

#include <cstdint>

#include "kernels/video_patches/patch_grid.h"

namespace fpsattn {

/// One tile: `tokens` tokens (f', h', w0 .. w0 + tokens - 1) of batch item `item`; `token0` is the first one's row in
/// the [items F' H' W', ...] token matrix.
struct TilePosition {
  int64_t item, fq, hq, w0, token0;
  int tokens;
};

__device__ __forceinline__ TilePosition tilePosition(const PatchGrid& g, const PatchTiles& tiles, int64_t index) {
  TilePosition p;
  const int64_t wTile = index % tiles.tilesPerRow;
  int64_t rest = index / tiles.tilesPerRow;
  p.hq = rest % g.gridH;
  rest /= g.gridH;
  p.fq = rest % g.gridF;
  p.item = rest / g.gridF;
  p.w0 = wTile * tiles.tokens;
  p.tokens = int(min(int64_t(tiles.tokens), g.gridW - p.w0));
  p.token0 = ((p.item * g.gridF + p.fq) * g.gridH + p.hq) * g.gridW + p.w0;
  return p;
}

/// Row (c, dt, dh) of a tile's video side: the first of its tokens' pw-wide runs in a [items, C, F, H, W] video.
__device__ __forceinline__ int64_t videoRowStart(const PatchGrid& g, const TilePosition& p, int row) {
  const int c = row / (g.pt * g.ph);
  const int dt = (row / g.ph) % g.pt;
  const int dh = row % g.ph;
  const int64_t frames = g.gridF * g.pt, height = g.gridH * g.ph, width = g.gridW * g.pw;
  return (((p.item * g.channels + c) * frames + p.fq * g.pt + dt) * height + p.hq * g.ph + dh) * width + p.w0 * g.pw;
}

}  // namespace fpsattn
