// Ctrl-C during `fpsattn generate`: the first one aborts the run's signal (each stage stops at its next check and
// says what was written), a second one exits at once.
import { readdirSync, rmSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { EXIT_CODES } from '../_errors';
import { videoBaseFor } from './output-files';

/**
 * Removes this process's temporary files of `out`: writeSafetensors' `<out>.tmp-<pid>-<random>`, and the video's
 * `<base>.first.png.<pid>-<random>.partial`, `<base>.sheet.png.<pid>-...` and `.<base>.mp4.<pid>-....partial`.
 */
function removeTemporaryFiles(out: string): void {
  const base = videoBaseFor(out);
  const prefixes = [`${basename(out)}.tmp-${process.pid}-`, `${base}.first.png.${process.pid}-`, `${base}.sheet.png.${process.pid}-`, `.${base}.mp4.${process.pid}-`];
  try {
    for (const name of readdirSync(dirname(out))) if (prefixes.some((p) => name.startsWith(p))) rmSync(join(dirname(out), name), { force: true });
  } catch {
    // the folder may not exist yet
  }
}

/** Listens for SIGINT until `stop()`; `signal` aborts on the first Ctrl-C. */
export function listenForCtrlC(out: string): { signal: AbortSignal; stop: () => void } {
  const controller = new AbortController();
  const onSigint = () => {
    if (controller.signal.aborted) {
      // A second Ctrl-C: stop now, leaving no temporary file behind.
      removeTemporaryFiles(out);
      process.stderr.write(`\nfpsattn generate: stopped by a second Ctrl-C; nothing was written to ${out}\n`);
      process.exit(EXIT_CODES.interrupted);
    }
    controller.abort(new Error('Ctrl-C'));
  };
  process.on('SIGINT', onSigint);
  return { signal: controller.signal, stop: () => process.off('SIGINT', onSigint) };
}
