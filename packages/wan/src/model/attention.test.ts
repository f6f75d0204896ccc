import { describe, expect, it } from 'vitest';
import { denseAttention } from './attention';

describe('denseAttention', () => {
  it('is softmax(q k^T / sqrt(d)) v per head, heads as column blocks', () => {
    const [queries, keys, numHeads, headDim] = [3, 5, 2, 4];
    const width = numHeads * headDim;
    const fill = (n: number, a: number): Float32Array => Float32Array.from({ length: n }, (_, i) => Math.fround(Math.sin(i * a) * 2));
    const q = fill(queries * width, 0.7);
    const k = fill(keys * width, 1.3);
    const v = fill(keys * width, 0.4);
    const out = denseAttention({ q, k, v, queries, keys, numHeads, headDim });
    for (let h = 0; h < numHeads; h++) {
      for (let i = 0; i < queries; i++) {
        const logits = Array.from({ length: keys }, (_, j) => {
          let dot = 0;
          for (let d = 0; d < headDim; d++) dot += (q[i * width + h * headDim + d] as number) * (k[j * width + h * headDim + d] as number);
          return dot / Math.sqrt(headDim);
        });
        const weights = logits.map((l) => Math.exp(l));
        const total = weights.reduce((a, b) => a + b);
        for (let d = 0; d < headDim; d++) {
          const expected = weights.reduce((a, p, j) => a + (p / total) * (v[j * width + h * headDim + d] as number), 0);
          expect(out[i * width + h * headDim + d]).toBeCloseTo(expected, 6);
        }
      }
    }
  });

  it('stays finite for large logits (the max is subtracted)', () => {
    const q = new Float32Array(4).fill(100);
    const k = new Float32Array(8).fill(100);
    const v = Float32Array.from([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(Array.from(denseAttention({ q, k, v, queries: 1, keys: 2, numHeads: 1, headDim: 4 }))).toEqual([3, 4, 5, 6]);
  });
});
