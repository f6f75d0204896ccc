import { describe, expect, it } from 'vitest';
import { patchEmbedding } from './patch-embedding';
import { unpatchify } from './unpatchify';

const ramp = (n: number, scale: number): Float32Array => Float32Array.from({ length: n }, (_, i) => Math.fround(Math.cos(i * scale)));

describe('patchEmbedding', () => {
  it('is token(f, h, w)[o] = b[o] + sum W[o, c, 0, ph, pw] x[c, f, 2h + ph, 2w + pw] (wan21-architecture.md 1.5)', () => {
    const [C, F, H, W, dim] = [3, 2, 4, 6, 5];
    const latents = ramp(C * F * H * W, 0.11);
    const weight = ramp(dim * C * 4, 0.23);
    const bias = ramp(dim, 0.7);
    const tokens = patchEmbedding({ latents, latentShape: [C, F, H, W], patchSize: [1, 2, 2], weight, bias, dim });
    expect(tokens.length).toBe(2 * 2 * 3 * dim);
    for (const [f, h, w] of [
      [0, 0, 0],
      [1, 1, 2],
      [1, 0, 1],
    ] as const) {
      const s = (f * 2 + h) * 3 + w;
      for (let o = 0; o < dim; o++) {
        let sum = bias[o] as number;
        for (let c = 0; c < C; c++) {
          for (let ph = 0; ph < 2; ph++) {
            for (let pw = 0; pw < 2; pw++) sum += (weight[((o * C + c) * 2 + ph) * 2 + pw] as number) * (latents[((c * F + f) * H + 2 * h + ph) * W + 2 * w + pw] as number);
          }
        }
        expect(tokens[s * dim + o]).toBeCloseTo(sum, 6);
      }
    }
  });
});

describe('unpatchify', () => {
  it('puts token(f, h, w)[(ph 2 + pw) 16 + c] at out[c, f, 2h + ph, 2w + pw]', () => {
    const grid = [2, 3, 4] as const;
    const tokens = Float32Array.from({ length: 24 * 64 }, (_, i) => i);
    const out = unpatchify({ tokens, grid, patchSize: [1, 2, 2], outDim: 16 });
    expect(out.length).toBe(16 * 2 * 6 * 8);
    for (const [c, f, h, w, ph, pw] of [
      [0, 0, 0, 0, 0, 0],
      [15, 1, 2, 3, 1, 1],
      [7, 1, 1, 0, 0, 1],
    ] as const) {
      expect(out[((c * 2 + f) * 6 + 2 * h + ph) * 8 + 2 * w + pw]).toBe(((f * 3 + h) * 4 + w) * 64 + (ph * 2 + pw) * 16 + c);
    }
    expect(new Set(out).size).toBe(out.length);
  });

  it('follows einsum fhwpqrc->cfphqwr with a temporal patch too', () => {
    const tokens = Float32Array.from({ length: 2 * 1 * 1 * 8 * 2 }, (_, i) => i);
    const out = unpatchify({ tokens, grid: [2, 1, 1], patchSize: [2, 2, 2], outDim: 2 });
    // out[c, f*2 + p, q, r] = token(f)[((p 2 + q) 2 + r) 2 + c]
    expect(out[((1 * 4 + 3) * 2 + 1) * 2 + 0]).toBe(1 * 16 + ((1 * 2 + 1) * 2 + 0) * 2 + 1);
  });
});
