import type { TileLayout } from './tile-layout';

/**
 * The tile-major permutation of a {@link TileLayout}, as two gather index arrays.
 *
 * - `forward[i]` is the raster index of the token at tile-major position i. Tiling is a gather:
 *   `tiled[i] = raster[forward[i]]`.
 * - `inverse[r]` is the tile-major position of raster token r. Untiling is a gather too:
 *   `raster[r] = tiled[inverse[r]]`.
 *
 * Tile-major order: tiles in tile raster order (tile w fastest, then h, then t); inside a tile, its real tokens in
 * raster order (w fastest, then h, then t). Partial edge tiles hold only their real tokens (compact layout), so tile u
 * occupies positions `[layout.tileOffsets[u], layout.tileOffsets[u + 1])`.
 */
export interface TilePermutation {
  readonly layout: TileLayout;
  readonly forward: Int32Array;
  readonly inverse: Int32Array;
}

/**
 * Builds the compact tile-major permutation and its inverse in O(numTokens).
 *
 * @example createTilePermutation({ layout: createTileLayout({ grid: [21, 45, 80], tile: [3, 5, 8] }) }).forward
 */
export function createTilePermutation(options: { layout: TileLayout }): TilePermutation {
  const { layout } = options;
  const { grid, tile, tilesPerAxis } = layout;
  const { frames, height, width, numTokens } = grid;
  const forward = new Int32Array(numTokens);
  const inverse = new Int32Array(numTokens);
  let i = 0;
  // Stryker disable next-line EqualityOperator: a tile coordinate past the end starts at or beyond the grid edge, so its token loops run zero times (equivalent)
  for (let ct = 0; ct < tilesPerAxis[0]; ct++) {
    const t0 = ct * tile[0];
    const t1 = Math.min(t0 + tile[0], frames);
    // Stryker disable next-line EqualityOperator: as above
    for (let ch = 0; ch < tilesPerAxis[1]; ch++) {
      const h0 = ch * tile[1];
      const h1 = Math.min(h0 + tile[1], height);
      // Stryker disable next-line EqualityOperator: as above
      for (let cw = 0; cw < tilesPerAxis[2]; cw++) {
        const w0 = cw * tile[2];
        const w1 = Math.min(w0 + tile[2], width);
        for (let t = t0; t < t1; t++) {
          for (let h = h0; h < h1; h++) {
            const rowBase = (t * height + h) * width;
            for (let w = w0; w < w1; w++) {
              const r = rowBase + w;
              forward[i] = r;
              inverse[r] = i;
              i++;
            }
          }
        }
      }
    }
  }
  return Object.freeze({ layout, forward, inverse });
}
