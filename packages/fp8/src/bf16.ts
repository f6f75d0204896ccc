import { bitsToFloat32, float32Bits } from './_float32-bits';
import { expectLength, expectTypedArray } from './_validate';

/** The BF16 code CUDA's `__float2bfloat16_rn` returns for every NaN. */
export const BF16_NAN = 0x7fff;

function bf16FromFloat32Bits(bits: number): number {
  if ((bits & 0x7fffffff) > 0x7f800000) return BF16_NAN;
  return ((bits + 0x7fff + ((bits >>> 16) & 1)) >>> 16) & 0xffff;
}

/**
 * BF16 bits of a value, rounding to nearest even like `__float2bfloat16_rn`. The value is first taken as float32
 * (`Math.fround`), as GPU tensors hold it; overflow rounds to infinity; NaN becomes 0x7fff.
 */
export function float32ToBf16Bits(value: number): number {
  return bf16FromFloat32Bits(float32Bits(value));
}

/** The float32 value of BF16 bits (exact: BF16 is the upper half of a float32). */
export function bf16BitsToFloat32(bits: number): number {
  return bitsToFloat32((bits & 0xffff) << 16);
}

/** Rounds a value to the nearest BF16 value and returns it as a number. */
export function roundToBf16(value: number): number {
  return bf16BitsToFloat32(float32ToBf16Bits(value));
}

/** Where the bulk BF16/FP16 conversions read and write: `out` (same length as `input`) is allocated when omitted. */
export interface HalfArrayOptions<In, Out> {
  input: In;
  out?: Out;
}


/** Encodes float32 values as BF16 bits. */
export function encodeBf16Array(options: HalfArrayOptions<Float32Array, Uint16Array>): Uint16Array {
  const { input, out } = options;
  expectTypedArray('input', input, Float32Array);
  const result = out ?? new Uint16Array(input.length);
  expectTypedArray('out', result, Uint16Array);
  expectLength('out', result.length, input.length, 'one BF16 value per input value');
  const bits = new Uint32Array(input.buffer, input.byteOffset, input.length);
  // Stryker disable next-line EqualityOperator: with <= the extra iteration reads and writes one past the end of a typed array, which JavaScript ignores (equivalent)
  for (let i = 0; i < bits.length; i++) result[i] = bf16FromFloat32Bits(bits[i] as number);
  return result;
}

/** Decodes BF16 bits to float32. */
export function decodeBf16Array(options: HalfArrayOptions<Uint16Array, Float32Array>): Float32Array {
  const { input, out } = options;
  expectTypedArray('input', input, Uint16Array);
  const result = out ?? new Float32Array(input.length);
  expectTypedArray('out', result, Float32Array);
  expectLength('out', result.length, input.length, 'one float32 value per BF16 value');
  const bits = new Uint32Array(result.buffer, result.byteOffset, result.length);
  // Stryker disable next-line EqualityOperator: with <= the extra iteration reads and writes one past the end of a typed array, which JavaScript ignores (equivalent)
  for (let i = 0; i < input.length; i++) bits[i] = (input[i] as number) << 16;
  return result;
}
