import { readSize3 } from './size3';
import { createTokenGrid } from './token-grid';
import type { Size3 } from './types';
import { validateWindow, type WindowInput, type WindowSpec } from './window-3d';

/**
 * Pairs (query tile coordinate c, key tile coordinate k) on one axis of n tiles that the window links.
 * The window is a box, so the mask's nnz is the product of these three counts.
 */
function axisPairs(window: WindowSpec, axis: 0 | 1 | 2, n: number, tile: number): number {
  switch (window.kind) {
    case 'seed': {
      // |c - k| <= h, truncated at the edges: n on the diagonal plus 2 * (n - d) pairs at each distance d = 1..m.
      const m = Math.min(Math.floor(window.tokens[axis] / (2 * tile)), n - 1);
      return n + 2 * (m * n - (m * (m + 1)) / 2);
    }
    case 'clamped':
      // Every query tile sees min(w, n) key tiles (the window is shifted back inside the grid).
      return n * Math.min(window.tiles[axis], n);
    case 'full':
      return n * n;
  }
}

/**
 * Number of key tiles (`nnz`) that {@link buildBlockMask} would list for `(grid, tile, window)`, in O(1) and
 * without allocating anything: use it to size or reject a mask before building it. Exact while the result is at
 * most 2^53; masks are capped at 2^31 - 1 key tiles (Int32 `colIdx`).
 */
export function blockMaskNnz(options: { grid: Size3; tile: Size3; window: WindowInput }): number {
  const grid = createTokenGrid(options.grid);
  const tile = readSize3('tile', options.tile);
  const window = validateWindow(options.window);
  const extents = [grid.frames, grid.height, grid.width] as const;
  let nnz = 1;
  for (const axis of [0, 1, 2] as const) nnz *= axisPairs(window, axis, Math.ceil(extents[axis] / tile[axis]), tile[axis]);
  return nnz;
}
