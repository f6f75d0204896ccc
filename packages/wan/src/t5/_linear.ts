import { allocFloats, roundingOf } from './_floats';
import type { Umt5Floats, Umt5Precision } from './types';

/**
 * A bias-free PyTorch `Linear` on the CPU, `out[r, o] = sum_i weight[o, i] * input[r, i]`, weight row-major
 * [outFeatures, inFeatures]; each sum runs in float64 and is rounded once to `precision` (bf16: the reference's GEMMs accumulate wider and round the output).
 */
export function linearNoBias(options: {
  /** [rows, inFeatures], row-major. */
  input: Umt5Floats;
  rows: number;
  inFeatures: number;
  outFeatures: number;
  weight: Float32Array;
  precision: Umt5Precision;
}): Umt5Floats {
  const { input, rows, inFeatures, outFeatures, weight } = options;
  const out = allocFloats(options.precision, rows * outFeatures);
  const round = roundingOf(options.precision);
  for (let r = 0; r < rows; r++) {
    const x = r * inFeatures;
    for (let o = 0; o < outFeatures; o++) {
      const w = o * inFeatures;
      let sum = 0;
      let sum2 = 0;
      let i = 0;
      // Two partial sums: shorter dependency chains (as model/linear.ts); both float64.
      for (; i + 1 < inFeatures; i += 2) {
        sum += (weight[w + i] as number) * (input[x + i] as number);
        sum2 += (weight[w + i + 1] as number) * (input[x + i + 1] as number);
      }
      if (i < inFeatures) sum += (weight[w + i] as number) * (input[x + i] as number);
      out[r * outFeatures + o] = round(sum + sum2);
    }
  }
  return out;
}
