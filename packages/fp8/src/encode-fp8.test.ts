import { describe, expect, it } from 'vitest';
import { decodeFp8 } from './decode-fp8';
import { encodeFp8 } from './encode-fp8';
import { FpsAttnError } from './errors/fpsattn-error';
import { UnknownFormatError } from './errors/unknown-format-error';
import { E4M3, E5M2, type Fp8Format } from './formats';

describe('encodeFp8', () => {
  it.each([
    // value, format, saturate, code: values worked out by hand from the OCP layouts
    [1, 'e4m3', true, 0x38],
    [-1, 'e4m3', true, 0xb8],
    [448, 'e4m3', true, 0x7e],
    [464, 'e4m3', false, 0x7e], // tie between 448 (even mantissa) and 480: stays 448
    [464.0001, 'e4m3', false, 0x7f], // rounds to 480: beyond range, NaN without saturation
    [464.0001, 'e4m3', true, 0x7e],
    [-1e9, 'e4m3', true, 0xfe],
    [2 ** -9, 'e4m3', true, 0x01], // smallest subnormal
    [2 ** -10, 'e4m3', true, 0x00], // tie between 0 and 2^-9: to even (0)
    [3 * 2 ** -10, 'e4m3', true, 0x02], // tie between 1 and 2 subnormal steps: to even (2)
    [-0, 'e4m3', true, 0x80],
    [57344, 'e5m2', true, 0x7b],
    [61440, 'e5m2', false, 0x7c], // tie between 57344 (odd mantissa) and 65536: rounds to infinity
    [61439, 'e5m2', false, 0x7b],
    [Infinity, 'e5m2', false, 0x7c],
    [-Infinity, 'e5m2', true, 0xfb],
    [Infinity, 'e4m3', false, 0x7f],
    [2 ** -16, 'e5m2', true, 0x01],
  ] as const)('encodes %d as %s (saturate=%s) to %i', (value, format, saturate, code) => {
    expect(encodeFp8({ value, format, saturate })).toBe(code);
  });

  it.each(['e4m3', 'e5m2'] as const)('maps NaN of either sign to 0x7f in %s', (format) => {
    expect(encodeFp8({ value: Number.NaN, format })).toBe(0x7f);
    expect(encodeFp8({ value: -Number.NaN, format, saturate: false })).toBe(0x7f);
  });

  it.each(['e4m3', 'e5m2'] as const)('round-trips every finite %s code through decodeFp8', (format: Fp8Format) => {
    for (let code = 0; code < 256; code++) {
      const value = decodeFp8({ code, format });
      if (!Number.isFinite(value)) continue;
      expect(encodeFp8({ value, format, saturate: false })).toBe(code);
    }
  });

  it('decodes the documented extremes', () => {
    expect(decodeFp8({ code: E4M3.maxFiniteCode, format: 'e4m3' })).toBe(E4M3.maxFinite);
    expect(decodeFp8({ code: E5M2.maxFiniteCode, format: 'e5m2' })).toBe(E5M2.maxFinite);
    expect(decodeFp8({ code: 0x01, format: 'e4m3' })).toBe(E4M3.minSubnormal);
    expect(decodeFp8({ code: 0x7c, format: 'e5m2' })).toBe(Infinity);
    expect(decodeFp8({ code: 0xff, format: 'e4m3' })).toBeNaN();
  });

  it('rejects an unknown format with the allowed names', () => {
    expect(() => encodeFp8({ value: 1, format: 'e3m4' as Fp8Format })).toThrow(UnknownFormatError);
    expect(() => decodeFp8({ code: 1, format: 'fp8' as Fp8Format })).toThrow(/Unknown format "fp8": expected one of 'e4m3', 'e5m2'/);
  });

  it('rejects codes outside 0..255 and non-numbers', () => {
    expect(() => decodeFp8({ code: 256, format: 'e4m3' })).toThrow(/Invalid argument 'code'/);
    expect(() => decodeFp8({ code: 1.5, format: 'e4m3' })).toThrow(FpsAttnError);
    expect(() => encodeFp8({ value: '1' as unknown as number, format: 'e4m3' })).toThrow(/expected a number, got string/);
  });

  it('saturates by default: out-of-range values and infinities clamp to +-maxFinite when saturate is omitted', () => {
    expect(encodeFp8({ value: 1e6, format: 'e4m3' })).toBe(0x7e);
    expect(encodeFp8({ value: -1e6, format: 'e4m3' })).toBe(0xfe);
    expect(encodeFp8({ value: Infinity, format: 'e5m2' })).toBe(0x7b);
    expect(encodeFp8({ value: -Infinity, format: 'e5m2' })).toBe(0xfb);
    expect(encodeFp8({ value: 1e6, format: 'e4m3', saturate: undefined })).toBe(0x7e);
  });

  it('marks errors so they are recognised across package copies', () => {
    let caught: unknown;
    try {
      encodeFp8({ value: 1, format: 'nope' as Fp8Format });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(UnknownFormatError);
    expect(FpsAttnError.isInstance(caught)).toBe(true);
    expect((caught as FpsAttnError).code).toBe('FPSATTN_UNKNOWN_FORMAT');
    expect(FpsAttnError.isInstance(new Error('x'))).toBe(false);
    expect(FpsAttnError.isInstance(null)).toBe(false);
    expect(FpsAttnError.isInstance('FPSATTN_UNKNOWN_FORMAT')).toBe(false);
  });
});
