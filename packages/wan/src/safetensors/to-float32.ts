import { decodeBf16Array, decodeFp16Array, decodeFp8Array } from '@fpsattn/fp8';
import type { SafetensorsArray, SafetensorsArrayOf, SafetensorsDtype } from './dtypes';

const TWO_POW_53 = 2n ** 53n;

/**
 * A 64-bit integer rounded once to the nearest float32 (ties to even), as C's `(float)x` and torch's `.float()` do.
 * `Math.fround(Number(x))` would round twice (to 53 bits, then to 24) and can land on the wrong neighbour; rounding
 * to 53 bits "to odd" first (keeping a sticky bit for what was cut) makes the second rounding exact.
 */
export function int64ToFloat32(value: bigint): number {
  const negative = value < 0n;
  const magnitude = negative ? -value : value;
  if (magnitude <= TWO_POW_53) return Math.fround(Number(value));
  const drop = magnitude.toString(2).length - 53;
  let kept = magnitude >> BigInt(drop);
  if (kept << BigInt(drop) !== magnitude) kept |= 1n;
  const rounded = Math.fround(Number(kept) * 2 ** drop);
  return negative ? -rounded : rounded;
}

/**
 * The float32 values of tensor data of `dtype` (as `read()` returns it), converted the way torch's `.float()` does:
 * F32 is returned as is (not copied); F64 and integers round to nearest even; F16, BF16, F8_E4M3 and F8_E5M2 are
 * exact (decoded by @fpsattn/fp8, bit for bit like CUDA's conversions; NaNs come out as the canonical float32 NaN,
 * except BF16, whose NaN payloads are kept); BOOL gives 0 and 1.
 */
export function tensorToFloat32<D extends SafetensorsDtype>(options: { dtype: D; data: SafetensorsArrayOf[D] }): Float32Array {
  const { dtype } = options;
  const data: SafetensorsArray = options.data;
  switch (dtype) {
    case 'F32':
      return data as Float32Array;
    case 'F16':
      return decodeFp16Array({ input: data as Uint16Array });
    case 'BF16':
      return decodeBf16Array({ input: data as Uint16Array });
    case 'F8_E4M3':
      return decodeFp8Array({ codes: data as Uint8Array, format: 'e4m3' });
    case 'F8_E5M2':
      return decodeFp8Array({ codes: data as Uint8Array, format: 'e5m2' });
    case 'BOOL': {
      const bytes = data as Uint8Array;
      const out = new Float32Array(bytes.length);
      for (let i = 0; i < bytes.length; i++) out[i] = bytes[i] === 0 ? 0 : 1;
      return out;
    }
    case 'I64':
    case 'U64': {
      const ints = data as BigInt64Array | BigUint64Array;
      const out = new Float32Array(ints.length);
      for (let i = 0; i < ints.length; i++) out[i] = int64ToFloat32(ints[i] as bigint);
      return out;
    }
    default:
      // F64 and the 8- to 32-bit integers: every value is exact as a number, and the store into a Float32Array
      // rounds it once, to nearest even.
      return new Float32Array(data as Float64Array | Int32Array | Int16Array | Int8Array | Uint32Array | Uint16Array | Uint8Array);
  }
}
