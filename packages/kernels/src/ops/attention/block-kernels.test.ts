import { decodeFp8, encodeFp8, roundToBf16 } from '@fpsattn/fp8';
import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../testing';
import { type BlockKernels, SIMD_EXP_MAX, SIMD_EXP_MIN, createBlockKernels } from './block-kernels';

const HEAP = 1 << 16;
const both = (elements = HEAP): [BlockKernels, BlockKernels] => [createBlockKernels(elements, 'wasm-simd'), createBlockKernels(elements, 'js')];

/** The same values at the same offsets of both heaps. */
function fill(ks: BlockKernels[], at: number, values: ArrayLike<number>): void {
  for (const k of ks) k.heap.set(Array.from(values), at);
}

/** Equal as float64 bit patterns, except that any NaN equals any NaN. */
function sameBits(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
  for (let i = 0; i < a.length; i++) {
    const x = a[i] as number;
    const y = b[i] as number;
    if (!(Object.is(x, y) || (Number.isNaN(x) && Number.isNaN(y)))) return false;
  }
  return a.length === b.length;
}

describe('block kernels', () => {
  it("take WebAssembly SIMD on Node ('auto'), and JavaScript when asked", () => {
    expect(createBlockKernels(16).kind).toBe('wasm-simd');
    expect(createBlockKernels(16, 'js').kind).toBe('js');
    expect(() => createBlockKernels(2 ** 28, 'wasm-simd')).toThrow(/Invalid argument 'kernels'.*2 GiB/);
  });

  it.each([
    [7, 9, 10],
    [1, 1, 2],
    [16, 16, 16],
    [5, 3, 128],
  ])('agree on both block products to 1e-13 (rows %i, cols %i, k %i; the SIMD kernel sums in two lanes)', (rows, cols, k) => {
    const ks = both();
    const rnd = seededRandom(rows * 1000 + cols);
    const stride = k + 4;
    fill(ks, 0, Array.from({ length: 40 * stride }, () => rnd() * 4 - 2));
    fill(ks, 8000, Array.from({ length: 20 }, () => rnd() * 2));
    const c = 10_000;
    const cStride = cols + 6;
    for (const kern of ks) {
      kern.heap.fill(0, c, c + 20 * cStride);
      kern.dots(0, stride, 20 * stride, stride, rows, cols, k, c, cStride);
    }
    const [w, j] = ks.map((kern) => kern.heap.slice(c, c + rows * cStride)) as [Float64Array, Float64Array];
    let maxDiff = 0;
    let scale = 0;
    for (let i = 0; i < rows; i++)
      for (let q = 0; q < cols; q++) {
        maxDiff = Math.max(maxDiff, Math.abs((w[i * cStride + q] as number) - (j[i * cStride + q] as number)));
        scale = Math.max(scale, Math.abs(j[i * cStride + q] as number));
      }
    expect(maxDiff / scale).toBeLessThan(1e-13);
    for (const kern of ks) kern.dotsAccumulate(0, stride, 20 * stride, stride, rows, cols, k, c, cStride, 8000);
    const [wa, ja] = ks.map((kern) => kern.heap.slice(c, c + rows * cStride)) as [Float64Array, Float64Array];
    for (let i = 0; i < rows; i++)
      for (let q = 0; q < cols; q++) {
        const expected = (j[i * cStride + q] as number) * (ks[1].heap[8000 + i] as number) + (j[i * cStride + q] as number);
        expect(Math.abs((ja[i * cStride + q] as number) - expected)).toBeLessThan(1e-12 * scale);
        expect(Math.abs((wa[i * cStride + q] as number) - expected)).toBeLessThan(1e-12 * scale);
      }
  });

  it('scale the scores in the same order and find the same max (NaN ignored), bit for bit', () => {
    const ks = both();
    const rnd = seededRandom(3);
    const rows = 5;
    const n = 11;
    const stride = 12;
    const scores = Array.from({ length: rows * stride }, () => (rnd() - 0.5) * 1e3);
    scores[0 * stride + 4] = Number.NaN; // ignored by the max
    for (let j = 0; j < n; j++) scores[2 * stride + j] = Number.NaN; // a row of NaN: max -inf
    scores[3 * stride + 10] = 1e6; // the odd element is the max
    fill(ks, 0, scores);
    fill(ks, 100, Array.from({ length: rows }, () => Math.fround(rnd())));
    fill(ks, 200, Array.from({ length: n + 1 }, () => Math.fround(rnd())));
    for (const k of ks) k.scaleRows(0, stride, rows, n, 100, 200, 1 / Math.sqrt(128), 300);
    const [w, j] = ks;
    expect(sameBits(w.heap.subarray(0, rows * stride), j.heap.subarray(0, rows * stride))).toBe(true);
    expect(Array.from(w.heap.subarray(300, 300 + rows))).toEqual(Array.from(j.heap.subarray(300, 300 + rows)));
    expect(w.heap[302]).toBe(Number.NEGATIVE_INFINITY);
    expect(w.heap[303]).toBe(j.heap[3 * stride + 10]);
  });

  it("exponentiate exactly as Math.exp (fdlibm's branch in SIMD, Math.exp outside it)", () => {
    const [w, j] = both();
    const rnd = seededRandom(4);
    const xs = [0, -0, 1, -1, 3, -0.1, SIMD_EXP_MAX, SIMD_EXP_MAX - 1e-16, SIMD_EXP_MAX + 1e-16, SIMD_EXP_MIN, SIMD_EXP_MIN - 1e-13, -708.3, -708.4, -745.1, -745.2, -1e4];
    xs.push(Number.NaN, Number.NEGATIVE_INFINITY, Number.POSITIVE_INFINITY, -0.5 * Math.LN2, -1.5 * Math.LN2, -Math.LN2);
    for (let i = 0; i < 50_000; i++) xs.push(-rnd() * [1, 20, 800][i % 3]!);
    const n = xs.length;
    for (const k of [w, j]) {
      k.heap.set(xs, 16);
      k.heap[0] = 0;
      k.expRows(16, n, 1, n, 0, 1);
    }
    expect(sameBits(w.heap.subarray(16, 16 + n), xs.map(Math.exp))).toBe(true);
    expect(sameBits(j.heap.subarray(16, 16 + n), xs.map(Math.exp))).toBe(true);
    expect(Number.isNaN(w.heap[1])).toBe(true); // exp(NaN) is in the sum
    // Shifted rows, odd n: each row's own shift, sums to 1e-15.
    const rows = 3;
    const stride = 10;
    for (const k of [w, j]) {
      for (let i = 0; i < rows * stride; i++) k.heap[16 + i] = -0.37 * i;
      k.heap.set([-2, 0.5, 1e-3], 0);
      k.expRows(16, stride, rows, 7, 0, 8);
    }
    for (let i = 0; i < rows; i++) {
      let sum = 0;
      for (let c = 0; c < 7; c++) {
        const expected = Math.exp(-0.37 * (i * stride + c) - (j.heap[i] as number));
        expect(w.heap[16 + i * stride + c]).toBe(expected);
        sum += expected;
      }
      expect(w.heap[16 + i * stride + 7]).toBe(-0.37 * (i * stride + 7)); // past n: untouched
      expect(Math.abs((w.heap[8 + i] as number) - sum)).toBeLessThan(1e-15 * sum);
      expect(j.heap[8 + i]).toBe(sum);
    }
  });

  it.each(['e4m3', 'bf16'] as const)('round P as @fpsattn/fp8 does, bit for bit (%s, a sweep of float32 bit patterns and every rounding boundary)', (format) => {
    const [w, j] = both(1 << 18);
    const f32 = new Float32Array(1);
    const u32 = new Uint32Array(f32.buffer);
    const values: number[] = [];
    const bits = (b: number) => {
      u32[0] = b >>> 0;
      values.push(f32[0] as number);
    };
    for (let b = 0; b < 2 ** 32; b += 65_521) bits(b); // every sign, exponent, NaN and infinity, prime stride
    // Around every representable value of the format: the midpoints to both neighbours, and one float32 step off.
    const grid = format === 'e4m3' ? Array.from({ length: 0x7f }, (_, c) => decodeFp8({ code: c, format: 'e4m3' })) : [];
    if (format === 'bf16') for (let b = 0; b < 0x7f80; b += 37) grid.push(new Float32Array(new Uint32Array([b << 16]).buffer)[0] as number);
    for (let i = 0; i + 1 < grid.length; i++) {
      const mid = ((grid[i] as number) + (grid[i + 1] as number)) / 2;
      f32[0] = mid;
      const m = u32[0] as number;
      for (const d of [-1, 0, 1]) for (const sign of [0, 0x80000000]) bits((m + d) | sign);
    }
    for (const x of [448, 464, 479.9, 480, 1e30, 2 ** -10, 2 ** -9 * 1.5, 2 ** -9 * 2.5, Math.fround(2 ** -6 * 0.9999)]) values.push(x, -x);
    const n = values.length | 1; // odd: the last one takes the tail path
    for (const k of [w, j]) {
      k.heap.fill(0);
      k.heap.set(values, 0);
      if (format === 'e4m3') k.roundE4m3(0, n + 1, 1, n, 1);
      else k.roundBf16(0, n + 1, 1, n);
    }
    expect(sameBits(w.heap.subarray(0, n), j.heap.subarray(0, n))).toBe(true);
    // The JavaScript kernel is the package's encoder: spot-check it against the scalar conversions.
    for (let i = 0; i < values.length; i += 997) {
      const x = values[i] as number;
      const expected = format === 'e4m3' ? decodeFp8({ code: encodeFp8({ value: x, format: 'e4m3' }), format: 'e4m3' }) : roundToBf16(x);
      expect(sameBits([j.heap[i] as number], [expected])).toBe(true);
    }
  });

  it('round p * 448 for e4m3 with the scale applied in float64 first', () => {
    const [w, j] = both();
    const rnd = seededRandom(6);
    const p = Array.from({ length: 1001 }, () => Math.exp(-rnd() * 20));
    for (const k of [w, j]) {
      k.heap.set(p, 0);
      k.roundE4m3(0, 1002, 1, 1001, 448);
    }
    expect(sameBits(w.heap.subarray(0, 1001), j.heap.subarray(0, 1001))).toBe(true);
    for (let i = 0; i < 1001; i += 50) {
      expect(w.heap[i]).toBe(decodeFp8({ code: encodeFp8({ value: Math.fround((p[i] as number) * 448), format: 'e4m3' }), format: 'e4m3' }));
    }
  });
});
