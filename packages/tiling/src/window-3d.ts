import { InvalidArgumentError } from '@fpsattn/fp8';
import { describe } from './_validate';
import { readSize3 } from './size3';
import type { TileLayout } from './tile-layout';
import type { Dims3, Size3 } from './types';

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

/** A window as the public functions accept it: its size as `[t, h, w]` or `{ frames, height, width }`. */
export type WindowInput =
  | { readonly kind: 'seed'; readonly tokens: Size3 }
  | { readonly kind: 'clamped'; readonly tiles: Size3 }
  | { readonly kind: 'full' };

const FULL: WindowSpec = Object.freeze({ kind: 'full' });

/**
 * Validates a window and returns it normalised (a frozen {@link WindowSpec} with `[t, h, w]` sizes). Throws an
 * {@link InvalidArgumentError} naming the bad field (`window.tokens[1]`, `window.tiles.height`, `window.kind`, ...).
 *
 * @example validateWindow({ kind: 'clamped', tiles: { frames: 3, height: 3, width: 5 } }) // { kind: 'clamped', tiles: [3, 3, 5] }
 */
export function validateWindow(window: WindowInput): WindowSpec {
  const argument = 'window';
  if (typeof window !== 'object' || window === null) {
    throw new InvalidArgumentError({ argument, value: window, message: `expected a window object, got ${describe(window)}` });
  }
  switch (window.kind) {
    case 'seed':
      return Object.freeze({ kind: 'seed', tokens: Object.freeze(readSize3(`${argument}.tokens`, window.tokens)) as Dims3 });
    case 'clamped':
      return Object.freeze({ kind: 'clamped', tiles: Object.freeze(readSize3(`${argument}.tiles`, window.tiles)) as Dims3 });
    case 'full':
      return FULL;
    default:
      throw new InvalidArgumentError({
        argument: `${argument}.kind`,
        value: (window as { kind: unknown }).kind,
        message: `expected one of ${WINDOW_KINDS.map((k) => `'${k}'`).join(', ')}, got ${describe((window as { kind: unknown }).kind)}`,
      });
  }
}

/** Seed-mode half-widths in tiles: `floor(W / (2T))` per axis. */
export function seedHalfWidths(options: { tokens: Size3; tile: Size3 }): Dims3 {
  const tokens = readSize3('tokens', options.tokens);
  const tile = readSize3('tile', options.tile);
  return [0, 1, 2].map((a) => Math.floor(tokens[a]! / (2 * tile[a]!))) as unknown as Dims3;
}

/** {@link windowAxisRange} on a validated window. Private (the block-mask builder's inner loop). */
export function axisRange(window: WindowSpec, axis: 0 | 1 | 2, center: number, numTiles: number, tile: number): [number, number] {
  switch (window.kind) {
    case 'seed': {
      const half = Math.floor(window.tokens[axis] / (2 * tile));
      return [Math.max(0, center - half), Math.min(numTiles, center + half + 1)];
    }
    case 'clamped': {
      const w = window.tiles[axis];
      // Stryker disable next-line EqualityOperator: at w = numTiles the clamped start is 0 and the range [0, numTiles] either way (equivalent)
      if (w >= numTiles) return [0, numTiles];
      const start = Math.min(Math.max(center - Math.floor(w / 2), 0), numTiles - w);
      return [start, start + w];
    }
    case 'full':
      return [0, numTiles];
  }
}

/**
 * Half-open range `[start, end)` of key tile coordinates on one axis for query tile coordinate `center`, with
 * `numTiles` tiles of `tile` tokens on that axis. The window is validated (see {@link validateWindow}).
 */
export function windowAxisRange(options: {
  window: WindowInput;
  axis: 0 | 1 | 2;
  center: number;
  numTiles: number;
  tile: number;
}): [number, number] {
  const { axis, center, numTiles, tile } = options;
  return axisRange(validateWindow(options.window), axis, center, numTiles, tile);
}

/** Per-axis key-tile ranges `[start, end)` of query tile coordinates `[ct, ch, cw]`. */
export function windowRanges(options: {
  layout: TileLayout;
  window: WindowInput;
  queryTile: readonly [number, number, number];
}): { start: Dims3; end: Dims3 } {
  const { layout, queryTile } = options;
  const window = validateWindow(options.window);
  const start: number[] = [];
  const end: number[] = [];
  for (const axis of [0, 1, 2] as const) {
    const [s, e] = axisRange(window, axis, queryTile[axis], layout.tilesPerAxis[axis], layout.tile[axis]);
    start.push(s);
    end.push(e);
  }
  return { start: start as unknown as Dims3, end: end as unknown as Dims3 };
}

/** Stable string key of a window (validated first), e.g. `seed:12x20x32`, `clamped:3x3x5`, `full`. */
export function windowKey(input: WindowInput): string {
  const window = validateWindow(input);
  switch (window.kind) {
    case 'seed':
      return `seed:${window.tokens.join('x')}`;
    case 'clamped':
      return `clamped:${window.tiles.join('x')}`;
    case 'full':
      return 'full';
  }
}
