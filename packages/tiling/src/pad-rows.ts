import { ShapeMismatchError } from '@fpsattn/fp8';
import { assertPositiveInt } from './_validate';
import type { PaddedTileLayout } from './padded-tile-layout';
import { permuteRows } from './permute-rows';
import type { NumericTypedArray } from './types';

/**
 * Raster order -> padded tile-major order (`[numRows, rowWidth]`): slot s = `src` row `slotToToken[s]`, padding
 * slots = `fill` (default 0).
 */
export function padRows<A extends NumericTypedArray>(options: {
  padded: PaddedTileLayout;
  src: A;
  rowWidth: number;
  out?: A;
  fill?: number;
}): A {
  const { padded, src, rowWidth, out, fill } = options;
  assertPositiveInt('rowWidth', rowWidth); // before the length check, so a bad rowWidth is named
  const numTokens = padded.layout.grid.numTokens;
  if (src.length !== numTokens * rowWidth) {
    throw new ShapeMismatchError({ tensor: 'src', expected: `${numTokens} x ${rowWidth}`, actual: src.length });
  }
  return permuteRows({ src, rowWidth, index: padded.slotToToken, out, fill });
}

/** Padded tile-major order -> raster order, dropping padding: row r = `src` slot `tokenToSlot[r]`. Inverts {@link padRows}. */
export function unpadRows<A extends NumericTypedArray>(options: {
  padded: PaddedTileLayout;
  src: A;
  rowWidth: number;
  out?: A;
}): A {
  const { padded, src, rowWidth, out } = options;
  assertPositiveInt('rowWidth', rowWidth); // before the length check, so a bad rowWidth is named
  if (src.length !== padded.numRows * rowWidth) {
    throw new ShapeMismatchError({ tensor: 'src', expected: `${padded.numRows} x ${rowWidth}`, actual: src.length });
  }
  return permuteRows({ src, rowWidth, index: padded.tokenToSlot, out });
}
