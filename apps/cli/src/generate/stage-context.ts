// What every stage of a `fpsattn generate` run shares.
import type { DeviceMemoryTracker } from '../_device-memory';
import type { ProgressMode } from '../_progress';

export interface StageContext {
  /** Counts the stage's device memory (begin/end around its weights and activations). */
  memory: DeviceMemoryTracker;
  progressMode: ProgressMode;
  /** Aborted by the first Ctrl-C. */
  signal: AbortSignal;
  /** Writes a line to stderr unless --progress none. */
  say: (line: string) => void;
}
