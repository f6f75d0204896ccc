// The video files of `fpsattn generate`: the decoded frames to a first-frame PNG, a contact sheet and an mp4 (through
// ffmpeg), next to the latents. Ctrl-C and a missing ffmpeg end the run without its mp4, after the manifest.
import { stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { WAN_VIDEO_ERROR_CODES, WAN_VIDEO_FPS, WanVideoError, writeVideoOutputs } from '@fpsattn/wan';
import { CliError, EXIT_CODES } from '../_errors';
import type { ProgressMode } from '../_progress';
import { FFMPEG_ENV } from '../commands/doctor';
import { type OutputFile, videoBaseFor } from './output-files';

export interface EncodedVideo {
  /** The PNGs and the mp4 written, in that order. */
  files: OutputFile[];
  mp4: { path: string; frames: number; bytes: number; width: number; height: number; fps: number } | null;
  sheetLayout: Record<string, unknown> | null;
  seconds: number;
  /** Ctrl-C stopped the encoding. */
  interrupted: boolean;
  /** Why the run ends without its mp4 (reported after the manifest is written), or null. */
  failure: CliError | null;
}

export async function encodeVideo(options: {
  decoded: { frames: Float32Array; shape: readonly [number, number, number, number] };
  out: string;
  progressMode: ProgressMode;
  signal: AbortSignal;
  /** $FPSATTN_FFMPEG, else undefined (ffmpeg on PATH). */
  ffmpegPath: string | undefined;
}): Promise<EncodedVideo> {
  const { decoded, out, signal, ffmpegPath } = options;
  const base = videoBaseFor(out);
  const files: OutputFile[] = [];
  let mp4: EncodedVideo['mp4'] = null;
  let sheetLayout: Record<string, unknown> | null = null;
  let interrupted = false;
  let failure: CliError | null = null;
  const encodeStart = performance.now();
  if (options.progressMode !== 'none') process.stderr.write(`encoding ${join(dirname(out), `${base}.mp4`)} with ffmpeg (H.264 yuv420p, ${WAN_VIDEO_FPS} fps) and the PNGs\n`);
  const firstPng = join(dirname(out), `${base}.first.png`);
  const sheetPng = join(dirname(out), `${base}.sheet.png`);
  let seconds: number;
  try {
    const written = await writeVideoOutputs({ dir: dirname(out), name: base, frames: decoded.frames, shape: decoded.shape, signal, ffmpegPath });
    files.push({ kind: 'first-frame-png', path: written.firstFramePng, bytes: (await stat(written.firstFramePng)).size });
    files.push({ kind: 'contact-sheet-png', path: written.contactSheetPng, bytes: (await stat(written.contactSheetPng)).size });
    mp4 = written.mp4;
    sheetLayout = { ...written.sheet };
    files.push({ kind: 'mp4', path: written.mp4.path, bytes: written.mp4.bytes });
  } catch (error) {
    if (!(error instanceof WanVideoError)) throw error;
    // A terminal's Ctrl-C also reaches ffmpeg, which may die before writeMp4 sees the abort: FFMPEG_FAILED then.
    if (error.code === WAN_VIDEO_ERROR_CODES.ABORTED || signal.aborted) {
      interrupted = true;
      failure = new CliError({ message: `stopped by Ctrl-C while encoding; the latents and the manifest are written (${out}), no video`, exitCode: EXIT_CODES.interrupted, cause: error });
    } else if (error.code === WAN_VIDEO_ERROR_CODES.FFMPEG_MISSING) {
      // writeVideoOutputs wrote the PNGs before it looked for ffmpeg.
      for (const [kind, path] of [['first-frame-png', firstPng], ['contact-sheet-png', sheetPng]] as const) {
        const bytes = (await stat(path).catch(() => null))?.size;
        if (bytes !== undefined) files.push({ kind, path, bytes });
      }
      const where = ffmpegPath === undefined ? 'on PATH' : `at ${FFMPEG_ENV}=${ffmpegPath}`;
      failure = new CliError({
        message: `no mp4: ffmpeg was not found ${where} [${error.code}]; the latents, the PNGs and the manifest are written (${dirname(out)})`,
        fix: `apt-get install -y ffmpeg (Debian/Ubuntu)${ffmpegPath === undefined ? '' : `, or point ${FFMPEG_ENV} at an ffmpeg binary`}, then run again`,
        cause: error,
      });
    } else {
      throw error;
    }
  } finally {
    seconds = (performance.now() - encodeStart) / 1000;
  }
  return { files, mp4, sheetLayout, seconds, interrupted, failure };
}
