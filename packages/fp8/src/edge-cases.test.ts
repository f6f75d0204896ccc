// Edge cases and messages that mutation testing showed were not pinned (npm run mutation -- fp8).
import { describe, expect, it } from 'vitest';
import { decodeBf16Array, encodeBf16Array } from './bf16';
import { computeScale, reciprocalScale } from './compute-scale';
import { decodeFp8, fp8DecodeTable } from './decode-fp8';
import { decodeFp8Array } from './decode-fp8-array';
import { encodeFp8 } from './encode-fp8';
import { encodeFp8Array } from './encode-fp8-array';
import { errorStats } from './error-stats';
import { FpsAttnError } from './errors/fpsattn-error';
import { E4M3, E5M2 } from './formats';
import { decodeFp16Array, encodeFp16Array } from './fp16';
import { perChannel, perGroup, perTensor, perToken, QUANT_GRANULARITY_KINDS, resolveScaleLayout, type QuantGranularity } from './granularity';
import { dequantize, quantize } from './quantize';

describe('format specs', () => {
  it('give the smallest normals 2^-6 (e4m3) and 2^-14 (e5m2)', () => {
    expect(E4M3.minNormal).toBe(2 ** -6);
    expect(E5M2.minNormal).toBe(2 ** -14);
  });
});

describe('encodeFp8 binades', () => {
  it.each([1, 3, 8])('encodes the largest double below 2^%i, whose log2 rounds up to the next binade, like 2^k', (k) => {
    const below = 2 ** k * (1 - 2 ** -53);
    expect(below).toBeLessThan(2 ** k);
    expect(encodeFp8({ value: below, format: 'e4m3' })).toBe(encodeFp8({ value: 2 ** k, format: 'e4m3' }));
    expect(encodeFp8({ value: below, format: 'e5m2' })).toBe(encodeFp8({ value: 2 ** k, format: 'e5m2' }));
  });

  it('keeps the sign of zeros and names a non-number value', () => {
    expect(encodeFp8({ value: 0, format: 'e5m2' })).toBe(0x00);
    expect(encodeFp8({ value: -0, format: 'e5m2' })).toBe(0x80);
    expect(() => encodeFp8({ value: null as unknown as number, format: 'e4m3' })).toThrow("Invalid argument 'value': expected a number, got object");
  });
});

describe('decodeFp8', () => {
  it.each([-1, 256, 0.5, Number.NaN])('rejects code %s naming it', (code) => {
    expect(() => decodeFp8({ code, format: 'e4m3' })).toThrow(`Invalid argument 'code': expected an integer in 0..255, got ${code}`);
  });

  it('builds each decode table once', () => {
    expect(fp8DecodeTable('e5m2')).toBe(fp8DecodeTable('e5m2'));
    expect(fp8DecodeTable('e4m3')).not.toBe(fp8DecodeTable('e5m2'));
  });
});

