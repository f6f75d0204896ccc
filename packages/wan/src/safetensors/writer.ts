import { randomBytes } from 'node:crypto';
import { type FileHandle, open, rename, rm } from 'node:fs/promises';
import { fsError } from './_fs';
import { show, showList } from './_show';
import { CheckpointError, WAN_CHECKPOINT_ERROR_CODES } from './checkpoint-error';
import { SAFETENSORS_DTYPES, type SafetensorsArray, type SafetensorsDtype, dtypeArrayClass, dtypeItemSize, isSafetensorsDtype, shapeElementCount } from './dtypes';
import { SAFETENSORS_LENGTH_BYTES, SAFETENSORS_MAX_HEADER_BYTES } from './header';
import { encodeTensorBytes } from './tensor-data';

/** A tensor to write: `data` holds its values row-major, as raw little-endian bytes or as the typed array of `dtype`. */
export interface TensorToWrite {
  readonly dtype: SafetensorsDtype;
  readonly shape: readonly number[];
  /** A Uint8Array of the stored bytes (any dtype), or the array `read()` returns for `dtype` (e.g. Uint16Array for BF16 bits). */
  readonly data: Uint8Array | SafetensorsArray;
}

export interface WriteSafetensorsOptions {
  /** The file to create or replace. */
  readonly path: string;
  /** The tensors by name (a name is any non-empty string but `__metadata__`). */
  readonly tensors: Readonly<Record<string, TensorToWrite>> | ReadonlyMap<string, TensorToWrite>;
  /** `__metadata__`: strings to strings (e.g. `{ format: 'pt' }`); omitted from the header when empty. */
  readonly metadata?: Readonly<Record<string, string>>;
}

/** The header pads the JSON with spaces to a multiple of 8 bytes, so the data section starts 8-byte aligned. */
const HEADER_ALIGNMENT = 8;
/** The most one write hands to the file system (Node caps a write's length at 2^31 - 1 bytes). */
const MAX_WRITE_BYTES = 2 ** 30;

interface Planned {
  readonly name: string;
  readonly bytes: Uint8Array;
}

/** Orders strings by code point, as Python's `sorted` (and UTF-8 byte order) does; JavaScript's sort compares UTF-16 units. */
function byCodePoint(a: string, b: string): number {
  const ia = a[Symbol.iterator]();
  const ib = b[Symbol.iterator]();
  for (;;) {
    const ca = ia.next();
    const cb = ib.next();
    if (ca.done === true || cb.done === true) return (ca.done === true ? 0 : 1) - (cb.done === true ? 0 : 1);
    const d = (ca.value.codePointAt(0) as number) - (cb.value.codePointAt(0) as number);
    if (d !== 0) return d;
  }
}

function checkTensor(file: string, name: string, tensor: unknown): Uint8Array {
  const bad = (rule: string): never => {
    throw new CheckpointError({ code: WAN_CHECKPOINT_ERROR_CODES.INVALID_TENSOR, file, tensor: name, rule });
  };
  if (name === '' || name === '__metadata__') bad('is not a tensor name: __metadata__ and the empty string are not allowed');
  if (typeof tensor !== 'object' || tensor === null) return bad(`is ${show(tensor)}, expected { dtype, shape, data }`);
  const { dtype, shape, data } = tensor as Partial<TensorToWrite>;
  if (!isSafetensorsDtype(dtype)) return bad(`dtype ${show(dtype)} is not one of ${SAFETENSORS_DTYPES.join(', ')}`);
  const count = Array.isArray(shape) ? shapeElementCount(shape) : null;
  if (count === null) return bad(`shape ${show(shape)} is not a list of non-negative integers (with fewer than 2^53 bytes in all)`);
  const ArrayClass = dtypeArrayClass(dtype);
  if (!(data instanceof Uint8Array) && !(data instanceof ArrayClass)) {
    const actual = typeof data === 'object' && data !== null ? data.constructor.name : show(data);
    return bad(`data is ${actual}, expected a Uint8Array of its bytes or a ${ArrayClass.name} of ${dtype} values`);
  }
  const expected = count * dtypeItemSize(dtype);
  if (data.byteLength !== expected) {
    return bad(`data holds ${data.byteLength} bytes, expected ${expected} (${dtype} ${showList(shape as number[])})`);
  }
  return data instanceof Uint8Array ? data : encodeTensorBytes(data);
}

