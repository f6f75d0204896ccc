// Timing for the benchmarks: CUDA events around each call after a warm-up (median of the reps), or host timers on the
// CPU backend (dry runs: the numbers only show the command works).
import { CudaBackend, type Backend } from '@fpsattn/kernels';

export const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1] ?? Number.NaN;

/** Median milliseconds of `fn` over `reps` calls after `warmup` calls: device time between CUDA events, else wall time. */
export async function timeMs(options: { backend: Backend; fn: () => unknown; reps: number; warmup?: number }): Promise<number> {
  const { backend, fn, reps } = options;
  const warmup = options.warmup ?? 2;
  if (!(backend instanceof CudaBackend)) {
    const ms: number[] = [];
    for (let i = 0; i < Math.min(reps, 2); i++) {
      const t0 = performance.now();
      fn();
      await backend.synchronize();
      ms.push(performance.now() - t0);
    }
    return median(ms);
  }
  const addon = backend.addon;
  for (let i = 0; i < warmup; i++) fn();
  const events = Array.from({ length: reps + 1 }, () => addon.eventCreate());
  try {
    addon.eventRecord(events[0] as number);
    for (let i = 0; i < reps; i++) {
      fn();
      addon.eventRecord(events[i + 1] as number);
    }
    addon.synchronizeSync();
    const ms: number[] = [];
    for (let i = 0; i < reps; i++) ms.push(addon.eventElapsed(events[i] as number, events[i + 1] as number));
    return median(ms);
  } finally {
    for (const e of events) addon.eventDestroy(e);
  }
}
