// The decode stage of `fpsattn generate`: the latents through the Wan-VAE (on the device, its weights up for the stage
// only, or the CPU's float32 reference in a worker thread), then the frames to the video files. Ctrl-C here ends the
// run without a video, after the manifest.
import { performance } from 'node:perf_hooks';
import type { Backend } from '@fpsattn/kernels';
import type { GenerateLatentsResult } from '@fpsattn/wan';
import { type StageMemory, formatGiB } from '../_device-memory';
import { CliError, EXIT_CODES } from '../_errors';
import { StepProgress } from '../_progress';
import { DecodeAbortedError, decodeInWorker, decodeOnBackend, type LoadedVae } from '../_vae';
import { encodeVideo, type EncodedVideo } from './encode-video';
import type { StageContext } from './stage-context';

export interface DecodeStage {
  /** The manifest's `decode.status`: skipped, done, interrupted, or done, encoding interrupted. */
  status: string;
  /** The decoded frames' shape [channels, frames, height, width], or null. */
  videoShape: readonly number[] | null;
  latentFrameMs: number[];
  decodeS: number | null;
  /** The encoding to files, when there were frames to encode. */
  video: EncodedVideo | null;
  /** The stage's device memory when the VAE ran on a backend, else null. */
  deviceMemory: StageMemory | null;
  /** Why the run ends without its mp4 (the error to report after the manifest is written), or null. */
  failure: CliError | null;
}

export async function runDecodeStage(options: StageContext & {
  /** null: no decode (--no-decode, or no VAE next to the checkpoint). */
  vae: LoadedVae | null;
  /** Where the VAE runs; null: the host's float32 reference in a worker thread. */
  backend: Backend | null;
  result: GenerateLatentsResult;
  video: { width: number; height: number; frames: number };
  out: string;
  ffmpegPath: string | undefined;
}): Promise<DecodeStage> {
  const { vae, backend, result, out, memory, progressMode, signal, say } = options;
  const latentFrameMs: number[] = [];
  if (vae === null) return { status: 'skipped', videoShape: null, latentFrameMs, decodeS: null, video: null, deviceMemory: null, failure: null };
  let status = 'done';
  let failure: CliError | null = null;
  let deviceMemory: StageMemory | null = null;
  let decodeS: number | null = null;
  const decodeWhere = backend === null ? 'the VAE runs on the CPU (float32 reference, in a worker thread), slow at real sizes' : `the VAE runs on ${backend.name} (device decoder)`;
  const { width, height, frames } = options.video;
  const decodeStart = performance.now();
  const [, latentFrames, latentH, latentW] = result.latentShape as [number, number, number, number];
  say(`decoding ${latentFrames} latent frames (${latentW}x${latentH}) to ${frames} frames of ${width}x${height}: ${decodeWhere}`);
  const decoding = new StepProgress({ mode: progressMode, label: 'decode latent frame' });
  let decoded: { frames: Float32Array; shape: readonly [number, number, number, number] } | null = null;
  let last = decodeStart;
  const onFrame = (e: { latentFrame: number; latentFrames: number; frameCount: number }) => {
    const now = performance.now();
    latentFrameMs.push(now - last);
    last = now;
    decoding.update({ done: e.latentFrame + 1, total: e.latentFrames, stepMs: latentFrameMs, note: `${e.frameCount} frame${e.frameCount === 1 ? '' : 's'}` });
  };
  if (backend !== null) memory.begin('decode', backend.name);
  try {
    const decodeOptions = { vae, latents: result.latents, latentShape: result.latentShape, signal, onFrame };
    decoded = backend === null ? await decodeInWorker(decodeOptions) : await decodeOnBackend({ ...decodeOptions, backend });
  } catch (error) {
    if (!(error instanceof DecodeAbortedError)) throw error;
    status = 'interrupted';
    failure = new CliError({
      message: `stopped by Ctrl-C while decoding (after ${error.latentFramesDone} of ${latentFrames} latent frames); the latents and the manifest are written (${out}), no video`,
      exitCode: EXIT_CODES.interrupted,
      cause: error,
    });
  } finally {
    decoding.finish();
    decodeS = (performance.now() - decodeStart) / 1000;
    if (backend !== null) deviceMemory = memory.end();
  }
  if (deviceMemory !== null) say(`decode: peak device memory ${formatGiB(deviceMemory.peakBytes)} on ${deviceMemory.device} (VAE weights and activations), ${formatGiB(deviceMemory.endBytes)} left after the stage`);
  if (decoded === null) return { status, videoShape: null, latentFrameMs, decodeS, video: null, deviceMemory, failure };
  const video = await encodeVideo({ decoded, out, progressMode, signal, ffmpegPath: options.ffmpegPath });
  if (video.interrupted) status = 'done, encoding interrupted';
  return { status, videoShape: decoded.shape, latentFrameMs, decodeS, video, deviceMemory, failure: video.failure };
}
