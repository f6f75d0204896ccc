import type { Umt5Floats, Umt5Precision } from './types';

/** A zeroed activation array of `precision`. */
export function allocFloats(precision: Umt5Precision, length: number): Umt5Floats {
  return precision === 'float64' ? new Float64Array(length) : new Float32Array(length);
}

/** The rounding of one stored intermediate of `precision`: `Math.fround` for float32, none for float64. */
export function roundingOf(precision: Umt5Precision): (x: number) => number {
  return precision === 'float64' ? (x: number) => x : Math.fround;
}
