import { allocFloats, roundingOf } from './_floats';
import type { Umt5Floats, Umt5Precision } from './types';

/**
 * T5 self-attention core on the CPU for one sequence of real tokens: per head h,
 * `softmax_j(q_i . k_j + bias[bucket(j - i), h]) v_j` with NO 1/sqrt(headDim) scaling (T5 folds it into the
 * weights, wan21-architecture.md 6.2). Scores, softmax and the weighted sums run in float64; the scores, the
 * probabilities and the output are rounded to `precision` where the reference stores them. Padded keys are not passed at all: the reference masks them with the dtype's lowest value, which
 * gives them exactly zero weight, so the real rows are the same.
 */
export function t5Attention(options: {
  /** [length, numHeads * headDim], heads side by side (the `view(b, -1, n, c)` of the reference). */
  q: Umt5Floats;
  k: Umt5Floats;
  v: Umt5Floats;
  length: number;
  numHeads: number;
  headDim: number;
  /** `blocks.{i}.pos_embedding.embedding.weight`, [numBuckets, numHeads]. */
  biasTable: Float32Array;
  /** bucket(j - i) at [i * length + j] (relative-position-bucket.ts). */
  buckets: Int32Array;
  precision: Umt5Precision;
}): Umt5Floats {
  const { q, k, v, length, numHeads, headDim, biasTable, buckets } = options;
  const width = numHeads * headDim;
  const round = roundingOf(options.precision);
  const out = allocFloats(options.precision, length * width);
  const scores = new Float64Array(length);
  const sum = new Float64Array(headDim);
  for (let h = 0; h < numHeads; h++) {
    const head = h * headDim;
    for (let i = 0; i < length; i++) {
      const qi = i * width + head;
      let max = -Infinity;
      for (let j = 0; j < length; j++) {
        const kj = j * width + head;
        let dot = 0;
        for (let d = 0; d < headDim; d++) dot += (q[qi + d] as number) * (k[kj + d] as number);
        // The reference: einsum output in the activation dtype, plus the bias in that dtype.
        const score = round(round(dot) + (biasTable[(buckets[i * length + j] as number) * numHeads + h] as number));
        scores[j] = score;
        if (score > max) max = score;
      }
      let total = 0;
      for (let j = 0; j < length; j++) {
        const e = Math.exp((scores[j] as number) - max);
        scores[j] = e;
        total += e;
      }
      sum.fill(0);
      for (let j = 0; j < length; j++) {
        // Softmax in wide precision, the probabilities cast back to the activation dtype (`.type_as(attn)`).
        const p = round((scores[j] as number) / total);
        const vj = j * width + head;
        for (let d = 0; d < headDim; d++) sum[d] = (sum[d] as number) + p * (v[vj + d] as number);
      }
      for (let d = 0; d < headDim; d++) out[qi + d] = round(sum[d] as number);
    }
  }
  return out;
}
