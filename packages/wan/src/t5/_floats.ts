import { roundToBfloat16 } from './_bfloat16';
import type { Umt5Floats, Umt5Precision } from './types';

/** A zeroed activation array of `precision`. */
export function allocFloats(precision: Umt5Precision, length: number): Umt5Floats {
  return precision === 'float64' ? new Float64Array(length) : new Float32Array(length);
}

const identity = (x: number): number => x;

/** The rounding of one stored intermediate of `precision`: none for float64, `Math.fround`, bfloat16's. */
export function roundingOf(precision: Umt5Precision): (x: number) => number {
  if (precision === 'float64') return identity;
  return precision === 'bfloat16' ? roundToBfloat16 : Math.fround;
}
