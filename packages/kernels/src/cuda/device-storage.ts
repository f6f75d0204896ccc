import type { NativeAddon } from '../core/addon-types';
import { callNative, fromNativeError } from '../core/errors';
import type { Storage } from '../core/tensor';

/** Where a storage goes when its last tensor is disposed (the CUDA backend's pool). */
export interface StorageRecycler {
  recycle(storage: DeviceStorage): void;
}

/**
 * Device memory behind one caching-allocator handle. Reference-counted by the tensors and views on it; when the count
 * reaches zero it goes back to its backend's pool (not to the driver), and `revive()` hands it out again.
 */
export class DeviceStorage implements Storage {
  readonly device = 'cuda' as const;
  readonly handle: number;
  readonly byteLength: number;
  #refs = 0;
  #live = true;
  readonly #addon: NativeAddon;
  readonly #recycler: StorageRecycler;

  constructor(options: { addon: NativeAddon; recycler: StorageRecycler; handle: number; byteLength: number }) {
    this.#addon = options.addon;
    this.#recycler = options.recycler;
    this.handle = options.handle;
    this.byteLength = options.byteLength;
  }

  get live(): boolean {
    return this.#live;
  }
  /** @internal Re-arms a pooled storage for a new tensor. */
  revive(): void {
    this.#live = true;
    this.#refs = 0;
  }
  retain(): void {
    this.#refs++;
  }
  release(): void {
    if (--this.#refs > 0 || !this.#live) return;
    this.#live = false;
    this.#recycler.recycle(this);
  }
  write(byteOffset: number, bytes: Uint8Array): void {
    callNative('upload', () => this.#addon.upload(this.handle, byteOffset, bytes));
  }
  readSync(byteOffset: number, target: Uint8Array): void {
    callNative('downloadSync', () => this.#addon.downloadSync(this.handle, byteOffset, target));
  }
  async read(byteOffset: number, target: Uint8Array): Promise<void> {
    try {
      await this.#addon.download(this.handle, byteOffset, target);
    } catch (e) {
      throw fromNativeError('download', e);
    }
  }
  fill(byteOffset: number, byteLength: number, value: number): void {
    callNative('memset', () => this.#addon.memset(this.handle, byteOffset, byteLength, value));
  }
}
