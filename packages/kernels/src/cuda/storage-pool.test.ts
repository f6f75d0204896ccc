import { describe, expect, it } from 'vitest';
import { FAKE_DEVICE, fakeAddon as fake } from '../_test/fake-addon';
import { DisposedError, OutOfMemoryError } from '../core/errors';
import { CudaBackend } from './backend';

function fakeAddon(options: { capacityBytes?: number } = {}) {
  const { addon, calls, live } = fake(options);
  return { addon, calls, live };
}

const device = FAKE_DEVICE;

describe('CudaBackend storage pool', () => {
  it('serves repeated allocations of one size from the pool: one native alloc, no native free', () => {
    const { addon, calls } = fakeAddon();
    const backend = new CudaBackend(addon, device);
    for (let i = 0; i < 1000; i++) backend.empty([75_600, 1_536], 'bf16').dispose();
    expect(calls).toMatchObject({ alloc: 1, free: 0 });
    expect(backend.memoryStats()).toMatchObject({ pooledStorages: 1, pooledBytes: 75_600 * 1_536 * 2 });
  });

  it('keeps sizes apart and returns storage only when the tensor and all its views are disposed', () => {
    const { addon, calls } = fakeAddon();
    const backend = new CudaBackend(addon, device);
    const a = backend.empty([4, 8], 'f32');
    const view = a.reshape([32]);
    a.dispose();
    const b = backend.empty([4, 8], 'f32'); // the view still holds a's storage: a new block
    expect(calls.alloc).toBe(2);
    expect(b.storage).not.toBe(a.storage);
    view.dispose();
    const c = backend.empty([4, 8], 'f32');
    expect(c.storage).toBe(a.storage);
    backend.empty([4, 9], 'f32');
    expect(calls.alloc).toBe(3);
  });

  it('still reports use after dispose when the storage has gone to another tensor', () => {
    const { addon } = fakeAddon();
    const backend = new CudaBackend(addon, device);
    const old = backend.empty([16, 128], 'bf16');
    old.dispose();
    const fresh = backend.empty([16, 128], 'bf16');
    expect(fresh.storage).toBe(old.storage);
    expect(old.disposed).toBe(true);
    expect(fresh.disposed).toBe(false);
    expect(() => old.reshape([2048])).toThrow(DisposedError);
  });

  it('gives pooled blocks back on emptyCache() and when the device runs out of memory', () => {
    const { addon, calls, live } = fakeAddon({ capacityBytes: 1000 });
    const backend = new CudaBackend(addon, device);
    backend.empty([600], 'u8').dispose(); // parked in the pool, still held natively
    const big = backend.empty([700], 'u8'); // does not fit next to it: the pool is released and the alloc retried
    expect(calls.free).toBe(1);
    expect(live.size).toBe(1);
    big.dispose();
    backend.emptyCache();
    expect(live.size).toBe(0);
    expect(calls.emptyCache).toBe(1);
    expect(() => backend.empty([2000], 'u8')).toThrow(OutOfMemoryError);
  });

  it.runIf(typeof globalThis.gc === 'function')('returns the block of a tensor that was never disposed once it is collected', async () => {
    const { addon, live } = fakeAddon();
    const backend = new CudaBackend(addon, device);
    (() => {
      backend.empty([1024], 'f32'); // dropped without dispose()
    })();
    expect(live.size).toBe(1);
    for (let i = 0; i < 20 && live.size > 0; i++) {
      globalThis.gc?.();
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    expect(live.size).toBe(0);
  });
});
