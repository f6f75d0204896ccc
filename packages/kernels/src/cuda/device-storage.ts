import type { NativeAddon } from '../core/addon-types';
import type { Backend } from '../core/backend';
import { callNative, fromNativeError } from '../core/errors';
import type { Storage } from '../core/tensor';

/** The backend of a device storage, which takes it back when its last tensor is disposed (into its pool). */
export interface StorageOwner extends Backend {
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
  readonly #owner: StorageOwner;

  constructor(options: { addon: NativeAddon; backend: StorageOwner; handle: number; byteLength: number }) {
    this.#addon = options.addon;
    this.#owner = options.backend;
    this.handle = options.handle;
    this.byteLength = options.byteLength;
  }

  get backend(): Backend {
    return this.#owner;
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
    this.#owner.recycle(this);
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
