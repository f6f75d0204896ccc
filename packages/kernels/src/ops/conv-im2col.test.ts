import { InvalidArgumentError, ShapeMismatchError, bf16BitsToFloat32, float32ToBf16Bits } from '@fpsattn/fp8';
import { describe, expect, it } from 'vitest';
import { fakeVaeBackend } from '../_test/fake-vae-ops';
import { handleOf } from '../_test/fake-dit-ops';
import { thrown } from '../_test/thrown';
import { CpuBackend } from '../cpu/backend';
import { seededRandom } from '../testing';
import { CONV_IM2COL, convIm2col, convIm2colCpu } from './conv-im2col';

/** Small integers times 2^-3 as BF16 bits: exact in BF16, and every product and sum below is exact in float64. */
function smallBf16(n: number, seed: number): Uint16Array {
  const rnd = seededRandom(seed);
  return Uint16Array.from({ length: n }, () => float32ToBf16Bits((Math.floor(rnd() * 15) - 7) / 8));
}

/** A frame [h, w, c] upsampled 2x by nearest neighbour, written out (out[y][x] = in[floor(y / 2)][floor(x / 2)]). */
function upsample2x(frame: Float64Array, h: number, w: number, c: number): Float64Array {
  const out = new Float64Array(4 * h * w * c);
  for (let y = 0; y < 2 * h; y++) {
    for (let x = 0; x < 2 * w; x++) {
      for (let ch = 0; ch < c; ch++) out[(y * 2 * w + x) * c + ch] = frame[(Math.floor(y / 2) * w + Math.floor(x / 2)) * c + ch]!;
    }
  }
  return out;
}

/**
 * A direct convolution (PyTorch's weight layout [cout, cin, kt, kh, kw], stride 1, zero padding (k - 1) / 2 in space),
 * one output frame from kt input frames (null: zeros), channels-last in and out, float64.
 */
function directConv(o: { frames: (Float64Array | null)[]; h: number; w: number; cin: number; cout: number; kh: number; kw: number; weight: Float64Array }): Float64Array {
  const { frames, h, w, cin, cout, kh, kw, weight } = o;
  const kt = frames.length;
  const out = new Float64Array(h * w * cout);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      for (let oc = 0; oc < cout; oc++) {
        let s = 0;
        for (let ic = 0; ic < cin; ic++) {
          for (let dt = 0; dt < kt; dt++) {
            const f = frames[dt];
            if (!f) continue;
            for (let dy = 0; dy < kh; dy++) {
              for (let dx = 0; dx < kw; dx++) {
                const sy = y + dy - (kh - 1) / 2;
                const sx = x + dx - (kw - 1) / 2;
                if (sy < 0 || sy >= h || sx < 0 || sx >= w) continue;
                s += weight[(((oc * cin + ic) * kt + dt) * kh + dy) * kw + dx]! * f[(sy * w + sx) * cin + ic]!;
              }
            }
          }
        }
        out[(y * w + x) * cout + oc] = s;
      }
    }
  }
  return out;
}

/** cols [rows, K] (BF16 bits) times the weight permuted to [cout, kt, kh, kw, cin], float64. */
function colsTimesWeight(cols: Uint16Array, rows: number, o: { kt: number; kh: number; kw: number; cin: number; cout: number; weight: Float64Array }): Float64Array {
  const { kt, kh, kw, cin, cout, weight } = o;
  const k = kt * kh * kw * cin;
  const out = new Float64Array(rows * cout);
  for (let r = 0; r < rows; r++) {
    for (let oc = 0; oc < cout; oc++) {
      let s = 0;
      for (let dt = 0; dt < kt; dt++) {
        for (let dy = 0; dy < kh; dy++) {
          for (let dx = 0; dx < kw; dx++) {
            for (let ic = 0; ic < cin; ic++) {
              const col = ((dt * kh + dy) * kw + dx) * cin + ic;
              s += bf16BitsToFloat32(cols[r * k + col]!) * weight[(((oc * cin + ic) * kt + dt) * kh + dy) * kw + dx]!;
            }
          }
        }
      }
      out[r * cout + oc] = s;
    }
  }
  return out;
}

const decode = (bits: Uint16Array) => Float64Array.from(bits, bf16BitsToFloat32);

