import { InvalidArgumentError } from '@fpsattn/fp8';
import { assertInt32Count } from './_validate';
import { buildBlockMask, type BlockMask } from './block-mask';
import type { TileLayout } from './tile-layout';
import { validateWindow, windowKey, type WindowInput, type WindowSpec } from './window-3d';

/**
 * Block masks for several heads whose windows may differ.
 *
 * - `masks[h]`: the mask of head h; heads with equal windows share one BlockMask object.
 * - `rowPtr`/`colIdx`: all heads packed with a leading [heads] dimension: row `h * numQueryTiles + u` is query tile u
 *   of head h (`rowPtr` has `heads * numQueryTiles + 1` entries), ready for a kernel that indexes by (head, tile).
 */
export interface HeadBlockMasks {
  readonly layout: TileLayout;
  readonly heads: number;
  readonly numQueryTiles: number;
  readonly masks: readonly BlockMask[];
  readonly rowPtr: Int32Array;
  readonly colIdx: Int32Array;
  /** True when every head has the same window (then `masks[0]` describes them all). */
  readonly uniform: boolean;
}

/**
 * Builds one mask per distinct window and packs them per head. Throws an InvalidArgumentError before allocating
 * the packed arrays when they would need more than 2^31 - 1 rows or key tiles (Int32 indices).
 *
 * @example
 * // Masks from a BlockMaskCache (its `get` also takes { layout, window }); an arrow keeps `this` bound:
 * const cache = new BlockMaskCache();
 * buildHeadBlockMasks({ layout, windows, build: (o) => cache.get(o) });
 */
export function buildHeadBlockMasks(options: {
  layout: TileLayout;
  /** One window per head (sizes as `[t, h, w]` or `{ frames, height, width }`). */
  windows: readonly WindowInput[];
  /** Mask builder, e.g. `(o) => cache.get(o)` for a {@link BlockMaskCache}; defaults to {@link buildBlockMask}. */
  build?: (options: { layout: TileLayout; window: WindowSpec }) => BlockMask;
}): HeadBlockMasks {
  const { layout, windows } = options;
  const build = options.build ?? buildBlockMask;
  if (!Array.isArray(windows) || windows.length === 0) {
    throw new InvalidArgumentError({ argument: 'windows', value: windows, message: 'expected one window per head (at least one)' });
  }
  const byKey = new Map<string, BlockMask>();
  const masks = windows.map((input) => {
    const window = validateWindow(input);
    const key = windowKey(window);
    let mask = byKey.get(key);
    if (!mask) {
      mask = build({ layout, window });
      byKey.set(key, mask);
    }
    return mask;
  });
  const numQueryTiles = layout.numTiles;
  const heads = masks.length;
  const totalNnz = masks.reduce((sum, m) => sum + m.nnz, 0);
  assertInt32Count({
    argument: 'windows',
    value: windows,
    count: heads * numQueryTiles + 1,
    what: `the packed mask would have ${heads * numQueryTiles + 1} row pointers (${heads} heads x ${numQueryTiles} query tiles + 1)`,
    fix: 'use larger tiles or fewer heads per mask',
  });
  assertInt32Count({
    argument: 'windows',
    value: windows,
    count: totalNnz,
    what: `the packed mask would hold ${totalNnz} key tiles summed over ${heads} heads`,
    fix: 'use larger tiles, smaller windows or fewer heads per mask',
  });
  const rowPtr = new Int32Array(heads * numQueryTiles + 1);
  const colIdx = new Int32Array(totalNnz);
  let offset = 0;
  masks.forEach((mask, h) => {
    colIdx.set(mask.colIdx, offset);
    const base = h * numQueryTiles;
    for (let u = 1; u <= numQueryTiles; u++) rowPtr[base + u] = offset + mask.rowPtr[u]!;
    offset += mask.nnz;
  });
  return Object.freeze({ layout, heads, numQueryTiles, masks, rowPtr, colIdx, uniform: byKey.size === 1 });
}
