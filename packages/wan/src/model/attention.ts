/**
 * Dense multi-head attention on the CPU, `softmax(q k^T / sqrt(headDim)) v` per head, unmasked (wan21-architecture.md
 * 1.4: self-attention keys are every video token, as on one GPU there is no sequence padding; cross-attention keys
 * are all textLen text slots, padded ones included). Scores, softmax and the weighted sum run in float64; the output
 * is rounded to float32.
 */
export function denseAttention(options: {
  /** [queries, numHeads * headDim], heads side by side. */
  q: Float32Array;
  /** [keys, numHeads * headDim]. */
  k: Float32Array;
  /** [keys, numHeads * headDim]. */
  v: Float32Array;
  queries: number;
  keys: number;
  numHeads: number;
  headDim: number;
}): Float32Array {
  const { q, k, v, queries, keys, numHeads, headDim } = options;
  const width = numHeads * headDim;
  const scale = 1 / Math.sqrt(headDim);
  const out = new Float32Array(queries * width);
  const scores = new Float64Array(keys);
  const sum = new Float64Array(headDim);
  for (let h = 0; h < numHeads; h++) {
    const head = h * headDim;
    for (let i = 0; i < queries; i++) {
      const qi = i * width + head;
      let max = -Infinity;
      for (let j = 0; j < keys; j++) {
        const kj = j * width + head;
        let dot = 0;
        for (let d = 0; d < headDim; d++) dot += (q[qi + d] as number) * (k[kj + d] as number);
        const score = dot * scale;
        scores[j] = score;
        if (score > max) max = score;
      }
      let total = 0;
      sum.fill(0);
      for (let j = 0; j < keys; j++) {
        const p = Math.exp((scores[j] as number) - max);
        total += p;
        const vj = j * width + head;
        for (let d = 0; d < headDim; d++) sum[d] = (sum[d] as number) + p * (v[vj + d] as number);
      }
      for (let d = 0; d < headDim; d++) out[qi + d] = (sum[d] as number) / total;
    }
  }
  return out;
}
