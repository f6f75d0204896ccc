import { expectLength, expectTypedArray } from './_validate';
import { fp8DecodeTable } from './decode-fp8';
import type { Fp8Format } from './formats';

export interface DecodeFp8ArrayOptions {
  codes: Uint8Array;
  format: Fp8Format;
  /** Where to write the values (same length as `codes`); a new array when omitted. */
  out?: Float32Array;
}

/** Decodes FP8 codes to float32 through the format's 256-entry table. */
export function decodeFp8Array(options: DecodeFp8ArrayOptions): Float32Array {
  const { codes } = options;
  const table = fp8DecodeTable(options.format);
  expectTypedArray('codes', codes, Uint8Array);
  const result = options.out ?? new Float32Array(codes.length);
  expectTypedArray('out', result, Float32Array);
  expectLength('out', result.length, codes.length, 'one value per code');
  // Stryker disable next-line EqualityOperator: with <= the extra iteration reads and writes one past the end of a typed array, which JavaScript ignores (equivalent)
  for (let i = 0; i < codes.length; i++) result[i] = table[codes[i] as number] as number;
  return result;
}
