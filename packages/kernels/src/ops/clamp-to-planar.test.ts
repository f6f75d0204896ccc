import { float32ToBf16Bits } from '@fpsattn/fp8';
import { describe, expect, it } from 'vitest';
import { fakeVaeBackend } from '../_test/fake-vae-ops';
import { handleOf } from '../_test/fake-dit-ops';
import { thrown } from '../_test/thrown';
import { CpuBackend } from '../cpu/backend';
import { CLAMP_TO_PLANAR, clampToPlanar, clampToPlanarCpu } from './clamp-to-planar';

describe('clampToPlanarCpu', () => {
  // 4 pixels of 8 channels; channel c of pixel r is (r + 1) * (c - 2) / 2 (values from -4 to 10).
  const rows = 4;
  const cols = 8;
  const x = Float32Array.from({ length: rows * cols }, (_, i) => ((Math.floor(i / cols) + 1) * ((i % cols) - 2)) / 2);

  it('keeps the leading channels as planes, clamped to [lo, hi]', () => {
    const out = clampToPlanarCpu({ x, rows, cols, channels: 3, lo: -1, hi: 1, output: 'f32' });
    const want: number[] = [];
    for (let c = 0; c < 3; c++) for (let r = 0; r < rows; r++) want.push(Math.min(1, Math.max(-1, ((r + 1) * (c - 2)) / 2)));
    expect(Array.from(out)).toEqual(want);
    const wide = clampToPlanarCpu({ x, rows, cols, channels: 8, lo: -2.5, hi: 100, output: 'f32' });
    expect(wide[0 * rows + 3]).toBe(-2.5); // pixel 3, channel 0: -4 clamped
    expect(wide[7 * rows + 3]).toBe(10);
  });

  it('passes NaN through (its bits in f32, 0x7fff in bf16) and rounds to BF16 after clamping', () => {
    const bits = new Uint32Array([0x7fc00123, 0x3f800001, 0xff800000, 0x3dcccccd]);
    const v = new Float32Array(bits.buffer);
    expect(Array.from(new Uint32Array((clampToPlanarCpu({ x: v, rows: 4, cols: 1, channels: 1, lo: -1, hi: 1, output: 'f32' }) as Float32Array).buffer))).toEqual([0x7fc00123, 0x3f800000, 0xbf800000, 0x3dcccccd]);
    expect(Array.from(clampToPlanarCpu({ x: v, rows: 4, cols: 1, channels: 1, lo: -1, hi: 1, output: 'bf16' }))).toEqual([0x7fff, 0x3f80, 0xbf80, float32ToBf16Bits(0.1)]);
  });
});

describe('clampToPlanar', () => {
  const backend = new CpuBackend();

  it('writes [channels, rows] in the output dtype on the backend of x', () => {
    const xs = Float32Array.from({ length: 6 * 8 }, (_, i) => Math.sin(i) * 2);
    const x = backend.fromArray(xs, [6, 8], 'f32', { name: 'head' });
    const f = clampToPlanar({ x, channels: 3 });
    expect([f.shape, f.dtype, f.name]).toEqual([[3, 6], 'f32', 'head.planar']);
    expect(Array.from(f.downloadSync())).toEqual(Array.from(clampToPlanarCpu({ x: xs, rows: 6, cols: 8, channels: 3, lo: -1, hi: 1, output: 'f32' })));
    const b = clampToPlanar({ x, channels: 2, lo: -0.5, hi: 0.25, outDtype: 'bf16' });
    expect(Array.from(b.downloadSync())).toEqual(Array.from(clampToPlanarCpu({ x: xs, rows: 6, cols: 8, channels: 2, lo: -0.5, hi: 0.25, output: 'bf16' })));
  });

  it('refuses bad shapes, channel counts, bounds and outputs', () => {
    const x = backend.empty([4, 8], 'f32');
    expect(thrown(() => clampToPlanar({ x: backend.empty([4, 8], 'bf16') as never, channels: 3 }))).toMatchObject({ tensor: 'x', expected: 'dtype f32' });
    for (const channels of [0, 9, 1.5]) expect(thrown(() => clampToPlanar({ x, channels }))).toMatchObject({ argument: 'channels' });
    expect(thrown(() => clampToPlanar({ x, channels: 3, lo: 1, hi: -1 }))).toMatchObject({ argument: 'lo/hi' });
    expect(thrown(() => clampToPlanar({ x, channels: 3, lo: Number.NaN }))).toMatchObject({ argument: 'lo/hi' });
    expect(thrown(() => clampToPlanar({ x, channels: 3, outDtype: 'f16' as never }))).toMatchObject({ argument: 'outDtype' });
    expect(thrown(() => clampToPlanar({ x, channels: 3, out: backend.empty([4, 3], 'f32') }))).toMatchObject({ tensor: 'out', expected: '[3, 4]' });
  });

  it('sends the declared params on CUDA (fake addon)', () => {
    const { backend: be, opCalls } = fakeVaeBackend();
    const x = be.empty([10, 8], 'f32');
    const out = clampToPlanar({ x, channels: 3, outDtype: 'bf16' });
    expect(Object.keys(opCalls[0]!.params)).toEqual(Object.keys(CLAMP_TO_PLANAR.fields));
    expect(opCalls[0]!.params).toMatchObject({ x: { handle: handleOf(x), byteLength: 320 }, out: { handle: handleOf(out), byteLength: 60 }, rows: 10, cols: 8, channels: 3, lo: -1, hi: 1, output: 'bf16' });
  });
});