function checkMetadata(file: string, metadata: unknown): [string, string][] {
  if (metadata === undefined) return [];
  const bad = (rule: string): never => {
    throw new CheckpointError({ code: WAN_CHECKPOINT_ERROR_CODES.INVALID_HEADER, file, rule });
  };
  if (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata)) return bad(`metadata is ${show(metadata)}, expected an object of strings`);
  const entries = Object.entries(metadata);
  for (const [key, value] of entries) {
    if (typeof value !== 'string') bad(`metadata ${JSON.stringify(key)} is ${show(value)}, expected a string (metadata maps strings to strings)`);
  }
  return entries as [string, string][];
}

/** The 8-byte length and the space-padded header JSON: `__metadata__` first, then the tensors sorted by name. */
function encodeHeader(file: string, planned: readonly Planned[], tensors: ReadonlyMap<string, TensorToWrite>, metadata: [string, string][]): Uint8Array {
  const header: Record<string, unknown> = {};
  if (metadata.length > 0) header.__metadata__ = Object.fromEntries(metadata);
  let offset = 0;
  for (const { name, bytes } of planned) {
    const { dtype, shape } = tensors.get(name) as TensorToWrite;
    // defineProperty, not assignment: a tensor may be called "__proto__".
    Object.defineProperty(header, name, { value: { dtype, shape: [...shape], data_offsets: [offset, offset + bytes.byteLength] }, enumerable: true });
    offset += bytes.byteLength;
  }
  const json = new TextEncoder().encode(JSON.stringify(header));
  const length = Math.ceil(json.byteLength / HEADER_ALIGNMENT) * HEADER_ALIGNMENT;
  if (length > SAFETENSORS_MAX_HEADER_BYTES) {
    throw new CheckpointError({ code: WAN_CHECKPOINT_ERROR_CODES.INVALID_HEADER, file, rule: `the header would take ${length} bytes, over the ${SAFETENSORS_MAX_HEADER_BYTES}-byte limit readers apply` });
  }
  const out = new Uint8Array(SAFETENSORS_LENGTH_BYTES + length).fill(0x20); // ' '
  new DataView(out.buffer).setBigUint64(0, BigInt(length), true);
  out.set(json, SAFETENSORS_LENGTH_BYTES);
  return out;
}

async function writeFully(handle: FileHandle, bytes: Uint8Array, position: number): Promise<void> {
  let done = 0;
  while (done < bytes.byteLength) {
    const length = Math.min(bytes.byteLength - done, MAX_WRITE_BYTES);
    const { bytesWritten } = await handle.write(bytes, done, length, position + done);
    done += bytesWritten;
  }
}

/**
 * Writes a safetensors file (format: toolchain.md, section "safetensors format"; the rules: header.ts) as the
 * reference implementation lays it out: the 8-byte little-endian header length, the header JSON with `__metadata__` first
 * and the tensors sorted by name, padded with spaces to a multiple of 8 bytes; then the data of each tensor in the
 * order of the header, back to back. Every tensor and the metadata are checked before anything is written (a
 * {@link CheckpointError} naming the file and the tensor). The file appears whole or not at all: it is written to
 * `<path>.tmp-<pid>-<random>`, synced, then renamed over `path`; on a failure the temporary file is removed.
 *
 * @example
 * await writeSafetensors({ path: 'tiny.safetensors', tensors: { w: { dtype: 'F32', shape: [2, 2], data: new Float32Array(4) } } });
 */
export async function writeSafetensors(options: WriteSafetensorsOptions): Promise<void> {
  const path = options.path;
  if (typeof path !== 'string' || path === '') {
    throw new CheckpointError({ code: WAN_CHECKPOINT_ERROR_CODES.IO_ERROR, file: String(path), rule: 'is not a path: expected a non-empty string' });
  }
  const tensors: ReadonlyMap<string, TensorToWrite> =
    options.tensors instanceof Map ? options.tensors : new Map(Object.entries(options.tensors as Record<string, TensorToWrite>));
  const metadata = checkMetadata(path, options.metadata);
  const planned = [...tensors.keys()].sort(byCodePoint).map((name) => ({ name, bytes: checkTensor(path, name, tensors.get(name)) }));
  const header = encodeHeader(path, planned, tensors, metadata);

  const temp = `${path}.tmp-${process.pid}-${randomBytes(6).toString('hex')}`;
  let handle: FileHandle | null = null;
  try {
    handle = await open(temp, 'wx');
    await writeFully(handle, header, 0);
    let position = header.byteLength;
    for (const { bytes } of planned) {
      await writeFully(handle, bytes, position);
      position += bytes.byteLength;
    }
    await handle.sync();
    await handle.close();
    handle = null;
    await rename(temp, path);
  } catch (cause) {
    await handle?.close().catch(() => undefined);
    await rm(temp, { force: true }).catch(() => undefined);
    throw fsError(path, 'write the file', cause);
  }
}
