import { InvalidArgumentError, ShapeMismatchError } from '@fpsattn/fp8';
import { DTYPE_BYTES, type DType, type HostArrayOf, allocHostArray, assertHostArrayFor } from './dtype';
import type { Backend } from './backend';
import { DisposedError } from './errors';

export type Device = 'cpu' | 'cuda';

/** Where a tensor's bytes live. Shared by a tensor and its views; freed when the last of them is disposed. */
export interface Storage {
  readonly device: Device;
  /** The backend that made it: ops run on the backend of their input tensors. */
  readonly backend: Backend;
  readonly byteLength: number;
  readonly live: boolean;
  retain(): void;
  release(): void;
  /** Copies host bytes in at a byte offset (device: stream-ordered upload). */
  write(byteOffset: number, bytes: Uint8Array): void;
  /** Reads bytes out into `target` (device: waits for the stream). */
  readSync(byteOffset: number, target: Uint8Array): void;
  /** Reads bytes out without blocking the event loop. */
  read(byteOffset: number, target: Uint8Array): Promise<void>;
  fill(byteOffset: number, byteLength: number, value: number): void;
}

/** Row-major strides (in elements) of a shape. */
export function contiguousStrides(shape: readonly number[]): number[] {
  // Stryker disable next-line ArrayDeclaration: every entry is assigned below, whatever the initial length
  const strides = new Array<number>(shape.length);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = s;
    s *= shape[i] as number;
  }
  return strides;
}

export function numelOf(shape: readonly number[]): number {
  let n = 1;
  for (let i = 0; i < shape.length; i++) n *= shape[i] as number; // indexed: no iterator on the allocation path
  return n;
}

export function checkShape(shape: unknown, argument = 'shape'): asserts shape is readonly number[] {
  // A plain loop: this runs on every allocation, whose cost is part of each denoising step.
  let ok = Array.isArray(shape);
  for (let i = 0; ok && i < (shape as unknown[]).length; i++) {
    const d = (shape as unknown[])[i];
    ok = Number.isSafeInteger(d) && (d as number) >= 0;
  }
  if (!ok) throw new InvalidArgumentError({ argument, value: shape, message: 'expected an array of non-negative integers' });
}

export const formatShape = (shape: readonly number[]): string => `[${shape.join(', ')}]`;

/**
 * An n-dimensional, row-major, contiguous tensor on the CPU or a CUDA device.
 *
 * Dispose it explicitly (`dispose()`, or `using t = ...`). Device memory of a tensor that is garbage-collected without
 * it is still returned (the CUDA backend registers a finalizer per storage), but should not wait for the collector. Views (`reshape`, `sliceRows`) share the storage; the memory goes
 * back to the allocator when the tensor and all its views are disposed.
 */
export class Tensor<D extends DType = DType> implements Disposable {
  readonly dtype: D;
  /** Freezing an array costs V8 more than the rest of an allocation together, so the private copy is frozen the
   * first time `shape` is read from outside the allocation path (allocate + dispose never read it). */
  readonly #shape: number[];
  #shapeFrozen = false;
  /** Byte offset of element 0 inside the storage. */
  readonly byteOffset: number;
  /** Number of elements (the shape is immutable, so this is computed once). */
  readonly numel: number;
  /** @internal */
  readonly storage: Storage;
  #released = false;
  #name: string | undefined;
  #strides: readonly number[] | undefined;