describe('convIm2colCpu', () => {
  // Ragged sizes: odd sides, a channel count off the 8-element vector path, 1 to 3 taps, null (zero) frames.
  const CASES = [
    { name: '3x3x3, C = 8, a zero frame in front (causal padding)', h: 5, w: 7, cin: 8, kt: 3, kh: 3, kw: 3, nulls: [0], upsample: false },
    { name: '3x3x3, C = 3 (scalar path), all frames', h: 4, w: 3, cin: 3, kt: 3, kh: 3, kw: 3, nulls: [], upsample: false },
    { name: '(3,1,1) time conv, two zero frames', h: 3, w: 5, cin: 16, kt: 3, kh: 1, kw: 1, nulls: [0, 1], upsample: false },
    { name: '1x3x3 over a 2x nearest upsampling', h: 6, w: 10, cin: 8, kt: 1, kh: 3, kw: 3, nulls: [], upsample: true },
    { name: '1x1x1 (a pointwise convolution is a copy)', h: 1, w: 9, cin: 5, kt: 1, kh: 1, kw: 1, nulls: [], upsample: false },
  ];

  it.each(CASES)('makes columns whose product with the permuted weight is the direct convolution: $name', ({ h, w, cin, kt, kh, kw, nulls, upsample }) => {
    const cout = 4;
    const srcH = upsample ? h / 2 : h;
    const srcW = upsample ? w / 2 : w;
    const frames = Array.from({ length: kt }, (_, t) => (nulls.includes(t) ? null : smallBf16(srcH * srcW * cin, 10 + t)));
    const weight = decode(smallBf16(cout * cin * kt * kh * kw, 99));
    const cols = convIm2colCpu({ frames, input: 'bf16', height: h, width: w, channels: cin, kh, kw, upsample, rowStart: 0, rows: h * w });
    expect(cols.length).toBe(h * w * kt * kh * kw * cin);
    const want = directConv({
      frames: frames.map((f) => (f === null ? null : upsample ? upsample2x(decode(f), srcH, srcW, cin) : decode(f))),
      h,
      w,
      cin,
      cout,
      kh,
      kw,
      weight,
    });
    expect(Array.from(colsTimesWeight(cols, h * w, { kt, kh, kw, cin, cout, weight }))).toEqual(Array.from(want));
  });

  it('writes a run of rows exactly as those rows of the whole matrix', () => {
    const [h, w, c] = [5, 7, 8];
    const frames = [smallBf16(h * w * c, 1), null, smallBf16(h * w * c, 2)];
    const k = 27 * c;
    const all = convIm2colCpu({ frames, input: 'bf16', height: h, width: w, channels: c, kh: 3, kw: 3, upsample: false, rowStart: 0, rows: h * w });
    const part = convIm2colCpu({ frames, input: 'bf16', height: h, width: w, channels: c, kh: 3, kw: 3, upsample: false, rowStart: 11, rows: 17 });
    expect(Array.from(part)).toEqual(Array.from(all.subarray(11 * k, 28 * k)));
  });

  it('rounds float32 frames to BF16 (nearest even, NaN to 0x7fff) and copies BF16 frames bit for bit', () => {
    const values = Float32Array.of(1 + 2 ** -8, 1 + 3 * 2 ** -8, -0.1, Number.NaN, 3.4e38, -(2 ** -130), 0, 5);
    const cols = convIm2colCpu({ frames: [values], input: 'f32', height: 1, width: 1, channels: 8, kh: 1, kw: 1, upsample: false, rowStart: 0, rows: 1 });
    expect(Array.from(cols)).toEqual([0x3f80, 0x3f82, float32ToBf16Bits(-0.1), 0x7fff, 0x7f80, float32ToBf16Bits(-(2 ** -130)), 0, 0x40a0]);
    const bits = Uint16Array.of(0x7fc1, 0xffff, 0x8000, 0x0001);
    expect(Array.from(convIm2colCpu({ frames: [bits], input: 'bf16', height: 1, width: 1, channels: 4, kh: 1, kw: 1, upsample: false, rowStart: 0, rows: 1 }))).toEqual(Array.from(bits));
  });
});

