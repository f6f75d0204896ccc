import { InvalidArgumentError } from '@fpsattn/fp8';
import { describe, expect, it } from 'vitest';
import { fakeDitBackend, handleOf } from '../_test/fake-dit-ops';
import { thrown } from '../_test/thrown';
import { CpuBackend } from '../cpu/backend';
import { bitsEqual, seededRandom } from '../testing';
import { PATCH_MAX_LENGTH } from './_patch-checks';
import { UNPATCHIFY, unpatchify, unpatchifyCpu } from './unpatchify';

type Triple = [number, number, number];

/** Random float32 bit patterns, NaNs with several payloads among them (a copy must keep them). */
function randomTokens(n: number, seed: number): Float32Array {
  const rnd = seededRandom(seed);
  const u = Uint32Array.from({ length: n }, () => (rnd() < 0.03 ? [0x7fc00000, 0xffc00001, 0x7f800123, 0x7fbfffff][Math.floor(rnd() * 4)]! : Math.floor(rnd() * 2 ** 32)));
  return new Float32Array(u.buffer);
}

/**
 * The definition, video element by video element: out[b, c, f, y, x] is token (b, (f / pt) H' + y / ph) W' + x / pw)'s
 * value ((f % pt) ph + y % ph) pw + x % pw) outDim + c (integer divisions); returned as 32-bit words.
 */
function bruteForce(tokens: Float32Array, items: number, grid: Triple, patch: Triple, outDim: number): Uint32Array {
  const [pt, ph, pw] = patch;
  const [F, H, W] = [grid[0] * pt, grid[1] * ph, grid[2] * pw];
  const perToken = pt * ph * pw * outDim;
  const words = new Uint32Array(tokens.buffer, tokens.byteOffset, tokens.length);
  const out = new Uint32Array(items * outDim * F * H * W);
  let i = 0;
  for (let b = 0; b < items; b++)
    for (let c = 0; c < outDim; c++)
      for (let f = 0; f < F; f++)
        for (let y = 0; y < H; y++)
          for (let x = 0; x < W; x++) {
            const token = b * grid[0] * grid[1] * grid[2] + (Math.floor(f / pt) * grid[1] + Math.floor(y / ph)) * grid[2] + Math.floor(x / pw);
            const feature = (((f % pt) * ph + (y % ph)) * pw + (x % pw)) * outDim + c;
            out[i++] = words[token * perToken + feature]!;
          }
  return out;
}

const words = (a: Float32Array) => new Uint32Array(a.buffer, a.byteOffset, a.length);
const PATCHES: Triple[] = [1, 2, 3].flatMap((pt) => [1, 2, 3].flatMap((ph) => [1, 2, 3].map((pw): Triple => [pt, ph, pw])));

describe('unpatchifyCpu', () => {
  it.each(PATCHES)('matches the definition bit for bit for patch [%i, %i, %i] on a ragged grid of 2 items', (pt, ph, pw) => {
    const grid: Triple = [2, 3, 5];
    const outDim = 3;
    const tokens = randomTokens(2 * 30 * pt * ph * pw * outDim, 200 + pt * 9 + ph * 3 + pw);
    const out = unpatchifyCpu({ tokens, items: 2, grid, patchSize: [pt, ph, pw], outDim });
    expect(out.length).toBe(2 * outDim * 2 * pt * 3 * ph * 5 * pw);
    expect(bitsEqual(words(out), bruteForce(tokens, 2, grid, [pt, ph, pw], outDim))).toBe(-1);
  });

  it('keeps NaN payloads and writes into a given array (Wan: 16 channels, patch [1, 2, 2])', () => {
    const grid: Triple = [3, 2, 4];
    const tokens = randomTokens(24 * 64, 5);
    words(tokens)[17] = 0x7fa00001; // token 0, value 17 = (dw 1) x 16 + channel 1 -> out[0, 1, 0, 0, 1]
    const out = new Float32Array(16 * 3 * 4 * 8).fill(-1);
    expect(unpatchifyCpu({ tokens, items: 1, grid, patchSize: [1, 2, 2], outDim: 16, out })).toBe(out);
    expect(words(out)[3 * 4 * 8 + 1]).toBe(0x7fa00001);
    expect(bitsEqual(words(out), bruteForce(tokens, 1, grid, [1, 2, 2], 16))).toBe(-1);
  });
});

