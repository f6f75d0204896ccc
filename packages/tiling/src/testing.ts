/**
 * Brute-force references for tests (here and in other packages: `@fpsattn/tiling/testing`).
 * They share no code with the fast paths: every answer is derived token by token or by sorting, from the
 * definitions written in the doc comments of `window-3d.ts` and `tile-permutation.ts`.
 */
import type { Dims3, GridDims } from './types';
import type { WindowSpec } from './window-3d';

function coordsOf(grid: GridDims, r: number): [number, number, number] {
  const t = Math.floor(r / (grid.height * grid.width));
  const h = Math.floor(r / grid.width) % grid.height;
  return [t, h, r % grid.width];
}

/** Tile coordinates of raster token `token`. */
export function bruteForceTileCoords(options: { grid: GridDims; tile: Dims3; token: number }): [number, number, number] {
  const { grid, tile } = options;
  const c = coordsOf(grid, options.token);
  return [Math.floor(c[0] / tile[0]), Math.floor(c[1] / tile[1]), Math.floor(c[2] / tile[2])];
}

/** Whether key tile coordinate `k` is inside the window of query tile coordinate `q` on one axis (definition form). */
export function bruteForceAxisInWindow(options: {
  window: WindowSpec;
  axis: 0 | 1 | 2;
  q: number;
  k: number;
  numTiles: number;
  tile: number;
}): boolean {
  const { window, axis, q, k, numTiles, tile } = options;
  if (window.kind === 'full') return true;
  if (window.kind === 'seed') {
    // |c_u - c_v| <= W / (2T), compared exactly in integers: 2T |d| <= W.
    return 2 * tile * Math.abs(q - k) <= window.tokens[axis];
  }
  const w = window.tiles[axis];
  if (w >= numTiles) return true;
  // Slide the window [s, s + w) until it lies inside [0, numTiles).
  let s = q - Math.floor(w / 2);
  while (s < 0) s++;
  while (s + w > numTiles) s--;
  return k >= s && k < s + w;
}

function tilesPerAxis(grid: GridDims, tile: Dims3): [number, number, number] {
  return [Math.ceil(grid.frames / tile[0]), Math.ceil(grid.height / tile[1]), Math.ceil(grid.width / tile[2])];
}

/** Token-level mask `[N * N]` (query-major), built pair by pair: 1 where query token q may attend key token k. */
export function bruteForceTokenMask(options: { grid: GridDims; tile: Dims3; window: WindowSpec }): Uint8Array {
  const { grid, tile, window } = options;
  const n = grid.frames * grid.height * grid.width;
  const counts = tilesPerAxis(grid, tile);
  const tiles = Array.from({ length: n }, (_, r) => bruteForceTileCoords({ grid, tile, token: r }));
  const mask = new Uint8Array(n * n);
  for (let q = 0; q < n; q++) {
    const cq = tiles[q]!;
    for (let k = 0; k < n; k++) {
      const ck = tiles[k]!;
      let inside = true;
      for (const axis of [0, 1, 2] as const) {
        if (!bruteForceAxisInWindow({ window, axis, q: cq[axis], k: ck[axis], numTiles: counts[axis], tile: tile[axis] })) {
          inside = false;
          break;
        }
      }
      mask[q * n + k] = inside ? 1 : 0;
    }
  }
  return mask;
}

/** Number of attended pairs (ones) in a token mask. */
export function bruteForcePairCount(mask: Uint8Array): number {
  let count = 0;
  for (let i = 0; i < mask.length; i++) count += mask[i]!;
  return count;
}

/** Tile id of raster token `token` in tile raster order (w fastest). */
export function bruteForceTileId(options: { grid: GridDims; tile: Dims3; token: number }): number {
  const { grid, tile } = options;
  const [, nh, nw] = tilesPerAxis(grid, tile);
  const c = bruteForceTileCoords(options);
  return (c[0] * nh + c[1]) * nw + c[2];
}

/**
 * Key-tile lists read off a token mask: key tile v is listed for query tile u iff some token pair (q in u, k in v)
 * is attended. Also checks the mask is block-structured (all pairs of a listed tile pair attended) and throws if not.
 */
export function bruteForceTileLists(options: { grid: GridDims; tile: Dims3; mask: Uint8Array }): number[][] {
  const { grid, tile, mask } = options;
  const n = grid.frames * grid.height * grid.width;
  const [nt, nh, nw] = tilesPerAxis(grid, tile);
  const numTiles = nt * nh * nw;
  const ids = Array.from({ length: n }, (_, r) => bruteForceTileId({ grid, tile, token: r }));
  const sizes = new Array<number>(numTiles).fill(0);
  for (const id of ids) sizes[id]!++;
  const hits = Array.from({ length: numTiles }, () => new Array<number>(numTiles).fill(0));
  for (let q = 0; q < n; q++) for (let k = 0; k < n; k++) if (mask[q * n + k]) hits[ids[q]!]![ids[k]!]!++;
  return hits.map((row, u) => {
    const list: number[] = [];
    row.forEach((count, v) => {
      if (count === 0) return;
      if (count !== sizes[u]! * sizes[v]!) throw new Error(`token mask is not block-structured at tiles (${u}, ${v})`);
      list.push(v);
    });
    return list;
  });
}

/** Tile-major order by sorting raster indices on (tile id, raster index): the reference for `forward`. */
export function bruteForceTilePermutation(options: { grid: GridDims; tile: Dims3 }): number[] {
  const { grid, tile } = options;
  const n = grid.frames * grid.height * grid.width;
  const keyed = Array.from({ length: n }, (_, r) => ({ r, id: bruteForceTileId({ grid, tile, token: r }) }));
  keyed.sort((a, b) => a.id - b.id || a.r - b.r);
  return keyed.map((e) => e.r);
}

/** Rows reordered with plain arrays: `out[i] = src[index[i]]` per row (index -1 gives `fill`, default 0). */
export function bruteForceGatherRows(options: { src: ArrayLike<number>; rowWidth: number; index: ArrayLike<number>; fill?: number }): number[] {
  const { src, rowWidth, index } = options;
  const fill = options.fill ?? 0;
  const out: number[] = [];
  for (let i = 0; i < index.length; i++) {
    const r = index[i]!;
    for (let j = 0; j < rowWidth; j++) out.push(r < 0 ? fill : src[r * rowWidth + j]!);
  }
  return out;
}
