import { InvalidArgumentError, bf16BitsToFloat32 } from '@fpsattn/fp8';
import { describe, expect, it } from 'vitest';
import { fakeVaeBackend } from '../_test/fake-vae-ops';
import { handleOf } from '../_test/fake-dit-ops';
import { thrown } from '../_test/thrown';
import { CpuBackend } from '../cpu/backend';
import { randomF32 } from '../testing';
import { CHANNEL_RMS_NORM, channelRmsNorm, channelRmsNormCpu } from './channel-rms-norm';

/**
 * The PyTorch expression written out: F.normalize(x, dim=channels) (x / max(||x||, 1e-12)) * sqrt(C) * gamma, then
 * x * sigmoid(x), per pixel, float64.
 */
function reference(x: Float32Array, rows: number, c: number, gamma: Float32Array, silu: boolean): Float64Array {
  const out = new Float64Array(rows * c);
  for (let r = 0; r < rows; r++) {
    const row = Array.from(x.subarray(r * c, (r + 1) * c));
    const norm = Math.max(Math.hypot(...row), 1e-12);
    row.forEach((v, i) => {
      const y = (v / norm) * Math.sqrt(c) * gamma[i]!;
      out[r * c + i] = silu ? y * (1 / (1 + Math.exp(-y))) : y;
    });
  }
  return out;
}

describe('channelRmsNormCpu', () => {
  it.each([
    { rows: 7, c: 384, silu: true },
    { rows: 5, c: 3, silu: false },
    { rows: 1, c: 13, silu: true },
    { rows: 9, c: 32, silu: false },
  ])('is the reference (F.normalize * sqrt(C) * gamma, then SiLU) rounded to BF16: rows $rows, C $c, silu $silu', ({ rows, c, silu }) => {
    const x = randomF32(rows * c, rows * 100 + c, 3, 0.5);
    const gamma = randomF32(c, 7, 0.5, 1);
    const got = channelRmsNormCpu({ x, gamma, rows, channels: c, silu });
    const want = reference(x, rows, c, gamma, silu);
    want.forEach((w, i) => {
      // Half a BF16 ulp from the rounding, plus float64 noise between two summation orders.
      expect(Math.abs(bf16BitsToFloat32(got[i]!) - w), `element ${i}`).toBeLessThanOrEqual(2 ** -8 * Math.abs(w) + 1e-300);
    });
  });

  it('keeps an all-zero pixel at 0 (the 1e-12 floor, no NaN) and is scale-invariant per pixel', () => {
    const c = 8;
    const x = new Float32Array(3 * c);
    for (let i = 0; i < c; i++) {
      x[c + i] = i + 1;
      x[2 * c + i] = (i + 1) * 1024; // the same direction, 1024 times longer
    }
    const gamma = new Float32Array(c).fill(1);
    const magnitude = new Float64Array(3 * c);
    const out = channelRmsNormCpu({ x, gamma, rows: 3, channels: c, silu: true, magnitude });
    expect(Array.from(out.subarray(0, c))).toEqual(new Array(c).fill(0));
    expect(Array.from(out.subarray(2 * c))).toEqual(Array.from(out.subarray(c, 2 * c)));
    // magnitude is |y| before SiLU: the row's values sqrt(C) x_i / ||x||.
    const norm = Math.hypot(...Array.from({ length: c }, (_, i) => i + 1));
    expect(magnitude[c + 3]).toBeCloseTo((Math.sqrt(c) * 4) / norm, 12);
  });
});

describe('channelRmsNorm', () => {
  const backend = new CpuBackend();

  it('normalises each row of f32 [rows, C] into bf16 [rows, C], on the backend of x', () => {
    const [rows, c] = [6, 24];
    const xs = randomF32(rows * c, 3, 2);
    const gs = randomF32(c, 4, 0.2, 1);
    const x = backend.fromArray(xs, [rows, c], 'f32', { name: 'h' });
    const gamma = backend.fromArray(gs, [c], 'f32');
    const out = channelRmsNorm({ x, gamma, silu: true });
    expect([out.shape, out.dtype, out.name]).toEqual([[rows, c], 'bf16', 'h.norm']);
    expect(Array.from(out.downloadSync())).toEqual(Array.from(channelRmsNormCpu({ x: xs, gamma: gs, rows, channels: c, silu: true })));
    // Into the leading rows of a larger (zero-padded) buffer.
    const padded = backend.empty([8, c], 'bf16').fillBytes(0);
    channelRmsNorm({ x, gamma, out: padded.sliceRows(0, rows) });
    const bits = padded.downloadSync();
    expect(Array.from(bits.subarray(0, rows * c))).toEqual(Array.from(channelRmsNormCpu({ x: xs, gamma: gs, rows, channels: c, silu: false })));
    expect(Array.from(bits.subarray(rows * c))).toEqual(new Array(2 * c).fill(0));
  });

  it('refuses bad shapes and arguments', () => {
    const x = backend.empty([4, 8], 'f32');
    const gamma = backend.empty([8], 'f32');
    expect(thrown(() => channelRmsNorm({ x: backend.empty([4, 8], 'bf16') as never, gamma }))).toMatchObject({ tensor: 'x', expected: 'dtype f32' });
    expect(thrown(() => channelRmsNorm({ x: backend.empty([32], 'f32'), gamma }))).toMatchObject({ tensor: 'x', expected: expect.stringContaining('[rows, C]') });
    expect(thrown(() => channelRmsNorm({ x, gamma: backend.empty([4], 'f32') }))).toMatchObject({ tensor: 'gamma', expected: '[8]' });
    expect(thrown(() => channelRmsNorm({ x, gamma, silu: 'yes' as never }))).toBeInstanceOf(InvalidArgumentError);
    expect(thrown(() => channelRmsNorm({ x, gamma, out: backend.empty([4, 8], 'f32') as never }))).toMatchObject({ tensor: 'out', expected: 'dtype bf16' });
    expect(thrown(() => channelRmsNorm({ x, gamma: new CpuBackend().empty([8], 'f32') }))).toMatchObject({ argument: 'gamma' });
  });

  it('sends the declared params on CUDA (fake addon)', () => {
    const { backend: be, opCalls } = fakeVaeBackend();
    const x = be.empty([5, 16], 'f32');
    const gamma = be.empty([16], 'f32');
    const out = channelRmsNorm({ x, gamma, silu: true });
    channelRmsNorm({ x: be.empty([0, 16], 'f32'), gamma }); // no rows: no call
    expect(opCalls.length).toBe(1);
    expect(Object.keys(opCalls[0]!.params)).toEqual(Object.keys(CHANNEL_RMS_NORM.fields));
    expect(opCalls[0]!.params).toMatchObject({ x: { handle: handleOf(x), byteLength: 320 }, gamma: { handle: handleOf(gamma) }, out: { handle: handleOf(out), byteLength: 160 }, rows: 5, channels: 16, silu: true });
  });
});
