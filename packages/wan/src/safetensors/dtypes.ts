/**
 * The dtypes of the safetensors format (toolchain.md, "safetensors format": F64, F32, F16, BF16, I64, I32, I16, I8,
 * U8, BOOL, F8_E4M3, F8_E5M2; the reference implementation also has U16, U32, U64). Every value is stored
 * little-endian; BOOL takes one byte; F8_E4M3 is the "e4m3fn" format (no infinities).
 */
export const SAFETENSORS_DTYPES = Object.freeze([
  'F64',
  'F32',
  'F16',
  'BF16',
  'I64',
  'I32',
  'I16',
  'I8',
  'U64',
  'U32',
  'U16',
  'U8',
  'BOOL',
  'F8_E4M3',
  'F8_E5M2',
] as const);

export type SafetensorsDtype = (typeof SAFETENSORS_DTYPES)[number];

/**
 * The typed array `read()` returns for each dtype: the stored values, not converted. F16 and BF16 come as their
 * 16-bit patterns (Uint16Array), FP8 as their 8-bit codes, BOOL as bytes (0 or 1).
 */
export interface SafetensorsArrayOf {
  F64: Float64Array;
  F32: Float32Array;
  F16: Uint16Array;
  BF16: Uint16Array;
  I64: BigInt64Array;
  I32: Int32Array;
  I16: Int16Array;
  I8: Int8Array;
  U64: BigUint64Array;
  U32: Uint32Array;
  U16: Uint16Array;
  U8: Uint8Array;
  BOOL: Uint8Array;
  F8_E4M3: Uint8Array;
  F8_E5M2: Uint8Array;
}

/** Any array `read()` returns. */
export type SafetensorsArray = SafetensorsArrayOf[SafetensorsDtype];

interface TypedArrayClass {
  readonly BYTES_PER_ELEMENT: number;
  readonly name: string;
  new (buffer: ArrayBuffer, byteOffset?: number, length?: number): SafetensorsArray;
  new (length: number): SafetensorsArray;
}

const ARRAY_CLASS: { readonly [D in SafetensorsDtype]: TypedArrayClass } = {
  F64: Float64Array,
  F32: Float32Array,
  F16: Uint16Array,
  BF16: Uint16Array,
  I64: BigInt64Array,
  I32: Int32Array,
  I16: Int16Array,
  I8: Int8Array,
  U64: BigUint64Array,
  U32: Uint32Array,
  U16: Uint16Array,
  U8: Uint8Array,
  BOOL: Uint8Array,
  F8_E4M3: Uint8Array,
  F8_E5M2: Uint8Array,
};

/** True for the names of {@link SAFETENSORS_DTYPES} (and nothing inherited from Object.prototype). */
export function isSafetensorsDtype(value: unknown): value is SafetensorsDtype {
  return typeof value === 'string' && (SAFETENSORS_DTYPES as readonly string[]).includes(value);
}

/** Bytes per element of a dtype. */
export function dtypeItemSize(dtype: SafetensorsDtype): number {
  return ARRAY_CLASS[dtype].BYTES_PER_ELEMENT;
}

/** The typed-array class `read()` returns for a dtype (its constructor name is used in messages). */
export function dtypeArrayClass(dtype: SafetensorsDtype): TypedArrayClass {
  return ARRAY_CLASS[dtype];
}

/**
 * The number of elements of a shape, or null when a dimension is not a non-negative safe integer or the count (times
 * 8, the largest item size) is not a safe integer. A shape with a zero dimension holds 0 elements whatever the others.
 */
export function shapeElementCount(shape: readonly unknown[]): number | null {
  if (!shape.every((d) => typeof d === 'number' && Number.isSafeInteger(d) && d >= 0)) return null;
  const dims = shape as readonly number[];
  if (dims.includes(0)) return 0;
  let count = 1;
  for (const d of dims) {
    count *= d;
    if (count * 8 > Number.MAX_SAFE_INTEGER) return null;
  }
  return count;
}
