import { describe, expect, it } from 'vitest';
import { computeScale, MIN_SCALE, reciprocalScale } from './compute-scale';
import { encodeFp8 } from './encode-fp8';
import { errorStats } from './error-stats';
import { InvalidArgumentError } from './errors/invalid-argument-error';
import { NonFiniteValueError } from './errors/non-finite-value-error';
import { ShapeMismatchError } from './errors/shape-mismatch-error';
import { fp8FormatSpec, type Fp8Format } from './formats';
import { perChannel, perGroup, perTensor, perToken, type QuantGranularity } from './granularity';
import { dequantize, quantize } from './quantize';
import { createRng, randomFloat32 } from './testing/random';

/**
 * An independent reference: per-element scale lookup written out longhand, float64 amax, one scalar encode per
 * element. It shares only `encodeFp8` with the implementation, and that is pinned to CUDA by the golden vectors.
 */
function referenceQuantize(data: Float32Array, rows: number, cols: number, format: Fp8Format, scaleOf: (r: number, c: number) => number, scaleCount: number) {
  const amax = new Array<number>(scaleCount).fill(0);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const x = data[r * cols + c] as number;
      if (Number.isFinite(x)) amax[scaleOf(r, c)] = Math.max(amax[scaleOf(r, c)] as number, Math.abs(x));
    }
  }
  const max = fp8FormatSpec(format).maxFinite;
  const scales = amax.map((a) => (a === 0 ? 1 : Math.max(Math.fround(a / max), 2 ** -126)));
  const inverses = scales.map((s) => Math.fround(1 / s));
  const codes = new Uint8Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) codes[r * cols + c] = encodeFp8({ value: Math.fround((data[r * cols + c] as number) * (inverses[scaleOf(r, c)] as number)), format });
  }
  return { codes, scales: Float32Array.from(scales) };
}

const rows = 37; // not a multiple of anything
const cols = 256; // two heads of 128
const rng = createRng(1234);
const data = randomFloat32({ rng, length: rows * cols, outlierFraction: 0.01, bf16: true });
const groupOfRow = Int32Array.from({ length: rows }, (_, r) => Math.floor(r / 8)); // 5 groups, the last partial

const granularities: Array<{ name: string; granularity: QuantGranularity; scaleOf: (r: number, c: number) => number; count: number }> = [
  { name: 'per tensor', granularity: perTensor(), scaleOf: () => 0, count: 1 },
  { name: 'per channel', granularity: perChannel(), scaleOf: (_r, c) => c, count: cols },
  { name: 'per group of rows', granularity: perGroup({ groupOfRow, groupCount: 5 }), scaleOf: (r) => Math.floor(r / 8), count: 5 },
  {
    name: 'per (group, head)',
    granularity: perGroup({ groupOfRow, groupCount: 5, columnsPerScale: 128 }),
    scaleOf: (r, c) => Math.floor(r / 8) * 2 + Math.floor(c / 128),
    count: 10,
  },
  { name: 'per token and head', granularity: perToken({ columnsPerScale: 128 }), scaleOf: (r, c) => r * 2 + Math.floor(c / 128), count: rows * 2 },
];

