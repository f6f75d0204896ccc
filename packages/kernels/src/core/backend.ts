import { ShapeMismatchError } from '@fpsattn/fp8';
import type { MemoryStats, NativeTensorRef } from './addon-types';
import { DTYPE_BYTES, type DType, type HostArrayOf, assertDType, assertHostArrayFor } from './dtype';
import type { NativeFields, NativeOp, NativeParams, NativeResult } from './native-op';
import { type Device, type Storage, Tensor, checkShape, formatShape, numelOf } from './tensor';

/**
 * A device: tensors, allocation, its stream, synchronization and memory statistics. Ops are not methods: they are
 * functions in src/ops/ that take one options object and run on the backend of their input tensors.
 */
export interface Backend {
  readonly name: Device;
  empty<D extends DType>(shape: readonly number[], dtype: D, options?: { name?: string }): Tensor<D>;
  fromArray<D extends DType>(data: HostArrayOf[D], shape: readonly number[], dtype: D, options?: { name?: string }): Tensor<D>;
  /** Resolves when all queued work is done (never blocks the event loop). */
  synchronize(): Promise<void>;
  memoryStats(): MemoryStats | null;
  emptyCache(): void;
  /**
   * @internal The op-dispatch hook: runs the implementation of `op` for this backend (the CPU twin, or the native
   * call on CUDA, whose errors come back named after `op`). Ops call it after validating their arguments.
   */
  dispatch<R>(op: string, implementation: OpImplementation<R>): R;
}

/** Both implementations of one op, given to `Backend.dispatch`. */
export interface OpImplementation<R> {
  cpu(): R;
  cuda(device: CudaDevice): R;
}

/** What a CUDA implementation may use: tensor references for the addon and the typed call of a native op. */
export interface CudaDevice {
  ref(t: Tensor): NativeTensorRef;
  /** `ref(t)`, or null for an absent optional tensor. */
  optionalRef(t: Tensor | null | undefined): NativeTensorRef | null;
  call<F extends NativeFields, R extends NativeFields | null>(op: NativeOp<F, R>, params: NativeParams<F>): NativeResult<R>;
}

/** Allocation shared by both backends; subclasses provide storage, dispatch and synchronization. */
export abstract class BaseBackend implements Backend {
  abstract readonly name: Device;
  protected abstract createStorage(byteLength: number, name: string | undefined): Storage;
  abstract dispatch<R>(op: string, implementation: OpImplementation<R>): R;
  abstract synchronize(): Promise<void>;
  abstract memoryStats(): MemoryStats | null;
  abstract emptyCache(): void;

  empty<D extends DType>(shape: readonly number[], dtype: D, options?: { name?: string }): Tensor<D> {
    checkShape(shape);
    assertDType(dtype);
    const name = options?.name;
    const storage = this.createStorage(numelOf(shape) * DTYPE_BYTES[dtype], name);
    try {
      return new Tensor({ storage, dtype, shape, name }); // the tensor holds the only reference
      // Stryker disable next-line BlockStatement: unreachable (a storage of exactly the shape's bytes always fits); kept so a future check in Tensor cannot leak device memory
    } catch (e) {
      storage.retain();
      storage.release(); // frees it
      throw e;
    }
  }

  fromArray<D extends DType>(data: HostArrayOf[D], shape: readonly number[], dtype: D, options: { name?: string } = {}): Tensor<D> {
    checkShape(shape);
    assertDType(dtype);
    const name = options.name ?? `${dtype}${formatShape(shape)}`;
    assertHostArrayFor(dtype, data, name);
    if (data.length !== numelOf(shape)) {
      throw new ShapeMismatchError({ tensor: name, expected: `${numelOf(shape)} elements for ${formatShape(shape)}`, actual: `${data.length} elements` });
    }
    const t = this.empty(shape, dtype, { name });
    try {
      return t.upload(data);
    } catch (e) {
      t.dispose();
      throw e;
    }
  }
}
