// Progress of a loop of steps on stderr: a redrawn bar on a terminal, one line per step, or nothing.

export type ProgressMode = 'bar' | 'lines' | 'none';
export const PROGRESS_MODES = ['auto', 'bar', 'lines', 'none'] as const;

/** `auto`: the bar when stderr is a terminal, else nothing (logs and pipes stay clean). */
export function resolveProgressMode(mode: (typeof PROGRESS_MODES)[number]): ProgressMode {
  if (mode !== 'auto') return mode;
  return process.stderr.isTTY ? 'bar' : 'none';
}

const seconds = (ms: number): string => (ms >= 60_000 ? `${Math.floor(ms / 60_000)}m${Math.round((ms % 60_000) / 1000)}s` : `${(ms / 1000).toFixed(1)}s`);

export class StepProgress {
  readonly #mode: ProgressMode;
  readonly #label: string;
  #drawn = false;

  constructor(options: { mode: ProgressMode; label: string }) {
    this.#mode = options.mode;
    this.#label = options.label;
  }

  /** After step `done` of `total` (1-based), with the time of each step so far. */
  update(options: { done: number; total: number; stepMs: readonly number[]; note?: string }): void {
    if (this.#mode === 'none') return;
    const { done, total, stepMs } = options;
    const mean = stepMs.length > 0 ? stepMs.reduce((a, b) => a + b, 0) / stepMs.length : 0;
    const eta = mean * (total - done);
    const last = stepMs[stepMs.length - 1] ?? 0;
    const note = options.note ? `  ${options.note}` : '';
    if (this.#mode === 'lines') {
      process.stderr.write(`${this.#label} ${done}/${total}  ${seconds(last)}  ETA ${seconds(eta)}${note}\n`);
      return;
    }
    const width = 24;
    const filled = Math.round((width * done) / total);
    const bar = `${'#'.repeat(filled)}${'-'.repeat(width - filled)}`;
    process.stderr.write(`\r${this.#label} ${done}/${total} [${bar}] ${Math.round((100 * done) / total)}%  ${seconds(mean)}/step  ETA ${seconds(eta)}${note}\u001b[K`);
    this.#drawn = true;
  }

  /** Ends the bar's line (call once, also after a failure). */
  finish(): void {
    if (this.#drawn) process.stderr.write('\n');
    this.#drawn = false;
  }
}
