import { readSize3 } from './size3';
import { createTokenGrid, type TokenGrid } from './token-grid';
import type { Dims3, Size3 } from './types';

/**
 * A token grid cut into 3D tiles of shape `tile = [Tt, Th, Tw]`.
 *
 * Tiles are numbered in raster order over the tile grid (tile w fastest, then h, then t), exactly like tokens.
 * Edge tiles are partial when an axis does not divide: tile `c` on an axis covers tokens
 * `[c*T, min((c+1)*T, n))`. `tileSizes[u]` is the number of real tokens in tile u, and `tileOffsets` is the
 * compact tile-major layout: tile u holds positions `[tileOffsets[u], tileOffsets[u+1])`, partial tiles holding
 * only their real tokens (see {@link createTilePermutation} for the order inside a tile).
 */
export interface TileLayout {
  readonly grid: TokenGrid;
  readonly tile: Dims3;
  /** Number of tiles per axis: `ceil(n / T)` for (frames, height, width). */
  readonly tilesPerAxis: Dims3;
  readonly numTiles: number;
  /** Tokens in a full tile: `Tt * Th * Tw`. */
  readonly tileTokens: number;
  /** Real tokens per tile (numTiles entries). */
  readonly tileSizes: Int32Array;
  /** Compact start of each tile in tile-major order (numTiles + 1 entries, last = numTokens). */
  readonly tileOffsets: Int32Array;
  /** Real extent of tile coordinate c on each axis: `axisSizes[axis][c]`. */
  readonly axisSizes: readonly [Int32Array, Int32Array, Int32Array];
}

/**
 * Builds a {@link TileLayout}; any positive grid and tile shape works (tiles larger than the grid become one partial
 * tile). Both take `[t, h, w]` or `{ frames, height, width }`.
 */
export function createTileLayout(options: { grid: Size3; tile: Size3 }): TileLayout {
  const grid = createTokenGrid(options.grid);
  const tile: Dims3 = Object.freeze(readSize3('tile', options.tile)) as Dims3;
  const extents = [grid.frames, grid.height, grid.width] as const;
  const axisSizes = [0, 1, 2].map((axis) => {
    const n = extents[axis]!;
    const t = tile[axis]!;
    const count = Math.ceil(n / t);
    const sizes = new Int32Array(count);
    for (let c = 0; c < count; c++) sizes[c] = Math.min(t, n - c * t);
    return sizes;
  }) as [Int32Array, Int32Array, Int32Array];
  const [sizesT, sizesH, sizesW] = axisSizes;
  const tilesPerAxis: Dims3 = Object.freeze([sizesT.length, sizesH.length, sizesW.length]) as Dims3;
  const numTiles = sizesT.length * sizesH.length * sizesW.length;
  const tileSizes = new Int32Array(numTiles);
  const tileOffsets = new Int32Array(numTiles + 1);
  let u = 0;
  // Stryker disable next-line EqualityOperator: one more iteration only reads undefined entries and writes past the end of typed arrays, which JavaScript ignores (equivalent)
  for (let ct = 0; ct < sizesT.length; ct++) {
    for (let ch = 0; ch < sizesH.length; ch++) {
      const th = sizesT[ct]! * sizesH[ch]!;
      for (let cw = 0; cw < sizesW.length; cw++) {
        const size = th * sizesW[cw]!;
        tileSizes[u] = size;
        tileOffsets[u + 1] = tileOffsets[u]! + size;
        u++;
      }
    }
  }
  return Object.freeze({
    grid,
    tile,
    tilesPerAxis,
    numTiles,
    tileTokens: tile[0] * tile[1] * tile[2],
    tileSizes,
    tileOffsets,
    axisSizes,
  });
}

/** Tile id of tile coordinates `coords = [ct, ch, cw]`. No bounds check. */
export function tileIndex(options: { layout: TileLayout; coords: readonly [ct: number, ch: number, cw: number] }): number {
  const { layout, coords } = options;
  return (coords[0] * layout.tilesPerAxis[1] + coords[1]) * layout.tilesPerAxis[2] + coords[2];
}

/** Tile coordinates [ct, ch, cw] of tile id `tile`. No bounds check. */
export function tileCoords(options: { layout: TileLayout; tile: number }): [number, number, number] {
  const { layout, tile: u } = options;
  const nw = layout.tilesPerAxis[2];
  const nh = layout.tilesPerAxis[1];
  const cw = u % nw;
  const rest = (u - cw) / nw;
  const ch = rest % nh;
  return [(rest - ch) / nh, ch, cw];
}

/** Tile id holding raster token `token`. No bounds check. */
export function tileOfToken(options: { layout: TileLayout; token: number }): number {
  const { layout, token } = options;
  const { width, height } = layout.grid;
  const w = token % width;
  const rest = (token - w) / width;
  const h = rest % height;
  const t = (rest - h) / height;
  const [nt, nh, nw] = [layout.tile[0], layout.tile[1], layout.tile[2]];
  return (Math.floor(t / nt) * layout.tilesPerAxis[1] + Math.floor(h / nh)) * layout.tilesPerAxis[2] + Math.floor(w / nw);
}
