import type { Fp8Format } from '@fpsattn/fp8';
import type { MemoryStats, NativeAddon, NativeDeviceInfo, NativeTensorRef } from '../core/addon-types';
import { BaseBackend, type QuantPath, type QuantizeQKOptions, type QuantizedQK } from '../core/backend';
import { DTYPE_BYTES } from '../core/dtype';
import { OutOfMemoryError, callNative, fromNativeError } from '../core/errors';
import type { GroupMap, RowMap } from '../core/maps';
import { type Storage, type Tensor, numelOf } from '../core/tensor';
import { DeviceStorage } from './device-storage';
import { StoragePool } from './storage-pool';

function ref(t: Tensor): NativeTensorRef {
  return { handle: (t.storage as DeviceStorage).handle, byteOffset: t.byteOffset, byteLength: t.byteLength };
}

const PATH_CODE: Record<QuantPath, 0 | 1 | 2> = { auto: 0, 'two-pass': 1, fused: 2 };

/** Runs the CUDA kernels of the addon on one stream. All calls are asynchronous; `synchronize()` waits. */
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
    const storage = new DeviceStorage({ addon: this.addon, recycler: this, handle: this.#allocate(byteLength, name), byteLength });
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

  protected execPermute(src: Tensor, dst: Tensor, map: RowMap, scatter: boolean, amax?: Tensor<'f32'>): void {
    const rowBytes = numelOf(src.shape.slice(1)) * DTYPE_BYTES[src.dtype];
    callNative(scatter ? 'scatterRows' : 'gatherRows', () =>
      this.addon.permuteRows({
        src: ref(src),
        dst: ref(dst),
        rowMap: ref(map.tensor),
        srcRows: src.shape[0] as number,
        dstRows: dst.shape[0] as number,
        mapLen: map.length,
        rowBytes,
        scatter,
        amax: amax ? ref(amax) : null,
      }),
    );
  }

  protected execChannelMean(x: Tensor<'bf16'>, mean: Tensor<'f32'>): void {
    callNative('channelMean', () =>
      this.addon.channelMean({ x: ref(x), mean: ref(mean), rows: x.shape[0] as number, cols: x.shape[1] as number }),
    );
  }

  protected execQuantizeQK(x: Tensor<'bf16'>, o: QuantizeQKOptions, codes: Tensor<Fp8Format>, scales: Tensor<'f32'>, path: QuantPath): QuantizedQK['path'] {
    const cols = x.shape[1] as number;
    return callNative('quantizeQK', () =>
      this.addon.quantizeRows({
        x: ref(x),
        groupOfRow: ref(o.groups.groupOfRow),
        groupStart: o.groups.groupStart ? ref(o.groups.groupStart) : null,
        mean: o.mean ? ref(o.mean) : null,
        codes: ref(codes),
        scales: ref(scales),
        rows: x.shape[0] as number,
        cols,
        headDim: o.headDim,
        heads: cols / o.headDim,
        groupCount: o.groups.groupCount,
        maxGroupRows: o.groups.maxGroupRows,
        format: o.format,
        path: PATH_CODE[path],
      }),
    ).path;
  }

  protected execQuantizeV(v: Tensor<'bf16'>, codesT: Tensor<Fp8Format>, scales: Tensor<'f32'>, rows: number, tokenStride: number, format: Fp8Format, amax?: Tensor<'f32'>): void {
    callNative('quantizeV', () =>
      this.addon.quantizeV({ v: ref(v), codesT: ref(codesT), scales: ref(scales), amax: amax ? ref(amax) : null, rows, cols: v.shape[1] as number, tokenStride, format }),
    );
  }

  protected execDequantizeQK(codes: Tensor<Fp8Format>, scales: Tensor<'f32'>, groups: GroupMap, headDim: number, out: Tensor<'f32'>): void {
    const cols = codes.shape[1] as number;
    callNative('dequantizeQK', () =>
      this.addon.dequantizeRows({
        codes: ref(codes),
        scales: ref(scales),
        groupOfRow: ref(groups.groupOfRow),
        out: ref(out),
        rows: codes.shape[0] as number,
        cols,
        headDim,
        heads: cols / headDim,
        groupCount: groups.groupCount,
        format: codes.dtype,
      }),
    );
  }

  protected execDequantizeV(codesT: Tensor<Fp8Format>, scales: Tensor<'f32'>, rows: number, out: Tensor<'f32'>): void {
    callNative('dequantizeV', () =>
      this.addon.dequantizeV({
        codesT: ref(codesT),
        scales: ref(scales),
        out: ref(out),
        rows,
        cols: codesT.shape[0] as number,
        tokenStride: codesT.shape[1] as number,
        format: codesT.dtype,
      }),
    );
  }

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
