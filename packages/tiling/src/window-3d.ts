import { InvalidArgumentError } from '@fpsattn/fp8';
import { assertDims3, describe } from './_validate';
import type { TileLayout } from './tile-layout';
import type { Dims3 } from './types';

/**
 * Which key tiles a query tile attends to. Tile coordinates are integer indices on the tile grid, so the distance
 * between tiles u and v on an axis is `|c_u - c_v|` in tile units.
 *
 * - `seed`: FPSAttention Algorithm 1 line 25. `tokens = [Wt, Wh, Ww]` is the window in tokens per axis; key tile v
 *   is in W(u) iff `|c_u - c_v| <= W / (2T)` on every axis. Because tile distances are integers this is exactly
 *   `|c_u - c_v| <= floor(W / (2T))`: the half-width in tiles is **floor(W / (2T))** (so W = 2T*k .. 2T*k + 2T-1
 *   tokens all give k tiles; W < 2T gives the query tile alone on that axis). The window is **truncated** at the grid's
 *   edges, so edge tiles see fewer key tiles. A window larger than the grid simply covers the whole axis.
 * - `clamped`: Sliding Tile Attention. `tiles = [wt, wh, ww]` is the window in tiles per axis; its start on an axis
 *   is `clamp(c - floor(w/2), 0, n - w)`, i.e. the window is shifted back inside the grid instead of truncated, and
 *   every query tile sees exactly `wt * wh * ww` key tiles when `w <= n` on every axis. For even w the query tile sits
 *   just right of the centre: the window covers `c - w/2 .. c + w/2 - 1` before clamping. If `w > n` the window is
 *   the whole axis (n tiles), a clamp rather than an error (the scheduler's config rejects such windows).
 * - `full`: every key tile (dense attention), handy as a reference.
 */
export type WindowSpec =
  | { readonly kind: 'seed'; readonly tokens: Dims3 }
  | { readonly kind: 'clamped'; readonly tiles: Dims3 }
  | { readonly kind: 'full' };

export type WindowKind = WindowSpec['kind'];
export const WINDOW_KINDS: readonly WindowKind[] = Object.freeze(['seed', 'clamped', 'full']);

/** Throws an {@link InvalidArgumentError} naming the bad field (`window.tokens[1]`, `window.kind`, ...). */
export function validateWindow(window: WindowSpec, argument = 'window'): void {
  if (typeof window !== 'object' || window === null) {
    throw new InvalidArgumentError({ argument, value: window, message: `expected a window object, got ${describe(window)}` });
  }
  switch (window.kind) {
    case 'seed':
      assertDims3(`${argument}.tokens`, window.tokens);
      return;
    case 'clamped':
      assertDims3(`${argument}.tiles`, window.tiles);
      return;
    case 'full':
      return;
    default:
      throw new InvalidArgumentError({
        argument: `${argument}.kind`,
        value: (window as { kind: unknown }).kind,
        message: `expected one of ${WINDOW_KINDS.map((k) => `'${k}'`).join(', ')}, got ${describe((window as { kind: unknown }).kind)}`,
      });
  }
}

/** Seed-mode half-widths in tiles: `floor(W / (2T))` per axis. */
export function seedHalfWidths(options: { tokens: Dims3; tile: Dims3 }): Dims3 {
  const { tokens, tile } = options;
  return [0, 1, 2].map((a) => Math.floor(tokens[a]! / (2 * tile[a]!))) as unknown as Dims3;
}

/** Half-open range `[start, end)` of key tile coordinates on one axis for query tile coordinate `center`. */
export function windowAxisRange(options: {
  window: WindowSpec;
  axis: 0 | 1 | 2;
  center: number;
  numTiles: number;
  tile: number;
}): [number, number] {
  const { window, axis, center, numTiles, tile } = options;
  switch (window.kind) {
    case 'seed': {
      const half = Math.floor(window.tokens[axis] / (2 * tile));
      return [Math.max(0, center - half), Math.min(numTiles, center + half + 1)];
    }
    case 'clamped': {
      const w = window.tiles[axis];
      if (w >= numTiles) return [0, numTiles];
      const start = Math.min(Math.max(center - Math.floor(w / 2), 0), numTiles - w);
      return [start, start + w];
    }
    case 'full':
      return [0, numTiles];
  }
}

/** Per-axis key-tile ranges `[start, end)` of query tile coordinates `[ct, ch, cw]`. */
export function windowRanges(options: {
  layout: TileLayout;
  window: WindowSpec;
  queryTile: readonly [number, number, number];
}): { start: Dims3; end: Dims3 } {
  const { layout, window, queryTile } = options;
  const start: number[] = [];
  const end: number[] = [];
  for (const axis of [0, 1, 2] as const) {
    const [s, e] = windowAxisRange({
      window,
      axis,
      center: queryTile[axis],
      numTiles: layout.tilesPerAxis[axis],
      tile: layout.tile[axis],
    });
    start.push(s);
    end.push(e);
  }
  return { start: start as unknown as Dims3, end: end as unknown as Dims3 };
}

/** Stable string key of a window, e.g. `seed:12x20x32`, `clamped:3x3x5`, `full`. */
export function windowKey(window: WindowSpec): string {
  switch (window.kind) {
    case 'seed':
      return `seed:${window.tokens.join('x')}`;
    case 'clamped':
      return `clamped:${window.tiles.join('x')}`;
    case 'full':
      return 'full';
  }
}
