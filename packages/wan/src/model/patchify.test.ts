// patchify and unpatchify against their definitions (wan21-architecture.md 1.5), element by element, with a patch
// size other than Wan's (2, 2, 3) so that every axis's patch index matters.
import { describe, expect, it } from 'vitest';
import { patchify } from './patch-embedding';
import { unpatchify } from './unpatchify';

const patchSize = [2, 2, 3] as const;
const [C, F, H, W] = [3, 4, 6, 9];
const grid = [F / 2, H / 2, W / 3] as const;

describe('patchify / unpatchify', () => {
  it('patchify puts latent (c, f, y, x) at feature ((c pt + f%pt) ph + y%ph) pw + x%pw of token (f/pt, y/ph, x/pw)', () => {
    const latents = Float32Array.from({ length: C * F * H * W }, (_, i) => i + 0.5);
    const patches = patchify({ latents, latentShape: [C, F, H, W], patchSize });
    const perToken = C * 2 * 2 * 3;
    for (let c = 0; c < C; c++)
      for (let f = 0; f < F; f++)
        for (let y = 0; y < H; y++)
          for (let x = 0; x < W; x++) {
            const token = (Math.floor(f / 2) * grid[1] + Math.floor(y / 2)) * grid[2] + Math.floor(x / 3);
            const feature = ((c * 2 + (f % 2)) * 2 + (y % 2)) * 3 + (x % 3);
            expect(patches[token * perToken + feature]).toBe(latents[((c * F + f) * H + y) * W + x]);
          }
  });

  it('unpatchify reads out[c, f pt + a, y ph + b, x pw + d] from token (f, y, x) feature ((a ph + b) pw + d) outDim + c', () => {
    const outDim = 2;
    const perToken = 2 * 2 * 3 * outDim;
    const tokens = Float32Array.from({ length: grid[0] * grid[1] * grid[2] * perToken }, (_, i) => i * 0.25);
    const out = unpatchify({ tokens, grid, patchSize, outDim });
    expect(out.length).toBe(outDim * F * H * W);
    for (let c = 0; c < outDim; c++)
      for (let f = 0; f < F; f++)
        for (let y = 0; y < H; y++)
          for (let x = 0; x < W; x++) {
            const token = (Math.floor(f / 2) * grid[1] + Math.floor(y / 2)) * grid[2] + Math.floor(x / 3);
            const feature = (((f % 2) * 2 + (y % 2)) * 3 + (x % 3)) * outDim + c;
            expect(out[((c * F + f) * H + y) * W + x]).toBe(tokens[token * perToken + feature]);
          }
  });
});
