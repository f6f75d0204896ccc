// The positional forms other packages still call while they migrate to options objects (marked @deprecated):
// each must give exactly what its options form gives.
import { describe, expect, it } from 'vitest';
import { decodeBf16Array, encodeBf16Array } from './bf16';
import { computeScale } from './compute-scale';
import { decodeFp8 } from './decode-fp8';
import { decodeFp8Array } from './decode-fp8-array';
import { encodeFp8Array } from './encode-fp8-array';
import { errorStats } from './error-stats';
import { perTensor } from './granularity';
import { dequantize, quantize } from './quantize';
import { createRng, randomFloat32 } from './testing/random';

const input = Float32Array.of(1, -2.5, 500, 1e-3, Number.NaN, -1e9);

describe('deprecated positional forms', () => {
  it('encodeFp8Array(input, format, { saturate, out }) and decodeFp8Array(codes, format, out)', () => {
    expect(encodeFp8Array(input, 'e4m3')).toEqual(encodeFp8Array({ input, format: 'e4m3' }));
    expect(encodeFp8Array(input, 'e4m3', { saturate: false })).toEqual(encodeFp8Array({ input, format: 'e4m3', saturate: false }));
    const out = new Uint8Array(input.length);
    expect(encodeFp8Array(input, 'e5m2', { out })).toBe(out);
    expect(out).toEqual(encodeFp8Array({ input, format: 'e5m2' }));
    const decoded = new Float32Array(input.length);
    expect(decodeFp8Array(out, 'e5m2', decoded)).toBe(decoded);
    expect(decodeFp8Array(out, 'e5m2')).toEqual(decodeFp8Array({ codes: out, format: 'e5m2' }));
  });

  it('decodeFp8(code, format) and computeScale(amax, format)', () => {
    expect(decodeFp8(0x7e, 'e4m3')).toBe(448);
    expect(computeScale(896, 'e4m3')).toBe(2);
    expect(computeScale(0, 'e5m2')).toBe(1);
    expect(() => computeScale(null as never, 'e4m3')).toThrow("'amax' holds null at flat index 0");
  });

  it('encodeBf16Array(input, out) and decodeBf16Array(input, out)', () => {
    const bits = new Uint16Array(input.length);
    expect(encodeBf16Array(input, bits)).toBe(bits);
    expect(bits).toEqual(encodeBf16Array({ input }));
    const back = new Float32Array(input.length);
    expect(decodeBf16Array(bits, back)).toBe(back);
    expect(decodeBf16Array(bits)).toEqual(decodeBf16Array({ input: bits }));
  });

  it('dequantize(quantized, out), errorStats(reference, approx) and randomFloat32(rng, length, options)', () => {
    const data = randomFloat32(createRng(3), 64, { std: 2 });
    expect(data).toEqual(randomFloat32({ rng: createRng(3), length: 64, std: 2 }));
    const q = quantize({ data, rows: 8, cols: 8, format: 'e4m3', granularity: perTensor() });
    const out = new Float32Array(64);
    expect(dequantize(q, out)).toBe(out);
    expect(out).toEqual(dequantize({ quantized: q }));
    expect(errorStats(data, out)).toEqual(errorStats({ reference: data, approx: out }));
  });
});
