import { expectLength, expectTypedArray } from './_validate';
import { fp8DecodeTable } from './decode-fp8';
import type { Fp8Format } from './formats';

/** Decodes FP8 codes to float32 through the format's 256-entry table. */
export function decodeFp8Array(codes: Uint8Array, format: Fp8Format, out?: Float32Array): Float32Array {
  const table = fp8DecodeTable(format);
  expectTypedArray('codes', codes, Uint8Array);
  const result = out ?? new Float32Array(codes.length);
  expectTypedArray('out', result, Float32Array);
  expectLength('out', result.length, codes.length, 'one value per code');
  for (let i = 0; i < codes.length; i++) result[i] = table[codes[i] as number] as number;
  return result;
}