describe('bulk conversions name their arguments', () => {
  const f32 = new Float32Array(3);
  const u16 = new Uint16Array(3);
  it.each([
    ['encodeFp8Array input', () => encodeFp8Array({ input: null as never, format: 'e4m3' }), "Invalid argument 'input': expected a Float32Array, got null"],
    ['encodeFp8Array out', () => encodeFp8Array({ input: f32, format: 'e4m3', out: u16 as never }), "Invalid argument 'out': expected a Uint8Array, got Uint16Array"],
    ['encodeFp8Array out length', () => encodeFp8Array({ input: f32, format: 'e4m3', out: new Uint8Array(2) }), "Shape mismatch for 'out': expected length 3, got length 2 (one code per input value)"],
    ['decodeFp8Array codes', () => decodeFp8Array({ codes: [1, 2] as never, format: 'e4m3' }), "Invalid argument 'codes': expected a Uint8Array, got Array"],
    ['decodeFp8Array out', () => decodeFp8Array({ codes: new Uint8Array(3), format: 'e4m3', out: 5 as never }), "Invalid argument 'out': expected a Float32Array, got number"],
    ['decodeFp8Array out length', () => decodeFp8Array({ codes: new Uint8Array(3), format: 'e4m3', out: new Float32Array(4) }), "Shape mismatch for 'out': expected length 3, got length 4 (one value per code)"],
    ['encodeBf16Array input', () => encodeBf16Array({ input: Object.create(null) }), "Invalid argument 'input': expected a Float32Array, got object"],
    ['encodeBf16Array out', () => encodeBf16Array({ input: f32, out: f32 as never }), "Invalid argument 'out': expected a Uint16Array, got Float32Array"],
    ['encodeBf16Array out length', () => encodeBf16Array({ input: f32, out: new Uint16Array(1) }), "Shape mismatch for 'out': expected length 3, got length 1 (one BF16 value per input value)"],
    ['decodeBf16Array input', () => decodeBf16Array({ input: f32 as never }), "Invalid argument 'input': expected a Uint16Array, got Float32Array"],
    ['decodeBf16Array out', () => decodeBf16Array({ input: u16, out: u16 as never }), "Invalid argument 'out': expected a Float32Array, got Uint16Array"],
    ['decodeBf16Array out length', () => decodeBf16Array({ input: u16, out: new Float32Array(1) }), "Shape mismatch for 'out': expected length 3, got length 1 (one float32 value per BF16 value)"],
    ['encodeFp16Array input', () => encodeFp16Array({ input: u16 as never }), "Invalid argument 'input': expected a Float32Array, got Uint16Array"],
    ['encodeFp16Array out', () => encodeFp16Array({ input: f32, out: f32 as never }), "Invalid argument 'out': expected a Uint16Array, got Float32Array"],
    ['encodeFp16Array out length', () => encodeFp16Array({ input: f32, out: new Uint16Array(1) }), "Shape mismatch for 'out': expected length 3, got length 1 (one FP16 value per input value)"],
    ['decodeFp16Array input', () => decodeFp16Array({ input: undefined as never }), "Invalid argument 'input': expected a Uint16Array, got undefined"],
    ['decodeFp16Array out', () => decodeFp16Array({ input: u16, out: u16 as never }), "Invalid argument 'out': expected a Float32Array, got Uint16Array"],
    ['decodeFp16Array out length', () => decodeFp16Array({ input: u16, out: new Float32Array(1) }), "Shape mismatch for 'out': expected length 3, got length 1 (one float32 value per FP16 value)"],
  ])('%s', (_name, call, message) => {
    expect(call).toThrow(message);
  });

  it('write into the out arrays they are given and return them', () => {
    const input = Float32Array.of(1, -2, 1e6);
    const codes = new Uint8Array(3);
    expect(encodeFp8Array({ input, format: 'e4m3', out: codes })).toBe(codes);
    expect(Array.from(codes)).toEqual([0x38, 0xc0, 0x7e]); // saturating by default
    const values = new Float32Array(3);
    expect(decodeFp8Array({ codes, format: 'e4m3', out: values })).toBe(values);
    expect(Array.from(values)).toEqual([1, -2, 448]);
    const half = new Uint16Array(3);
    expect(encodeFp16Array({ input, out: half })).toBe(half);
    const back = new Float32Array(3);
    expect(decodeFp16Array({ input: half, out: back })).toBe(back);
    expect(Array.from(back)).toEqual([1, -2, Infinity]);
  });

  it('saturates by default in the bulk encoder too', () => {
    const input = Float32Array.of(1e6, -Infinity);
    expect(Array.from(encodeFp8Array({ input, format: 'e4m3' }))).toEqual([0x7e, 0xfe]);
    expect(Array.from(encodeFp8Array({ input, format: 'e5m2' }))).toEqual([0x7b, 0xfb]);
    expect(Array.from(encodeFp8Array({ input, format: 'e5m2', saturate: false }))).toEqual([0x7c, 0xfc]);
  });
});

describe('computeScale and reciprocalScale', () => {
  it.each([Number.NaN, Infinity, -Infinity, 1e39, '1' as unknown as number])('refuse amax %s as non-finite, naming it', (amax) => {
    expect(() => computeScale({ amax, format: 'e4m3' })).toThrow(`'amax' holds ${amax} at flat index 0; a scale needs a finite amax`);
  });

  it('refuses a negative amax naming it', () => {
    expect(() => computeScale({ amax: -2, format: 'e4m3' })).toThrow("Invalid argument 'amax': expected a magnitude >= 0, got -2");
  });

  it.each([Number.NaN, Infinity, 2 ** -127, -1, '2' as unknown as number])('reciprocalScale refuses %s', (scale) => {
    expect(() => reciprocalScale(scale)).toThrow(`Invalid argument 'scale': expected a finite scale >= 2^-126, got ${scale}`);
  });
});

