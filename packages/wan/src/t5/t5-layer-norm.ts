import { roundToBfloat16 } from './_bfloat16';
import { allocFloats, roundingOf } from './_floats';
import type { Umt5Floats, Umt5Precision } from './types';

/**
 * T5LayerNorm over the last dimension: an RMSNorm without mean subtraction and without bias,
 * `weight * (x * rsqrt(mean(x^2) + eps))` (wan21-architecture.md 6.2). The statistic runs in float64 (the reference:
 * fp32, 1.7); the normalized value is rounded before the weight multiplies it, as the reference's two products are
 * (bf16: rounded to float32, then to bf16, the weight's dtype).
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
    for (let i = 0; i < width; i++) {
      const x = (input[start + i] as number) * inverseRms;
      // bf16: the fp32 product, cast to the weight's dtype (`type_as`), then the bf16 product with the weight.
      const normalized = precision === 'bfloat16' ? roundToBfloat16(Math.fround(x)) : round(x);
      out[start + i] = round(normalized * (weight[i] as number));
    }
  }
  return out;
}
