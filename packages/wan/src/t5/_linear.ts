import { dot } from '../model/linear';
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
    for (let o = 0; o < outFeatures; o++) out[r * outFeatures + o] = round(dot(input, x, weight, o * inFeatures, inFeatures));
  }
  return out;
}