describe('errorStats', () => {
  it('handles all-zero sides: both zero, only the reference, only the approximation', () => {
    expect(errorStats({ reference: [0, 0], approx: [0, 0] })).toEqual({ relativeL2: 0, cosine: 1, maxAbsError: 0, snrDb: Infinity, nonFiniteCount: 0, count: 2 });
    expect(errorStats({ reference: [0, 0], approx: [0, 2] })).toMatchObject({ relativeL2: Infinity, cosine: 0, maxAbsError: 2 });
    expect(errorStats({ reference: [0, 0], approx: [0, 2] }).snrDb).toBe(-Infinity);
    expect(errorStats({ reference: [3, 4], approx: [0, 0] })).toMatchObject({ relativeL2: 1, cosine: 0, maxAbsError: 4, snrDb: 0 });
  });

  it('takes the largest error, wherever it is, and the SNR as a ratio of energies', () => {
    const s = errorStats({ reference: [1, 2, 3], approx: [4, 2, 2] }); // errors 3, 0, 1
    expect(s.maxAbsError).toBe(3);
    expect(s.snrDb).toBeCloseTo(10 * Math.log10(14 / 10), 12);
    expect(s.relativeL2).toBeCloseTo(Math.sqrt(10 / 14), 12);
  });

  it.each([
    [{ reference: null, approx: [1] }, "Invalid argument 'reference': expected an array of numbers"],
    [{ reference: 3, approx: [1] }, "Invalid argument 'reference': expected an array of numbers"],
    [{ reference: [1], approx: undefined }, "Invalid argument 'approx': expected an array of numbers"],
    [{ reference: [1], approx: {} }, "Invalid argument 'approx': expected an array of numbers"],
    [{ reference: [1, 2], approx: [1] }, "Shape mismatch for 'approx': expected length 2, got length 1 (same length as reference)"],
  ])('rejects %o', (options, message) => {
    expect(() => errorStats(options as never)).toThrow(message);
  });
});

describe('granularities', () => {
  it('list their kinds and leave columnsPerScale out unless given', () => {
    expect(QUANT_GRANULARITY_KINDS).toEqual(['tensor', 'token', 'channel', 'group']);
    expect(perTensor()).toStrictEqual({ kind: 'tensor' });
    expect(perToken()).toStrictEqual({ kind: 'token' });
    expect(perToken({ columnsPerScale: 4 })).toStrictEqual({ kind: 'token', columnsPerScale: 4 });
    expect(perChannel()).toStrictEqual({ kind: 'channel' });
    const groupOfRow = new Int32Array(2);
    expect(perGroup({ groupOfRow, groupCount: 1 })).toStrictEqual({ kind: 'group', groupOfRow, groupCount: 1 });
  });

  it('resolve the scale layout of every kind', () => {
    expect(resolveScaleLayout({ granularity: perTensor({ columnsPerScale: 4 }), rows: 3, cols: 8 })).toEqual({ scaleCount: 2, rowGroups: 1, colGroups: 2, columnsPerScale: 4, groupOfRow: null });
    expect(resolveScaleLayout({ granularity: perToken(), rows: 3, cols: 8 })).toEqual({ scaleCount: 3, rowGroups: 3, colGroups: 1, columnsPerScale: 8, groupOfRow: Int32Array.of(0, 1, 2) });
    expect(resolveScaleLayout({ granularity: perChannel(), rows: 3, cols: 8 })).toEqual({ scaleCount: 8, rowGroups: 1, colGroups: 8, columnsPerScale: 1, groupOfRow: null });
    const groupOfRow = Int32Array.of(1, 0, 1);
    expect(resolveScaleLayout({ granularity: perGroup({ groupOfRow, groupCount: 2, columnsPerScale: 2 }), rows: 3, cols: 8 })).toEqual({ scaleCount: 8, rowGroups: 2, colGroups: 4, columnsPerScale: 2, groupOfRow });
  });

  it.each<[string, QuantGranularity | undefined, string]>([
    ['no granularity', undefined, "Invalid argument 'granularity.kind': expected one of 'tensor', 'token', 'channel', 'group'"],
    ['an old scheduler name', { kind: 'per-token' } as never, "Invalid argument 'granularity.kind': expected one of 'tensor', 'token', 'channel', 'group'"],
    ['columns that do not divide', perToken({ columnsPerScale: 3 }), "Invalid argument 'granularity.columnsPerScale': must divide the column count 8"],
    ['a zero column block', perTensor({ columnsPerScale: 0 }), "Invalid argument 'granularity.columnsPerScale': expected a positive integer, got 0"],
    ['a fractional group count', perGroup({ groupOfRow: new Int32Array(3), groupCount: 1.5 }), "Invalid argument 'granularity.groupCount': expected a positive integer, got 1.5"],
    ['a plain-array group map', perGroup({ groupOfRow: [0, 0, 0] as never, groupCount: 1 }), "Invalid argument 'granularity.groupOfRow': expected an Int32Array"],
    ['a short group map', perGroup({ groupOfRow: new Int32Array(2), groupCount: 1 }), "Shape mismatch for 'granularity.groupOfRow': expected length 3 (one group per row), got length 2"],
    ['a negative group', perGroup({ groupOfRow: Int32Array.of(0, -1, 0), groupCount: 1 }), "Invalid argument 'granularity.groupOfRow': row 1 maps to group -1, outside 0..0"],
  ])('reject %s with the field named', (_name, granularity, message) => {
    let caught: unknown;
    try {
      resolveScaleLayout({ granularity: granularity as QuantGranularity, rows: 3, cols: 8 });
    } catch (error) {
      caught = error;
    }
    expect(FpsAttnError.isInstance(caught)).toBe(true);
    expect((caught as Error).message).toBe(message);
  });
});

