import { assertInt32Count } from './_validate';
import { blockMaskNnz } from './block-mask-nnz';
import type { TileLayout } from './tile-layout';
import { axisRange, validateWindow, type WindowInput, type WindowSpec } from './window-3d';

/**
 * Tile-level attention mask in CSR form (`window` is the validated, normalised window): query tile u attends to key tiles
 * `colIdx[rowPtr[u]] .. colIdx[rowPtr[u+1] - 1]`, sorted ascending. Tile ids follow {@link TileLayout}
 * (tile raster order), so with the padded layout the key block of tile v starts at row `v * blockRows`.
 * `nnz = rowPtr[numQueryTiles]` is the number of dense blocks the kernel runs (the paper's M x |W(u)|).
 *
 * Masks from {@link BlockMaskCache} are shared: treat the arrays as read-only.
 */
export interface BlockMask {
  readonly layout: TileLayout;
  readonly window: WindowSpec;
  readonly numQueryTiles: number;
  readonly numKeyTiles: number;
  readonly rowPtr: Int32Array;
  readonly colIdx: Int32Array;
  readonly nnz: number;
}

function axisTables(layout: TileLayout, window: WindowSpec, axis: 0 | 1 | 2): { start: Int32Array; end: Int32Array } {
  const n = layout.tilesPerAxis[axis];
  const start = new Int32Array(n);
  const end = new Int32Array(n);
  // Stryker disable next-line EqualityOperator: one more iteration only reads undefined entries and writes past the end of typed arrays, which JavaScript ignores (equivalent)
  for (let c = 0; c < n; c++) {
    const [s, e] = axisRange(window, axis, c, n, layout.tile[axis]);
    start[c] = s;
    end[c] = e;
  }
  return { start, end };
}

/**
 * Builds the CSR block mask of a window over a tile layout in O(numTiles + nnz). The window is a box in tile
 * coordinates, so each row is emitted by three nested loops (t, h, w), which yields ascending tile ids directly.
 * Throws an InvalidArgumentError (argument `window`) before allocating when the mask would hold more than
 * 2^31 - 1 key tiles (see {@link blockMaskNnz}).
 */
export function buildBlockMask(options: { layout: TileLayout; window: WindowInput }): BlockMask {
  const { layout } = options;
  const window = validateWindow(options.window);
  const expectedNnz = blockMaskNnz({ grid: layout.grid, tile: layout.tile, window });
  assertInt32Count({
    argument: 'window',
    value: window,
    count: expectedNnz,
    what: `the block mask would hold ${expectedNnz} key tiles (${layout.numTiles} query tiles)`,
    fix: 'use larger tiles or a smaller window',
  });
  const [nt, nh, nw] = layout.tilesPerAxis;
  const T = axisTables(layout, window, 0);
  const H = axisTables(layout, window, 1);
  const W = axisTables(layout, window, 2);
  const numTiles = layout.numTiles;
  const rowPtr = new Int32Array(numTiles + 1);
  let u = 0;
  let nnz = 0;
  for (let ct = 0; ct < nt; ct++) {
    const lt = T.end[ct]! - T.start[ct]!;
    for (let ch = 0; ch < nh; ch++) {
      const lth = lt * (H.end[ch]! - H.start[ch]!);
      for (let cw = 0; cw < nw; cw++) {
        nnz += lth * (W.end[cw]! - W.start[cw]!);
        rowPtr[++u] = nnz;
      }
    }
  }
  const colIdx = new Int32Array(nnz);
  let k = 0;
  // Stryker disable next-line EqualityOperator: a query tile coordinate past the end reads undefined ranges, so its key loops run zero times (equivalent)
  for (let ct = 0; ct < nt; ct++) {
    const t0 = T.start[ct]!;
    const t1 = T.end[ct]!;
    // Stryker disable next-line EqualityOperator: as above
    for (let ch = 0; ch < nh; ch++) {
      const h0 = H.start[ch]!;
      const h1 = H.end[ch]!;
      // Stryker disable next-line EqualityOperator: as above
      for (let cw = 0; cw < nw; cw++) {
        const w0 = W.start[cw]!;
        const w1 = W.end[cw]!;
        for (let kt = t0; kt < t1; kt++) {
          for (let kh = h0; kh < h1; kh++) {
            const base = (kt * nh + kh) * nw;
            for (let kw = w0; kw < w1; kw++) colIdx[k++] = base + kw;
          }
        }
      }
    }
  }
  return Object.freeze({ layout, window, numQueryTiles: numTiles, numKeyTiles: numTiles, rowPtr, colIdx, nnz });
}

/** Key tiles of query tile `tile` (a view into `mask.colIdx`, sorted ascending). No bounds check. */
export function keyTilesOf(options: { mask: BlockMask; tile: number }): Int32Array {
  const { mask, tile } = options;
  return mask.colIdx.subarray(mask.rowPtr[tile]!, mask.rowPtr[tile + 1]!);
}
