import { InvalidArgumentError } from '@fpsattn/fp8';

/** Element types of tensors. BF16/F16 are stored as their bit patterns (Uint16Array), FP8 as codes (Uint8Array). */
export type DType = 'bf16' | 'f16' | 'f32' | 'e4m3' | 'e5m2' | 'i32' | 'u8';

export const DTYPES: readonly DType[] = ['bf16', 'f16', 'f32', 'e4m3', 'e5m2', 'i32', 'u8'];

/** The typed array that holds a dtype's values on the host. */
export interface HostArrayOf {
  bf16: Uint16Array;
  f16: Uint16Array;
  f32: Float32Array;
  e4m3: Uint8Array;
  e5m2: Uint8Array;
  i32: Int32Array;
  u8: Uint8Array;
}
export type HostArray = HostArrayOf[DType];

export const DTYPE_BYTES: Readonly<Record<DType, number>> = {
  bf16: 2,
  f16: 2,
  f32: 4,
  e4m3: 1,
  e5m2: 1,
  i32: 4,
  u8: 1,
};

const HOST_CTOR = {
  bf16: Uint16Array,
  f16: Uint16Array,
  f32: Float32Array,
  e4m3: Uint8Array,
  e5m2: Uint8Array,
  i32: Int32Array,
  u8: Uint8Array,
} as const;

export function assertDType(value: unknown, argument = 'dtype'): asserts value is DType {
  if (typeof value !== 'string' || !(DTYPES as readonly string[]).includes(value)) {
    throw new InvalidArgumentError({ argument, value, message: `expected one of ${DTYPES.join(', ')}` });
  }
}

export function hostArrayCtor<D extends DType>(dtype: D) {
  return HOST_CTOR[dtype] as unknown as {
    new (length: number): HostArrayOf[D];
    new (buffer: ArrayBufferLike, byteOffset: number, length: number): HostArrayOf[D];
    readonly name: string;
  };
}

export function allocHostArray<D extends DType>(dtype: D, length: number): HostArrayOf[D] {
  return new (hostArrayCtor(dtype))(length);
}

/** Views `bytes` (a Uint8Array) as the dtype's host array without copying. */
export function viewAs<D extends DType>(dtype: D, bytes: Uint8Array): HostArrayOf[D] {
  return new (hostArrayCtor(dtype))(bytes.buffer, bytes.byteOffset, bytes.byteLength / DTYPE_BYTES[dtype]);
}

/** Checks that `data` is the typed array class used for `dtype` (e.g. Uint16Array of bit patterns for bf16). */
export function assertHostArrayFor(dtype: DType, data: unknown, tensor: string): asserts data is HostArray {
  const ctor = HOST_CTOR[dtype];
  if (!(data instanceof ctor)) {
    const actual = (data as { constructor?: { name?: string } } | null)?.constructor?.name ?? typeof data;
    throw new InvalidArgumentError({
      argument: tensor,
      value: actual,
      message: `a ${dtype} tensor is filled from a ${ctor.name}${dtype === 'bf16' || dtype === 'f16' ? ' of bit patterns' : ''}, got ${actual}`,
    });
  }
}
