import { expectLength, expectTypedArray } from './_validate';
import { fp8OverflowCode } from './encode-fp8';
import { type Fp8Format, fp8FormatSpec } from './formats';

export interface EncodeFp8ArrayOptions {
  /** float32 values to encode. */
  input: Float32Array;
  format: Fp8Format;
  /** See `EncodeFp8Options.saturate`; default true. */
  saturate?: boolean;
  /** Where to write the codes (same length as the input); a new array when omitted. */
  out?: Uint8Array;
}

/** 2^52 + 2^51: adding and subtracting it rounds a double below 2^51 to an integer, ties to even. */
const ROUND_MAGIC = 6755399441055744;

/**
 * Encodes float32 values to FP8 codes, bit-identical to `encodeFp8` on each element but much faster: the normal
 * range rounds by integer arithmetic on the float32 bits; the subnormal range by an exact power-of-two scaling.
 */
export function encodeFp8Array(options: EncodeFp8ArrayOptions): Uint8Array {
  const { input } = options;
  const spec = fp8FormatSpec(options.format);
  expectTypedArray('input', input, Float32Array);
  const out = options.out ?? new Uint8Array(input.length);
  expectTypedArray('out', out, Uint8Array);
  expectLength('out', out.length, input.length, 'one code per input value');

  const bits = new Uint32Array(input.buffer, input.byteOffset, input.length);
  const shift = 23 - spec.mantissaBits;
  const roundBias = (1 << (shift - 1)) - 1;
  const exponentRebias = (127 - spec.bias) << spec.mantissaBits;
  const minNormalBits = (127 + 1 - spec.bias) << 23;
  const subnormalScale = 2 ** (spec.bias - 1 + spec.mantissaBits);
  const maxCode = spec.maxFiniteCode;
  const overflowCode = fp8OverflowCode(spec, options.saturate ?? true);
  const nanCode = spec.canonicalNanCode;

  // Stryker disable next-line EqualityOperator: with <= the extra iteration reads and writes one past the end of a typed array, which JavaScript ignores (equivalent)
  for (let i = 0; i < bits.length; i++) {
    const word = bits[i] as number;
    const sign = (word >>> 24) & 0x80;
    const abs = word & 0x7fffffff;
    let code: number;
    // Stryker disable next-line EqualityOperator: at exactly the smallest normal both paths give the code 2^mantissaBits (equivalent)
    if (abs >= minNormalBits) {
      if (abs > 0x7f800000) {
        out[i] = nanCode;
        continue;
      }
      // Round to nearest even by adding just under half an ulp of the target, plus the target's lowest kept bit.
      code = ((abs + roundBias + ((abs >>> shift) & 1)) >>> shift) - exponentRebias;
      if (code > maxCode) code = overflowCode; // also catches infinity
    } else {
      const scaled = Math.abs(input[i] as number) * subnormalScale;
      code = scaled + ROUND_MAGIC - ROUND_MAGIC;
    }
    out[i] = sign | code;
  }
  return out;
}
