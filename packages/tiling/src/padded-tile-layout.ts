import { InvalidArgumentError } from '@fpsattn/fp8';
import { assertInt32Count, assertPositiveInt } from './_validate';
import type { TileLayout } from './tile-layout';
import type { TilePermutation } from './tile-permutation';
import { createTilePermutation } from './tile-permutation';

/**
 * Tile-major layout with every tile padded to the same number of rows, `blockRows`.
 *
 * `blockRows = ceil(layout.tileTokens / rowMultiple) * rowMultiple` is the padded size of a *full* tile and is used
 * for every tile, partial ones included. A uniform block size is what kernels want: tile u starts at row
 * `u * blockRows`, so a block id is a tile id and no offset table is needed on the device. Slots past a tile's real
 * tokens are padding.
 *
 * - `slotToToken[s]`: raster token index held by slot s, or -1 for a padding slot.
 * - `valid[s]`: 1 for a real slot, 0 for padding.
 * - `tokenToSlot[r]`: padded slot of raster token r.
 * - `overhead = numRows / numTokens` (1 when nothing is padded). It is also the ratio of padded to real query
 *   rows; attention over padded blocks costs up to `overhead^2` of the real-pair FLOPs.
 */
export interface PaddedTileLayout {
  readonly layout: TileLayout;
  readonly rowMultiple: number;
  readonly blockRows: number;
  readonly numRows: number;
  readonly paddingRows: number;
  readonly overhead: number;
  readonly slotToToken: Int32Array;
  readonly tokenToSlot: Int32Array;
  readonly valid: Uint8Array;
}

/**
 * Padded size of a full tile: `ceil(tileTokens / rowMultiple) * rowMultiple` (no validation: the callers check).
 *
 * @example paddedBlockRows({ tileTokens: 120, rowMultiple: 128 }) // 128
 */
export function paddedBlockRows(options: { tileTokens: number; rowMultiple: number }): number {
  return Math.ceil(options.tileTokens / options.rowMultiple) * options.rowMultiple;
}

/** Same tile layout: the same object, or the same grid and tile shape (then every derived table is equal too). */
function sameLayout(a: TileLayout, b: TileLayout): boolean {
  // Stryker disable next-line ConditionalExpression: a shortcut: the same object also passes the field comparisons below (equivalent)
  if (a === b) return true;
  const [ga, gb] = [a.grid, b.grid];
  return (
    ga.frames === gb.frames &&
    ga.height === gb.height &&
    ga.width === gb.width &&
    a.tile[0] === b.tile[0] &&
    a.tile[1] === b.tile[1] &&
    a.tile[2] === b.tile[2]
  );
}

const layoutName = (l: TileLayout) => `grid ${l.grid.frames}x${l.grid.height}x${l.grid.width}, tile ${l.tile.join('x')}`;

/**
 * Builds the padded layout (e.g. `rowMultiple: 128` for 128-row attention blocks). Throws an InvalidArgumentError
 * when `permutation` belongs to another layout, or (before allocating) when the layout would need more than
 * 2^31 - 1 rows (Int32 slot indices).
 */
export function createPaddedTileLayout(options: {
  layout: TileLayout;
  rowMultiple: number;
  /** Reuse an existing permutation of the same layout (same object, or same grid and tile). */
  permutation?: TilePermutation;
}): PaddedTileLayout {
  const { layout, rowMultiple } = options;
  assertPositiveInt('rowMultiple', rowMultiple);
  if (options.permutation !== undefined && !sameLayout(options.permutation.layout, layout)) {
    throw new InvalidArgumentError({
      argument: 'permutation',
      value: layoutName(options.permutation.layout),
      message: `the permutation was built for ${layoutName(options.permutation.layout)}, not for ${layoutName(layout)}: pass createTilePermutation({ layout }) or omit it`,
    });
  }
  const blockRows = paddedBlockRows({ tileTokens: layout.tileTokens, rowMultiple });
  const numRows = layout.numTiles * blockRows;
  assertInt32Count({
    argument: 'rowMultiple',
    value: rowMultiple,
    count: numRows,
    what: `the padded layout would have ${numRows} rows (${layout.numTiles} tiles x ${blockRows} rows)`,
    fix: 'use a smaller rowMultiple or smaller tiles',
  });
  const permutation = options.permutation ?? createTilePermutation({ layout });
  const slotToToken = new Int32Array(numRows).fill(-1);
  const tokenToSlot = new Int32Array(layout.grid.numTokens);
  const valid = new Uint8Array(numRows);
  const { forward } = permutation;
  // Stryker disable next-line EqualityOperator: one more iteration only reads undefined entries and writes past the end of typed arrays, which JavaScript ignores (equivalent)
  for (let u = 0; u < layout.numTiles; u++) {
    const begin = layout.tileOffsets[u]!;
    const end = layout.tileOffsets[u + 1]!;
    const base = u * blockRows - begin;
    for (let i = begin; i < end; i++) {
      const slot = base + i;
      const r = forward[i]!;
      slotToToken[slot] = r;
      tokenToSlot[r] = slot;
      valid[slot] = 1;
    }
  }
  const numTokens = layout.grid.numTokens;
  return Object.freeze({
    layout,
    rowMultiple,
    blockRows,
    numRows,
    paddingRows: numRows - numTokens,
    overhead: numRows / numTokens,
    slotToToken,
    tokenToSlot,
    valid,
  });
}