describe('quantize and dequantize', () => {
  const data = Float32Array.of(1, 2, -3, 4, 0.5, -0.25);

  it('counts only its own row group in an amax: a big value just before the next group does not leak into it', () => {
    // rows 0-1 in group 0 (row 1 holds 1000 in column 0), row 2 alone in group 1 with small values
    const x = Float32Array.of(1, 1, 1000, 1, 0.5, 0.25);
    const q = quantize({ data: x, rows: 3, cols: 2, format: 'e4m3', granularity: perGroup({ groupOfRow: Int32Array.of(0, 0, 1), groupCount: 2 }) });
    expect(Array.from(q.scales)).toEqual([Math.fround(1000 / 448), Math.fround(0.5 / 448)]);
  });

  it('names the tensor, its shape and its arguments', () => {
    expect(() => quantize({ data: data.subarray(1), rows: 2, cols: 3, format: 'e4m3', granularity: perTensor() })).toThrow(
      "Shape mismatch for 'data': expected length 6, got length 5 (a [2, 3] tensor)",
    );
    expect(() => quantize({ data, rows: 2, cols: 1.5, format: 'e4m3', granularity: perTensor() })).toThrow("Invalid argument 'cols': expected a positive integer, got 1.5");
    expect(() => quantize({ data, rows: 2 ** 53, cols: 3, format: 'e4m3', granularity: perTensor() })).toThrow("Invalid argument 'rows': expected a positive integer");
    expect(() => quantize({ data, rows: 2, cols: 3, format: 'e4m3', granularity: perTensor(), nonFinite: 'skip' as never })).toThrow(
      "Invalid argument 'nonFinite': expected 'error' or 'ignore'",
    );
    const bad = data.slice();
    bad[4] = Infinity;
    expect(() => quantize({ data: bad, rows: 2, cols: 3, format: 'e4m3', granularity: perTensor() })).toThrow("'data' holds Infinity at flat index 4; row 1, column 1");
  });

  it('saturates out-of-range inputs ignored under nonFinite: ignore unless saturate is false', () => {
    const x = Float32Array.of(1, -Infinity);
    expect(Array.from(quantize({ data: x, rows: 1, cols: 2, format: 'e5m2', granularity: perTensor(), nonFinite: 'ignore' }).codes)).toEqual([0x7b, 0xfb]);
    expect(Array.from(quantize({ data: x, rows: 1, cols: 2, format: 'e5m2', granularity: perTensor(), nonFinite: 'ignore', saturate: false }).codes)).toEqual([0x7b, 0xfc]);
  });

  it('rejects bad codes, scales and scale counts when dequantizing', () => {
    const q = quantize({ data, rows: 2, cols: 3, format: 'e4m3', granularity: perToken() });
    expect(() => dequantize({ quantized: { ...q, codes: new Uint8Array(5) } })).toThrow("Shape mismatch for 'codes': expected length 6, got length 5 (a [2, 3] tensor)");
    expect(() => dequantize({ quantized: { ...q, scales: Float32Array.of(1) } })).toThrow(
      "Shape mismatch for 'scales': expected length 2, got length 1 (one scale per group of a token granularity)",
    );
    for (const scale of [0, -1, Infinity]) {
      expect(() => dequantize({ quantized: { ...q, scales: Float32Array.of(1, scale) } })).toThrow(
        `Invalid argument 'scales': scale 1 is ${scale}; scales must be finite and positive`,
      );
    }
  });
});

describe('FpsAttnError markers', () => {
  it('recognises the shared marker on any object, and only on objects', () => {
    expect(FpsAttnError.isInstance({ [Symbol.for('fpsattn.error')]: true })).toBe(true);
    const fn = Object.assign(() => 0, { [Symbol.for('fpsattn.error')]: true });
    expect(FpsAttnError.isInstance(fn)).toBe(false);
    expect(FpsAttnError.isInstance({ [Symbol.for('fpsattn.error')]: 1 })).toBe(false);
  });

  it('refuses a code object that merely prints as a valid code', () => {
    const sneaky = { toString: () => 'FPSATTN_X' };
    expect(() => new FpsAttnError({ code: sneaky as never, message: 'x' })).toThrow(TypeError);
  });
});
