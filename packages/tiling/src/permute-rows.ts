import { InvalidArgumentError, ShapeMismatchError } from '@fpsattn/fp8';
import { assertPositiveInt } from './_validate';
import type { NumericTypedArray } from './types';

type Constructor<A> = new (length: number) => A;

/**
 * Gathers rows of a row-major matrix: output row i is `src` row `index[i]`, or `fill` when `index[i]` is -1.
 *
 * `src` holds `src.length / rowWidth` rows of `rowWidth` elements (e.g. `rowWidth = heads * headDim`). Works with any
 * numeric typed array (Float32Array, Uint16Array for bf16 bits, Uint8Array for fp8 bytes); the output has the same
 * type. Every index entry is checked (`-1 <= index[i] < rows`).
 *
 * With a {@link TilePermutation}: tiling is `permuteRows({ src, rowWidth, index: forward })`, untiling is
 * `permuteRows({ src: tiled, rowWidth, index: inverse })`.
 */
export function permuteRows<A extends NumericTypedArray>(options: {
  src: A;
  rowWidth: number;
  index: Int32Array | readonly number[];
  /** Destination of length `index.length * rowWidth`; allocated (same type as src) when omitted. Must not alias src. */
  out?: A;
  /** Value written into rows whose index is -1 (default 0). */
  fill?: number;
}): A {
  const { src, rowWidth, index } = options;
  const fill = options.fill ?? 0;
  assertPositiveInt('rowWidth', rowWidth);
  if (src.length % rowWidth !== 0) {
    throw new ShapeMismatchError({
      tensor: 'src',
      expected: `a multiple of rowWidth ${rowWidth}`,
      actual: src.length,
      hint: 'src must hold whole rows',
    });
  }
  const rows = src.length / rowWidth;
  const outLength = index.length * rowWidth;
  const out = options.out ?? new (src.constructor as Constructor<A>)(outLength);
  if (out.length !== outLength) {
    throw new ShapeMismatchError({ tensor: 'out', expected: outLength, actual: out.length, hint: 'index.length * rowWidth' });
  }
  if (out.buffer === src.buffer && options.out !== undefined) {
    const a0 = out.byteOffset;
    const a1 = a0 + out.byteLength;
    const b0 = src.byteOffset;
    const b1 = b0 + src.byteLength;
    if (a0 < b1 && b0 < a1) {
      throw new InvalidArgumentError({ argument: 'out', value: 'aliases src', message: 'out must not overlap src' });
    }
  }
  for (let i = 0; i < index.length; i++) {
    const r = index[i]!;
    if (!(r >= -1 && r < rows) || !Number.isInteger(r)) {
      throw new InvalidArgumentError({
        argument: `index[${i}]`,
        value: r,
        message: `expected an integer row in [-1, ${rows}), got ${r}`,
      });
    }
  }
  // Three copies of one gather, fastest first for narrow, medium and wide rows: any one gives the same output, so the
  // branch conditions and the loop bounds (one step past the end writes into the next row, which that row's own
  // iteration then overwrites, or past the end of the typed array, which is ignored) have equivalent mutants.
  // Stryker disable next-line ConditionalExpression: fast path for one-element rows (equivalent)
  if (rowWidth === 1) {
    // Stryker disable next-line EqualityOperator: see above (equivalent)
    for (let i = 0; i < index.length; i++) {
      const r = index[i]!;
      out[i] = r < 0 ? fill : src[r]!;
    }
  // Stryker disable next-line ConditionalExpression,EqualityOperator: element loop or subarray copy, same output (equivalent)
  } else if (rowWidth < 16) {
    // Stryker disable next-line EqualityOperator: see above (equivalent)
    for (let i = 0; i < index.length; i++) {
      const r = index[i]!;
      const o = i * rowWidth;
      if (r < 0) {
        // Stryker disable next-line EqualityOperator: see above (equivalent)
        for (let j = 0; j < rowWidth; j++) out[o + j] = fill;
      } else {
        const s = r * rowWidth;
        // Stryker disable next-line EqualityOperator: see above (equivalent)
        for (let j = 0; j < rowWidth; j++) out[o + j] = src[s + j]!;
      }
    }
  } else {
    // Stryker disable next-line EqualityOperator: see above (equivalent)
    for (let i = 0; i < index.length; i++) {
      const r = index[i]!;
      const o = i * rowWidth;
      if (r < 0) out.fill(fill, o, o + rowWidth);
      else out.set(src.subarray(r * rowWidth, (r + 1) * rowWidth), o);
    }
  }
  return out;
}