  /** @internal Use a backend's `empty`/`fromArray`. */
  constructor(init: { storage: Storage; dtype: D; shape: readonly number[]; byteOffset?: number; name?: string | undefined }) {
    this.storage = init.storage;
    this.dtype = init.dtype;
    this.#shape = init.shape.slice();
    this.byteOffset = init.byteOffset ?? 0;
    this.numel = numelOf(this.#shape);
    this.#name = init.name;
    if (this.byteOffset + this.byteLength > init.storage.byteLength) {
      throw new ShapeMismatchError({
        tensor: this.name,
        expected: `at most ${init.storage.byteLength - this.byteOffset} bytes`,
        actual: `${this.byteLength} bytes for ${formatShape(this.shape)} ${this.dtype}`,
      });
    }
    init.storage.retain();
  }

  /** The dimensions (frozen). */
  get shape(): readonly number[] {
    // Stryker disable next-line ConditionalExpression,BooleanLiteral: freezing again is a no-op (the flag only saves the call)
    if (!this.#shapeFrozen) {
      Object.freeze(this.#shape);
      // Stryker disable next-line BooleanLiteral: as above
      this.#shapeFrozen = true;
    }
    return this.#shape;
  }

  /** The name used in error messages (default: dtype and shape). */
  get name(): string {
    return (this.#name ??= `${this.dtype}${formatShape(this.shape)}`);
  }
  /** Row-major strides in elements (tensors are always contiguous). */
  get strides(): readonly number[] {
    return (this.#strides ??= Object.freeze(contiguousStrides(this.shape)));
  }

  get device(): Device {
    return this.storage.device;
  }
  /** The backend this tensor's memory belongs to; ops taking it run there. */
  get backend(): Backend {
    return this.storage.backend;
  }
  get byteLength(): number {
    return this.numel * DTYPE_BYTES[this.dtype];
  }
  get disposed(): boolean {
    return this.#released || !this.storage.live;
  }

  /** Throws DisposedError if this tensor (or the storage under it) was disposed. */
  assertLive(operation: string): void {
    if (this.disposed) throw new DisposedError({ tensor: this.name, operation });
  }

  /** Copies host values in (same dtype's typed array, same element count). */
  upload(data: HostArrayOf[D]): this {
    this.assertLive('upload');
    assertHostArrayFor(this.dtype, data, this.name);
    if (data.length !== this.numel) {
      throw new ShapeMismatchError({ tensor: this.name, expected: `${this.numel} elements`, actual: `${data.length} elements` });
    }
    this.storage.write(this.byteOffset, new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    return this;
  }

  /** Copies the values out, waiting for queued device work without blocking the event loop. */
  async download(): Promise<HostArrayOf[D]> {
    this.assertLive('download');
    const out = allocHostArray(this.dtype, this.numel);
    await this.storage.read(this.byteOffset, new Uint8Array(out.buffer, out.byteOffset, out.byteLength));
    return out;
  }

  /** Copies the values out synchronously (blocks until queued device work is done). */
  downloadSync(): HostArrayOf[D] {
    this.assertLive('downloadSync');
    const out = allocHostArray(this.dtype, this.numel);
    this.storage.readSync(this.byteOffset, new Uint8Array(out.buffer, out.byteOffset, out.byteLength));
    return out;
  }

  /** Sets every byte to `value` (0..255): zeroing, or poisoning outputs in tests. */
  fillBytes(value: number): this {
    this.assertLive('fillBytes');
    if (!Number.isInteger(value) || value < 0 || value > 255) {
      throw new InvalidArgumentError({ argument: 'value', value, message: 'expected a byte value 0..255' });
    }
    this.storage.fill(this.byteOffset, this.byteLength, value);
    return this;
  }

  /** A view with another shape of the same element count (one dimension may be -1). */
  reshape(shape: readonly number[], name?: string): Tensor<D> {
    this.assertLive('reshape');
    const resolved = [...shape];
    const unknown = resolved.indexOf(-1);
    if (unknown >= 0) {
      const known = numelOf(resolved.filter((_, i) => i !== unknown));
      // Stryker disable next-line ConditionalExpression: numel % 0 is NaN, which fails the second test too (known === 0 says why)
      if (known === 0 || this.numel % known !== 0) {
        throw new ShapeMismatchError({
          tensor: this.name,
          expected: `a shape whose known dimensions divide ${this.numel} elements (from ${formatShape(this.shape)})`,
          actual: formatShape(shape),
        });
      }
      resolved[unknown] = this.numel / known;
    }
    checkShape(resolved);
    if (numelOf(resolved) !== this.numel) {
      throw new ShapeMismatchError({
        tensor: this.name,
        expected: `a shape of ${this.numel} elements (from ${formatShape(this.shape)})`,
        actual: formatShape(shape),
      });
    }
    return new Tensor({ storage: this.storage, dtype: this.dtype, shape: resolved, byteOffset: this.byteOffset, name: name ?? this.name });
  }

  /** A view of rows [start, start + count) along the first dimension (still contiguous). */
  sliceRows(start: number, count: number, name?: string): Tensor<D> {
    this.assertLive('sliceRows');
    const rows = this.shape[0];
    if (rows === undefined) throw new ShapeMismatchError({ tensor: this.name, expected: 'at least 1 dimension', actual: '0 dimensions' });
    if (!Number.isSafeInteger(start) || !Number.isSafeInteger(count) || start < 0 || count < 0 || start + count > rows) {
      throw new InvalidArgumentError({ argument: 'start/count', value: [start, count], message: `rows [${start}, ${start + count}) are outside 0..${rows}` });
    }
    const rowBytes = (this.strides[0] ?? 1) * DTYPE_BYTES[this.dtype];
    return new Tensor({
      storage: this.storage,
      dtype: this.dtype,
      shape: [count, ...this.shape.slice(1)],
      byteOffset: this.byteOffset + start * rowBytes,
      name: name ?? `${this.name}[${start}:${start + count}]`,
    });
  }

  /** Releases this tensor's reference to its storage (idempotent). */
  dispose(): void {
    if (this.#released) return;
    this.#released = true;
    this.storage.release();
  }

  [Symbol.dispose](): void {
    this.dispose();
  }

  toString(): string {
    return `Tensor(${this.name}: ${formatShape(this.shape)} ${this.dtype} on ${this.device}${this.disposed ? ', disposed' : ''})`;
  }
}