describe('unpatchify', () => {
  const backend = new CpuBackend();

  it('unpatchifies on the backend of tokens into a new f32 tensor [items, outDim, F, H, W]', () => {
    const host = randomTokens(2 * 12 * 128, 6);
    const tokens = backend.fromArray(host, [24, 128], 'f32', { name: 'head' });
    const out = unpatchify({ tokens, grid: [1, 3, 4], patchSize: [2, 2, 2], outDim: 16 });
    expect(out.shape).toEqual([2, 16, 2, 6, 8]);
    expect(out.dtype).toBe('f32');
    expect(out.name).toBe('head.video');
    expect(bitsEqual(words(out.downloadSync()), bruteForce(host, 2, [1, 3, 4], [2, 2, 2], 16))).toBe(-1);
    const into = backend.empty([1, 16, 4, 6, 8], 'f32');
    expect(unpatchify({ tokens, grid: [2, 3, 4], patchSize: [2, 2, 2], outDim: 16, out: into })).toBe(into);
    expect(bitsEqual(words(into.downloadSync()), bruteForce(host, 1, [2, 3, 4], [2, 2, 2], 16))).toBe(-1);
  });

  it('refuses bad tokens, grids, patch sizes, outDim and outputs by name', () => {
    const tokens = backend.empty([24, 64], 'f32', { name: 'head' });
    const good = { tokens, grid: [2, 3, 4] as Triple, patchSize: [1, 2, 2] as Triple, outDim: 16 };
    expect(thrown(() => unpatchify({ ...good, tokens: backend.empty([24, 64], 'bf16') as never }))).toMatchObject({ tensor: 'tokens', expected: 'dtype f32' });
    expect(thrown(() => unpatchify({ ...good, tokens: backend.empty([24, 4, 16], 'f32') }))).toMatchObject({ tensor: 'tokens', actual: '[24, 4, 16]' });
    expect(thrown(() => unpatchify({ ...good, tokens: backend.empty([24, 60], 'f32') }))).toMatchObject({ tensor: 'tokens', actual: '[24, 60]' });
    expect(thrown(() => unpatchify({ ...good, tokens: backend.empty([36, 64], 'f32') }))).toMatchObject({ tensor: 'tokens', expected: expect.stringContaining('whole batch items') });
    expect(thrown(() => unpatchify({ ...good, tokens: backend.empty([0, 64], 'f32') }))).toMatchObject({ tensor: 'tokens', actual: '[0, 64]' });
    expect(thrown(() => unpatchify({ ...good, outDim: 8 }))).toMatchObject({ tensor: 'tokens', expected: expect.stringContaining('[items x 24, 32]') });
    for (const grid of [[2, 3], [2, 0, 4], [2, 3, 4.5], undefined]) expect(thrown(() => unpatchify({ ...good, grid: grid as never }))).toMatchObject({ argument: 'grid' });
    for (const patchSize of [[1, 2, 2, 1], [0, 2, 2]]) expect(thrown(() => unpatchify({ ...good, patchSize: patchSize as never }))).toMatchObject({ argument: 'patchSize' });
    for (const outDim of [0, 2.5, Number.NaN]) expect(thrown(() => unpatchify({ ...good, outDim }))).toBeInstanceOf(InvalidArgumentError);
    const outDim = PATCH_MAX_LENGTH / 4 + 1;
    expect(thrown(() => unpatchify({ ...good, tokens: backend.empty([24, 4 * outDim], 'f32'), outDim }))).toMatchObject({ tensor: 'tokens', actual: `${outDim} x 1 x 2 x 2 = ${4 * outDim}` });
    expect(thrown(() => unpatchify({ ...good, out: backend.empty([1, 16, 2, 6, 4], 'f32') }))).toMatchObject({ tensor: 'out', expected: '[1, 16, 2, 6, 8]' });
    const shared = backend.empty([24 * 64], 'f32');
    expect(thrown(() => unpatchify({ ...good, tokens: shared.reshape([24, 64]), out: shared.reshape([1, 16, 2, 6, 8]) }))).toMatchObject({ argument: 'out' });
  });

  it('sends the declared params on CUDA (fake addon)', () => {
    const { backend: be, opCalls } = fakeDitBackend();
    const tokens = be.empty([2 * 21 * 45 * 80, 64], 'f32');
    const out = unpatchify({ tokens, grid: [21, 45, 80], patchSize: [1, 2, 2], outDim: 16 });
    expect(out.shape).toEqual([2, 16, 21, 90, 160]);
    expect(opCalls).toHaveLength(1);
    expect(Object.keys(opCalls[0]!.params)).toEqual(Object.keys(UNPATCHIFY.fields));
    const bytes = 2 * 16 * 21 * 90 * 160 * 4;
    expect(opCalls[0]!.params).toMatchObject({
      tokens: { handle: handleOf(tokens), byteOffset: 0, byteLength: bytes },
      out: { handle: handleOf(out), byteOffset: 0, byteLength: bytes },
      items: 2,
      channels: 16,
      gridF: 21,
      gridH: 45,
      gridW: 80,
      pt: 1,
      ph: 2,
      pw: 2,
    });
  });
});
