import type { DeviceStorage } from './device-storage';

/**
 * Device storages whose tensors have all been disposed, kept by exact byte length for the next allocation of that
 * size. A denoising loop allocates the same shapes every step, so in steady state an allocation is a Map lookup and
 * an array pop here: no N-API call, no new storage object, no finalizer registration. The native caching allocator
 * (native/src/binding/allocator.cpp) stays the second level, for sizes this pool has not seen.
 */
export class StoragePool {
  readonly #free = new Map<number, DeviceStorage[]>();
  #count = 0;
  #bytes = 0;

  /** A pooled storage of exactly `byteLength` bytes, or undefined. */
  take(byteLength: number): DeviceStorage | undefined {
    const list = this.#free.get(byteLength);
    const storage = list?.pop();
    if (storage !== undefined) {
      this.#count--;
      this.#bytes -= byteLength;
    }
    return storage;
  }

  put(storage: DeviceStorage): void {
    let list = this.#free.get(storage.byteLength);
    if (list === undefined) {
      list = [];
      this.#free.set(storage.byteLength, list);
    }
    list.push(storage);
    this.#count++;
    this.#bytes += storage.byteLength;
  }

  /** Removes and returns every pooled storage. */
  drain(): DeviceStorage[] {
    const all = [...this.#free.values()].flat();
    this.#free.clear();
    this.#count = 0;
    this.#bytes = 0;
    return all;
  }

  get count(): number {
    return this.#count;
  }
  get bytes(): number {
    return this.#bytes;
  }
}
