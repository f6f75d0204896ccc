import type { MemoryStats, NativeAddon, NativeDeviceInfo, NativeTensorRef } from '../core/addon-types';
import { BaseBackend, type CudaDevice, type OpImplementation } from '../core/backend';
import { CudaError, OutOfMemoryError, callNative, fromNativeError } from '../core/errors';
import type { NativeFields, NativeOp, NativeParams, NativeResult } from '../core/native-op';
import type { Storage, Tensor } from '../core/tensor';
import { DeviceStorage } from './device-storage';
import { StoragePool } from './storage-pool';

function ref(t: Tensor): NativeTensorRef {
  return { handle: (t.storage as DeviceStorage).handle, byteOffset: t.byteOffset, byteLength: t.byteLength };
}

/** Device tensors of the addon's caching allocator, and ops run by its CUDA kernels on one stream. All calls are
 * asynchronous; `synchronize()` waits. */
export class CudaBackend extends BaseBackend {
  readonly name = 'cuda' as const;
  readonly addon: NativeAddon;
  readonly device: NativeDeviceInfo;

  /** Storages whose tensors were all disposed, ready for the next allocation of the same size. */
  readonly #pool = new StoragePool();
  /**
   * Safety net for tensors that are never disposed: a storage that becomes unreachable while in use gives its block
   * back to the native allocator. Registered once per storage (not per tensor or per allocation): pooled storages
   * are reachable from the pool, so they are never collected there.
   */
  readonly #leaks: FinalizationRegistry<number>;

  constructor(addon: NativeAddon, device: NativeDeviceInfo) {
    super();
    this.addon = addon;
    this.device = device;
    this.#leaks = new FinalizationRegistry((handle) => {
      try {
        addon.free(handle);
      } catch {
        // Never throw from a finalizer (the addon may be unusable at exit).
      }
    });
  }

  protected createStorage(byteLength: number, name: string | undefined): Storage {
    const pooled = this.#pool.take(byteLength);
    if (pooled !== undefined) {
      pooled.revive();
      return pooled;
    }
    const storage = new DeviceStorage({ addon: this.addon, backend: this, handle: this.#allocate(byteLength, name), byteLength });
    this.#leaks.register(storage, storage.handle, storage);
    return storage;
  }

  #allocate(byteLength: number, name: string | undefined): number {
    try {
      return this.addon.alloc(byteLength);
    } catch (e) {
      const error = fromNativeError(`alloc(${name ?? 'tensor'}, ${byteLength} bytes)`, e, byteLength);
      if (!(error instanceof OutOfMemoryError) || this.#pool.count === 0) throw error;
      // Blocks parked in the pool count as in use for the native allocator: give them back, then try once more.
      this.#releasePool();
      try {
        return this.addon.alloc(byteLength);
      } catch (retry) {
        throw fromNativeError(`alloc(${name ?? 'tensor'}, ${byteLength} bytes)`, retry, byteLength);
      }
    }
  }

  /** @internal Called by a storage whose last tensor was disposed. */
  recycle(storage: DeviceStorage): void {
    this.#pool.put(storage);
  }

  #releasePool(): void {
    for (const storage of this.#pool.drain()) {
      this.#leaks.unregister(storage);
      callNative('free', () => this.addon.free(storage.handle));
    }
  }

  /** @internal Runs an op's CUDA implementation; native errors come back as fpsattn errors named after the op. */
  dispatch<R>(op: string, implementation: OpImplementation<R>): R {
    return callNative(op, () => implementation.cuda(this.#device));
  }

  readonly #device: CudaDevice = {
    ref,
    optionalRef: (t) => (t === null || t === undefined ? null : ref(t)),
    call: <F extends NativeFields, R extends NativeFields | null>(op: NativeOp<F, R>, params: NativeParams<F>) => {
      const fn = (this.addon as unknown as Record<string, (p: NativeParams<F>) => NativeResult<R>>)[op.name];
      if (typeof fn !== 'function') throw new CudaError({ call: op.name, message: `the addon has no '${op.name}' export: rebuild native/ (npm run build:native)` });
      return fn.call(this.addon, params);
    },
  };

  async synchronize(): Promise<void> {
    try {
      await this.addon.synchronize();
    } catch (e) {
      throw fromNativeError('synchronize', e);
    }
  }
  memoryStats(): MemoryStats {
    const native = callNative('allocatorStats', () => this.addon.allocatorStats());
    return { ...native, pooledStorages: this.#pool.count, pooledBytes: this.#pool.bytes };
  }
  emptyCache(): void {
    this.#releasePool();
    callNative('emptyCache', () => this.addon.emptyCache());
  }
  /** Device-to-device copy of whole tensors (benchmark baseline; stream-ordered). */
  copy(dst: Tensor, src: Tensor): void {
    src.assertLive('copy');
    dst.assertLive('copy');
    const n = Math.min(src.byteLength, dst.byteLength);
    callNative('copy', () => this.addon.copy(ref(dst).handle, dst.byteOffset, ref(src).handle, src.byteOffset, n));
  }
}
