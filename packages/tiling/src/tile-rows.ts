import { ShapeMismatchError } from '@fpsattn/fp8';
import { assertPositiveInt } from './_validate';
import { permuteRows } from './permute-rows';
import type { TilePermutation } from './tile-permutation';
import type { NumericTypedArray } from './types';

function checkRows(tensor: string, src: NumericTypedArray, rowWidth: number, numTokens: number): void {
  assertPositiveInt('rowWidth', rowWidth); // first, so a bad rowWidth is named instead of a length mismatch
  if (src.length !== numTokens * rowWidth) {
    throw new ShapeMismatchError({
      tensor,
      expected: `${numTokens} tokens x ${rowWidth} = ${numTokens * rowWidth}`,
      actual: src.length,
    });
  }
}

/**
 * Raster order -> compact tile-major order: `out` row i = `src` row `permutation.forward[i]`.
 * `src` is `[numTokens, rowWidth]` in Wan's raster order (w fastest, then h, then t).
 */
export function tileRows<A extends NumericTypedArray>(options: {
  permutation: TilePermutation;
  src: A;
  rowWidth: number;
  out?: A;
}): A {
  const { permutation, src, rowWidth, out } = options;
  checkRows('src', src, rowWidth, permutation.layout.grid.numTokens);
  return permuteRows({ src, rowWidth, index: permutation.forward, out });
}

/** Compact tile-major order -> raster order: `out` row r = `src` row `permutation.inverse[r]`. Inverts {@link tileRows}. */
export function untileRows<A extends NumericTypedArray>(options: {
  permutation: TilePermutation;
  src: A;
  rowWidth: number;
  out?: A;
}): A {
  const { permutation, src, rowWidth, out } = options;
  checkRows('src', src, rowWidth, permutation.layout.grid.numTokens);
  return permuteRows({ src, rowWidth, index: permutation.inverse, out });
}
