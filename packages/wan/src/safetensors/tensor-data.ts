import { InvalidArgumentError } from '@fpsattn/fp8';
import { type SafetensorsArray, type SafetensorsArrayOf, type SafetensorsDtype, dtypeArrayClass, dtypeItemSize } from './dtypes';

/** True where typed arrays are little-endian, as every platform Node ships for; the other case is still handled. */
export const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Reverses the bytes of each `size`-byte element of `bytes` in place (little-endian file <-> big-endian host). */
export function swapBytes(bytes: Uint8Array, size: number): void {
  if (size === 1) return;
  for (let i = 0; i < bytes.length; i += size) {
    for (let a = i, b = i + size - 1; a < b; a++, b--) {
      const t = bytes[a] as number;
      bytes[a] = bytes[b] as number;
      bytes[b] = t;
    }
  }
}

/**
 * The typed array of `dtype` over a whole ArrayBuffer that holds little-endian file bytes and belongs to the caller
 * (the reader reads each tensor into a fresh one, which is aligned by construction). On a big-endian host the bytes
 * are swapped in place.
 */
export function viewTensorBuffer<D extends SafetensorsDtype>(dtype: D, buffer: ArrayBuffer): SafetensorsArrayOf[D] {
  const size = dtypeItemSize(dtype);
  if (!LITTLE_ENDIAN_HOST) swapBytes(new Uint8Array(buffer), size);
  const ArrayClass = dtypeArrayClass(dtype);
  return new ArrayClass(buffer, 0, buffer.byteLength / size) as SafetensorsArrayOf[D];
}

/**
 * Decodes little-endian tensor bytes (as stored in a safetensors file) into the typed array of `dtype` (see
 * `SafetensorsArrayOf`). The bytes are copied first, so any `byteOffset` works (a tensor inside a file buffer is
 * rarely aligned to its item size) and the result never shares memory with `bytes`.
 */
export function decodeTensorBytes<D extends SafetensorsDtype>(options: { dtype: D; bytes: Uint8Array }): SafetensorsArrayOf[D] {
  const { dtype, bytes } = options;
  const size = dtypeItemSize(dtype);
  if (bytes.byteLength % size !== 0) {
    throw new InvalidArgumentError({ argument: 'bytes', value: bytes.byteLength, message: `holds ${bytes.byteLength} bytes, not a whole number of ${size}-byte ${dtype} values` });
  }
  return viewTensorBuffer(dtype, bytes.slice().buffer);
}

/** The little-endian bytes of a typed array of a dtype, as a file stores them (a view when the host is little-endian). */
export function encodeTensorBytes(data: SafetensorsArray): Uint8Array {
  const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  if (LITTLE_ENDIAN_HOST) return bytes;
  const copy = bytes.slice();
  swapBytes(copy, data.BYTES_PER_ELEMENT);
  return copy;
}
