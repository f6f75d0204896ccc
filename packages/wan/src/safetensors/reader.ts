import { type FileHandle, open } from 'node:fs/promises';
import { readFully, fsError } from './_fs';
import { CheckpointError, WAN_CHECKPOINT_ERROR_CODES } from './checkpoint-error';
import type { SafetensorsArray } from './dtypes';
import {
  SAFETENSORS_LENGTH_BYTES,
  type SafetensorsHeader,
  type SafetensorsTensorInfo,
  decodeHeaderLength,
  parseHeaderJson,
} from './header';
import { viewTensorBuffer } from './tensor-data';
import { tensorToFloat32 } from './to-float32';

/** Reads of tensors by name; what a single file and a sharded checkpoint have in common. */
export interface TensorSource extends AsyncDisposable {
  /** The tensors by name (for a file: in the order of their data). */
  readonly tensors: ReadonlyMap<string, SafetensorsTensorInfo>;
  /** The values of a tensor in the typed array of its dtype (`SafetensorsArrayOf`), read from the file now. */
  read(name: string): Promise<SafetensorsArray>;
  /** The stored (little-endian) bytes of a tensor, read from the file now. */
  readBytes(name: string): Promise<Uint8Array>;
  /** The values of a tensor as float32 (see `tensorToFloat32` for each dtype), read from the file now. */
  readAsFloat32(name: string): Promise<Float32Array>;
  /** Closes the file(s); reads after it throw CLOSED. Calling it again does nothing. */
  close(): Promise<void>;
}

/** An open safetensors file: its header, read once, and reads of single tensors at their offsets. */
export interface SafetensorsFile extends TensorSource {
  /** The path as given to {@link openSafetensors}. */
  readonly path: string;
  readonly header: SafetensorsHeader;
  /** `__metadata__` of the header (empty when absent). */
  readonly metadata: Readonly<Record<string, string>>;
}

class SafetensorsFileReader implements SafetensorsFile {
  readonly tensors: ReadonlyMap<string, SafetensorsTensorInfo>;
  readonly metadata: Readonly<Record<string, string>>;
  private closing: Promise<void> | null = null;

  constructor(
    readonly path: string,
    readonly header: SafetensorsHeader,
    private readonly handle: FileHandle,
  ) {
    this.tensors = header.tensors;
    this.metadata = header.metadata;
  }

  private info(name: string): SafetensorsTensorInfo {
    if (this.closing !== null) {
      throw new CheckpointError({ code: WAN_CHECKPOINT_ERROR_CODES.CLOSED, file: this.path, tensor: name, rule: 'cannot be read: the file was closed' });
    }
    const info = this.tensors.get(name);
    if (info === undefined) {
      throw new CheckpointError({ code: WAN_CHECKPOINT_ERROR_CODES.UNKNOWN_TENSOR, file: this.path, tensor: name, rule: `is not in the file (it holds ${this.tensors.size} tensors)` });
    }
    return info;
  }

  /** Reads a tensor into a fresh ArrayBuffer of its own (so every typed-array view of it is aligned). */
  private async readBuffer(name: string, info: SafetensorsTensorInfo): Promise<ArrayBuffer> {
    const buffer = new ArrayBuffer(info.byteLength);
    if (info.byteLength > 0) {
      const position = this.header.dataStart + info.dataOffsets[0];
      await readFully({ handle: this.handle, file: this.path, tensor: name, into: new Uint8Array(buffer), position });
    }
    return buffer;
  }

  async readBytes(name: string): Promise<Uint8Array> {
    return new Uint8Array(await this.readBuffer(name, this.info(name)));
  }

  async read(name: string): Promise<SafetensorsArray> {
    const info = this.info(name);
    return viewTensorBuffer(info.dtype, await this.readBuffer(name, info));
  }

  async readAsFloat32(name: string): Promise<Float32Array> {
    const info = this.info(name);
    const data = viewTensorBuffer(info.dtype, await this.readBuffer(name, info));
    return tensorToFloat32({ dtype: info.dtype, data });
  }

  close(): Promise<void> {
    this.closing ??= this.handle.close().catch((cause: unknown) => {
      throw fsError(this.path, 'close the file', cause);
    });
    return this.closing;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

/**
 * Opens a safetensors file: reads and validates its header (two positioned reads: the 8-byte length, then the JSON)
 * and keeps the file open for reads of single tensors, each one positioned read of exactly its bytes; the file is
 * never read whole. Every problem is a {@link CheckpointError} naming the file; the file is closed before it is thrown.
 *
 * @example
 * await using file = await openSafetensors('diffusion_pytorch_model.safetensors');
 * const q = await file.readAsFloat32('blocks.0.self_attn.q.weight');
 */
export async function openSafetensors(path: string): Promise<SafetensorsFile> {
  let handle: FileHandle;
  try {
    handle = await open(path, 'r');
  } catch (cause) {
    throw fsError(path, 'open the file', cause);
  }
  try {
    let size: number;
    try {
      const stats = await handle.stat();
      if (!stats.isFile()) {
        throw new CheckpointError({ code: WAN_CHECKPOINT_ERROR_CODES.NOT_FOUND, file: path, rule: 'is not a file (openCheckpoint takes directories)' });
      }
      size = stats.size;
    } catch (cause) {
      throw fsError(path, 'stat the file', cause);
    }
    const prefix = new Uint8Array(Math.min(SAFETENSORS_LENGTH_BYTES, size));
    await readFully({ handle, file: path, into: prefix, position: 0 });
    const headerLength = decodeHeaderLength({ file: path, prefix, fileSize: size });
    const json = new Uint8Array(headerLength);
    await readFully({ handle, file: path, into: json, position: SAFETENSORS_LENGTH_BYTES });
    const header = parseHeaderJson({ file: path, json, fileSize: size });
    return new SafetensorsFileReader(path, header, handle);
  } catch (error) {
    await handle.close().catch(() => undefined); // the first error is the one to report
    throw error;
  }
}
