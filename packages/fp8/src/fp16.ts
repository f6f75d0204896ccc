import { encodeMinifloat } from './_minifloat';
import { expectLength, expectTypedArray } from './_validate';
import type { HalfArrayOptions } from './bf16';

/** The FP16 code CUDA's `__float2half_rn` returns for every NaN. */
export const FP16_NAN = 0x7fff;
const FP16_INFINITY = 0x7c00;
const FP16_LAYOUT = { mantissaBits: 10, bias: 15, maxFiniteCode: 0x7bff, signBit: 0x8000, nanCode: FP16_NAN } as const;

/**
 * FP16 bits of a value, rounding to nearest even like `__float2half_rn`. The value is first taken as float32
 * (`Math.fround`); magnitudes that round past 65504 become infinity; NaN becomes 0x7fff.
 */
export function float32ToFp16Bits(value: number): number {
  return encodeMinifloat(Math.fround(value), FP16_LAYOUT, FP16_INFINITY);
}

/** The value of FP16 bits (exact in float32). */
export function fp16BitsToFloat32(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const mantissa = bits & 0x3ff;
  if (exponent === 0x1f) return mantissa === 0 ? sign * Infinity : Number.NaN;
  if (exponent === 0) return sign * mantissa * 2 ** -24;
  return sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
}

/** Encodes float32 values as FP16 bits. */
export function encodeFp16Array(options: HalfArrayOptions<Float32Array, Uint16Array>): Uint16Array {
  const { input, out } = options;
  expectTypedArray('input', input, Float32Array);
  const result = out ?? new Uint16Array(input.length);
  expectTypedArray('out', result, Uint16Array);
  expectLength('out', result.length, input.length, 'one FP16 value per input value');
  // Stryker disable next-line EqualityOperator: with <= the extra iteration reads and writes one past the end of a typed array, which JavaScript ignores (equivalent)
  for (let i = 0; i < input.length; i++) result[i] = encodeMinifloat(input[i] as number, FP16_LAYOUT, FP16_INFINITY);
  return result;
}

/** Decodes FP16 bits to float32. */
export function decodeFp16Array(options: HalfArrayOptions<Uint16Array, Float32Array>): Float32Array {
  const { input, out } = options;
  expectTypedArray('input', input, Uint16Array);
  const result = out ?? new Float32Array(input.length);
  expectTypedArray('out', result, Float32Array);
  expectLength('out', result.length, input.length, 'one float32 value per FP16 value');
  // Stryker disable next-line EqualityOperator: with <= the extra iteration reads and writes one past the end of a typed array, which JavaScript ignores (equivalent)
  for (let i = 0; i < input.length; i++) result[i] = fp16BitsToFloat32(input[i] as number);
  return result;
}
