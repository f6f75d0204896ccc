import { allocFloats, roundingOf } from './_floats';
import type { Umt5Floats, Umt5Precision } from './types';

/**
 * T5LayerNorm over the last dimension: an RMSNorm without mean subtraction and without bias,
 * `weight * (x * rsqrt(mean(x^2) + eps))` (wan21-architecture.md 6.2). The statistic runs in float64 (the reference:
 * fp32, 1.7); in float32 the normalized value is rounded before the weight multiplies it, as the reference's two
 * float32 products are.
 */
export function t5LayerNorm(options: {
  /** [rows, width], row-major. */
  input: Umt5Floats;
  rows: number;
  width: number;
  eps: number;
  weight: Float32Array;
  precision: Umt5Precision;
}): Umt5Floats {
  const { input, rows, width, eps, weight, precision } = options;
  const round = roundingOf(precision);
  const out = allocFloats(precision, rows * width);
  for (let r = 0; r < rows; r++) {
    const start = r * width;
    let squares = 0;
    for (let i = 0; i < width; i++) squares += (input[start + i] as number) ** 2;
    const inverseRms = 1 / Math.sqrt(squares / width + eps);
    for (let i = 0; i < width; i++) out[start + i] = round((input[start + i] as number) * inverseRms) * (weight[i] as number);
  }
  return out;
}
