import { InvalidArgumentError, ShapeMismatchError, float32ToBf16Bits } from '@fpsattn/fp8';
import { describe, expect, it } from 'vitest';
import { fakeDitBackend, handleOf } from '../_test/fake-dit-ops';
import { thrown } from '../_test/thrown';
import { CpuBackend } from '../cpu/backend';
import { seededRandom } from '../testing';
import { PATCH_MAX_LENGTH } from './_patch-checks';
import { PATCHIFY, patchify, patchifyCpu } from './patchify';

type Shape5 = [number, number, number, number, number];
type Patch = [number, number, number];

/** Random float32 bit patterns: finite values of every magnitude, with NaN (two payloads), infinities, subnormals. */
function randomLatents(n: number, seed: number): Float32Array {
  const rnd = seededRandom(seed);
  const u = new Uint32Array(n);
  const specials = [0x7fc00000, 0xffbfffff, 0x7f800000, 0xff800000, 0x00000001, 0x807fffff, 0x3f808000, 0x3f818000, 0x7f7fffff];
  for (let i = 0; i < n; i++) u[i] = rnd() < 0.02 ? (specials[Math.floor(rnd() * specials.length)] as number) : Math.floor(rnd() * 2 ** 32);
  return new Float32Array(u.buffer);
}

/**
 * The definition, output element by output element: row b tokens + s, column k of the patches is latents item b % items
 * at channel c, frame f' pt + dt, row h' ph + dh, column w' pw + dw, where s = (f' H' + h') W' + w' and
 * k = ((c pt + dt) ph + dh) pw + dw; rounded to BF16.
 */
function bruteForce(latents: Float32Array, shape: Shape5, patch: Patch, repeat: number): Uint16Array {
  const [items, C, F, H, W] = shape;
  const [pt, ph, pw] = patch;
  const [gf, gh, gw] = [F / pt, H / ph, W / pw];
  const tokens = gf * gh * gw;
  const length = C * pt * ph * pw;
  const out = new Uint16Array(repeat * items * tokens * length);
  for (let b = 0; b < repeat * items; b++) {
    for (let s = 0; s < tokens; s++) {
      const [fq, hq, wq] = [Math.floor(s / (gh * gw)), Math.floor(s / gw) % gh, s % gw];
      for (let k = 0; k < length; k++) {
        const [c, dt, dh, dw] = [Math.floor(k / (pt * ph * pw)), Math.floor(k / (ph * pw)) % pt, Math.floor(k / pw) % ph, k % pw];
        const src = ((((b % items) * C + c) * F + fq * pt + dt) * H + hq * ph + dh) * W + wq * pw + dw;
        out[(b * tokens + s) * length + k] = float32ToBf16Bits(latents[src] as number);
      }
    }
  }
  return out;
}

const PATCHES: Patch[] = [1, 2, 3].flatMap((pt) => [1, 2, 3].flatMap((ph) => [1, 2, 3].map((pw): Patch => [pt, ph, pw])));

describe('patchifyCpu', () => {
  it.each(PATCHES)('matches the definition for patch [%i, %i, %i] on a ragged grid of 2 items', (pt, ph, pw) => {
    const shape: Shape5 = [2, 3, 2 * pt, 3 * ph, 5 * pw]; // grid 2 x 3 x 5, 3 channels
    const latents = randomLatents(shape.reduce((a, b) => a * b), 100 + pt * 9 + ph * 3 + pw);
    expect(patchifyCpu({ latents, shape, patchSize: [pt, ph, pw] })).toEqual(bruteForce(latents, shape, [pt, ph, pw], 1));
  });

  it('rounds to nearest even, NaN to 0x7fff, overflow to infinity (Wan: 16 channels, patch [1, 2, 2])', () => {
    const shape: Shape5 = [1, 16, 3, 4, 6];
    const latents = randomLatents(16 * 3 * 4 * 6, 7);
    latents.set([1 + 2 ** -8, 1 + 3 * 2 ** -8, Number.NaN, 3.4e38], 0); // ties down and up, NaN, past BF16's largest
    const got = patchifyCpu({ latents, shape, patchSize: [1, 2, 2] });
    expect(got).toEqual(bruteForce(latents, shape, [1, 2, 2], 1));
    expect([got[0], got[1], got[64], got[65]]).toEqual([0x3f80, 0x3f82, 0x7fff, 0x7f80]); // latents x = 0..3 -> tokens 0, 1
  });

  it('repeats the batch: item b is latents item b % items, in place into a given array', () => {
    const shape: Shape5 = [2, 2, 2, 2, 4];
    const latents = randomLatents(64, 8);
    const out = new Uint16Array(3 * 64).fill(0xffff);
    expect(patchifyCpu({ latents, shape, patchSize: [2, 1, 2], repeat: 3, out })).toBe(out);
    expect(out).toEqual(bruteForce(latents, shape, [2, 1, 2], 3));
    expect(out.subarray(64, 128)).toEqual(out.subarray(0, 64)); // 2 items of 32 values: copy 1 = copy 0
  });
});

