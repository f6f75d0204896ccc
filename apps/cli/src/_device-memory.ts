// Device memory per stage of `fpsattn generate`: the bytes of the tensors the run's backend holds, counted at each
// allocation and release, and their peak per stage. The native allocator's own peak (`memoryStats().peakBytesInUse`)
// runs from the start of the process and cannot be reset, so it cannot tell the text encoder's peak from the DiT's;
// this counter can, on either backend (the CPU backend's host tensors count the same way). Views share their storage
// and count once.
import type { Backend, Storage } from '@fpsattn/kernels';

/** One stage's device memory: the most its tensors held at once, and what was still held when it ended. */
export interface StageMemory {
  readonly stage: string;
  readonly device: string;
  readonly peakBytes: number;
  readonly endBytes: number;
  /** CUDA only: the native allocator's bytes in use after the stage and emptyCache() (0 when everything was freed). */
  readonly allocatorBytesAfter: number | null;
}

export const formatGiB = (bytes: number): string => (bytes >= 2 ** 30 ? `${(bytes / 2 ** 30).toFixed(2)} GiB` : `${(bytes / 2 ** 20).toFixed(1)} MiB`);

/**
 * Counts the live bytes of every storage `backend.empty` (and so `fromArray`) makes while installed. `begin(stage)`
 * starts a stage's peak at the bytes live then; `end()` returns the stage's {@link StageMemory}. `uninstall()` puts
 * the backend's own `empty` back.
 */
export class DeviceMemoryTracker {
  readonly backend: Backend;
  readonly stages: StageMemory[] = [];
  #live = 0;
  #peak = 0;
  #stage: { name: string; device: string } | null = null;
  /** Storages counted now; a storage revived from the CUDA pool is counted again when it comes back. */
  readonly #counted = new WeakSet<Storage>();
  readonly #wrapped = new WeakSet<Storage>();

  constructor(backend: Backend) {
    this.backend = backend;
    const tracker = this;
    const original = backend.empty;
    Object.defineProperty(backend, 'empty', {
      configurable: true,
      writable: true,
      value: function empty(this: Backend, ...args: Parameters<Backend['empty']>) {
        const t = original.apply(this, args);
        tracker.#count(t.storage);
        return t;
      },
    });
  }

  #count(storage: Storage): void {
    if (this.#counted.has(storage)) return;
    this.#counted.add(storage);
    this.#live += storage.byteLength;
    if (this.#live > this.#peak) this.#peak = this.#live;
    if (this.#wrapped.has(storage)) return;
    this.#wrapped.add(storage);
    const release = storage.release.bind(storage);
    const tracker = this;
    Object.defineProperty(storage, 'release', {
      configurable: true,
      value: () => {
        release();
        if (!storage.live && tracker.#counted.has(storage)) {
          tracker.#counted.delete(storage);
          tracker.#live -= storage.byteLength;
        }
      },
    });
  }

  /** Bytes of tracked tensors alive now. */
  get liveBytes(): number {
    return this.#live;
  }

  begin(stage: string, device: string = this.backend.name): void {
    this.#stage = { name: stage, device };
    this.#peak = this.#live;
  }

  /** Ends the current stage; on CUDA gives the pooled blocks back (emptyCache) so the next stage has the memory. */
  end(): StageMemory {
    const stage = this.#stage ?? { name: '(none)', device: this.backend.name };
    this.#stage = null;
    let allocatorBytesAfter: number | null = null;
    if (this.backend.name === 'cuda') {
      this.backend.emptyCache();
      allocatorBytesAfter = this.backend.memoryStats()?.bytesInUse ?? null;
    }
    const result: StageMemory = { stage: stage.name, device: stage.device, peakBytes: this.#peak, endBytes: this.#live, allocatorBytesAfter };
    this.stages.push(result);
    return result;
  }

  uninstall(): void {
    // The prototype's method again (the own property shadowed it).
    delete (this.backend as { empty?: unknown }).empty;
  }
}