describe('convIm2col', () => {
  const backend = new CpuBackend();
  const frame = (pixels: number, c: number, seed: number) => backend.fromArray(smallBf16(pixels * c, seed), [pixels, c], 'bf16', { name: `f${seed}` });

  it('runs on the backend of its frames, with the twin\'s result, into a new tensor or a given one', () => {
    const [h, w, c] = [3, 4, 8];
    const a = frame(h * w, c, 1);
    const b = frame(h * w, c, 2);
    const cols = convIm2col({ frames: [null, a, b], kernel: [3, 3], height: h, width: w });
    expect(cols.shape).toEqual([h * w, 27 * c]);
    expect(cols.dtype).toBe('bf16');
    const want = convIm2colCpu({ frames: [null, a.downloadSync(), b.downloadSync()], input: 'bf16', height: h, width: w, channels: c, kh: 3, kw: 3, upsample: false, rowStart: 0, rows: h * w });
    expect(Array.from(cols.downloadSync())).toEqual(Array.from(want));
    const into = backend.empty([5, 27 * c], 'bf16');
    expect(convIm2col({ frames: [null, a, b], kernel: [3, 3], height: h, width: w, rowStart: 7, rows: 5, out: into })).toBe(into);
    expect(Array.from(into.downloadSync())).toEqual(Array.from(want.subarray(7 * 27 * c, 12 * 27 * c)));
    const f32 = backend.fromArray(Float32Array.of(0.1, -2, 3, 4), [1, 4], 'f32');
    expect(Array.from(convIm2col({ frames: [f32], kernel: [1, 1], height: 1, width: 1 }).downloadSync())).toEqual([0.1, -2, 3, 4].map(float32ToBf16Bits));
    const up = frame(2 * 3, c, 3);
    expect(convIm2col({ frames: [up], kernel: [3, 3], height: 4, width: 6, upsample: true }).shape).toEqual([24, 9 * c]);
    expect(convIm2col({ frames: [a], kernel: [3, 3], height: h, width: w, rowStart: 12, rows: 0 }).shape).toEqual([0, 9 * c]);
  });

  it('refuses bad frames, kernels, sizes, row runs and outputs, naming the argument', () => {
    const a = frame(12, 8, 1);
    const base = { frames: [a], kernel: [3, 3] as const, height: 3, width: 4 };
    expect(thrown(() => convIm2col({ ...base, frames: [] }))).toMatchObject({ argument: 'frames' });
    expect(thrown(() => convIm2col({ ...base, frames: [a, a, a, a] }))).toMatchObject({ argument: 'frames' });
    expect(thrown(() => convIm2col({ ...base, frames: [null, null] }))).toMatchObject({ argument: 'frames', message: expect.stringContaining('at least one frame tensor') });
    expect(thrown(() => convIm2col({ ...base, kernel: [2, 3] as never }))).toMatchObject({ argument: 'kernel' });
    expect(thrown(() => convIm2col({ ...base, height: 4 }))).toMatchObject({ tensor: 'frames', expected: expect.stringContaining('[16, C]') });
    expect(thrown(() => convIm2col({ ...base, frames: [a, frame(12, 16, 2)] }))).toMatchObject({ tensor: 'frames[1]', expected: '[12, 8]' });
    expect(thrown(() => convIm2col({ ...base, frames: [a, backend.empty([12, 8], 'f32')] }))).toMatchObject({ tensor: 'frames[1]', expected: 'dtype bf16' });
    expect(thrown(() => convIm2col({ ...base, frames: [backend.empty([12, 8], 'f16') as never] }))).toBeInstanceOf(ShapeMismatchError);
    expect(thrown(() => convIm2col({ ...base, frames: [frame(3, 8, 4)], height: 3, width: 4, upsample: true }))).toMatchObject({ argument: 'upsample' }); // odd height
    expect(thrown(() => convIm2col({ ...base, rowStart: 10, rows: 3 }))).toMatchObject({ argument: 'rows' });
    expect(thrown(() => convIm2col({ ...base, rowStart: -1 }))).toMatchObject({ argument: 'rowStart' });
    expect(thrown(() => convIm2col({ ...base, width: 0 }))).toMatchObject({ argument: 'width' });
    expect(thrown(() => convIm2col({ ...base, out: backend.empty([12, 8], 'bf16') }))).toMatchObject({ tensor: 'out', expected: '[12, 72]' });
    expect(thrown(() => convIm2col({ ...base, upsample: 1 as never }))).toBeInstanceOf(InvalidArgumentError);
    expect(thrown(() => convIm2col({ ...base, frames: [a, new CpuBackend().empty([12, 8], 'bf16')] }))).toMatchObject({ argument: 'frames[1]' });
  });

  it('sends the declared params on CUDA (fake addon): the frames as frame0..2, null beyond kt', () => {
    const { backend: be, opCalls } = fakeVaeBackend();
    const a = be.empty([6, 16], 'f32');
    const b = be.empty([6, 16], 'f32');
    const cols = convIm2col({ frames: [null, a, b], kernel: [1, 1], height: 2, width: 3, rowStart: 2, rows: 4 });
    convIm2col({ frames: [a], kernel: [3, 3], height: 2, width: 3, rowStart: 6, rows: 0 }); // nothing to do: no call
    expect(opCalls.length).toBe(1);
    expect(Object.keys(opCalls[0]!.params)).toEqual(Object.keys(CONV_IM2COL.fields));
    expect(opCalls[0]!.params).toMatchObject({
      frame0: null,
      frame1: { handle: handleOf(a), byteLength: 6 * 16 * 4 },
      frame2: { handle: handleOf(b) },
      out: { handle: handleOf(cols), byteLength: 4 * 48 * 2 },
      height: 2,
      width: 3,
      channels: 16,
      kt: 3,
      kh: 1,
      kw: 1,
      upsample: false,
      rowStart: 2,
      rows: 4,
      input: 'f32',
    });
  });
});