describe('quantize', () => {
  for (const format of ['e4m3', 'e5m2'] as const) {
    it.each(granularities)(`matches the longhand reference ${format} $name`, ({ granularity, scaleOf, count }) => {
      const q = quantize({ data, rows, cols, format, granularity });
      const ref = referenceQuantize(data, rows, cols, format, scaleOf, count);
      expect(q.scales).toEqual(ref.scales);
      expect(Buffer.compare(Buffer.from(q.codes), Buffer.from(ref.codes))).toBe(0);
    });
  }

  it.each(granularities)('round-trips e4m3 $name within FP8 precision', ({ granularity }) => {
    const q = quantize({ data, rows, cols, format: 'e4m3', granularity });
    const stats = errorStats({ reference: data, approx: dequantize({ quantized: q }) });
    // E4M3 keeps 3 mantissa bits: relative rounding error at most 2^-4 per element, about 2-3% in L2 on normal data.
    expect(stats.relativeL2).toBeLessThan(0.04);
    expect(stats.cosine).toBeGreaterThan(0.999);
  });

  it('uses the whole E4M3 range in every group: each group max encodes to +-448', () => {
    const q = quantize({ data, rows, cols, format: 'e4m3', granularity: perGroup({ groupOfRow, groupCount: 5 }) });
    for (let g = 0; g < 5; g++) {
      let maxCode = 0;
      for (let r = g * 8; r < Math.min(rows, g * 8 + 8); r++) for (let c = 0; c < cols; c++) maxCode = Math.max(maxCode, (q.codes[r * cols + c] as number) & 0x7f);
      expect(maxCode).toBe(0x7e);
    }
  });

  it('gives all-zero groups scale 1 and zero codes', () => {
    const zeros = new Float32Array(4 * 8);
    zeros.fill(3, 16); // rows 2 and 3 non-zero
    const q = quantize({ data: zeros, rows: 4, cols: 8, format: 'e4m3', granularity: perToken() });
    expect(Array.from(q.scales)).toEqual([1, 1, Math.fround(3 / 448), Math.fround(3 / 448)]);
    expect(Array.from(q.codes.subarray(0, 16))).toEqual(new Array(16).fill(0));
    expect(dequantize({ quantized: q })).toEqual(zeros);
  });

  it('clamps the scale of tiny groups to 2^-126 so that its reciprocal stays finite', () => {
    expect(computeScale({ amax: 2 ** -149, format: 'e4m3' })).toBe(MIN_SCALE);
    expect(computeScale({ amax: 448 * 2 ** -127, format: 'e4m3' })).toBe(MIN_SCALE);
    expect(computeScale({ amax: 448 * 2 ** -126, format: 'e4m3' })).toBe(2 ** -126);
    expect(reciprocalScale(MIN_SCALE)).toBe(2 ** 126);
    expect(reciprocalScale(3)).toBe(Math.fround(1 / 3));
    expect(() => reciprocalScale(0)).toThrow(/expected a finite scale >= 2\^-126, got 0/);
    const tiny = Float32Array.of(2 ** -140, -(2 ** -141), 0, 2 ** -149);
    const q = quantize({ data: tiny, rows: 1, cols: 4, format: 'e4m3', granularity: perTensor() });
    expect(Array.from(q.codes)).toEqual([0, 0x80, 0, 0]); // 2^-140 * 2^126 = 2^-14: below E4M3's smallest subnormal
    expect(computeScale({ amax: 0, format: 'e5m2' })).toBe(1);
    expect(computeScale({ amax: 57344, format: 'e5m2' })).toBe(1);
  });

  it('refuses NaN and infinity by default, naming the tensor and position', () => {
    const bad = data.slice();
    bad[5 * cols + 7] = Number.NaN;
    expect(() => quantize({ data: bad, rows, cols, format: 'e4m3', granularity: perTensor(), tensor: 'q' })).toThrow(NonFiniteValueError);
    expect(() => quantize({ data: bad, rows, cols, format: 'e4m3', granularity: perTensor(), tensor: 'q' })).toThrow(/'q' holds NaN at flat index 1287; row 5, column 7/);
  });

  it("keeps a NaN from poisoning its group's scale under nonFinite: 'ignore'", () => {
    const bad = data.slice();
    bad[3] = Number.NaN;
    bad[4] = Infinity;
    const clean = data.slice();
    clean[3] = 0;
    clean[4] = 0;
    const q = quantize({ data: bad, rows, cols, format: 'e4m3', granularity: perTensor(), nonFinite: 'ignore' });
    const reference = quantize({ data: clean, rows, cols, format: 'e4m3', granularity: perTensor() });
    expect(q.nonFiniteCount).toBe(2);
    expect(q.scales).toEqual(reference.scales);
    expect(q.codes[3]).toBe(0x7f);
    expect(q.codes[4]).toBe(0x7e);
  });

  it('rejects mismatched shapes and bad granularities with the argument named', () => {
    expect(() => quantize({ data, rows: rows + 1, cols, format: 'e4m3', granularity: perTensor() })).toThrow(ShapeMismatchError);
    expect(() => quantize({ data, rows, cols, format: 'e4m3', granularity: perGroup({ groupOfRow: new Int32Array(3), groupCount: 1 }) })).toThrow(
      /'granularity.groupOfRow': expected length 37/,
    );
    const outOfRange = groupOfRow.slice();
    outOfRange[9] = 5;
    expect(() => quantize({ data, rows, cols, format: 'e4m3', granularity: perGroup({ groupOfRow: outOfRange, groupCount: 5 }) })).toThrow(
      /row 9 maps to group 5, outside 0..4/,
    );
    expect(() => quantize({ data, rows, cols, format: 'e4m3', granularity: perGroup({ groupOfRow, groupCount: 5, columnsPerScale: 100 }) })).toThrow(
      /must divide the column count 256/,
    );
    expect(() => quantize({ data, rows, cols, format: 'e4m3', granularity: { kind: 'tile' } as unknown as QuantGranularity })).toThrow(InvalidArgumentError);
    expect(() => quantize({ data, rows: 0, cols, format: 'e4m3', granularity: perTensor() })).toThrow(/'rows': expected a positive integer, got 0/);
  });

  it('rejects non-finite or non-positive scales when dequantizing', () => {
    const q = quantize({ data, rows, cols, format: 'e4m3', granularity: perTensor() });
    expect(() => dequantize({ quantized: { ...q, scales: Float32Array.of(Number.NaN) } })).toThrow(/scale 0 is NaN/);
    expect(() => dequantize({ quantized: { ...q, scales: Float32Array.of(1, 2) } })).toThrow(/'scales': expected length 1/);
    expect(() => computeScale({ amax: Infinity, format: 'e4m3' })).toThrow(NonFiniteValueError);
    expect(() => computeScale({ amax: -1, format: 'e4m3' })).toThrow(/expected a magnitude >= 0/);
  });
});