describe('patchify', () => {
  const backend = new CpuBackend();

  it('patches on the backend of latents into a new bf16 tensor [repeat items tokens, C pt ph pw]', () => {
    const shape: Shape5 = [1, 16, 2, 6, 10];
    const host = randomLatents(16 * 2 * 6 * 10, 9);
    const latents = backend.fromArray(host, shape, 'f32', { name: 'z' });
    const out = patchify({ latents, patchSize: [2, 2, 2], repeat: 2 });
    expect(out.shape).toEqual([2 * 15, 128]);
    expect(out.dtype).toBe('bf16');
    expect(out.name).toBe('z.patches');
    expect(out.downloadSync()).toEqual(bruteForce(host, shape, [2, 2, 2], 2));
    const into = backend.empty([30, 64], 'bf16');
    expect(patchify({ latents, patchSize: [1, 2, 2], out: into })).toBe(into);
    expect(into.downloadSync()).toEqual(bruteForce(host, shape, [1, 2, 2], 1));
  });

  it('refuses bad latents, patch sizes, repeats and outputs by name', () => {
    const latents = backend.empty([1, 4, 2, 4, 6], 'f32', { name: 'z' });
    const patchSize: Patch = [1, 2, 2];
    expect(thrown(() => patchify({ latents: backend.empty([1, 4, 2, 4, 6], 'bf16') as never, patchSize }))).toMatchObject({ tensor: 'latents', expected: 'dtype f32' });
    expect(thrown(() => patchify({ latents: backend.empty([4, 2, 4, 6], 'f32'), patchSize }))).toMatchObject({ tensor: 'latents', actual: '[4, 2, 4, 6]' });
    expect(thrown(() => patchify({ latents: backend.empty([0, 4, 2, 4, 6], 'f32'), patchSize }))).toBeInstanceOf(ShapeMismatchError);
    expect(thrown(() => patchify({ latents, patchSize: [4, 2, 2] }))).toMatchObject({ tensor: 'latents', expected: 'F (dimension 2) a multiple of pt = 4' });
    expect(thrown(() => patchify({ latents, patchSize: [1, 3, 2] }))).toMatchObject({ expected: 'H (dimension 3) a multiple of ph = 3' });
    expect(thrown(() => patchify({ latents, patchSize: [1, 2, 4] }))).toMatchObject({ expected: 'W (dimension 4) a multiple of pw = 4' });
    for (const bad of [[1, 2], [1, 0, 2], [1, 2, 1.5], [1, 2, -2], null, '1,2,2']) {
      expect(thrown(() => patchify({ latents, patchSize: bad as never }))).toMatchObject({ argument: 'patchSize' });
    }
    const wide = backend.empty([1, PATCH_MAX_LENGTH / 4 + 1, 1, 2, 2], 'f32');
    expect(thrown(() => patchify({ latents: wide, patchSize }))).toMatchObject({ tensor: 'latents', actual: `${PATCH_MAX_LENGTH / 4 + 1} x 1 x 2 x 2 = ${PATCH_MAX_LENGTH + 4}` });
    for (const repeat of [0, 1.5, -1, Number.NaN]) expect(thrown(() => patchify({ latents, patchSize, repeat }))).toBeInstanceOf(InvalidArgumentError);
    expect(thrown(() => patchify({ latents, patchSize, out: backend.empty([12, 64], 'bf16') }))).toMatchObject({ tensor: 'out', expected: '[12, 16]' });
    expect(thrown(() => patchify({ latents, patchSize, repeat: 2, out: backend.empty([12, 16], 'bf16') }))).toMatchObject({ tensor: 'out', expected: '[24, 16]' });
    expect(thrown(() => patchify({ latents, patchSize, out: backend.empty([12, 16], 'f32') as never }))).toMatchObject({ tensor: 'out', expected: 'dtype bf16' });
    expect(thrown(() => patchify({ latents, patchSize, out: new CpuBackend().empty([12, 16], 'bf16') }))).toMatchObject({ argument: 'out' });
  });

  it('sends the declared params on CUDA (fake addon)', () => {
    const { backend: be, opCalls } = fakeDitBackend();
    const latents = be.empty([1, 16, 21, 90, 160], 'f32');
    const out = patchify({ latents, patchSize: [1, 2, 2], repeat: 2 });
    expect(out.shape).toEqual([2 * 21 * 45 * 80, 64]);
    expect(opCalls).toHaveLength(1);
    expect(Object.keys(opCalls[0]!.params)).toEqual(Object.keys(PATCHIFY.fields));
    expect(opCalls[0]!.params).toMatchObject({
      latents: { handle: handleOf(latents), byteOffset: 0, byteLength: 16 * 21 * 90 * 160 * 4 },
      out: { handle: handleOf(out), byteOffset: 0, byteLength: 2 * 21 * 45 * 80 * 64 * 2 },
      items: 1,
      channels: 16,
      gridF: 21,
      gridH: 45,
      gridW: 80,
      pt: 1,
      ph: 2,
      pw: 2,
      repeat: 2,
    });
  });
});
