import { describe, expect, it } from 'vitest';
import { layerNorm, rmsNorm } from './norms';

const row = Float32Array.from([0.5, -1.25, 3, 0.125, -2, 1]);

describe('layerNorm', () => {
  it('is (x - mean) / sqrt(biased var + eps), optionally * weight + bias, per row', () => {
    const input = new Float32Array([...row, ...row.map((x) => 2 * x + 1)]);
    const mean = row.reduce((a, b) => a + b) / 6;
    const variance = row.reduce((a, b) => a + (b - mean) ** 2, 0) / 6;
    const plain = layerNorm({ input, rows: 2, width: 6, eps: 1e-6 });
    row.forEach((x, i) => expect(plain[i]).toBe(Math.fround((x - mean) / Math.sqrt(variance + 1e-6))));
    // the second row is an affine image of the first: the same normalized values up to eps
    for (let i = 0; i < 6; i++) expect(plain[6 + i]).toBeCloseTo(plain[i] as number, 6);
    const weight = Float32Array.from([1, 2, 3, 4, 5, 6]);
    const bias = Float32Array.from([0.5, 0, 0, 0, 0, -0.5]);
    const affine = layerNorm({ input: row, rows: 1, width: 6, eps: 1e-6, affine: { weight, bias } });
    expect(affine[5]).toBe(Math.fround(((1 - mean) / Math.sqrt(variance + 1e-6)) * 6 - 0.5));
  });
});

describe('rmsNorm', () => {
  it('is (x * rsqrt(mean(x^2) + eps)), rounded to float32, then * weight', () => {
    const weight = Float32Array.from([1.1, 0.9, 1, 1, 1, 1.05]);
    const out = rmsNorm({ input: row, rows: 1, width: 6, eps: 1e-6, weight });
    const inverse = 1 / Math.sqrt(row.reduce((a, b) => a + b * b, 0) / 6 + 1e-6);
    row.forEach((x, i) => expect(out[i]).toBe(Math.fround(Math.fround(x * inverse) * (weight[i] as number))));
  });
});
