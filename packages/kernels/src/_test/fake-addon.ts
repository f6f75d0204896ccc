// A stand-in for the native addon on machines without a GPU (tests only): host memory behind handles, counted calls,
// an optional capacity, and a record of every native op call with its params, so that the CUDA side of each op (the
// params it sends) is tested on the CPU. Op calls do not compute anything.
import type { AllocatorStats, NativeAddon, NativeDeviceInfo } from '../core/addon-types';
import { CudaBackend } from '../cuda/backend';

export interface FakeAddon {
  addon: NativeAddon;
  calls: { alloc: number; free: number; emptyCache: number };
  live: Map<number, Uint8Array>;
  /** Native op calls in order: the export's name and the params object it received. */
  opCalls: { name: string; params: Record<string, unknown> }[];
}

export function fakeAddon(options: { capacityBytes?: number; opResults?: Record<string, unknown> } = {}): FakeAddon {
  const live = new Map<number, Uint8Array>();
  let next = 1;
  const calls = { alloc: 0, free: 0, emptyCache: 0 };
  const opCalls: FakeAddon['opCalls'] = [];
  const block = (handle: number) => {
    const b = live.get(handle);
    if (b === undefined) throw Object.assign(new Error(`unknown handle ${handle}`), { code: 'FPSATTN_INVALID_ARGUMENT' });
    return b;
  };
  const op = (name: string) => (params: Record<string, unknown>) => {
    opCalls.push({ name, params });
    return options.opResults?.[name];
  };
  const addon = {
    alloc(bytes: number): number {
      calls.alloc++;
      const used = [...live.values()].reduce((a, b) => a + b.byteLength, 0);
      if (options.capacityBytes !== undefined && used + bytes > options.capacityBytes) {
        throw Object.assign(new Error('out of device memory'), { code: 'FPSATTN_OUT_OF_MEMORY' });
      }
      live.set(next, new Uint8Array(bytes));
      return next++;
    },
    free(handle: number): void {
      calls.free++;
      block(handle);
      live.delete(handle);
    },
    upload(handle: number, byteOffset: number, data: ArrayBufferView): void {
      block(handle).set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), byteOffset);
    },
    downloadSync<T extends ArrayBufferView>(handle: number, byteOffset: number, target: T): T {
      new Uint8Array(target.buffer, target.byteOffset, target.byteLength).set(block(handle).subarray(byteOffset, byteOffset + target.byteLength));
      return target;
    },
    async download<T extends ArrayBufferView>(handle: number, byteOffset: number, target: T): Promise<T> {
      return addon.downloadSync(handle, byteOffset, target);
    },
    memset(handle: number, byteOffset: number, byteLength: number, value: number): void {
      block(handle).fill(value, byteOffset, byteOffset + byteLength);
    },
    emptyCache(): void {
      calls.emptyCache++;
    },
    allocatorStats: (): AllocatorStats => ({ allocRequests: calls.alloc, cacheHits: 0, cudaMallocCalls: 0, cudaFreeCalls: 0, liveBlocks: live.size, bytesInUse: 0, bytesCached: 0, peakBytesInUse: 0, oomRetries: 0 }),
    permuteRows: op('permuteRows'),
    channelMean: op('channelMean'),
    quantizeRows: op('quantizeRows'),
    quantizeV: op('quantizeV'),
    dequantizeRows: op('dequantizeRows'),
    dequantizeV: op('dequantizeV'),
    gemm: op('gemm'),
    flowSolverStep: op('flowSolverStep'),
  };
  return { addon: addon as unknown as NativeAddon, calls, live, opCalls };
}

export const FAKE_DEVICE = { name: 'fake', major: 9, minor: 0 } as NativeDeviceInfo;

/** A CUDA backend over a fake addon: real device tensors (on 'cuda') without a GPU. */
export function fakeCudaBackend(options: Parameters<typeof fakeAddon>[0] = {}): FakeAddon & { backend: CudaBackend } {
  const fake = fakeAddon(options);
  return { ...fake, backend: new CudaBackend(fake.addon, FAKE_DEVICE) };
}
